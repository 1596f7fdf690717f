"""Back-office lists at district scale: the residents list over Weicheng's 296,166 residents, page by page.

With the Weicheng preset loaded (`seed scale`), in one run and on the same database: 50 requests each
(after 3 warm-ups) through the Flask test client, logged in as the administrator, the first street's
staff and a grid worker (the first grid: its residents have the lowest ids, the worst case for "newest first"),
for the residents list's first page, one grid (the grid filter), a name search and a sort by name —
side by side with the bare SQL of the same page (the count, the 20 rows, their grids, communities and
households, through SQLAlchemy Core), and the ratio of the medians. Target: every page's median
under 150 ms.

    .venv/bin/python bench/admin_lists.py                        # SQLite file (generates the preset: ~40 s)
    .venv/bin/python bench/admin_lists.py --database-url postgresql://127.0.0.1:5432/DB
    .venv/bin/python bench/admin_lists.py --database-url sqlite:////tmp/weicheng.db --reuse   # already seeded

Exit status 1 when a page answers other than 200 or shows rows outside the user's scope, 2 when a target is missed.
"""

import argparse
import re
import statistics
import sys
import time
from datetime import date
from urllib.parse import quote

import common
from common import BenchFailure, progress

TARGET_MS = 150
GRID = "610404001001001"


def isolated_client_class():
    """A test client whose requests each run in an app context of their own, as under a real server.

    The benchmark holds an app context open for its SQL; requests would otherwise share its `g`
    (and so the first logged-in user) and its database session.
    """
    from flask.testing import FlaskClient

    class IsolatedClient(FlaskClient):
        def open(self, *args, **kwargs):
            with self.application.app_context():
                return super().open(*args, **kwargs)

    return IsolatedClient


def timed(call, repeat: int) -> list[float]:
    for _ in range(3):
        call()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def p95(times: list[float]) -> float:
    return sorted(times)[max(0, int(len(times) * 0.95) - 1)]


def prepare(reuse: bool) -> None:
    from sqlalchemy import select

    from app.extensions import db
    from app.models import User
    from app.services import scale

    if reuse and db.session.scalar(select(User.id).where(User.username == scale.ADMIN_USERNAME)) is not None:
        progress("reusing the district already in the database")
        return
    progress("generating the Weicheng preset")
    db.drop_all()
    db.create_all()
    scale.generate(scale.PRESETS["weicheng"], as_of=date(2026, 11, 26))
    db.session.commit()
    scale.analyze()


def cases(app) -> dict[str, tuple[str, object, object]]:
    """name → (URL, WHERE condition, ORDER BY) of the same page."""
    from sqlalchemy import select

    from admin.scoping import AreaFilter
    from admin.search import starts_with
    from app.extensions import db
    from app.models import Resident
    from app.models.base import under_area

    with app.test_request_context():
        view = next(v for v in app.extensions["admin"][0]._views if getattr(v, "endpoint", "") == "resident")
        index = next(
            i for i, f in enumerate(view._filters) if isinstance(f, AreaFilter) and f.level == "grid"
        )
        arg = view.get_filter_arg(index, view._filters[index])
    # the beginning of a name in the grid worker's grid, so both users find someone
    term = db.session.scalar(select(Resident.name).where(Resident.grid_code == GRID).order_by(Resident.id))[
        :2
    ]
    newest = Resident.id.desc()
    return {
        "first page": ("/admin/resident/", None, newest),
        "one grid": (f"/admin/resident/?flt0_{arg}={GRID}", under_area(Resident.grid_code, GRID), newest),
        f"search {term}": (
            f"/admin/resident/?search={quote(term)}",
            starts_with(Resident.name, term),
            newest,
        ),
        "sort by name": ("/admin/resident/?sort=0", None, Resident.name.asc()),
    }


def bare_sql(condition, order, scope) -> callable:
    """The same page in SQLAlchemy Core, as the view fetches it: the count, the 20 rows, their grids,
    communities and households by id; all rows fetched."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Area, Household, Resident

    conditions = [c for c in (condition, scope) if c is not None]
    count = select(func.count()).select_from(Resident).where(*conditions)
    page = select(Resident.__table__).where(*conditions).order_by(order).limit(20)

    def run():
        with db.engine.connect() as connection:
            connection.execute(count).scalar()
            rows = connection.execute(page).all()
            grids = connection.execute(select(Area).where(Area.code.in_({r.grid_code for r in rows}))).all()
            connection.execute(select(Area).where(Area.id.in_({g.parent_id for g in grids}))).all()
            connection.execute(
                select(Household).where(Household.id.in_({r.household_id for r in rows}))
            ).all()

    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help=common.DATABASE_URL_HELP + " (kept as it is with --reuse)")
    parser.add_argument("--reuse", action="store_true", help="use the district already in the database")
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    common.stop_on_sigterm()
    results = []
    try:
        with common.database_url(args.database_url) as url:
            app = common.make_app(common.bench_config(url, WTF_CSRF_ENABLED=False, BABEL_DEFAULT_LOCALE="en"))
            app.test_client_class = isolated_client_class()
            with app.app_context():
                from app.extensions import db
                from app.models import Resident
                from app.models.base import under_area
                from app.services.scale import ADMIN_USERNAME, PASSWORD

                prepare(args.reuse)
                dialect = db.engine.dialect.name
                pages = cases(app)
                users = (
                    (ADMIN_USERNAME, None),
                    (f"street-{GRID[:9]}", under_area(Resident.grid_code, GRID[:9])),
                    (f"grid-{GRID}", under_area(Resident.grid_code, GRID)),
                )
                for username, scope in users:
                    client = app.test_client()
                    if client.post(
                        "/login", data={"username": username, "password": PASSWORD}
                    ).status_code not in (302, 303):
                        raise BenchFailure(f"cannot log in as {username}")
                    for name, (path, condition, order) in pages.items():
                        progress(f"{username}: {name}")
                        response = client.get(path)
                        grids = set(re.findall(r'<span title="(\d{15})">', response.get_data(as_text=True)))
                        if response.status_code != 200 or not grids:
                            raise BenchFailure(f"{path} as {username}: {response.status_code}, grids {grids}")
                        if scope is not None and not all(g.startswith(username.split("-")[1]) for g in grids):
                            raise BenchFailure(f"{path} as {username} shows other grids: {grids}")
                        page = timed(lambda client=client, path=path: client.get(path), args.requests)
                        sql = timed(bare_sql(condition, order, scope), args.requests)
                        results.append((username, name, page, sql))
    except BenchFailure as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130

    print(f"\nresidents list, Weicheng preset on {dialect}, {args.requests} requests each (ms)")
    print(f"{'user':<26}{'page':<16}{'median':>8}{'p95':>8}{'SQL med':>9}{'SQL p95':>9}{'ratio':>7}")
    worst = 0.0
    for username, name, page, sql in results:
        median, sql_median = statistics.median(page), statistics.median(sql)
        worst = max(worst, median)
        print(
            f"{username:<26}{name:<16}{median:>8.1f}{p95(page):>8.1f}{sql_median:>9.1f}{p95(sql):>9.1f}"
            f"{median / sql_median:>7.1f}"
        )
    ok = worst < TARGET_MS
    print(f"\nslowest page median: {worst:.1f} ms  target < {TARGET_MS} ms: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())

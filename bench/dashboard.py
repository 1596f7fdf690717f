"""Dashboard and grid map at full scale: cold (cache cleared) and warm, against a bare count(*) of residents.

The district comes from `seed scale` (app/services/scale: Weicheng's 296,166 residents, 66,992 events …)
on a database of the benchmark's own. Requests go through Flask's test client in this process (the
figures' cache is per process, so this is also where "cold" can be made on demand), logged in as the
preset's admin, a street, a community and a grid user. In one run and on the same database:
- floor — `SELECT count(*) FROM resident`, the cheapest question the page asks;
- cold — GET /admin/ (and /admin/grid_map/) right after the cache was cleared: every figure computed;
- warm — the same page again: the figures come from the cache, only the to-do list and the page are made.
Targets: every page under 300 ms, cold and warm.

    .venv/bin/python bench/dashboard.py                                   # temporary SQLite file, weicheng
    .venv/bin/python bench/dashboard.py --sqlite /tmp/scale.db            # reuse (or create) this file
    .venv/bin/python bench/dashboard.py --database-url postgresql://127.0.0.1:5432/DB   # ALL TABLES DROPPED
    .venv/bin/python bench/dashboard.py --database-url postgresql://127.0.0.1:5432/DB --reuse   # seeded before

Exit status 1 when a page answers other than 200 or shows other numbers than SQL, 2 when a target is missed.
"""

import argparse
import os
import re
import statistics
import sys
import time

import common
from common import BenchFailure, progress

TARGET_MS = 300
PAGES = (
    "/admin/",
    "/admin/?from=2026-01-01&to=2026-06-30",
    "/admin/grid_map/?measure=residents",
    "/admin/grid_map/?measure=overdue_events",
)


def prepare(preset_name: str, fresh: bool) -> None:
    """The preset's district, unless the database already holds it (a reused SQLite file)."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import User
    from app.services import scale

    if not fresh and db.session.scalar(select(User.id).where(User.username == scale.ADMIN_USERNAME)):
        progress("reusing the district already in the database")
        return
    progress(f"seed scale --preset {preset_name} (about a minute for weicheng on SQLite)")
    db.drop_all()
    db.create_all()
    scale.generate(scale.PRESETS[preset_name])
    db.session.commit()
    scale.analyze()
    if db.engine.dialect.name == "postgresql":
        # what autovacuum does after a bulk load: the visibility map lets counts use index-only scans
        from sqlalchemy import text

        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))


def users(district: str) -> dict[str, str]:
    """The scale preset's accounts for each scope (see app/services/scale/party.py)."""
    from app.services import scale

    street = f"{district}001"
    return {
        "admin": scale.ADMIN_USERNAME,
        "street": f"street-{street}",
        "community": f"community-{street}001",
        "grid": f"grid-{street}001001",
    }


def timed_get(client, path: str) -> tuple[float, str]:
    # an app context per request, as in production: the bench's own context would share its `g`
    # (and the first user logged in) with every request
    started = time.perf_counter()
    with client.application.app_context():
        response = client.get(path)
    seconds = time.perf_counter() - started
    if response.status_code != 200:
        raise BenchFailure(f"GET {path} answered {response.status_code}")
    return seconds, response.get_data(as_text=True)


def floor_seconds() -> float:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Resident

    started = time.perf_counter()
    db.session.scalar(select(func.count()).select_from(Resident))
    seconds = time.perf_counter() - started
    db.session.rollback()
    return seconds


def check_counts(page: str, prefix: str) -> None:
    """The page's resident count is SQL's: the numbers timed are real ones."""
    from sqlalchemy import text

    from app.extensions import db

    shown = int(re.search(r'data-count="residents">(\d+)<', page).group(1))
    expected = db.session.execute(
        text("SELECT count(*) FROM resident WHERE grid_code LIKE :p"), {"p": prefix + "%"}
    ).scalar()
    db.session.rollback()
    if shown != expected:
        raise BenchFailure(f"the dashboard shows {shown} residents, SQL counts {expected}")


def measure(app, district: str, repeat: int) -> list[tuple]:
    from app.extensions import cache
    from app.services import scale

    rows = []
    for scope, username in users(district).items():
        client = app.test_client()
        with app.app_context():
            login = client.post("/login", data={"username": username, "password": scale.PASSWORD})
        if login.status_code not in (302, 303):
            raise BenchFailure(f"login as {username} failed ({login.status_code})")
        prefix = "" if scope == "admin" else username.split("-", 1)[1]
        for path in PAGES:
            cold, warm = [], []
            for _ in range(repeat):
                cache.clear()
                seconds, page = timed_get(client, path)
                cold.append(seconds)
                warm.append(timed_get(client, path)[0])
            if path == "/admin/":
                check_counts(page, prefix)
            floor = statistics.median(floor_seconds() for _ in range(repeat))
            rows.append((scope, path, floor, statistics.median(cold), statistics.median(warm)))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--database-url", help=common.DATABASE_URL_HELP)
    where.add_argument("--sqlite", help="a SQLite file to reuse (seeded first when it holds no district)")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --database-url: keep a district seeded by an earlier run instead of dropping it",
    )
    parser.add_argument("--preset", default="weicheng", choices=("weicheng", "xingping", "small"))
    parser.add_argument("--repeat", type=int, default=5, help="cold and warm requests per page and user")
    args = parser.parse_args()
    common.stop_on_sigterm()
    config = {
        "JOBS_EMBEDDED_SCHEDULER": False,
        "WTF_CSRF_ENABLED": False,
        "DASHBOARD_CACHE_SECONDS": 300,
        "BABEL_DEFAULT_LOCALE": "en",
    }
    try:
        with common.database_url(args.database_url) as temporary_url:
            url = "sqlite:///" + os.path.abspath(args.sqlite) if args.sqlite else temporary_url
            app = common.make_app(common.bench_config(url, **config))
            with app.app_context():
                from app.extensions import db
                from app.services.scale import PRESETS

                prepare(args.preset, fresh=not (args.sqlite or args.reuse))
                dialect = db.engine.dialect.name
                rows = measure(app, PRESETS[args.preset].district_code, args.repeat)
    except BenchFailure as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130

    print(f"\n{args.preset} on {dialect}, medians of {args.repeat} (in-process test client)")
    print(
        f"{'user':<10}{'page':<44}{'count(*) ms':>12}{'cold ms':>10}{'warm ms':>10}{'cold/floor':>12}{'warm/floor':>12}"
    )
    for scope, path, floor, cold, warm in rows:
        print(
            f"{scope:<10}{path:<44}{floor * 1000:>12.1f}{cold * 1000:>10.1f}{warm * 1000:>10.1f}"
            f"{cold / floor:>12.1f}{warm / floor:>12.1f}"
        )
    slowest = max(max(cold, warm) for *_rest, cold, warm in rows)
    ok = slowest * 1000 < TARGET_MS
    print(
        f"\nslowest page: {slowest * 1000:.0f} ms  target < {TARGET_MS} ms cold and warm: {'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())

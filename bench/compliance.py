"""双报到 compliance at full scale: the district's figures and overdue lists against a bare count(*) of visits,
and a member's /my/visits page and a visit POST.

The district comes from `seed scale` (app/services/scale: Weicheng's 2,300 members with their 责任田 and a year of
visits, ≈ 60,000) on a database of the benchmark's own. In one run and on the same database:
- floor — `SELECT count(*) FROM household_visit`;
- figures — app.services.compliance.figures for the whole district (members, units, households);
- overdue members / households / units — the whole lists, as the compliance page builds them;
- /admin/compliance/ and GET /api/v1/compliance — as the district's admin, through the test client;
- /my/visits and a visit (POST /my/visits, POST /api/v1/visits) — as a member with households.
"Cold" is measured on a fresh connection (the engine's pool disposed of before each run) with the dashboard cache
cleared. Targets: the figures and the overdue-members list < 300 ms cold; the member's page and a visit < 100 ms.

    .venv/bin/python bench/compliance.py                                  # temporary SQLite file, weicheng
    .venv/bin/python bench/compliance.py --sqlite /tmp/scale.db           # reuse (or create) this file
    .venv/bin/python bench/compliance.py --database-url postgresql://127.0.0.1:5432/DB   # ALL TABLES DROPPED
    .venv/bin/python bench/compliance.py --database-url postgresql://127.0.0.1:5432/DB --reuse   # seeded before

Exit status 1 when an answer is wrong (a list that disagrees with the figures), 2 when a target is missed.
"""

import argparse
import os
import statistics
import sys
import time

import common
from common import BenchFailure, progress
from dashboard import prepare

FIGURES_MS, MEMBER_MS = 300, 100


def cold(app, run) -> float:
    """Seconds `run()` takes on a fresh connection, with the figures' cache cleared."""
    from app.extensions import cache, db

    cache.clear()
    db.session.remove()
    db.engine.dispose()
    started = time.perf_counter()
    run()
    seconds = time.perf_counter() - started
    db.session.rollback()
    return seconds


def request(client, method: str, path: str, **kwargs):
    def run():
        with client.application.app_context():
            response = getattr(client, method)(path, **kwargs)
        if response.status_code >= 400:
            raise BenchFailure(f"{method.upper()} {path} answered {response.status_code}")

    return run


def member_with_households():
    """(username, household id) of a generated member whose 责任田 holds a household."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Member, User
    from app.models.visits import HouseholdAssignment

    row = db.session.execute(
        select(User.username, HouseholdAssignment.household_id)
        .join(Member, Member.user_id == User.id)
        .join(HouseholdAssignment, HouseholdAssignment.member_id == Member.id)
        .where(HouseholdAssignment.ended_at.is_(None))
        .order_by(Member.id)
        .limit(1)
    ).one()
    return row[0], row[1]


def measure(app, repeat: int) -> list[tuple[str, float, float]]:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import User
    from app.models.visits import HouseholdVisit
    from app.services import compliance, scale

    admin = db.session.scalar(select(User).where(User.username == scale.ADMIN_USERNAME))
    admin_id = admin.id

    def as_admin():
        return db.session.get(User, admin_id)

    figures = compliance.figures(as_admin())
    listed = compliance.overdue_members(as_admin())
    if len(listed) != figures["members"]["overdue"]:
        raise BenchFailure(
            f"{len(listed)} overdue members listed, the figures say {figures['members']['overdue']}"
        )
    progress(f"figures: {figures}")
    admin_client, member_client = app.test_client(), app.test_client()
    username, household = member_with_households()
    for client, name in ((admin_client, scale.ADMIN_USERNAME), (member_client, username)):
        with app.app_context():
            login = client.post("/login", data={"username": name, "password": scale.PASSWORD})
        if login.status_code not in (302, 303):
            raise BenchFailure(f"login as {name} failed ({login.status_code})")
    member_bearer, admin_bearer = (token(app, name) for name in (username, scale.ADMIN_USERNAME))
    cases = {
        "count(*) of visits (floor)": lambda: db.session.scalar(
            select(func.count()).select_from(HouseholdVisit)
        ),
        "district figures": lambda: compliance.figures(as_admin()),
        "overdue members (all)": lambda: compliance.overdue_members(as_admin()),
        "overdue households (all)": lambda: compliance.overdue_households(as_admin()),
        "overdue units (all)": lambda: compliance.overdue_units(as_admin()),
        "GET /admin/compliance/": request(admin_client, "get", "/admin/compliance/"),
        "GET /api/v1/compliance (admin)": request(
            admin_client, "get", "/api/v1/compliance", headers=admin_bearer
        ),
        "GET /my/visits": request(member_client, "get", "/my/visits"),
        "POST /my/visits": request(
            member_client, "post", "/my/visits", data={"household_id": household, "visited_at": _now_local()}
        ),
        "POST /api/v1/visits": request(
            member_client, "post", "/api/v1/visits", json={"household_id": household}, headers=member_bearer
        ),
    }
    rows = []
    for name, run in cases.items():
        colds = [cold(app, run) for _ in range(repeat)]
        warms = []
        for _ in range(repeat):
            started = time.perf_counter()
            run()
            warms.append(time.perf_counter() - started)
            db.session.rollback()
        rows.append((name, statistics.median(colds), statistics.median(warms)))
    return rows


def token(app, username: str) -> dict:
    """The Authorization header of a bearer token for `username`."""
    from app.services import scale

    with app.app_context():
        answer = app.test_client().post(
            "/api/v1/auth/token", json={"username": username, "password": scale.PASSWORD}
        )
    return {"Authorization": f"Bearer {answer.get_json()['token']}"}


def _now_local() -> str:
    from app.models.base import utcnow
    from app.services.clock import local_time

    return local_time(utcnow()).strftime("%Y-%m-%dT%H:%M")


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
    parser.add_argument("--repeat", type=int, default=5, help="cold and warm runs of each case")
    args = parser.parse_args()
    common.stop_on_sigterm()
    config = {"JOBS_EMBEDDED_SCHEDULER": False, "WTF_CSRF_ENABLED": False, "BABEL_DEFAULT_LOCALE": "en"}
    try:
        with common.database_url(args.database_url) as temporary_url:
            url = "sqlite:///" + os.path.abspath(args.sqlite) if args.sqlite else temporary_url
            app = common.make_app(common.bench_config(url, **config))
            with app.app_context():
                from app.extensions import db

                prepare(args.preset, fresh=not (args.sqlite or args.reuse))
                dialect = db.engine.dialect.name
                rows = measure(app, args.repeat)
    except BenchFailure as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    floor = rows[0][1]
    print(f"\n{args.preset} on {dialect}, medians of {args.repeat} (in-process; cold = fresh connection)")
    print(f"{'case':<34}{'cold ms':>10}{'warm ms':>10}{'cold/floor':>12}")
    for name, cold_s, warm_s in rows:
        print(f"{name:<34}{cold_s * 1000:>10.1f}{warm_s * 1000:>10.1f}{cold_s / floor:>12.1f}")
    by_name = {name: (c, w) for name, c, w in rows}
    figures_ms = max(by_name["district figures"][0], by_name["overdue members (all)"][0]) * 1000
    member_ms = (
        max(max(by_name[n]) for n in ("GET /my/visits", "POST /my/visits", "POST /api/v1/visits")) * 1000
    )
    ok = figures_ms < FIGURES_MS and member_ms < MEMBER_MS
    print(
        f"\nfigures and overdue members, cold: {figures_ms:.0f} ms (target < {FIGURES_MS}); "
        f"member's page and visit: {member_ms:.0f} ms (target < {MEMBER_MS}): {'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())

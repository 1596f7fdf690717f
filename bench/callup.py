"""Emergency call-up under load: the notifications of a street-wide call-up, and 200 members answering and
checking in at once over HTTP while staff watch the roll.

(a) notify — a call-up to the street with the most checked-in members of a `seed scale` district (Weicheng:
    ≈ 600 members): seconds from its commit until every notification row is written (the outbox job runs
    in-process after the commit, as in the embedded mode; with --redis-url, on a real `flask jobs worker`),
    against the floor: one bare INSERT … SELECT of as many notification rows. Target < 2 s.
(b) storm — the demo district plus 200 member accounts in community 610404001001 and a call-up to it, served
    by gunicorn (2 gthread workers × 8 threads, as bench/claim_race.py). Each member is a client thread with
    its own session (logged in through the login form, CSRF tokens read from the pages, as a phone does); all
    tap 我来 at once (POST /callups/<id>/answer), then all check in at once (POST /callups/<id>/checkin with
    the QR code's token). Meanwhile a staff session loads the roll page and roll.json in a loop. Checks: every
    answer 303, every member's row answered once and arrived by QR, 0 errors. Target: roll page and roll.json
    < 200 ms (p95) while it happens.

    .venv/bin/python bench/callup.py                                   # SQLite: temporary files
    .venv/bin/python bench/callup.py --scale-sqlite /tmp/scale.db      # reuse (or create) a seeded district
    .venv/bin/python bench/callup.py --database-url postgresql://127.0.0.1:5432/DB   # ALL TABLES DROPPED
    .venv/bin/python bench/callup.py --only storm                      # one part

Exit status 1 when a check fails, 2 when a target is missed. The machine's 1-minute load average is printed.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta

import common
from callup_storm import WATCHERS, percentile, run_storm
from common import BenchFailure, progress

NOTIFY_TARGET_S = 2.0
ROLL_TARGET_MS = 200


# --- (a) a street-wide call-up's notifications ----------------------------------------------------------------
def biggest_street() -> tuple[str, int]:
    """The street with the most active members who have an account, and how many."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Member

    street = func.substr(Member.grid_code, 1, 9)
    code, count = db.session.execute(
        select(street, func.count())
        .where(Member.active.is_(True), Member.user_id.is_not(None))
        .group_by(street)
        .order_by(func.count().desc())
        .limit(1)
    ).one()
    return code, count


def notification_floor(street: str) -> float:
    """Seconds for one bare INSERT … SELECT of a notification per member of the street (rolled back)."""
    from sqlalchemy import insert, literal, select, true

    from app.extensions import db
    from app.models import Member
    from app.models.base import under_area, utcnow
    from app.models.notifications import Notification

    with db.engine.connect() as connection:
        transaction = connection.begin()
        began = time.perf_counter()
        connection.execute(
            insert(Notification).from_select(
                ["user_id", "kind", "title", "body", "link", "urgent", "subject", "created_at"],
                select(
                    Member.user_id,
                    literal("callup"),
                    literal("紧急召集"),
                    literal(""),
                    literal("/callups/0"),
                    true(),
                    literal("callup:0"),
                    literal(utcnow()),
                ).where(
                    under_area(Member.grid_code, street), Member.active.is_(True), Member.user_id.is_not(None)
                ),
            )
        )
        seconds = time.perf_counter() - began
        transaction.rollback()
    return seconds


def start_worker(config: dict, redis_url: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    env.update(DATABASE_URL=config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=redis_url, SECRET_KEY="bench")
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker"],
        cwd=common.ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def notify(url: str, fresh: bool, redis_url: str | None, timeout: float, preset: str = "weicheng") -> dict:
    """Part (a): raise a call-up to the biggest street, commit, wait until its notifications are written."""
    from dashboard import prepare
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import User
    from app.models.base import utcnow
    from app.models.notifications import Notification
    from app.services import callups, scale

    config = common.bench_config(url, JOBS_EMBEDDED_SCHEDULER=False, REDIS_URL=redis_url or "")
    app = common.make_app(config)
    worker = None
    with app.app_context():
        db.create_all()  # a new file gets its tables; a reused one from before the call-up tables gets them
        prepare(preset, fresh=fresh)
        db.create_all()
        street, members = biggest_street()
        floor = notification_floor(street)
        actor = db.session.scalar(
            select(User).where(User.username == f"street-{street}")
        ) or db.session.scalar(select(User).where(User.username == scale.ADMIN_USERNAME))
        if redis_url:
            import redis
            from rq import Worker

            connection = redis.Redis.from_url(redis_url)
            connection.flushdb()  # this database is the bench's: emptied
            worker = start_worker(config, redis_url)
            deadline = time.monotonic() + 120
            while Worker.count(connection=connection) == 0:  # the clock starts once the worker listens
                if worker.poll() is not None or time.monotonic() > deadline:
                    raise BenchFailure("the RQ worker did not start")
                time.sleep(0.2)
            time.sleep(1)
        try:
            callup = callups.raise_callup(
                actor,
                area_code=street,
                title="防汛紧急召集（基准测试）",
                details="全街道报到党员集合。",
                muster_point="街道办事处门前广场",
                needed=100,
                starts_at=utcnow() + timedelta(minutes=30),
            )
            subject = f"callup:{callup.id}"
            progress(
                f"notify: a call-up to street {street} ({members} members) committed; waiting for its rows"
            )
            load_before = os.getloadavg()[0]
            began = time.perf_counter()
            db.session.commit()
            committed = time.perf_counter() - began
            written, last_change, seen = 0, time.perf_counter(), -1
            while time.perf_counter() - began < timeout:
                written = db.session.scalar(select(func.count()).where(Notification.subject == subject))
                db.session.rollback()  # a fresh snapshot next time
                if written != seen:
                    seen, last_change = written, time.perf_counter()
                if written >= members and time.perf_counter() - last_change > 0.5:
                    break
                time.sleep(0.02)
            seconds = last_change - began
            load_after = os.getloadavg()[0]
        finally:
            if worker is not None:
                os.killpg(worker.pid, 15)
                worker.wait(timeout=30)
        db.engine.dispose()
    problems = [] if written >= members else [f"{written} notifications written for {members} members"]
    return {
        "members": members,
        "written": written,
        "commit_s": committed,
        "seconds": seconds,
        "floor_s": floor,
        "load": (load_before, load_after),
        "mode": "rq worker" if redis_url else "in-process",
        "preset": preset,
        "problems": problems,
    }


def report(notified: dict | None, stormed: dict | None) -> int:
    failed = missed = False
    if notified:
        n = notified
        failed |= bool(n["problems"])
        ok = n["seconds"] < NOTIFY_TARGET_S
        missed |= not ok
        print(
            f"\n(a) a call-up to the biggest street of {n['preset']}: {n['members']} members, "
            f"{n['written']} notifications ({n['mode']})"
        )
        print(f"    commit returned after      {n['commit_s']:.3f} s")
        print(
            f"    all notifications written  {n['seconds']:.3f} s   target < {NOTIFY_TARGET_S:.0f} s: {'PASS' if ok else 'FAIL'}"
        )
        print(
            f"    floor (bare INSERT…SELECT) {n['floor_s']:.3f} s   ratio {n['seconds'] / n['floor_s']:.1f}"
        )
        print("    load average {:.1f} → {:.1f}".format(*n["load"]))
    if stormed:
        s = stormed
        failed |= bool(s["problems"])
        print(
            f"\n(b) {s['members']} members at once over HTTP (gunicorn 2 gthread × 8): {s['rounds']} rounds of "
            f"answers, then the check-in; {len(WATCHERS)} staff watching the roll"
        )
        for step in ("answer", "checkin"):
            statuses = dict(s["statuses"][step])
            rounds = " + ".join(f"{t:.2f}" for t in s["seconds"][step])
            rate = s["members"] * len(s["seconds"][step]) / sum(s["seconds"][step])
            print(f"    {step:<8} {rounds} s  {rate:.0f}/s  answers {statuses}")
        worst = {}
        for source, title in (
            ("roll", "at the staff's client (with the wait behind the storm's queue)"),
            ("server", "in the worker (gunicorn's request time)"),
        ):
            print(f"    roll during the storms, {title}:")
            for kind, label in (("page", "roll page"), ("json", "roll.json")):
                times = [t * 1000 for t in s[source][kind]]
                if not times:
                    print(f"      {label}: no request finished during the storms")
                    worst[source] = float("inf")
                    continue
                p95 = percentile(times, 0.95)
                worst[source] = max(worst.get(source, 0.0), p95)
                print(
                    f"      {label:<10} n={len(times):<4} p50 {statistics.median(times):.0f} ms  p95 {p95:.0f} ms  "
                    f"max {max(times):.0f} ms"
                )
        for source, label in (("roll", "client"), ("server", "worker")):
            ok = worst[source] < ROLL_TARGET_MS
            print(f"    roll p95 ({label}) target < {ROLL_TARGET_MS} ms: {'PASS' if ok else 'FAIL'}")
        missed |= worst["server"] >= ROLL_TARGET_MS
        print("    load average {:.1f} → {:.1f}".format(*s["load"]))
    for row in (notified, stormed):
        for problem in (row or {}).get("problems", []):
            print(f"PROBLEM: {problem}", file=sys.stderr)
    return 1 if failed else 2 if missed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url", help=common.DATABASE_URL_HELP + " (both parts, one after the other)"
    )
    parser.add_argument(
        "--scale-sqlite", help="part (a): a SQLite file with a seeded district to reuse (or create)"
    )
    parser.add_argument(
        "--redis-url",
        help="part (a): run the notification job on a real RQ worker (this Redis database is emptied)",
    )
    parser.add_argument("--only", choices=("notify", "storm"))
    parser.add_argument(
        "--preset",
        default="weicheng",
        choices=("weicheng", "xingping", "small"),
        help="part (a): the district",
    )
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument(
        "--rounds", type=int, default=3, help="part (b): rounds of answers before the check-in"
    )
    parser.add_argument(
        "--timeout", type=float, default=120, help="part (a): give up waiting after this many s"
    )
    args = parser.parse_args()
    common.stop_on_sigterm()
    notified = stormed = None
    try:
        if args.only in (None, "notify"):
            with common.database_url(args.database_url) as temporary:
                url = "sqlite:///" + os.path.abspath(args.scale_sqlite) if args.scale_sqlite else temporary
                fresh = not args.scale_sqlite
                notified = notify(url, fresh, args.redis_url, args.timeout, args.preset)
        if args.only in (None, "storm"):
            with common.database_url(args.database_url) as url:
                stormed = run_storm(url, args.members, max(1, args.rounds))
    except BenchFailure as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; servers stopped", file=sys.stderr)
        return 130
    return report(notified, stormed)


if __name__ == "__main__":
    sys.exit(main())

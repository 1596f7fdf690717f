"""SLA sweep: one sweep over Weicheng's yearly volume of events against a bare count of the overdue rows.

67,000 events (bulk-inserted across the demo grids and matters): most closed or archived, the open ones
spread over reported / accepted / in progress, and 5 % of all events open and past a deadline. In one
run and on the same database:
- floor — `SELECT count(*)` of the rows past a deadline and not yet flagged (what any sweep must find);
- first sweep — finds the 5 %, writes one supervision per breached deadline, escalates resolve breaches;
- steady sweep — the next minute's sweep, with nothing new: what the scheduler pays every minute.
Targets: the steady sweep ≤ 5 × the floor, and every sweep under 2 s on SQLite.

    .venv/bin/python bench/sla_sweep.py                      # SQLite file
    .venv/bin/python bench/sla_sweep.py --database-url postgresql://127.0.0.1:5432/DB

Exit status 1 when a check fails (supervisions missing or doubled), 2 when a target is missed.
"""

import argparse
import random
import sys
import time
from datetime import timedelta

import common
from common import BenchFailure, progress


def add_events(count: int, overdue_share: float, seed: int = 67) -> int:
    """Bulk-insert `count` events; `overdue_share` of them open and past their deadlines; returns how many those are."""
    from sqlalchemy import insert, select

    from app.extensions import db
    from app.models import Area, Matter, User
    from app.models.base import utcnow
    from app.models.events import Event

    rng = random.Random(seed)
    grids = list(db.session.scalars(select(Area.code).where(Area.level == "grid")))
    matters = list(db.session.scalars(select(Matter.id).where(Matter.admitted.is_(True))))
    reporter = db.session.scalar(select(User.id).where(User.username == "grid"))
    now = utcnow()
    overdue = int(count * overdue_share)
    rows = []
    for n in range(count):
        if n < overdue:  # open and past every deadline it can miss
            status, reported = (
                rng.choice(["reported", "accepted", "in_progress"]),
                now - timedelta(days=rng.randint(2, 30)),
            )
        elif n < overdue + count // 50:  # open, in time
            status, reported = (
                rng.choice(["reported", "accepted", "in_progress"]),
                now - timedelta(minutes=rng.randint(1, 10)),
            )
        else:  # the year's finished events
            status, reported = rng.choice(["closed", "archived"]), now - timedelta(days=rng.randint(1, 365))
        finished = status in ("closed", "archived")
        rows.append(
            {
                "title": f"基准事件 #{n:05d}",
                "matter_id": matters[n % len(matters)],
                "grid_code": grids[n % len(grids)],
                "source": "patrol",
                "reporter_id": reporter,
                "level": "grid",
                "status": status,
                "major": False,
                "respond_by": reported + timedelta(minutes=15),
                "reply_by": reported + timedelta(minutes=30),
                "resolve_by": reported + timedelta(hours=24),
                "respond_breached": False,
                "reply_breached": False,
                "resolve_breached": False,
                "created_at": reported,
                "updated_at": reported,
                "accepted_at": reported + timedelta(minutes=5) if status != "reported" else None,
                "replied_at": reported + timedelta(minutes=10) if finished else None,
                "resolved_at": reported + timedelta(hours=3) if finished else None,
                "verified_at": reported + timedelta(hours=5) if finished else None,
                "closed_at": reported + timedelta(hours=30) if finished else None,
                "archived_at": reported + timedelta(days=3) if status == "archived" else None,
                "score": rng.randint(3, 5) if status == "archived" else None,
            }
        )
    for start in range(0, len(rows), 10_000):
        db.session.execute(insert(Event), rows[start : start + 10_000])
    db.session.commit()
    return overdue


def overdue_floor() -> tuple[int, float]:
    """The bare count of events past a deadline and not yet flagged, and the seconds it took."""
    from sqlalchemy import and_, func, or_, select

    from app.extensions import db
    from app.models.base import utcnow
    from app.models.events import Event

    now = utcnow()
    open_ = Event.status.in_(["reported", "accepted", "in_progress"])
    query = (
        select(func.count())
        .select_from(Event)
        .where(
            open_,
            or_(
                and_(Event.status == "reported", Event.respond_by < now, Event.respond_breached.is_(False)),
                and_(Event.replied_at.is_(None), Event.reply_by < now, Event.reply_breached.is_(False)),
                and_(Event.resolve_by < now, Event.resolve_breached.is_(False)),
            ),
        )
    )
    started = time.perf_counter()
    count = db.session.scalar(query)
    seconds = time.perf_counter() - started
    db.session.rollback()
    return count, seconds


def timed_sweep():
    from app.extensions import db
    from app.services.event_sla import sweep

    started = time.perf_counter()
    result = sweep()
    db.session.commit()
    return result, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help=common.DATABASE_URL_HELP)
    parser.add_argument("--events", type=int, default=67_000)
    parser.add_argument("--overdue", type=float, default=0.05, help="share of events open and overdue")
    parser.add_argument(
        "--repeat", type=int, default=5, help="floor and steady sweeps measured this many times"
    )
    args = parser.parse_args()
    common.stop_on_sigterm()
    try:
        with common.database_url(args.database_url) as url:
            app = common.make_app(common.bench_config(url))
            with app.app_context():
                from sqlalchemy import func, select, text

                from app.extensions import db
                from app.models.events import Supervision

                progress(f"preparing the demo district and {args.events} events ({args.overdue:.0%} overdue)")
                common.reset_database()
                overdue = add_events(args.events, args.overdue)
                if db.engine.dialect.name == "postgresql":
                    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                        connection.execute(text("ANALYZE"))
                found, _ = overdue_floor()
                if found < overdue:
                    raise BenchFailure(f"the floor query finds {found} overdue events, expected ≥ {overdue}")
                floors = [overdue_floor()[1] for _ in range(args.repeat)]
                progress("first sweep")
                first, first_seconds = timed_sweep()
                supervisions = db.session.scalar(select(func.count()).select_from(Supervision))
                if supervisions < overdue:
                    raise BenchFailure(f"{supervisions} supervisions for {overdue} overdue events")
                progress("steady sweeps")
                steady = []
                for _ in range(args.repeat):
                    result, seconds = timed_sweep()
                    if sum(result.created.values()) or result.escalated:
                        raise BenchFailure(f"a repeated sweep did something again: {result}")
                    steady.append(seconds)
                if db.session.scalar(select(func.count()).select_from(Supervision)) != supervisions:
                    raise BenchFailure("a repeated sweep added supervisions")
                dialect = db.engine.dialect.name
    except BenchFailure as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130

    floor, steady_best = min(floors), min(steady)
    print(f"\n{args.events} events on {dialect}, {overdue} open and overdue")
    print(f"{'run':<44}{'ms':>10}")
    print(f"{'floor: count(*) of overdue rows (best)':<44}{floor * 1000:>10.1f}")
    print(f"{'first sweep (' + str(first) + ')':<44}{first_seconds * 1000:>10.1f}")
    print(f"{'steady sweep, nothing new (best)':<44}{steady_best * 1000:>10.1f}")
    ratio = steady_best / floor
    ok_ratio, ok_time = ratio <= 5, max(first_seconds, max(steady)) < 2
    print(f"\nsteady sweep / floor: {ratio:.1f}  target ≤ 5: {'PASS' if ok_ratio else 'FAIL'}")
    print(
        f"slowest sweep: {max(first_seconds, max(steady)):.2f} s  target < 2 s: {'PASS' if ok_time else 'FAIL'}"
    )
    return 0 if ok_ratio and ok_time else 2


if __name__ == "__main__":
    sys.exit(main())

"""Claim race: 200 members racing for 1,000 published wishes through the API; every wish claimed exactly once.

Each member (a client thread with its own bearer token) walks the wishes in its own random order
and POSTs /api/v1/wishes/<id>/claim, skipping wishes it has already seen taken, as a member
would on the board; all of them start together on the same ten "hot" wishes so that many claim
one wish at once. 200 answers are wins, 409 the expected losers, anything else is an error.
Afterwards the database must show each wish claimed once, by the member whose request won.

MAX_ACTIVE_CLAIMS is raised to the number of wishes, so the per-member limit never decides a claim.
The server is gunicorn with 2 gthread workers of 8 threads: up to 16 claims in flight in the
database at once, which is what makes it a race (2 sync workers would allow only 2).

    .venv/bin/python bench/claim_race.py                                  # SQLite (temporary file)
    .venv/bin/python bench/claim_race.py --database-url postgresql://127.0.0.1:5432/DB
    .venv/bin/python bench/claim_race.py --both --database-url postgresql://127.0.0.1:5432/DB

The table shows the machine's 1-minute load average before and after the race (other jobs share it) and, on
a virtual machine, the share of time its hypervisor gave other guests during the race ("steal": time the
race wanted and could not have; runs with much of it measure the neighbours, not the code).
Exit status 1 when a check fails (double claims, unclaimed wishes, errors). The PostgreSQL database's
tables are all dropped and created anew.
"""

import argparse
import json
import os
import random
import sys
import threading
import time
from collections import Counter

import common
from common import BenchFailure, progress
from keepalive import KeptConnection

COMMUNITY = "610404001001"
GRIDS = [f"{COMMUNITY}{g:03d}" for g in (1, 2, 3)]
HOT = 10  # wishes every member tries first
GUNICORN_FLAGS = ("-k", "gthread", "--threads", "8", "--keep-alive", "30")


def prepare(url: str, members: int, wishes: int) -> tuple[dict, list[int], dict[str, str]]:
    """Seed the database: members with tokens, published wishes; returns config, wish ids, token → username."""
    from app.extensions import db
    from app.services.tokens import issue_token
    from app.services.users import create_user

    config = common.bench_config(url, MAX_ACTIVE_CLAIMS=wishes)
    app = common.make_app(config)
    with app.app_context():
        common.reset_database()
        tokens = {}
        for i in range(members):
            user = create_user(
                f"racer{i:03d}",
                "member",
                "bench-password",
                area_code=GRIDS[i % len(GRIDS)],
                name=f"党员{i:03d}",
            )
            tokens[issue_token(user)[0]] = user.username
        db.session.commit()
        ids = [wish_id for wish_id, _ in common.add_published_wishes(wishes, GRIDS, seed=610)]
        db.engine.dispose()
    return config, ids, tokens


class Race:
    """The shared state of the client threads: what they learned, what they counted."""

    def __init__(self, port: int, deadline: float):
        self.port, self.deadline = port, deadline
        self.lock = threading.Lock()
        self.taken: set[int] = set()
        self.winners: dict[int, list[str]] = {}
        self.statuses: Counter = Counter()
        self.samples: list[str] = []  # the first few unexpected answers

    def member(self, token: str, username: str, order: list[int], start: threading.Barrier) -> None:
        """One member: claim wish after wish until none is left that it has not seen taken."""
        connection = KeptConnection(self.port)
        start.wait()
        try:
            for wish_id in order:
                if wish_id in self.taken:
                    continue
                if time.monotonic() > self.deadline:
                    self.count("deadline", None, "")
                    return
                request = (
                    f"POST /api/v1/wishes/{wish_id}/claim HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    f"Authorization: Bearer {token}\r\nContent-Length: 0\r\n\r\n"
                ).encode()
                try:
                    status, body = connection.exchange(request)
                except (OSError, ValueError) as error:
                    connection.close()  # reconnects on the next request
                    status, body = type(error).__name__, str(error).encode()
                self.count(status, wish_id, body.decode("utf-8", "replace"), username)
        finally:
            connection.close()

    def count(self, status, wish_id: int | None, body: str, username: str = "") -> None:
        if status == 409 and error_code(body) == "claim_limit":
            status = "409 claim_limit"  # the member's limit, not the wish, refused it: counted apart
        with self.lock:
            self.statuses[status] += 1
            if status in (200, 409):
                self.taken.add(wish_id)
            if status == 200:
                self.winners.setdefault(wish_id, []).append(username)
            elif status != 409 and len(self.samples) < 5:
                self.samples.append(f"{status} for wish {wish_id}: {body[:200]}")


def error_code(body: str) -> str | None:
    """The `code` of an API error body, None when the body is not one."""
    try:
        return json.loads(body)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def race(base: str, ids: list[int], tokens: dict[str, str], timeout: float) -> tuple[Race, float]:
    """Let every member loose at once; returns the counts and the wall time in seconds."""
    port = int(base.rsplit(":", 1)[1])
    state = Race(port, time.monotonic() + timeout)
    start = threading.Barrier(len(tokens) + 1)
    rng = random.Random(2026)
    threads = []
    for token, username in tokens.items():
        hot, rest = ids[:HOT], ids[HOT:]
        rng.shuffle(hot)
        rng.shuffle(rest)
        threads.append(
            threading.Thread(target=state.member, args=(token, username, hot + rest, start), daemon=True)
        )
    for thread in threads:
        thread.start()
    start.wait()
    began = time.monotonic()
    for thread in threads:
        thread.join()
    return state, time.monotonic() - began


def verify(url: str, ids: list[int], state: Race) -> list[str]:
    """What is wrong, if anything: every wish claimed once, by the member whose request won, its owner told once,
    no errors."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Member, User, Wish, WishStep

    problems = []
    unexpected = {
        status: n for status, n in state.statuses.items() if status not in (200, 409, "409 claim_limit")
    }
    if unexpected:
        problems.append(f"unexpected answers {unexpected}; first: {state.samples}")
    if state.statuses["409 claim_limit"]:
        problems.append(f"{state.statuses['409 claim_limit']} claims refused by the claim limit")
    doubles = {wish_id: names for wish_id, names in state.winners.items() if len(names) > 1}
    if doubles:
        problems.append(f"{len(doubles)} wishes won twice by the API, e.g. {list(doubles.items())[:3]}")
    if state.statuses[200] != len(ids):
        problems.append(f"{state.statuses[200]} successful claims, expected {len(ids)}")
    app = common.make_app(common.bench_config(url))
    with app.app_context():
        claimed = dict(
            db.session.execute(
                select(Wish.id, User.username)
                .join(Member, Member.id == Wish.claimed_by_id)
                .join(User, User.id == Member.user_id)
                .where(Wish.id.in_(ids), Wish.status == "claimed")
            ).all()
        )
        steps = dict(
            db.session.execute(
                select(WishStep.wish_id, func.count())
                .where(WishStep.wish_id.in_(ids), WishStep.action == "claim")
                .group_by(WishStep.wish_id)
            ).all()
        )
        problems += notice_problems(ids)
        db.engine.dispose()
    if len(claimed) != len(ids):
        problems.append(f"{len(ids) - len(claimed)} wishes not claimed in the database")
    multi = [wish_id for wish_id, n in steps.items() if n != 1]
    if multi or len(steps) != len(ids):
        problems.append(
            f"{len(steps)} of {len(ids)} wishes have a claim step, {len(multi)} of them more than one"
        )
    mismatched = [wish_id for wish_id, names in state.winners.items() if claimed.get(wish_id) not in names]
    if mismatched:
        problems.append(
            f"{len(mismatched)} wishes claimed in the database by someone else than the API's winner"
        )
    return problems


def drain(url: str, timeout: float) -> float | None:
    """Wait until no job is pending (whatever the claims recorded, run by the server after its answers; the
    owners' notices are written in the claims' own transactions); the seconds that took, None after `timeout`."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import OutboxMessage

    app = common.make_app(common.bench_config(url))
    began = time.monotonic()
    with app.app_context():
        try:
            while time.monotonic() - began < timeout:
                pending = db.session.scalar(
                    select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != "done")
                )
                db.session.rollback()
                if not pending:
                    return time.monotonic() - began
                time.sleep(0.05)
            return None
        finally:
            db.engine.dispose()


def notice_problems(ids: list[int]) -> list[str]:
    """Each claimed wish's owner was told once ("wish_claimed", about that wish); inside an app context."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Notification

    told = dict(
        db.session.execute(
            select(Notification.subject, func.count())
            .where(Notification.kind == "wish_claimed")
            .group_by(Notification.subject)
        ).all()
    )
    missing = {f"wish:{wish_id}" for wish_id in ids} - told.keys()
    doubled = [subject for subject, n in told.items() if n != 1]
    problems = []
    if missing:
        problems.append(f"{len(missing)} claimed wishes' owners were not told")
    if doubled:
        problems.append(f"{len(doubled)} owners were told more than once, e.g. {doubled[:3]}")
    return problems


def cpu_seconds(port: int, database: str | None) -> dict[str, float]:
    """CPU seconds (user + system) used so far by this process (the client threads), the gunicorn server on
    `port` (master and workers) and the PostgreSQL backends connected to `database`; Linux /proc only.

    Other jobs on the machine make the wall time noisy; the CPU per request is what a change moves.
    """
    tick = os.sysconf("SC_CLK_TCK")
    used = {"client": 0.0, "server": 0.0, "database": 0.0}
    server_argv = f"127.0.0.1:{port}".encode()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            with open(f"/proc/{pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        seconds = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        if int(pid) == os.getpid():
            used["client"] += seconds
        elif server_argv in argv and any(b"gunicorn" in a for a in argv):
            used["server"] += seconds
        elif database and argv[0].startswith(b"postgres: ") and f" {database} ".encode() in argv[0]:
            used["database"] += seconds
    return used


def run(url: str, members: int, wishes: int, timeout: float) -> dict:
    """Prepare, serve, race and verify on one database; returns the row for the table."""
    backend = url.split("://")[0].split("+")[0]
    progress(f"{backend}: preparing {members} members with tokens and {wishes} published wishes")
    config, ids, tokens = prepare(url, members, wishes)
    progress(f"{backend}: starting gunicorn (2 gthread workers × 8 threads)")
    with common.gunicorn("bench.onegrid_wsgi:app", config, extra=GUNICORN_FLAGS) as base:
        status, body = common.fetch(f"{base}/api/v1/wishes/{ids[0]}/claim", method="POST")
        if status != 401:  # no token: the endpoint must exist and ask for one
            raise BenchFailure(
                f"POST /api/v1/wishes/<id>/claim without a token answered {status}, not 401 "
                f"(is the wishes API there?): {body[:200]}"
            )
        progress(f"{backend}: {members} members racing")
        port = int(base.rsplit(":", 1)[1])
        database = url.rsplit("/", 1)[1].split("?")[0] if backend == "postgresql" else None
        load_before = os.getloadavg()[0]  # the machine may be shared: the 1-minute load around the race
        times_before = common.cpu_times()  # and, on a virtual machine, the time its neighbours took (steal)
        cpu_before = cpu_seconds(port, database)
        state, seconds = race(base, ids, tokens, timeout)
        cpu_after = cpu_seconds(port, database)
        load_after = os.getloadavg()[0]
        steal = common.stolen(times_before, common.cpu_times())
        progress(f"{backend}: waiting until no job is pending (jobs run after the answers)")
        drained = drain(url, timeout)
        cpu_drained = cpu_seconds(port, database)
    problems = verify(url, ids, state)
    if drained is None:
        problems.append(f"jobs still pending {timeout:.0f} s after the race")
    total = sum(state.statuses.values())
    row = {
        "backend": backend,
        "seconds": seconds,
        "won": state.statuses[200],
        "lost": state.statuses[409],
        "other": total - state.statuses[200] - state.statuses[409],
        "claims/s": state.statuses[200] / seconds,
        "requests/s": total / seconds,
        "load": (load_before, load_after),
        "steal": steal,
        "cpu": {part: cpu_after[part] - cpu_before[part] for part in cpu_before},
        "drain": drained,
        "cpu_drain": {part: cpu_drained[part] - cpu_after[part] for part in cpu_before},
        "problems": problems,
    }
    for problem in problems:
        print(f"  {backend}: {problem}", file=sys.stderr)
    progress(f"{backend}: {'OK' if not problems else 'FAILED'} in {seconds:.1f} s")
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help=common.DATABASE_URL_HELP)
    parser.add_argument("--both", action="store_true", help="SQLite, then the PostgreSQL of --database-url")
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--wishes", type=int, default=1000)
    parser.add_argument("--timeout", type=float, default=600, help="give up racing after this many seconds")
    args = parser.parse_args()
    if args.both and not args.database_url:
        parser.error("--both needs --database-url with the PostgreSQL database to use")
    if args.members < 1 or args.wishes < HOT:
        parser.error(f"at least 1 member and {HOT} wishes")
    common.stop_on_sigterm()
    urls = [None, args.database_url] if args.both else [args.database_url]
    rows = []
    try:
        for url in urls:
            with common.database_url(url) as real_url:
                rows.append(run(real_url, args.members, args.wishes, args.timeout))
    except BenchFailure as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; servers stopped", file=sys.stderr)
        return 130
    print(f"\n{args.members} members racing for {args.wishes} wishes")
    print(
        f"{'database':<12}{'seconds':>9}{'won':>7}{'lost':>7}{'other':>7}{'claims/s':>10}{'requests/s':>12}"
        f"{'load':>12}{'steal':>7}  result"
    )
    for r in rows:
        load = "{:.1f}→{:.1f}".format(*r["load"])
        steal = "?" if r["steal"] is None else f"{100 * r['steal']:.0f}%"
        print(
            f"{r['backend']:<12}{r['seconds']:>9.1f}{r['won']:>7}{r['lost']:>7}{r['other']:>7}"
            f"{r['claims/s']:>10.1f}{r['requests/s']:>12.1f}{load:>12}{steal:>7}  {'FAIL' if r['problems'] else 'PASS'}"
        )
    print("\nJobs after the race (the owners' notices are written in the claims' own transactions):")
    for r in rows:
        drained = "not drained" if r["drain"] is None else f"none pending {r['drain']:.1f} s after the race"
        with_notices = r["won"] / (r["seconds"] + (r["drain"] or 0))
        print(f"{r['backend']:<12}{drained}; claims/s counting that time too: {with_notices:.1f}")
    print("\nCPU during the race, ms per request (client threads / gunicorn / PostgreSQL backends):")
    for r in rows:
        requests = r["won"] + r["lost"] + r["other"]
        per = {part: 1000 * seconds / max(requests, 1) for part, seconds in r["cpu"].items()}
        print(
            f"{r['backend']:<12}client {per['client']:.2f}  server {per['server']:.2f}  "
            f"database {per['database']:.2f}  total {sum(per.values()):.2f}"
        )
        after = {part: 1000 * seconds / max(requests, 1) for part, seconds in r["cpu_drain"].items()}
        print(
            f"{'':<12}then, for the jobs left: server {after['server']:.2f}  database {after['database']:.2f}"
        )
    return 1 if any(r["problems"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())

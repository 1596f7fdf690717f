"""The soak's stage: a fresh database and Redis, the accounts and wishes, the webhook receiver, the processes.

Also what the jobs worker left to do (`drain`) and each process's memory over the run (`memory_floor`).
Nothing here imports the app at module level: bench/soak.py sets the environment first.
"""

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import common
from common import BenchFailure, progress

DATABASE = "onegrid_soak"  # dropped and created anew by every run; never the suite's `test`
DATABASE_URL = f"postgresql://postgres@127.0.0.1:5432/{DATABASE}"
REDIS_URL = "redis://127.0.0.1:6379/14"  # only this index is flushed
COMMUNITY = "610404001001"
GRIDS = [f"{COMMUNITY}{g:03d}" for g in (1, 2, 3)]  # members and residents live here, the wishes too
PASSWORD = "soak-password-1"


# --- the database, Redis and the data --------------------------------------------------------------
def run_quiet(command: list[str], what: str) -> float:
    """Run a command from the repository root with the soak's environment; returns its seconds."""
    started = time.monotonic()
    result = subprocess.run(command, cwd=common.ROOT, env=os.environ, capture_output=True, text=True)
    if result.returncode != 0:
        raise BenchFailure(f"{what} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return time.monotonic() - started


def fresh_stores() -> None:
    """Drop and create the soak's database, build the schema and the demo with the CLI; flush Redis db 14."""
    import redis

    psql = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-qc"]
    run_quiet([*psql, f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"], "dropping the database")
    run_quiet([*psql, f"CREATE DATABASE {DATABASE}"], "creating the database")
    redis.Redis.from_url(REDIS_URL).flushdb()
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    progress(f"flask db upgrade: {run_quiet([*flask, 'db', 'upgrade'], 'flask db upgrade'):.1f} s")
    progress(f"flask seed demo: {run_quiet([*flask, 'seed', 'demo'], 'flask seed demo'):.1f} s")


def prepare(app, members: int, residents: int, wishes: int, hook_url: str) -> dict:
    """Soak accounts, published wishes and a webhook endpoint for everything; returns what the users need."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Matter, WebhookEndpoint
    from app.services.users import create_user
    from app.services.webhooks import new_secret

    with app.app_context():
        for i in range(members):
            create_user(
                f"soak-member-{i:02d}", "member", PASSWORD, area_code=GRIDS[i % 3], name=f"党员{i:02d}"
            )
        for i in range(residents):
            create_user(
                f"soak-resident-{i:02d}", "resident", PASSWORD, area_code=GRIDS[i % 3], name=f"居民{i:02d}"
            )
        # every wish and event change becomes a delivery the jobs worker sends: the worker works too
        db.session.add(
            WebhookEndpoint(url=hook_url, secret=new_secret(), event_types=["*"], description="soak")
        )
        db.session.commit()
        ids = [wish_id for wish_id, _ in common.add_published_wishes(wishes, GRIDS, seed=1111)]  # and ANALYZE
        matters = list(db.session.scalars(select(Matter.code).where(Matter.admitted.is_(True))))
        db.engine.dispose()
    if not matters:
        raise BenchFailure("the demo has no admitted matter to report events under")
    return {"wishes": ids, "matters": matters}


def job_counts(app) -> dict:
    """Webhook deliveries and outbox rows by status, at this moment."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import OutboxMessage, WebhookDelivery

    with app.app_context():
        deliveries = dict(
            db.session.execute(
                select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)
            ).all()
        )
        outbox = dict(
            db.session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            ).all()
        )
        db.session.remove()
    return {"deliveries": deliveries, "outbox": outbox}


def drain(app, seconds: float) -> dict:
    """Wait until the worker has sent every delivery (or `seconds` passed); returns the last counts."""
    deadline = time.monotonic() + seconds
    while True:
        counts = job_counts(app)
        if not counts["deliveries"].get("pending") and not counts["outbox"].get("pending"):
            return counts
        if time.monotonic() > deadline:
            return counts
        time.sleep(2)


# --- the webhook receiver --------------------------------------------------------------------------
class Receiver(BaseHTTPRequestHandler):
    """Takes every webhook with 204 and counts them by topic."""

    received: ClassVar[Counter] = Counter()
    lock = threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            topic = json.loads(body).get("type", "?")
        except ValueError:
            topic = "unreadable"
        with self.lock:
            self.received[topic] += 1
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args):  # quiet: thousands of them
        pass


@contextlib.contextmanager
def receiver():
    """A webhook receiver on a free loopback port; yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", common.free_port()), Receiver)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks"
    finally:
        server.shutdown()


# --- the processes and their memory ------------------------------------------------------------------
@contextlib.contextmanager
def jobs_worker(log_path: str):
    """`flask jobs worker --with-scheduler` (RQ SimpleWorker plus the periodic tasks); yields its process."""
    with open(log_path, "ab") as log:
        command = [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker", "--with-scheduler"]
        worker = subprocess.Popen(
            command,
            cwd=common.ROOT,
            env=os.environ,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        time.sleep(1)
        if worker.poll() is not None:
            raise BenchFailure(f"the jobs worker exited with code {worker.returncode}; see {log_path}")
        yield worker
    finally:
        common._stop(worker)


def child_pids(parent: int) -> list[int]:
    """The processes whose parent is `parent` (from /proc)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError), open(f"/proc/{entry}/stat") as fh:
                if int(fh.read().rsplit(")", 1)[1].split()[1]) == parent:
                    pids.append(int(entry))
    return sorted(pids)


def rss_kib(pid: int) -> int | None:
    """Resident set size of a process in KiB; None once it is gone."""
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


class Processes:
    """The gunicorn master, its workers and the jobs worker: their memory, and whether a worker was replaced."""

    def __init__(self, worker_pid: int, web_workers: int):
        masters = [pid for pid in child_pids(os.getpid()) if b"gunicorn" in read_cmdline(pid)]
        if len(masters) != 1:
            raise BenchFailure(f"cannot tell the gunicorn master among {masters}")
        self.master, self.jobs = masters[0], worker_pid
        deadline = time.monotonic() + 30
        while len(child_pids(self.master)) < web_workers:  # gunicorn answers once its first worker is up
            if time.monotonic() > deadline:
                raise BenchFailure(
                    f"gunicorn started {len(child_pids(self.master))} of {web_workers} workers"
                )
            time.sleep(0.2)
        self.first_workers = child_pids(self.master)
        self.seen_workers = set(self.first_workers)

    def snapshot(self) -> dict[str, tuple[int, int | None]]:
        """label → (pid, RSS in KiB) of every process now."""
        workers = child_pids(self.master)
        self.seen_workers.update(workers)
        rows = {"gunicorn master": (self.master, rss_kib(self.master))}
        rows.update({f"gunicorn worker {n}": (pid, rss_kib(pid)) for n, pid in enumerate(workers, 1)})
        rows["jobs worker"] = (self.jobs, rss_kib(self.jobs))
        return rows

    def replaced(self) -> set[int]:
        """Web workers that appeared after the start (a worker died or timed out and was replaced)."""
        return self.seen_workers - set(self.first_workers)


def read_cmdline(pid: int) -> bytes:
    with contextlib.suppress(OSError), open(f"/proc/{pid}/cmdline", "rb") as fh:
        return fh.read()
    return b""


def memory_floor(series: list, start: float, stop: float) -> dict[str, tuple[int, int | None]]:
    """label → (pid, lowest RSS) over the samples taken from `start` to `stop` seconds.

    The lowest, so that one request's passing allocation is not taken for growth: a login's scrypt
    alone takes 32 MiB for a moment. A leak raises the floor. A label whose process changed keeps pid -1.
    """
    floor: dict[str, tuple[int, int | None]] = {}
    for seconds, snapshot in series:
        if start <= seconds <= stop:
            for label, (pid, kib) in snapshot.items():
                seen_pid, seen_kib = floor.get(label, (pid, kib))
                floor[label] = (pid, min(kib or 0, seen_kib or 0) or None) if seen_pid == pid else (-1, None)
    return floor

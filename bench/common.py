"""Shared helpers of the benchmarks: a seeded database, gunicorn servers on loopback, wrk and its output."""

import contextlib
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:  # the scripts run as `.venv/bin/python bench/…` from anywhere
    sys.path.insert(0, ROOT)

BENCH_CONFIG = {
    "SECRET_KEY": "bench",
    "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",  # still scrypt, cheap enough for hundreds of bench users
    "LOGIN_RATE_LIMIT_ENABLED": False,
}
DATABASE_URL_HELP = "PostgreSQL URL (ALL ITS TABLES ARE DROPPED); default: a temporary SQLite file"
TASKS = [
    "帮忙取快递",
    "陪同就医",
    "代买生活用品",
    "辅导孩子功课",
    "上门理发",
    "维修家电",
    "打扫卫生",
    "读报聊天",
    "咨询法律问题",
    "搬运重物",
    "代缴水电费",
    "教用智能手机",
]


def cpu_times() -> list[int]:
    """The machine's CPU time so far, in ticks (Linux /proc/stat): user, nice, system, idle, iowait, irq,
    softirq, steal; an empty list elsewhere."""
    try:
        with open("/proc/stat") as f:
            return [int(n) for n in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return []


def stolen(before: list[int], after: list[int]) -> float | None:
    """The share of the machine's time the hypervisor gave other guests between two `cpu_times()` (steal):
    on a shared virtual machine, time the bench wanted and could not have; None when unknown."""
    if len(before) < 8 or len(after) < 8:
        return None
    spent = [b - a for a, b in zip(before, after, strict=True)]
    return spent[7] / max(sum(spent), 1)


class BenchFailure(Exception):
    """A correctness check failed: the numbers measured something other than what they claim."""


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def stop_on_sigterm() -> None:
    """Turn SIGTERM into KeyboardInterrupt so the `finally` blocks still stop the servers."""

    def handler(_signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


# --- the database --------------------------------------------------------------------------------
@contextlib.contextmanager
def database_url(url: str | None):
    """The given URL, or a SQLite file in a temporary directory removed afterwards."""
    if url:
        yield url
        return
    folder = tempfile.mkdtemp(prefix="onegrid-bench-")
    try:
        yield "sqlite:///" + os.path.join(folder, "bench.db")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def bench_config(url: str, **overrides) -> dict:
    """The app configuration the benchmark and its servers share."""
    return {**BENCH_CONFIG, "SQLALCHEMY_DATABASE_URI": url, **overrides}


def make_app(config: dict):
    from app import create_app

    return create_app(config)


def reset_database() -> None:
    """Drop every table, create them anew and seed the demo district (inside an app context)."""
    from app.extensions import db
    from app.services.demo import seed_demo

    db.drop_all()
    db.create_all()
    seed_demo()
    db.session.commit()


def add_published_wishes(
    count: int, grid_codes: list[str], days: int = 30, seed: int = 404
) -> list[tuple[int, str]]:
    """Bulk-insert `count` published wishes of the demo resident (with their post and publish steps).

    Published over the last `days` days, the last one newest; returns (id, title) in that order.
    """
    from flask import current_app
    from sqlalchemy import insert, select, text

    from app.extensions import db
    from app.models import Resident, User, Wish, WishCategory, WishStep
    from app.models.base import utcnow

    rng = random.Random(seed)
    owner = db.session.scalar(select(User).where(User.username == "resident"))
    publisher_id = db.session.scalar(select(User.id).where(User.username == "admin"))
    resident_id = db.session.scalar(select(Resident.id).where(Resident.user_id == owner.id))
    categories = list(db.session.scalars(select(WishCategory).order_by(WishCategory.position)))
    hours = {
        key: timedelta(hours=current_app.config[key])
        for key in ("WISH_REVIEW_HOURS", "WISH_CLAIM_HOURS", "WISH_RESOLVE_HOURS")
    }
    now = utcnow()
    wishes = []
    for i in range(count):
        published = now - timedelta(days=days) * (count - i) / count
        created = published - timedelta(hours=rng.randint(1, 20))
        category = categories[i % len(categories)]
        wishes.append(
            {
                "title": f"{rng.choice(TASKS)} #{i + 1:04d}",
                "description": f"{category.name}：基准测试用的心愿。",
                "category_id": category.id,
                "grid_code": grid_codes[i % len(grid_codes)],
                "owner_id": owner.id,
                "resident_id": resident_id,
                "posted_by_id": owner.id,
                "status": "published",
                "created_at": created,
                "updated_at": published,
                "published_at": published,
                "respond_by": created + hours["WISH_REVIEW_HOURS"],
                "reply_by": created + hours["WISH_CLAIM_HOURS"],
                "resolve_by": created + hours["WISH_RESOLVE_HOURS"],
            }
        )
    ids = db.session.scalars(insert(Wish).returning(Wish.id, sort_by_parameter_order=True), wishes).all()
    steps = []
    for wish_id, wish in zip(ids, wishes):
        steps.append(
            {
                "wish_id": wish_id,
                "actor_id": owner.id,
                "action": "post",
                "from_status": None,
                "to_status": "submitted",
                "at": wish["created_at"],
            }
        )
        steps.append(
            {
                "wish_id": wish_id,
                "actor_id": publisher_id,
                "action": "publish",
                "from_status": "submitted",
                "to_status": "published",
                "at": wish["published_at"],
            }
        )
    db.session.execute(insert(WishStep), steps)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # fresh planner statistics, as autovacuum would have them in a running deployment; without
        # them PostgreSQL guesses 5 published wishes and sorts all of them for every board page. VACUUM
        # too: the catalogs' dead rows (every run drops and creates every table) would otherwise pile up
        # where autovacuum is off, as on these machines, and slow each fresh connection's catalog reads
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    return [(wish_id, wish["title"]) for wish_id, wish in zip(ids, wishes)]


# --- servers ---------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str, method: str = "GET", timeout: float = 10) -> tuple[int, str]:
    """Status and body of one request; HTTP errors are answers too."""
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


@contextlib.contextmanager
def gunicorn(
    module: str, config: dict | None = None, workers: int = 2, extra: tuple = (), timeout: float = 60
):
    """A gunicorn server for `module` (e.g. "bench.hello:app") on a free loopback port; yields its base URL.

    `config` reaches bench/onegrid_wsgi.py as JSON in BENCH_APP_CONFIG. The server (its process
    group: master and workers) is stopped on the way out, also on Ctrl-C or an exception.
    """
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-w",
        str(workers),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        *extra,
        module,
    ]
    env = {**os.environ, "BENCH_APP_CONFIG": json.dumps(config or {})}
    server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if server.poll() is not None:
                raise BenchFailure(f"gunicorn for {module} exited with code {server.returncode}")
            try:
                fetch(base + "/", timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise BenchFailure(
                        f"gunicorn for {module} did not answer within {timeout:.0f} s"
                    ) from None
                time.sleep(0.2)
        yield base
    finally:
        _stop(server)


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, sig)  # the group started with this server: its master and workers
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=wait)
            return


# --- wrk ---------------------------------------------------------------------------------------------
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def run_wrk(
    url: str, seconds: float, threads: int = 2, connections: int = 16, script: str | None = None
) -> dict:
    """Run wrk against `url` (with the Lua `script` file, when given) and return its parsed numbers."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise BenchFailure("wrk is not installed (apt-get install -y wrk)")
    command = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "10s",
        "--latency",
        *(("-s", script) if script else ()),
        url,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if result.returncode != 0:
        raise BenchFailure(f"wrk failed: {result.stderr.strip() or result.stdout.strip()}")
    return parse_wrk(result.stdout)


def parse_wrk(text: str) -> dict:
    """requests, requests/s, p50/p99 latency in ms, socket errors, non-2xx/3xx answers, errors (the two together)
    and, when a script reported them (a line "unexpected statuses: N"), the answers it did not expect, else None."""

    def number(pattern: str) -> float:
        match = re.search(pattern, text, re.MULTILINE)
        if match is None:
            raise BenchFailure(f"unexpected wrk output (no {pattern!r}):\n{text}")
        return float(match.group(1))

    def latency(percent: int) -> float:
        match = re.search(rf"^\s*{percent}(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.MULTILINE)
        if match is None:
            raise BenchFailure(
                f"unexpected wrk output (no {percent}% latency; was --latency given?):\n{text}"
            )
        return float(match.group(1)) * UNITS[match.group(2)]

    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    unexpected = re.search(r"^unexpected statuses: (\d+)$", text, re.MULTILINE)
    found = {
        "requests": int(number(r"(\d+) requests in")),
        "rps": number(r"^Requests/sec:\s+([\d.]+)"),
        "p50": latency(50),
        "p99": latency(99),
        "sockets": sum(int(n) for n in sockets.groups()) if sockets else 0,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "unexpected": int(unexpected.group(1)) if unexpected else None,
    }
    found["errors"] = found["sockets"] + found["non_2xx"]
    return found

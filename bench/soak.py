"""Soak: gunicorn, PostgreSQL, Redis and a jobs worker under mixed traffic; latency per kind, errors, memory growth."""

import argparse
import contextlib
import http.client
import http.cookies
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import urlencode

import common
from common import BenchFailure, progress

DATABASE = "onegrid_soak"  # dropped and created anew by every run; never the suite's `test`
DATABASE_URL = f"postgresql://postgres@127.0.0.1:5432/{DATABASE}"
REDIS_URL = "redis://127.0.0.1:6379/14"  # only this index is flushed
COMMUNITY = "610404001001"
GRIDS = [f"{COMMUNITY}{g:03d}" for g in (1, 2, 3)]  # members and residents live here, the wishes too
PASSWORD = "soak-password-1"
STAFF = (
    ("admin", "onegrid-admin"),
    ("street", "onegrid-street"),
    ("community", "onegrid-community"),
    ("grid", "onegrid-grid"),
    ("grid2", "onegrid-grid"),
)
MEMORY_TARGET = 0.10
MEMORY_WINDOW = 10  # seconds after warm-up, and before the end, whose lowest RSS counts
DRAIN_SECONDS = 90  # after the load: time for the worker to send what is queued (the relay runs every 30 s)

# What the soak changes in the app's settings, for the web workers and the jobs worker alike, and why.
SOAK_ENV = {
    "DATABASE_URL": DATABASE_URL,
    "REDIS_URL": REDIS_URL,
    "SECRET_KEY": "onegrid-soak",  # one secret for every process, as in production
    # every virtual user logs in from 127.0.0.1, again and again: a per-address ceiling made for
    # real crowds would refuse them (the limiter still counts, in Redis)
    "LOGIN_RATE_LIMIT": "100000 per minute",
    # the soak's residents and members report every few seconds, far above any real resident's pace
    "EVENT_REPORT_RATE_LIMIT": "100000 per hour",
    "WEBHOOK_ALLOW_PRIVATE": "true",  # the soak's webhook receiver listens on loopback
}

# Each virtual user is one of these, and picks its next request by weight. Anonymous 1/8, members 3/8,
# residents 1/4, staff the rest (4, 12, 8, 8 of 32 connections).
PERSONAS = {
    "anonymous": {"board_anonymous": 6, "wish_page": 4},
    "member": {
        "board_logged_in": 3,
        "wish_page": 3,
        "api_wishes": 3,
        "claim_release": 3,
        "api_events": 1,
        "report_api": 1,
        "login": 0.1,
        "api_token": 0.1,
    },
    "resident": {
        "board_logged_in": 3,
        "wish_page": 2,
        "api_events": 2,
        "my_reports": 1,
        "report_api": 1,
        "report_site": 1,
        "login": 0.1,
        "api_token": 0.1,
    },
    "staff": {
        "admin_wishes": 2,
        "admin_events": 2,
        "admin_residents": 2,
        "api_wishes": 1,
        "api_events": 1,
        "login": 0.1,
    },
}
OK = {200: None}
PROBLEMS = (
    "楼道堆放杂物",
    "路灯不亮",
    "井盖松动",
    "垃圾未及时清运",
    "小区门口占道经营",
    "绿化带破损",
    "电动车楼道充电",
)
PLACES = ("号楼一单元门口", "号楼楼道", "号楼北侧路边", "号楼西侧绿地")
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


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


# --- counting ----------------------------------------------------------------------------------------
class Tally:
    """What the virtual users saw: latencies per kind (measured window only), answers, errors with samples."""

    def __init__(self, measure_from: float, measure_to: float):
        self.measure_from, self.measure_to = measure_from, measure_to
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.answers: dict[str, Counter] = defaultdict(Counter)
        self.errors: Counter = Counter()
        self.server_errors: Counter = Counter()
        self.samples: list[str] = []

    def record(
        self, kind: str, request: str, status, expected: dict, started: float, ended: float, body: bytes
    ):
        ok = status in expected
        with self.lock:
            self.answers[kind][expected.get(status) or str(status)] += 1
            if self.measure_from <= started < self.measure_to:
                self.latencies[kind].append((ended - started) * 1000)
            if not ok:
                self.errors[kind] += 1
                if isinstance(status, int) and status >= 500:
                    self.server_errors[kind] += 1
                if len(self.samples) < 30:
                    when = time.strftime("%H:%M:%S")
                    text = body[:300].decode("utf-8", "replace").replace("\n", " ")
                    self.samples.append(f"{when} {kind}: {request} → {status} {text}")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else float("nan")


# --- the virtual users ----------------------------------------------------------------------------
class VirtualUser:
    """One connection, one person: logs in as they would, then sends request after request, chosen by weight."""

    def __init__(self, soak, persona: str, account: tuple[str, str] | None, seed: int):
        self.soak, self.persona, self.account = soak, persona, account
        self.rng = random.Random(seed)
        self.kinds, self.weights = zip(*PERSONAS[persona].items())
        self.connection = http.client.HTTPConnection("127.0.0.1", soak.port, timeout=60)
        self.cookies: dict[str, str] = {}
        self.token: str | None = None

    def run(self) -> None:
        try:
            if self.account is not None:
                self.login()
                self.api_token()
            while time.monotonic() < self.soak.deadline:
                getattr(self, self.rng.choices(self.kinds, self.weights)[0])()
        except Exception as error:  # a bug of the bench itself: say so, never hide it in the numbers
            self.soak.tally.record("bench", "client", type(error).__name__, {}, 0, 0, repr(error).encode())
        finally:
            self.connection.close()

    # -- one request ---------------------------------------------------------------------------------
    def call(
        self,
        kind: str,
        method: str,
        path: str,
        expected: dict,
        *,
        form: dict | None = None,
        json_body=None,
        api: bool = False,
        label=None,
    ) -> tuple[object, str]:
        """Send one request on this user's connection and record it; returns (status, body)."""
        headers, body = {"X-Soak-Kind": kind}, None  # gunicorn's access log names the kind with its time
        if form is not None:
            body, headers["Content-Type"] = urlencode(form), "application/x-www-form-urlencoded"
        elif json_body is not None:
            body, headers["Content-Type"] = json.dumps(json_body), "application/json"
        if api and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if not api and self.cookies:  # a browser's cookies; API clients have none
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        started = time.monotonic()
        try:
            self.connection.request(method, path, body=body.encode() if body else None, headers=headers)
            response = self.connection.getresponse()
            data, status = response.read(), response.status
            if not api:
                self.keep_cookies(response.msg.get_all("Set-Cookie") or [])
        except (OSError, http.client.HTTPException) as error:
            self.connection.close()  # the next request opens a new one
            data, status = str(error).encode(), type(error).__name__
        ended = time.monotonic()
        text = data.decode("utf-8", "replace")
        if label is not None:
            status = label(status, text)
        self.soak.tally.record(kind, f"{method} {path}", status, expected, started, ended, data)
        return status, text

    def keep_cookies(self, headers: list[str]) -> None:
        for header in headers:
            cookie = http.cookies.SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel.value == "" or morsel["max-age"] == "0":
                    self.cookies.pop(name, None)  # Flask deletes a cookie by emptying it
                else:
                    self.cookies[name] = morsel.value

    def form_token(self, kind: str, path: str) -> str | None:
        """GET a form page and take its CSRF token, as a browser shows the form before it is sent."""
        status, page = self.call(kind, "GET", path, {200: None})
        match = CSRF.search(page) if status == 200 else None
        if status == 200 and match is None:
            self.soak.tally.record(kind, f"GET {path}", "no CSRF token", {}, 0, 0, page.encode())
        return match.group(1) if match else None

    # -- logging in ------------------------------------------------------------------------------------
    def login(self) -> None:
        """A fresh browser session: the login page, then the form (303 to the landing page)."""
        self.cookies.clear()
        token = self.form_token("login page", "/login")
        if token is not None:
            username, password = self.account
            self.call(
                "login",
                "POST",
                "/login",
                {303: None},
                form={"csrf_token": token, "username": username, "password": password},
            )

    def api_token(self) -> None:
        username, password = self.account
        status, body = self.call(
            "API token",
            "POST",
            "/api/v1/auth/token",
            OK,
            api=True,
            json_body={"username": username, "password": password},
        )
        if status == 200:
            self.token = json.loads(body)["token"]

    # -- the public site -------------------------------------------------------------------------------
    def board_anonymous(self) -> None:
        page = self.rng.choice((1, 1, 1, 1, 2, 3))
        self.call("board (anonymous)", "GET", "/" if page == 1 else f"/?page={page}", OK)

    def board_logged_in(self) -> None:
        self.call("board (logged in)", "GET", "/", OK)

    def wish_page(self) -> None:
        self.call("wish page", "GET", f"/wishes/{self.rng.choice(self.soak.data['wishes'])}", OK)

    def my_reports(self) -> None:
        self.call("my reports", "GET", "/my/events", OK)

    def report_site(self) -> None:
        token = self.form_token("report form", "/events/new")
        if token is not None:
            self.call(
                "report (site)",
                "POST",
                "/events/new",
                {303: None},
                form={"csrf_token": token, **self.problem()},
            )

    def problem(self) -> dict:
        what = self.rng.choice(PROBLEMS)
        return {
            "matter": self.rng.choice(self.soak.data["matters"]),
            "title": f"{what}（压测）",
            "description": f"{what}，已经好几天了，请尽快处理。",
            "location_text": f"{self.rng.randint(1, 30)}{self.rng.choice(PLACES)}",
        }

    # -- the API ---------------------------------------------------------------------------------------
    def api_wishes(self) -> None:
        self.call(
            "API wishes",
            "GET",
            f"/api/v1/wishes?status=published&per_page=20&page={self.rng.randint(1, 3)}",
            OK,
            api=True,
        )

    def api_events(self) -> None:
        self.call("API events", "GET", "/api/v1/events?per_page=20", OK, api=True)

    def report_api(self) -> None:
        self.call("report (API)", "POST", "/api/v1/events", {201: None}, api=True, json_body=self.problem())

    def claim_release(self) -> None:
        """Claim a published wish and give it back; 409 when another member holds it is a lost race, not an error."""
        wish_id = self.rng.choice(self.soak.data["wishes"])
        status, _ = self.call(
            "claim",
            "POST",
            f"/api/v1/wishes/{wish_id}/claim",
            {200: "won", 409: "lost"},
            api=True,
            label=claim_label,
        )
        if status == 200:
            self.call("release", "POST", f"/api/v1/wishes/{wish_id}/release", OK, api=True, json_body={})

    # -- the back office -------------------------------------------------------------------------------
    def admin_wishes(self) -> None:
        self.call("admin wishes", "GET", "/admin/wish/", OK)

    def admin_events(self) -> None:
        self.call("admin events", "GET", "/admin/event/", OK)

    def admin_residents(self) -> None:
        self.call("admin residents", "GET", "/admin/resident/", OK)


def claim_label(status, body: str):
    """A 409 from the member's own claim limit means a release went missing: an error, not a lost race."""
    if status == 409 and '"claim_limit"' in body:
        return "409 claim_limit"
    return status


def cast(connections: int) -> list[tuple[str, tuple[str, str] | None]]:
    """(persona, account) of each connection: anonymous 1/8, members 3/8, residents 1/4, staff the rest."""
    anonymous, members = max(1, connections // 8), connections * 3 // 8
    residents = connections // 4
    staff = connections - anonymous - members - residents
    return (
        [("anonymous", None)] * anonymous
        + [("member", (f"soak-member-{i:02d}", PASSWORD)) for i in range(members)]
        + [("resident", (f"soak-resident-{i:02d}", PASSWORD)) for i in range(residents)]
        + [("staff", STAFF[i % len(STAFF)]) for i in range(staff)]
    )


class Soak:
    """The run's shared state: where the server is, until when, the data, the counts."""

    def __init__(self, port: int, data: dict, duration: float, warmup: float, access_log: str):
        self.port, self.data = port, data
        self.started = time.monotonic()
        self.warm_at = self.started + warmup
        self.deadline = self.started + duration
        self.tally = Tally(self.warm_at, self.deadline)
        self.access_log = access_log
        self.log_span = [0, 0]  # the access log's bytes written between the warm-up and the deadline


def load(soak: Soak, cast_list, processes: Processes) -> list[tuple[float, dict]]:
    """Let the virtual users loose until the deadline; returns the processes' memory each second."""
    users = [VirtualUser(soak, persona, account, seed=n) for n, (persona, account) in enumerate(cast_list)]
    threads = [threading.Thread(target=user.run, daemon=True) for user in users]
    for thread in threads:
        thread.start()
    series, next_note = [], soak.started + 30
    while (now := time.monotonic()) < soak.deadline:
        series.append((now - soak.started, processes.snapshot()))
        if not soak.log_span[0] and now >= soak.warm_at:
            soak.log_span[0] = os.path.getsize(soak.access_log)
        if now >= next_note:
            next_note += 30 if soak.deadline - soak.started <= 120 else 60
            progress(
                f"{now - soak.started:5.0f} s: {sum(sum(c.values()) for c in soak.tally.answers.values())} "
                f"requests, {sum(soak.tally.errors.values())} errors"
            )
        time.sleep(1)
    soak.log_span[1] = os.path.getsize(soak.access_log)
    for thread in threads:
        thread.join(timeout=90)
    series.append((time.monotonic() - soak.started, processes.snapshot()))
    return series


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


# --- the report ------------------------------------------------------------------------------------
ACCESS_LOG_FORMAT = "%(s)s %(D)s %({x-soak-kind}i)s"  # status, microseconds in the worker, the kind


def server_times(soak: Soak) -> dict[str, list[float]]:
    """kind → milliseconds each request spent in a gunicorn worker (after warm-up), from the access log."""
    times = defaultdict(list)
    with open(soak.access_log, "rb") as fh:
        fh.seek(soak.log_span[0])
        for line in fh.read(soak.log_span[1] - soak.log_span[0]).decode("utf-8", "replace").splitlines():
            parts = line.split(" ", 2)
            if len(parts) == 3 and parts[1].isdigit():
                times[parts[2]].append(int(parts[1]) / 1000)
    return times


def report(soak: Soak, seconds: float, warm: dict, end: dict, processes: Processes) -> float:
    """Print the table per kind and the memory; returns the largest memory growth."""
    tally, inside = soak.tally, server_times(soak)
    print(f"\n{'':<37}{'at the client':^16}{'in the worker':^16}")
    print(
        f"{'kind':<20}{'requests':>9}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'errors':>7}{'5xx':>5}  answers"
    )
    kinds = sorted(tally.answers, key=lambda k: -sum(tally.answers[k].values()))
    for kind in kinds:
        latencies = tally.latencies[kind]
        answers = ", ".join(f"{label or '?'} {n}" for label, n in tally.answers[kind].most_common())
        print(
            f"{kind:<20}{sum(tally.answers[kind].values()):>9}{len(latencies) / seconds:>8.1f}"
            f"{percentile(latencies, 0.5):>8.1f}{percentile(latencies, 0.99):>8.1f}"
            f"{percentile(inside[kind], 0.5):>8.1f}{percentile(inside[kind], 0.99):>8.1f}"
            f"{tally.errors[kind]:>7}{tally.server_errors[kind]:>5}  {answers}"
        )
    every = [ms for values in tally.latencies.values() for ms in values]
    every_inside = [ms for values in inside.values() for ms in values]
    print(
        f"{'total':<20}{sum(sum(c.values()) for c in tally.answers.values()):>9}{len(every) / seconds:>8.1f}"
        f"{percentile(every, 0.5):>8.1f}{percentile(every, 0.99):>8.1f}"
        f"{percentile(every_inside, 0.5):>8.1f}{percentile(every_inside, 0.99):>8.1f}"
        f"{sum(tally.errors.values()):>7}{sum(tally.server_errors.values()):>5}"
    )
    print(
        f"(req/s and times over the {seconds:.0f} s after warm-up, requests, errors and 5xx over the whole run; "
        "at the client: queueing included)"
    )
    print(f"\n{'process':<20}{'pid':>8}{'warm MiB':>10}{'end MiB':>9}{'growth':>8}")
    worst = 0.0
    for label, (pid, end_kib) in end.items():
        warm_pid, warm_kib = warm.get(label, (None, None))
        if warm_pid != pid or not warm_kib or not end_kib:
            print(
                f"{label:<20}{pid:>8}{'—':>10}{(end_kib or 0) / 1024:>9.1f}  (not the same process as after warm-up)"
            )
            worst = float("inf")
            continue
        growth = (end_kib - warm_kib) / warm_kib
        worst = max(worst, growth)
        print(f"{label:<20}{pid:>8}{warm_kib / 1024:>10.1f}{end_kib / 1024:>9.1f}{growth:>+8.1%}")
    if processes.replaced():
        print(f"web workers replaced during the run (died or timed out): {sorted(processes.replaced())}")
    return worst


def print_series(series: list, duration: float) -> None:
    """The lowest RSS of each process per stretch of the run, in MiB: a floor that keeps rising is a leak."""
    labels = list(series[-1][1])
    step = max(10.0, duration / 10)
    print(f"\nlowest RSS per {step:.0f} s (MiB): " + ", ".join(labels))
    start = 0.0
    while start < series[-1][0]:
        floor = memory_floor(series, start, start + step)
        print(
            f"  {start:5.0f} s "
            + " ".join(f"{(floor.get(label, (0, 0))[1] or 0) / 1024:7.1f}" for label in labels)
        )
        start += step


def log_problems(path: str) -> list[str]:
    """Tracebacks and error lines in gunicorn's error log."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        text = fh.read()
    return [
        line for line in text.splitlines() if "Traceback" in line or " [ERROR] " in line or "CRITICAL" in line
    ]


# --- main ------------------------------------------------------------------------------------------
def soak(args, logs: str) -> int:
    from app import create_app

    with receiver() as hook_url:
        progress(f"fresh database {DATABASE} and Redis db 14")
        fresh_stores()
        app = create_app()
        people = cast(args.connections)
        data = prepare(
            app,
            sum(p == "member" for p, _ in people),
            sum(p == "resident" for p, _ in people),
            args.wishes,
            hook_url,
        )
        access_log = os.path.join(logs, "access.log")
        flags = (
            "-k",
            args.worker_class,
            "--error-logfile",
            os.path.join(logs, "gunicorn.log"),
            "--access-logfile",
            access_log,
            "--access-logformat",
            ACCESS_LOG_FORMAT,
        )
        if args.worker_class == "gthread":  # gunicorn turns sync into gthread when given threads
            flags += ("--threads", str(args.threads), "--keep-alive", "30")
        progress(
            f"starting gunicorn ({args.workers} {server_kind(args)} workers) and a jobs worker; logs in {logs}"
        )
        with (
            jobs_worker(os.path.join(logs, "worker.log")) as worker,
            common.gunicorn("wsgi:app", None, args.workers, flags) as base,
        ):
            processes = Processes(worker.pid, args.workers)
            run = Soak(int(base.rsplit(":", 1)[1]), data, args.duration, args.warmup, access_log)
            progress(
                f"{args.connections} connections for {args.duration:.0f} s (warm-up {args.warmup:.0f} s)"
            )
            series = load(run, people, processes)
            progress(f"load stopped; waiting up to {DRAIN_SECONDS} s for the worker to send what is queued")
            counts = drain(app, DRAIN_SECONDS)
            if worker.poll() is not None:
                raise BenchFailure(f"the jobs worker exited with code {worker.returncode}")
    with open(os.path.join(logs, "memory.json"), "w") as fh:
        json.dump(series, fh)
    print(
        f"\nsoak: {args.duration:.0f} s, {args.connections} connections, gunicorn {args.workers} "
        f"{server_kind(args)} workers, PostgreSQL {DATABASE}, Redis db 14, 1 jobs worker"
    )
    warm = memory_floor(series, args.warmup, args.warmup + MEMORY_WINDOW)
    end = memory_floor(series, args.duration - MEMORY_WINDOW, float("inf"))
    worst = report(run, args.duration - args.warmup, warm, end, processes)
    print_series(series, args.duration)
    with Receiver.lock:
        received = sum(Receiver.received.values())
    print(
        f"\nwebhook deliveries: {counts['deliveries']}; outbox: {counts['outbox']}; the receiver got {received}"
    )
    problems = check(run, counts, received, processes, logs)
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    memory_ok = worst <= MEMORY_TARGET
    print(
        f"memory: largest growth {worst:+.1%}, target < {MEMORY_TARGET:.0%}: {'PASS' if memory_ok else 'FAIL'}"
    )
    print(
        f"errors and 5xx: {sum(run.tally.errors.values())}, {sum(run.tally.server_errors.values())}, target 0: "
        f"{'FAIL' if problems else 'PASS'}"
    )
    return 1 if problems else 0 if memory_ok else 2


def server_kind(args) -> str:
    return f"gthread ({args.threads} threads)" if args.worker_class == "gthread" else "sync"


def check(run: Soak, counts: dict, received: int, processes: Processes, logs: str) -> list[str]:
    """What went wrong: errors and 5xx (with samples), replaced workers, unsent jobs, tracebacks in the log."""
    problems = []
    if run.tally.errors:
        problems.append(
            f"{sum(run.tally.errors.values())} errors ({dict(run.tally.errors)}), "
            f"{sum(run.tally.server_errors.values())} of them 5xx; first:\n  "
            + "\n  ".join(run.tally.samples)
        )
    if processes.replaced():
        problems.append(f"gunicorn replaced workers {sorted(processes.replaced())}")
    unsent = {k: v for k, v in counts["deliveries"].items() if k != "delivered"}
    if unsent or counts["outbox"].get("pending") or counts["outbox"].get("failed"):
        problems.append(
            f"jobs not done after the drain: deliveries {counts['deliveries']}, outbox {counts['outbox']}"
        )
    if received < counts["deliveries"].get("delivered", 0):
        problems.append(
            f"the receiver got {received} webhooks for {counts['deliveries']['delivered']} delivered"
        )
    lines = log_problems(os.path.join(logs, "gunicorn.log"))
    if lines:
        problems.append(f"{len(lines)} error lines in {logs}/gunicorn.log, first: {lines[:3]}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=600, help="seconds of load (default 600)")
    parser.add_argument(
        "--warmup", type=float, help="seconds before memory and latency count (default: 10 %%, ≤ 60 s)"
    )
    parser.add_argument(
        "--connections", type=int, default=32, help="concurrent connections, one user each (default 32)"
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    # sync, as README's production line: gthread keeps each keep-alive connection on the worker that
    # accepted it, and with 32 long-lived connections some workers get most of them, others none
    parser.add_argument("--worker-class", default="sync", choices=("sync", "gthread"))
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker (default 4)")
    parser.add_argument(
        "--wishes", type=int, default=300, help="published wishes to add to the demo (default 300)"
    )
    args = parser.parse_args()
    if args.warmup is None:
        args.warmup = min(60.0, args.duration / 10)
    if args.connections < 8 or not 0 <= args.warmup < args.duration:
        parser.error("at least 8 connections, and a warm-up shorter than the duration")
    os.environ.update(SOAK_ENV)  # before the app is imported: its Config reads the environment
    common.stop_on_sigterm()
    logs = tempfile.mkdtemp(prefix="onegrid-soak-")
    try:
        return soak(args, logs)
    except BenchFailure as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"interrupted; servers stopped (logs in {logs})", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

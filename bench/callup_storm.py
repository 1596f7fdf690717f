"""Part (b) of bench/callup.py: 200 members answering and checking in at once over HTTP, the roll timed.

Each member is a client thread with a session of its own (logged in through the login form, CSRF tokens read
from the pages, as a phone does); a few staff sessions load the roll page and roll.json in a loop meanwhile.
See bench/callup.py and bench/README.md.
"""

import http.client
import os
import re
import threading
import time
import urllib.parse
from collections import Counter
from datetime import timedelta

import common
from common import BenchFailure, progress

COMMUNITY = "610404001001"
GRIDS = [f"{COMMUNITY}{g:03d}" for g in (1, 2, 3)]
GUNICORN_FLAGS = ("-k", "gthread", "--threads", "8", "--keep-alive", "30")
# gunicorn's access log: the request line, the status, when it ended and the time the worker spent on it (µs; not
# the wait in the worker's queue, which the client's time includes)
ACCESS_FORMAT = "%(m)s %(U)s %(q)s %(s)s %(D)s"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Session:
    """One browser: a keep-alive connection and its cookies; redirects are not followed."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, float]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        began = time.perf_counter()
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            text = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as error:
            self.connection.close()
            return 0, f"{type(error).__name__}: {error}", time.perf_counter() - began
        for header in response.msg.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, text, time.perf_counter() - began

    def csrf(self, path: str) -> str:
        status, text, _ = self.request("GET", path)
        match = CSRF.search(text)
        if status != 200 or match is None:
            raise BenchFailure(f"GET {path} answered {status} without a CSRF token: {text[:200]}")
        return match.group(1)

    def log_in(self, username: str, password: str) -> None:
        token = self.csrf("/login")
        status, text, _ = self.request(
            "POST", "/login", {"csrf_token": token, "username": username, "password": password}
        )
        if status not in (302, 303):
            raise BenchFailure(f"login as {username} answered {status}: {text[:200]}")


def prepare_storm(url: str, members: int) -> tuple[dict, int, str]:
    """Demo district, `members` member accounts in the community, a call-up to it; config, id, token."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import User
    from app.models.base import utcnow
    from app.services import callups
    from app.services.users import create_user

    config = common.bench_config(url, JOBS_EMBEDDED_SCHEDULER=False)
    app = common.make_app(config)
    with app.app_context():
        common.reset_database()
        for i in range(members):
            create_user(
                f"caller{i:03d}",
                "member",
                "bench-password",
                area_code=GRIDS[i % len(GRIDS)],
                name=f"党员{i:03d}",
            )
        db.session.commit()
        staff = db.session.scalar(select(User).where(User.username == "community"))
        callup = callups.raise_callup(
            staff,
            area_code=COMMUNITY,
            title="疫情防控紧急召集（基准测试）",
            details="核酸检测点秩序维护。",
            muster_point="文汇社区党群服务中心",
            needed=members,
            starts_at=utcnow() + timedelta(minutes=15),
        )
        db.session.commit()
        callup_id, token = callup.id, callup.checkin_token
        db.engine.dispose()
    return config, callup_id, token


class Storm:
    """The client threads' shared counts, and the staff's roll timings while a storm lasts."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses: dict[str, Counter] = {"answer": Counter(), "checkin": Counter(), "roll": Counter()}
        self.samples: list[str] = []
        self.roll: dict[str, list[float]] = {"page": [], "json": []}
        self.running = threading.Event()
        self.seconds: dict[str, list[float]] = {}

    def count(self, step: str, status: int, text: str) -> None:
        with self.lock:
            self.statuses[step][status] += 1
            if status != 303 and len(self.samples) < 5:
                self.samples.append(f"{step} {status}: {text[:200]}")


def storm_steps(rounds: int) -> list[tuple[str, str | None]]:
    """`rounds` rounds of answers (alternating, the last one 我来: answering again keeps the last), then the
    check-in."""
    answers = [("answer", "coming" if (rounds - 1 - i) % 2 == 0 else "cannot") for i in range(rounds)]
    return [*answers, ("checkin", None)]


def member_thread(storm, port, username, callup_id, token, ready, steps, events) -> None:
    session = Session(port)
    try:
        session.log_in(username, "bench-password")
        csrf = session.csrf(f"/callups/{callup_id}")
    except BenchFailure as failure:
        storm.count("answer", -1, str(failure))
        ready.wait()
        return
    ready.wait()
    for (step, answer), event in zip(steps, events):
        event.wait()
        if step == "answer":
            form = {"csrf_token": csrf, "answer": answer}
            status, text, _ = session.request("POST", f"/callups/{callup_id}/answer", form)
        else:
            form = {"csrf_token": csrf, "token": token}
            status, text, _ = session.request("POST", f"/callups/{callup_id}/checkin", form)
        storm.count(step, status, text)


def staff_thread(storm: Storm, port: int, callup_id: int, username: str, stop: threading.Event) -> None:
    """One of the staff watching the roll: the page and roll.json in turn, as fast as they come."""
    from app.services.demo import DEMO_PASSWORDS

    session = Session(port)
    session.log_in(username, DEMO_PASSWORDS[username][0])
    while not stop.is_set():
        for kind, path in (("page", f"/callups/{callup_id}"), ("json", f"/callups/{callup_id}/roll.json")):
            during = storm.running.is_set()  # marked in the query, to find the request in the server's log
            status, text, seconds = session.request("GET", f"{path}?during={int(during)}")
            if status != 200:
                storm.count("roll", status, text)
            if during and storm.running.is_set():
                with storm.lock:
                    storm.roll[kind].append(seconds)
        time.sleep(0.02)


WATCHERS = ("community", "street", "admin")


def run_storm(url: str, members: int, rounds: int) -> dict:
    """Part (b): serve; everyone answers at once (`rounds` times), then checks in at once; the roll timed."""
    progress(f"storm: preparing the demo district, {members} member accounts and a call-up")
    config, callup_id, token = prepare_storm(url, members)
    storm = Storm()
    log = os.path.join(
        os.path.dirname(url.split("sqlite:///", 1)[1]) if url.startswith("sqlite") else "/tmp", "access.log"
    )
    flags = (*GUNICORN_FLAGS, "--access-logfile", log, "--access-logformat", ACCESS_FORMAT)
    steps = storm_steps(rounds)
    with common.gunicorn("bench.onegrid_wsgi:app", config, extra=flags) as base:
        port = int(base.rsplit(":", 1)[1])
        ready = threading.Barrier(members + 1)
        events = [threading.Event() for _ in steps]
        stop = threading.Event()
        threads = [
            threading.Thread(
                target=member_thread,
                args=(storm, port, f"caller{i:03d}", callup_id, token, ready, steps, events),
                daemon=True,
            )
            for i in range(members)
        ]
        for thread in threads:
            thread.start()
        progress(f"storm: {members} members logging in")
        ready.wait()
        watchers = [
            threading.Thread(target=staff_thread, args=(storm, port, callup_id, name, stop), daemon=True)
            for name in WATCHERS
        ]
        for watcher in watchers:
            watcher.start()
        time.sleep(2)
        load_before = os.getloadavg()[0]
        done = Counter()
        for (step, answer), event in zip(steps, events):
            progress(f"storm: {members} members {step} {answer or ''} at once")
            done[step] += members
            storm.running.set()
            began = time.perf_counter()
            event.set()
            while sum(storm.statuses[step].values()) < done[step] and time.perf_counter() - began < 300:
                time.sleep(0.01)
            storm.seconds.setdefault(step, []).append(time.perf_counter() - began)
            storm.running.clear()
            time.sleep(0.5)
        stop.set()
        for watcher in watchers:
            watcher.join(timeout=30)
        load_after = os.getloadavg()[0]
    problems = verify_storm(url, callup_id, members, rounds, storm)
    return {
        "server": server_times(log, callup_id),
        "members": members,
        "rounds": rounds,
        "seconds": storm.seconds,
        "statuses": storm.statuses,
        "roll": storm.roll,
        "load": (load_before, load_after),
        "problems": problems,
    }


def server_times(log: str, callup_id: int) -> dict[str, list[float]]:
    """The worker's own time (s) on each roll request made during a storm, from gunicorn's access log."""
    times: dict[str, list[float]] = {"page": [], "json": []}
    paths = {f"/callups/{callup_id}": "page", f"/callups/{callup_id}/roll.json": "json"}
    with open(log, encoding="utf-8") as lines:
        for line in lines:
            parts = line.split()
            if len(parts) == 5 and parts[0] == "GET" and parts[2] == "during=1" and parts[1] in paths:
                times[paths[parts[1]]].append(int(parts[4]) / 1e6)
    return times


def verify_storm(url: str, callup_id: int, members: int, rounds: int, storm: Storm) -> list[str]:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Member, User
    from app.models.callups import CallupResponse

    problems = []
    for step, expected in (("answer", members * rounds), ("checkin", members)):
        other = {s: n for s, n in storm.statuses[step].items() if s != 303}
        if other or storm.statuses[step][303] != expected:
            problems.append(f"{step}: {storm.statuses[step][303]} answered 303, others {other}")
    if storm.statuses["roll"]:
        problems.append(f"the roll answered {dict(storm.statuses['roll'])}")
    if storm.samples:
        problems.append(f"first unexpected answers: {storm.samples}")
    app = common.make_app(common.bench_config(url))
    with app.app_context():
        rows = db.session.execute(
            select(
                CallupResponse.member_id,
                func.count(),
                func.max(CallupResponse.answer),
                func.max(CallupResponse.arrived_via),
            )
            .join(Member, Member.id == CallupResponse.member_id)
            .join(User, User.id == Member.user_id)
            .where(CallupResponse.callup_id == callup_id, User.username.like("caller%"))
            .group_by(CallupResponse.member_id)
        ).all()
        db.engine.dispose()
    if len(rows) != members:
        problems.append(f"{len(rows)} members on the roll, expected {members}")
    doubles = [r for r in rows if r[1] != 1]
    if doubles:
        problems.append(f"{len(doubles)} members with more than one roll row")
    unanswered = [r for r in rows if r[2] != "coming"]
    not_arrived = [r for r in rows if r[3] != "qr"]
    if unanswered or not_arrived:
        problems.append(
            f"{len(unanswered)} answers and {len(not_arrived)} QR check-ins missing in the database"
        )
    return problems


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")

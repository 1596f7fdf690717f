"""Soak: gunicorn, PostgreSQL, Redis and a jobs worker under mixed traffic; latency per kind, errors, memory growth.

The stage (database, Redis, data, receiver, processes, memory) is set in bench/soak_setup.py, the virtual
users in bench/soak_users.py; this script runs them and reports.
"""

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections import defaultdict

import common
from common import BenchFailure, progress
from soak_setup import (
    DATABASE,
    DATABASE_URL,
    REDIS_URL,
    Processes,
    Receiver,
    drain,
    fresh_stores,
    jobs_worker,
    memory_floor,
    prepare,
    receiver,
)
from soak_users import Tally, VirtualUser, cast, percentile

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

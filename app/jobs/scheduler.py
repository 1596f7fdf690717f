"""Running the periodic tasks: from Redis (one due-marker per task, so several schedulers never double up)
or, in the embedded mode, from a background thread of the web process."""

import contextlib
import logging
import threading
import time

from flask import Flask
from redis.exceptions import RedisError

from app.extensions import db
from app.jobs import PERIODIC
from app.jobs.queue import get_queue, redis_connection
from app.services import audit

log = logging.getLogger(__name__)


def run_periodic(name: str) -> str:
    """Run one periodic task now, in the current app context, and commit what it did (RQ calls this)."""
    task = PERIODIC[name]
    try:
        with audit.acting_through("job"):
            result = task.function()
        db.session.commit()
        return f"{name}: {result}"
    except Exception:
        db.session.rollback()
        log.exception("periodic task %s failed", name)
        raise
    finally:
        db.session.remove()


def enqueue_due(app: Flask) -> list[str]:
    """Queue each periodic task whose interval has passed; the Redis marker is the clock, shared by all."""
    connection, queue = redis_connection(app), get_queue(app)
    queued = []
    for task in PERIODIC.values():
        # SET NX EX: the first scheduler to get here in this interval queues the task, the others skip it
        if connection.set(f"onegrid:periodic:{task.name}", int(time.time()), nx=True, ex=task.seconds):
            queue.enqueue_call(
                "app.jobs.scheduler.run_periodic",
                args=(task.name,),
                result_ttl=3600,
                failure_ttl=7 * 86400,
                timeout=app.config["JOB_TIMEOUT_SECONDS"],
            )
            queued.append(task.name)
    return queued


def run_scheduler(app: Flask, stop: threading.Event, tick: float = 1.0) -> None:
    """Queue due periodic tasks until `stop` is set; survives Redis outages (it retries each tick)."""
    while not stop.is_set():
        try:
            enqueue_due(app)
        except RedisError as exc:
            log.warning("scheduler: queue unreachable (%s)", exc)
        stop.wait(tick)


def run_embedded(app: Flask, stop: threading.Event, tick: float = 5.0) -> None:
    """The embedded mode's scheduler: run each task in-process when its interval has passed."""
    last_run: dict[str, float] = {}
    while not stop.wait(tick):
        now = time.monotonic()
        for task in PERIODIC.values():
            if now - last_run.get(task.name, float("-inf")) < task.seconds:  # each runs at the first tick
                continue
            last_run[task.name] = now
            # an error is logged by run_periodic; the loop goes on
            with app.app_context(), contextlib.suppress(Exception):
                run_periodic(task.name)


def start_embedded_scheduler(app: Flask) -> None:
    """Start the in-process scheduler once per process, on the first request (never in CLI commands)."""
    if app.extensions.get("onegrid_scheduler"):
        return
    stop = threading.Event()
    thread = threading.Thread(target=run_embedded, args=(app, stop), name="onegrid-periodic", daemon=True)
    app.extensions["onegrid_scheduler"] = (thread, stop)
    thread.start()

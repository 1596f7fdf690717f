"""The embedded mode's job runner (docs/jobs.md#the-outbox): committed outbox messages run on a thread of the
web process, after the response, instead of inside the request that recorded them.

One runner per app and process (a forked gunicorn worker starts its own). It takes the ids the commit hooks
hand it, in order, and runs them with `app.jobs.outbox.run_messages` in an app context of its own: one at a
time when they come one at a time, what piled up meanwhile (a burst of claims) as one batch. Nothing is
lost when the process stops first: the message stays pending in the outbox and the relay runs it once its
grace has passed. At a normal exit the runner finishes what it was handed (up to EMBEDDED_JOBS_DRAIN_SECONDS).
"""

import atexit
import logging
import os
import queue
import threading

from flask import Flask

log = logging.getLogger(__name__)
_KEY = "onegrid_job_runner"
_STOP = object()  # put on the queue to end the thread once it is empty
BATCH = 50  # at most this many messages taken off the queue at once (app.jobs.outbox.run_messages)
_LOCK = threading.Lock()  # two first requests at once start one runner


class Runner:
    """A daemon thread that runs handed-over outbox messages one after another."""

    def __init__(self, app: Flask):
        self.app = app
        self.pid = os.getpid()
        self.queue: queue.Queue = queue.Queue()
        self.idle = threading.Condition()
        self.pending = 0  # handed over and not finished yet
        self.thread = threading.Thread(target=self._run, name="onegrid-jobs", daemon=True)
        self.thread.start()

    def hand_over(self, ids: list[int]) -> None:
        with self.idle:
            self.pending += len(ids)
        for message_id in ids:
            self.queue.put(message_id)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every handed-over message has run (or `timeout` seconds passed); True when idle."""
        with self.idle:
            return self.idle.wait_for(lambda: self.pending == 0, timeout)

    def stop(self, timeout: float) -> bool:
        """Finish what was handed over (up to `timeout` seconds), then end the thread; True when all ran."""
        drained = self.wait_idle(timeout)
        self.queue.put(_STOP)
        return drained

    def _run(self) -> None:
        from app.jobs.outbox import run_messages

        stopping = False
        while not stopping:
            ids = [self.queue.get()]
            while ids[-1] is not _STOP and len(ids) < BATCH and not self.queue.empty():
                ids.append(self.queue.get_nowait())  # what piled up meanwhile runs as one batch
            if ids[-1] is _STOP:
                stopping = True
                ids.pop()
            try:
                if ids:
                    run_messages(ids, self.app)
            # run_messages records a handler's failure; what reaches here is the runner's own (no database)
            except Exception:
                log.exception(
                    "in-process job runner: messages %s could not run; the relay will retry them", ids
                )
            finally:
                with self.idle:
                    self.pending -= len(ids)
                    if not self.pending:
                        self.idle.notify_all()


def runner(app: Flask) -> Runner:
    """This process's runner for `app`, started on first use (again after a fork)."""
    with _LOCK:
        current = app.extensions.get(_KEY)
        if current is None or current.pid != os.getpid() or not current.thread.is_alive():
            current = app.extensions[_KEY] = Runner(app)
            atexit.register(current.stop, app.config["EMBEDDED_JOBS_DRAIN_SECONDS"])
        return current


def wait_idle(app: Flask, timeout: float | None = None) -> bool:
    """Wait for the process's runner to finish what it was handed (True at once when it has none)."""
    current = app.extensions.get(_KEY)
    if current is None or current.pid != os.getpid():
        return True
    return current.wait_idle(timeout)

"""The outbox: record a job with the change that causes it; after the commit, push it to RQ or run it.

With REDIS_URL unset (the embedded default) a committed job runs in-process straight away, in an app
context of its own. With Redis, it is pushed to the queue; when Redis is down the push is skipped
and the periodic relay pushes it later. A job that fails is retried with growing delays up to
JOB_MAX_ATTEMPTS, then marked failed for the operations page.
"""

import logging
import random
import traceback
from datetime import timedelta

from flask import current_app
from flask_sqlalchemy.session import Session
from redis.exceptions import RedisError
from rq import Queue
from sqlalchemy import bindparam, event, or_, select, update

from app.extensions import db
from app.jobs import BATCHED, HANDLERS, inprocess
from app.jobs.queue import get_queue
from app.models import OutboxMessage
from app.models.base import utcnow
from app.models.jobs import OutboxStatus
from app.services import audit
from app.services.outbox import NEW as _NEW
from app.services.outbox import record_job

log = logging.getLogger(__name__)


def add_job(
    kind: str, *, key: str | None = None, delay: timedelta | None = None, **payload
) -> OutboxMessage | None:
    """Record a job of a kind with a handler (services use app.services.outbox.record_job, checked at wiring)."""
    if kind not in HANDLERS:
        raise KeyError(f"no handler for job kind {kind!r}")
    return record_job(kind, key=key, delay=delay, **payload)


@event.listens_for(Session, "after_commit")
def _dispatch_committed(session) -> None:
    ids = session.info.pop(_NEW, None)
    if ids:
        dispatch(ids)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session) -> None:
    session.info.pop(_NEW, None)


def dispatch(ids: list[int]) -> None:
    """Hand committed messages to RQ or, in the embedded mode, to this process's runner thread (or run them
    here and now when EMBEDDED_JOBS is "inline"). They were recorded as handed over (`pushed_at`); a push
    that fails clears that, so the relay pushes them at its next round."""
    app = current_app._get_current_object()
    queue = get_queue(app)
    if queue is None:
        if app.config["EMBEDDED_JOBS"] == "inline":
            run_messages(ids)  # each in an app context and session of its own: the caller's may be mid-commit
        else:
            inprocess.runner(app).hand_over(ids)
        return
    try:
        # one round trip for the lot; the job id makes a second push of a message replace, not
        # duplicate, its queued job
        queue.enqueue_many(
            [
                Queue.prepare_data(
                    "app.jobs.outbox.run_message",
                    args=(message_id,),
                    job_id=f"outbox-{message_id}",
                    timeout=app.config["JOB_TIMEOUT_SECONDS"],
                    result_ttl=3600,
                    failure_ttl=7 * 86400,
                )
                for message_id in ids
            ]
        )
    except Exception as exc:  # the change is committed whatever happens here; the relay pushes it later
        level = logging.WARNING if isinstance(exc, RedisError) else logging.ERROR
        log.log(level, "could not push %d job(s) (%s); they wait in the outbox for the relay", len(ids), exc)
        with db.engine.begin() as connection:  # its own transaction: the caller's has just ended
            connection.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(pushed_at=None))


# a message's runner takes it only while it is pending (PostgreSQL: row-locked, so a second runner waits, then
# skips it) and marks it done; both built once: they run once per job
_TAKE = (
    select(OutboxMessage.kind, OutboxMessage.payload)
    .where(OutboxMessage.id == bindparam("message_id"), OutboxMessage.status == OutboxStatus.PENDING)
    .with_for_update()
)


def _mark_done(which):
    """The UPDATE that marks the messages `which` selects done (`done_at` a parameter)."""
    return (
        update(OutboxMessage)
        .where(which)
        .values(
            status=OutboxStatus.DONE,
            done_at=bindparam("done_at"),
            last_error=None,
            attempts=OutboxMessage.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )


_DONE = _mark_done(OutboxMessage.id == bindparam("message_id"))


def run_message(message_id: int) -> str:
    """Run one outbox message if it is still pending (RQ calls this); 'done', 'failed', 'retry' or 'skipped'."""
    try:
        taken = db.session.execute(_TAKE, {"message_id": message_id}).first()
        if taken is None:
            return "skipped"
        kind, payload = taken.kind, dict(taken.payload)
        try:
            with audit.acting_through("job"):
                HANDLERS[kind](**payload)
            db.session.execute(_DONE, {"message_id": message_id, "done_at": utcnow()})
            db.session.commit()
            return "done"
        except Exception as exc:  # any failure is recorded and retried later, never lost
            db.session.rollback()
            log.exception("job %s #%s failed", kind, message_id)
            return _record_failure(message_id, exc)
    finally:
        db.session.remove()


# several messages of the kinds that only write to the database, taken together (ids and kinds are bound
# as lists: the statements are built once)
_TAKE_BATCH = (
    select(OutboxMessage.id, OutboxMessage.kind, OutboxMessage.payload)
    .where(
        OutboxMessage.id.in_(bindparam("message_ids", expanding=True)),
        OutboxMessage.status == OutboxStatus.PENDING,
        OutboxMessage.kind.in_(bindparam("kinds", expanding=True)),
    )
    .order_by(OutboxMessage.id)
    .with_for_update()
)
_DONE_BATCH = _mark_done(OutboxMessage.id.in_(bindparam("message_ids", expanding=True)))


def run_messages(ids: list[int], app=None) -> None:
    """Run handed-over messages: those of the kinds that only write to the database (`@job(batched=True)`, the
    notices) together in one transaction, then the others one by one, each in its own.

    A burst of notices (a claim race, a call-up) then costs one take, one "done" and one commit for the lot,
    not for each. When one of the batch fails, the batch is rolled back and each of its messages runs alone
    (`run_message`), so the failing one is retried as ever and the others are not held up. `app`: the current
    one unless given (the job thread has no app context of its own).
    """
    app = app or current_app._get_current_object()
    done: set[int] = set()
    if len(ids) > 1 and BATCHED:
        with app.app_context():
            done = _run_batch(ids)
    for message_id in ids:
        if message_id not in done:
            with app.app_context():  # its own `g` and session, as a job on a worker has
                run_message(message_id)


def _run_batch(ids: list[int]) -> set[int]:
    """Run the messages among `ids` of batched kinds in one transaction; the ids done (none when one failed)."""
    together: list[int] = []
    try:
        taken = db.session.execute(_TAKE_BATCH, {"message_ids": ids, "kinds": sorted(BATCHED)}).all()
        together = [row.id for row in taken]
        with audit.acting_through("job"):
            for row in taken:
                HANDLERS[row.kind](**row.payload)
        if together:
            db.session.execute(_DONE_BATCH, {"message_ids": together, "done_at": utcnow()})
        db.session.commit()
        return set(together)
    except Exception:  # one of them failed: each runs alone, and the failing one is recorded and retried
        db.session.rollback()
        log.warning("a batch of %d jobs failed; running them one by one", len(together), exc_info=True)
        return set()
    finally:
        db.session.remove()


def _record_failure(message_id: int, exc: Exception) -> str:
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.status != OutboxStatus.PENDING:
        return "skipped"
    message.attempts += 1
    message.last_error = "".join(traceback.format_exception_only(exc)).strip()[:2000]
    if message.attempts >= current_app.config["JOB_MAX_ATTEMPTS"]:
        message.status = OutboxStatus.FAILED
        outcome = "failed"
    else:
        message.run_after = utcnow() + retry_delay(message.attempts)
        message.pushed_at = None  # due for the relay once run_after passes
        outcome = "retry"
    db.session.commit()
    return outcome


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with full jitter: up to 30 s, 1 min, 2 min, … capped at 1 h."""
    ceiling = min(3600, 30 * 2 ** (attempts - 1))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


def relay_outbox(limit: int = 500) -> int:
    """Push (or run) pending messages that are due and were never pushed, or pushed long ago; how many."""
    now = utcnow()
    grace = timedelta(seconds=current_app.config["JOB_RELAY_GRACE_SECONDS"])
    ids = list(
        db.session.scalars(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.run_after <= now,
                or_(OutboxMessage.pushed_at.is_(None), OutboxMessage.pushed_at <= now - grace),
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
    )
    if ids:  # handed over now: the next round leaves them alone for the grace (dispatch clears it on failure)
        db.session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(pushed_at=now))
    db.session.commit()  # end the read before pushing: in-process runs write from their own sessions
    if ids:
        dispatch(ids)
    return len(ids)


def retry_failed(message_id: int, actor=None) -> bool:
    """Put a failed message back in line (the operations page's retry button), audited; flushes."""
    changed = db.session.execute(  # dispatched when this transaction commits
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.FAILED)
        .values(status=OutboxStatus.PENDING, attempts=0, run_after=utcnow(), pushed_at=utcnow())
    ).rowcount
    if changed:
        db.session.info.setdefault(_NEW, []).append(message_id)
        audit.record(
            actor,
            "update",
            db.session.get(OutboxMessage, message_id),
            {"status": OutboxStatus.FAILED},
            {"status": OutboxStatus.PENDING, "attempts": 0},
        )
    return bool(changed)

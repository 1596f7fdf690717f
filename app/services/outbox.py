"""Recording follow-up work in the outbox (docs/jobs.md#the-outbox): services record a job with their change.

This is the services' side only: it writes the row in the caller's transaction and notes it for
dispatch. Pushing it after the commit, running it and retrying it is app.jobs.outbox's work, and
which handler runs each kind is app.jobs' registry (checked when app.reactions wires them).
"""

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import OutboxMessage
from app.models.base import utcnow
from app.models.jobs import OutboxStatus
from app.services.rows import insert_now

NEW = "onegrid_outbox_new"  # Session.info key: ids of messages to dispatch once this transaction commits


def record_job(
    kind: str, *, key: str | None = None, delay: timedelta | None = None, **payload
) -> OutboxMessage | None:
    """Record a job in the current transaction; None when a job with this `key` exists already."""
    if key is not None and db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)):
        return None
    now = utcnow()
    message = OutboxMessage(
        kind=kind,
        key=key,
        payload=payload,
        status=OutboxStatus.PENDING,
        run_after=now + (delay or timedelta(0)),
        # handed over at the commit (app.jobs.outbox.dispatch), so the relay leaves it alone meanwhile;
        # a delayed job waits for the relay
        pushed_at=None if delay else now,
    )
    insert_now(message)  # one INSERT, no flush: a claim records one
    if not delay:
        db.session.info.setdefault(NEW, []).append(message.id)
    return message

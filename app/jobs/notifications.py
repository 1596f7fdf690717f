"""Notifications: running a kind's builder after the change that causes it, and pruning old read ones."""

from app.jobs import job, periodic
from app.services import notifications


@job(notifications.NOTIFY_JOB, batched=True)
def notify(notice: str, payload: dict) -> None:
    """The outbox job recorded by notifications.tell: the kind's builder works out who is told what (rows
    only: the gateway's deliveries are jobs of their own, so several notices may share a transaction)."""
    notifications.build(notice, payload)


@periodic("prune_notifications", seconds=3600)
def prune_notifications() -> int:
    """Delete notifications read more than NOTIFICATION_RETENTION_DAYS ago; how many."""
    return notifications.prune()

"""Periodic work on idempotency keys: keys older than their time to live leave their table."""

from app.jobs import periodic
from app.services.idempotency import remove_expired


@periodic("idempotency_cleanup", seconds=3600)
def idempotency_cleanup() -> int:
    """Delete expired idempotency keys and their stored answers; how many."""
    return remove_expired()

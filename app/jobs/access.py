"""Periodic work on logins: expired login sessions and API tokens leave their tables."""

from app.jobs import periodic
from app.services.sessions import remove_expired_access


@periodic("access_cleanup", seconds=3600)
def access_cleanup() -> int:
    """Delete expired login sessions and API tokens; how many."""
    return remove_expired_access()

"""Periodic work on micro-wishes: confirming those left done too long."""

from app.jobs import periodic
from app.services.wishes import auto_confirm_stale_wishes


@periodic("auto_confirm_wishes", seconds=300)
def auto_confirm_wishes() -> int:
    """Confirm (unrated) every wish left `done` longer than WISH_AUTO_CONFIRM_HOURS; how many."""
    return len(auto_confirm_stale_wishes())

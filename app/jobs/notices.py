"""Notices told on a clock rather than by a change: household visits falling due (app.services.notices.members)."""

from app.jobs import periodic
from app.services.notices.members import tell_visits_due


@periodic("visits_due", seconds=3600)
def visits_due() -> int:
    """Tell members whose 责任田 households fall due in two days, once per due date; how many were told."""
    return tell_visits_due()

"""The outbox relay as a periodic task: pushes what was not pushed (Redis was down, a process died)."""

from app.jobs import periodic
from app.jobs.outbox import relay_outbox


@periodic("relay_outbox", seconds=30)
def relay() -> int:
    """Push every due, unpushed (or long-unfinished) outbox message; how many."""
    return relay_outbox()

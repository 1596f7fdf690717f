"""Periodic work on callbacks (回访): marking the tasks that have fallen due."""

from app.jobs import periodic
from app.services.callbacks import remind_due_callbacks


@periodic("callback_reminders", seconds=900)
def callback_reminders() -> int:
    """Mark every open callback that fell due since the last run (the back office flags them); how many."""
    return remind_due_callbacks()

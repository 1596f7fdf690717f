"""How often a resident or member may report (随手拍): counted on the reports they made, in the database."""

import math
from datetime import datetime, timedelta

from flask import current_app
from limits import RateLimitItem, parse
from sqlalchemy import select

from app.extensions import db
from app.models import Event, User
from app.models.base import aware
from app.models.choices import Role

REPORTER_ROLES = (Role.RESIDENT, Role.MEMBER)  # report from the site or the API, into their own area


def report_allowance() -> RateLimitItem | None:
    """EVENT_REPORT_RATE_LIMIT ("10 per hour"); None when it is empty (no limit)."""
    setting = (current_app.config.get("EVENT_REPORT_RATE_LIMIT") or "").strip()
    return parse(setting) if setting else None


def seconds_until_next_report(actor: User, now: datetime) -> int:
    """0 when `actor` may report now; else the seconds until the oldest report of the window leaves it.

    Counting rows (not a limiter's counters) makes every web worker agree and spends nothing on refused tries.
    """
    allowance = report_allowance()
    if allowance is None:
        return 0
    since = now - timedelta(seconds=allowance.get_expiry())
    recent = db.session.scalars(
        select(Event.created_at)
        .where(Event.reporter_id == actor.id, Event.created_at > since)
        .order_by(Event.created_at.desc())
        .limit(allowance.amount)
    ).all()
    if len(recent) < allowance.amount:
        return 0
    return max(1, math.ceil((aware(recent[-1]) - since).total_seconds()))

"""The district's calendar: every date rule ("today", due dates, months, quarters) is judged in its time zone.

The zone is the DISTRICT_TIMEZONE setting (Asia/Shanghai unless set). Moments are stored in UTC; SQLite hands
them back naive, so a naive moment is read as UTC. See docs/domain.md#time.
"""

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

from app.models.base import utcnow

DEFAULT_ZONE = "Asia/Shanghai"


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def district_zone() -> ZoneInfo:
    """The district's time zone (DISTRICT_TIMEZONE), also outside an application context (the default)."""
    name = current_app.config.get("DISTRICT_TIMEZONE") if has_app_context() else None
    return _zone(name or DEFAULT_ZONE)


def local_time(moment: datetime) -> datetime:
    """`moment` on the district's clock (aware)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(district_zone())


def local_date(moment: datetime) -> date:
    """The calendar date of `moment` in the district."""
    return local_time(moment).date()


def district_today(now: datetime | None = None) -> date:
    """Today's date in the district (at `now`, a UTC moment, when given)."""
    return local_date(now or utcnow())


def day_start(day: date) -> datetime:
    """The UTC moment the district's `day` begins: for comparing stored moments with a calendar day."""
    return datetime.combine(day, time.min, tzinfo=district_zone()).astimezone(UTC)


def day_end(day: date) -> datetime:
    """The UTC moment the district's `day` ends (the next day's start)."""
    return day_start(day + timedelta(days=1))


def month_start(day: date) -> date:
    """The first day of `day`'s month."""
    return day.replace(day=1)


def quarter_start(day: date) -> date:
    """The first day of `day`'s quarter."""
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)

"""The values of a new call-up, checked: the area (a grid, community or street of the raiser's), the texts,
how many are needed (at least one), from when (a day ago to 30 days ahead; without an offset, the district's
time), the service hours (none, or 0–24 with one decimal) and the muster grid (a grid inside the area)."""

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import Area
from app.models.callups import DETAILS_MAX, MUSTER_MAX, TITLE_MAX
from app.models.choices import AreaLevel
from app.services.callup_access import may_raise
from app.services.clock import district_zone
from app.services.errors import Forbidden, Invalid
from app.services.text import check_text

MAX_NEEDED = 10000
MAX_HOURS = Decimal(24)
STARTS_BEFORE = timedelta(days=1)  # a call-up may start at most this long ago …
STARTS_WITHIN = timedelta(days=30)  # … and at most this far ahead
AREA_LEVELS = (AreaLevel.GRID, AreaLevel.COMMUNITY, AreaLevel.STREET)


def area(actor, area_code) -> Area:
    area = None
    if isinstance(area_code, str) and area_code.strip().isdigit():
        area = db.session.scalar(
            select(Area).where(Area.code == area_code.strip(), Area.level.in_(AREA_LEVELS))
        )
    if area is None:
        raise Invalid({"area_code": _("Choose the grid, community or street the call-up goes to.")})
    if not may_raise(actor, area.code):
        raise Forbidden(_("Only community, street and district staff raise a call-up, for their own area."))
    return area


def _needed(errors: dict, value) -> int | None:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_NEEDED:
        errors["needed"] = _("Say how many people are needed: a whole number from 1 to %(n)d.", n=MAX_NEEDED)
        return None
    return value


def _hours(errors: dict, value) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    message = _("Service hours: from 0 to %(n)s, at most one decimal (or leave empty).", n=MAX_HOURS)
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        errors["hours"] = message
        return None
    try:
        hours = Decimal(str(value).strip())
    except InvalidOperation:
        errors["hours"] = message
        return None
    if not hours.is_finite() or not 0 <= hours <= MAX_HOURS or hours != hours.quantize(Decimal("0.1")):
        errors["hours"] = message
        return None
    return hours.quantize(Decimal("0.1"))


def _starts_at(errors: dict, value, now: datetime) -> datetime | None:
    """An aware moment; a moment without an offset (a form's "2026-12-02T14:30") is the district's time."""
    message = _("Say when it starts (date and time), from a day ago to 30 days ahead.")
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            errors["starts_at"] = message
            return None
    if not isinstance(value, datetime):
        errors["starts_at"] = message
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=district_zone())
    if not now - STARTS_BEFORE <= value <= now + STARTS_WITHIN:
        errors["starts_at"] = message
        return None
    return value


def _muster_grid(errors: dict, area: Area, grid_code) -> str | None:
    if grid_code in (None, ""):
        return area.code if area.level == AreaLevel.GRID else None
    grid = None
    if isinstance(grid_code, str) and grid_code.strip().isdigit():
        grid = db.session.scalar(
            select(Area.code).where(Area.code == grid_code.strip(), Area.level == AreaLevel.GRID)
        )
    if grid is None or not grid.startswith(area.code):
        errors["grid_code"] = _("The muster grid must be a grid inside the call-up's area.")
        return None
    return grid


def checked(
    area: Area, now: datetime, *, title, details, muster_point, needed, starts_at, hours, grid_code
) -> dict:
    """The new call-up's columns; Invalid naming every field that does not pass."""
    errors: dict = {}
    values = {
        "title": check_text(errors, "title", title, TITLE_MAX, True, _("Title")),
        "details": check_text(errors, "details", details, DETAILS_MAX, False, _("What is needed")) or "",
        "muster_point": check_text(errors, "muster_point", muster_point, MUSTER_MAX, True, _("Muster point")),
        "needed": _needed(errors, needed),
        "hours": _hours(errors, hours),
        "starts_at": _starts_at(errors, starts_at, now),
        "grid_code": _muster_grid(errors, area, grid_code),
    }
    if errors:
        raise Invalid(errors)
    return values

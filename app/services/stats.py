"""Counts of the main records in a user's scope (back-office home and the API)."""

from sqlalchemy import func, select

from app.extensions import db
from app.models import Area, Building, Enterprise, Facility, Household, Member, Resident, Room, Unit, Wish
from app.models.choices import AreaLevel, EventStatus, WishStatus
from app.models.events import Event
from app.services.coverage import coverage_for
from app.services.scope import apply_scope
from app.services.wishes import visible_condition

COUNTED = {
    "residents": Resident,
    "households": Household,
    "rooms": Room,
    "buildings": Building,
    "enterprises": Enterprise,
    "facilities": Facility,
    "members": Member,
    "units": Unit,
}


def count_in_scope(model, user, *conditions) -> int:
    query = apply_scope(select(func.count()).select_from(model), model, user)
    for condition in conditions:
        query = query.where(condition)
    return db.session.scalar(query) or 0


def wish_counts(user) -> dict[str, int]:
    """Wishes `user` may read (staff: those of their area), by status; every status present, zero or not."""
    rows = db.session.execute(
        select(Wish.status, func.count()).where(visible_condition(user)).group_by(Wish.status)
    )
    return {str(status): 0 for status in WishStatus} | {status: n for status, n in rows}


def event_counts(user) -> dict[str, int]:
    """Events `user` may read (staff: those of their area), by status; every status present, zero or not."""
    from app.services.events import visible_condition as event_visible

    rows = db.session.execute(
        select(Event.status, func.count()).where(event_visible(user)).group_by(Event.status)
    )
    return {str(status): 0 for status in EventStatus} | {status: n for status, n in rows}


def scope_counts(user) -> dict:
    """Residents, households, rooms, … and grids visible to `user`; wishes and events by status; coverage."""
    counts = {key: count_in_scope(model, user) for key, model in COUNTED.items()}
    counts["grids"] = count_in_scope(Area, user, Area.level == AreaLevel.GRID)
    counts["communities"] = count_in_scope(Area, user, Area.level == AreaLevel.COMMUNITY)
    counts["wishes"] = wish_counts(user)
    counts["events"] = event_counts(user)
    counts["coverage"] = coverage_for(user)
    return counts

"""Joint meetings (联席会议): a community or street records the meeting and the service items agreed at it.

Each item is owned by a unit or a grid, due by a date, and followed to done (or dropped) on the workflow
engine. Every quarter each community should meet (its own meeting, or its street's); the quarters without
one are flagged, in the district's calendar. Functions flush and never commit.
"""

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.ids import parse_id, parse_ids
from app.models import Area, Unit
from app.models.base import under_area, utcnow
from app.models.choices import STAFF_ROLES, AreaLevel, Role
from app.models.meetings import (
    MINUTES_MAX,
    SERVICE_ITEM_STATUS_LABELS,
    TITLE_MAX,
    JointMeeting,
    ServiceItem,
    ServiceItemStatus,
)
from app.services import audit, workflow
from app.services.clock import district_today
from app.services.errors import Forbidden, Invalid
from app.services.scope import apply_scope, code_in_scope
from app.services.text import check_text, single_text

MEETING_ROLES = (Role.ADMIN, Role.STREET_ADMIN, Role.COMMUNITY_ADMIN)
MEETING_LEVELS = (AreaLevel.STREET, AreaLevel.COMMUNITY)
MAX_ITEMS = 50
COMPLETE, DROP = "complete", "drop"


# --- the items' machine: open → done, or dropped ---------------------------------------------------
def may_follow(user, item: ServiceItem) -> bool:
    """Staff whose scope covers the item's owner (its grid, or its unit's community) follow it up."""
    return (
        user is not None
        and getattr(user, "is_authenticated", True)
        and user.role in STAFF_ROLES
        and code_in_scope(user, item.area_code)
    )


def _refusal(user, item, _kind, _context=None) -> str | None:
    if may_follow(user, item):
        return None
    return _("Only staff responsible for the item's unit or grid may follow it up.")


def _conflict(item, _transition=None) -> str:
    return _(
        "This service item is now “%(status)s”; that step is not possible from there.",
        status=SERVICE_ITEM_STATUS_LABELS.get(item.status, item.status),
    )


def _note(values: dict, required: bool) -> str | None:
    label = _("Reason") if required else _("Note")
    note = single_text("note", values.get("note"), label, Invalid, required=required)
    return note


def _close(action: str, required: bool):
    def run(actor, item, values):
        workflow.check(ITEM_MACHINE, actor, item, action)
        note = _note(values, required)
        now = utcnow()
        return workflow.move(
            ITEM_MACHINE,
            item,
            actor,
            action,
            now=now,
            columns={"note": note},
            closed_at=now,
            closed_by_id=actor.id,
        )

    return run


ITEM_MACHINE = workflow.Machine(
    name="service_item",
    model=ServiceItem,
    step_model=None,
    subject_key="",
    transitions={
        COMPLETE: workflow.Transition(COMPLETE, (ServiceItemStatus.OPEN,), ServiceItemStatus.DONE, "staff"),
        DROP: workflow.Transition(DROP, (ServiceItemStatus.OPEN,), ServiceItemStatus.DROPPED, "staff"),
    },
    refusal=_refusal,
    conflict_message=_conflict,
    lost_message=_conflict,
    signal=None,
    states=tuple(ServiceItemStatus),
    user_actions=(COMPLETE, DROP),
    steps={COMPLETE: _close(COMPLETE, required=False), DROP: _close(DROP, required=True)},
)


def follow_item(actor, item: ServiceItem, verb: str, note: str | None = None) -> ServiceItem:
    """Mark an item done (an optional note) or dropped (a reason)."""
    return workflow.perform(ITEM_MACHINE, actor, item, verb, {"note": note})


def item_actions(user, item: ServiceItem) -> list[str]:
    return workflow.interface_actions(ITEM_MACHINE, user, item)


# --- recording a meeting ---------------------------------------------------------------------------
def _parse_date(value, field: str) -> date:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise Invalid({field: _("Enter the date as YYYY-MM-DD.")}) from None
    if not isinstance(value, date):
        raise Invalid({field: _("Enter the date as YYYY-MM-DD.")})
    return value


def may_record(user, area_code: str | None) -> bool:
    return (
        user is not None
        and getattr(user, "is_authenticated", True)
        and user.role in MEETING_ROLES
        and code_in_scope(user, area_code)
    )


def _holder(actor, area_code) -> Area:
    area = (
        db.session.scalar(select(Area).where(Area.code == area_code, Area.level.in_(MEETING_LEVELS)))
        if isinstance(area_code, str)
        else None
    )
    if area is None:
        raise Invalid({"area_code": _("Choose the community or street that held the meeting.")})
    if not may_record(actor, area.code):
        raise Forbidden(_("Only staff of the community or street record its joint meetings."))
    return area


def _item(area: Area, values: dict, held_on: date, index: int) -> ServiceItem:
    """One agreed item, its owner inside the meeting's area; Invalid names the item (items.<n>.<field>)."""
    prefix = f"items.{index}."
    errors: dict = {}
    title = check_text(errors, prefix + "title", values.get("title"), TITLE_MAX, True, _("Title"))
    unit_id, grid_code = parse_id(values.get("unit_id")), values.get("grid_code")
    item = ServiceItem(title=title, status=ServiceItemStatus.OPEN)
    if (unit_id is None) == (not grid_code):
        errors[prefix + "owner"] = _("Name one owner: a unit or a grid.")
    elif unit_id is not None:
        unit = db.session.get(Unit, unit_id)
        if unit is None or not unit.community_code.startswith(area.code):
            errors[prefix + "unit_id"] = _("Choose a unit of this area.")
        else:
            item.unit_id, item.area_code = unit.id, unit.community_code
    else:
        grid = db.session.scalar(
            select(Area.code).where(Area.code == str(grid_code), Area.level == AreaLevel.GRID)
        )
        if grid is None or not grid.startswith(area.code):
            errors[prefix + "grid_code"] = _("Choose a grid of this area.")
        else:
            item.grid_code = item.area_code = grid
    try:
        item.due_on = _parse_date(values.get("due_on"), prefix + "due_on")
        if item.due_on < held_on:
            errors[prefix + "due_on"] = _("The due date comes after the meeting.")
    except Invalid as error:
        errors.update(error.errors)
    if errors:
        raise Invalid(errors)
    return item


def record_meeting(actor, *, area_code, held_on, title, minutes, unit_ids=(), items=()) -> JointMeeting:
    """A meeting held by a community or street in `actor`'s scope, with its attending units and items."""
    area = _holder(actor, area_code)
    errors: dict = {}
    title = check_text(errors, "title", title, TITLE_MAX, True, _("Title"))
    minutes = check_text(errors, "minutes", minutes, MINUTES_MAX, True, _("Minutes"))
    try:
        held_on = _parse_date(held_on, "held_on")
        if held_on > district_today():
            errors["held_on"] = _("Record a meeting once it has been held.")
    except Invalid as error:
        errors.update(error.errors)
    ids = parse_ids(unit_ids or [])
    units = list(db.session.scalars(select(Unit).where(Unit.id.in_(ids)))) if ids else []
    if len(units) != len(set(ids)) or any(not u.community_code.startswith(area.code) for u in units):
        errors["unit_ids"] = _("Choose units of this area.")
    if len(items or ()) > MAX_ITEMS:
        errors["items"] = _("At most %(n)d items per meeting.", n=MAX_ITEMS)
    if errors:
        raise Invalid(errors)
    meeting = JointMeeting(
        area_code=area.code, held_on=held_on, title=title, minutes=minutes, recorded_by_id=actor.id
    )
    meeting.units = units
    meeting.items = [_item(area, values or {}, held_on, i) for i, values in enumerate(items or ())]
    db.session.add(meeting)
    db.session.flush()
    audit.record(actor, "create", meeting, None, {**audit.snapshot(meeting), "units": [u.id for u in units]})
    for item in meeting.items:
        audit.record(actor, "create", item, None, audit.snapshot(item))
    return meeting


def add_item(actor, meeting: JointMeeting, values: dict) -> ServiceItem:
    """Another item agreed at `meeting` (recorded afterwards)."""
    area = _holder(actor, meeting.area_code)
    item = _item(area, values, meeting.held_on, 0)
    item.meeting_id = meeting.id
    db.session.add(item)
    db.session.flush()
    audit.record(actor, "create", item, None, audit.snapshot(item))
    return item


# --- reading ---------------------------------------------------------------------------------------
def meetings_query(user):
    """select() of the meetings `user` may read: those of their area and of the areas above it."""
    query = select(JointMeeting).options(selectinload(JointMeeting.units), selectinload(JointMeeting.items))
    prefix = user.scope_prefix
    if prefix:
        query = query.where(
            or_(
                under_area(JointMeeting.area_code, prefix),
                JointMeeting.area_code.in_([prefix[:n] for n in (9, 12) if n < len(prefix)]),
            )
        )
    elif prefix is not None:
        query = query.where(JointMeeting.id.is_(None))
    return query.order_by(JointMeeting.held_on.desc(), JointMeeting.id.desc())


def get_meeting(user, meeting_id) -> JointMeeting | None:
    meeting_id = parse_id(meeting_id)
    if meeting_id is None or user is None or user.role not in STAFF_ROLES:
        return None
    return db.session.scalar(meetings_query(user).where(JointMeeting.id == meeting_id))


def get_item(user, item_id) -> ServiceItem | None:
    item_id = parse_id(item_id)
    item = db.session.get(ServiceItem, item_id) if item_id is not None else None
    return item if item is not None and may_follow(user, item) else None


def _public_items(condition) -> list[ServiceItem]:
    """Items not dropped: the open ones soonest due first, then the done ones, latest first."""
    return list(
        db.session.scalars(
            select(ServiceItem)
            .where(condition, ServiceItem.status != ServiceItemStatus.DROPPED)
            .options(selectinload(ServiceItem.meeting), selectinload(ServiceItem.unit))
            .order_by(
                case((ServiceItem.status == ServiceItemStatus.OPEN, 0), else_=1),
                case((ServiceItem.status == ServiceItemStatus.OPEN, ServiceItem.due_on), else_=None),
                ServiceItem.closed_at.desc(),
                ServiceItem.id,
            )
        )
    )


def service_items_for_grid(grid_code: str) -> list[ServiceItem]:
    """The service items a grid owns (open and done; dropped ones are not shown), for its station page."""
    return _public_items(ServiceItem.grid_code == grid_code)


def service_items_for_unit(unit_id: int) -> list[ServiceItem]:
    """The service items a unit owns (open and done; dropped ones are not shown)."""
    return _public_items(ServiceItem.unit_id == unit_id)


def is_overdue(item: ServiceItem, today: date | None = None) -> bool:
    return item.status == ServiceItemStatus.OPEN and item.due_on < (today or district_today())


# --- quarters without a meeting --------------------------------------------------------------------
def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    """First and last day of a quarter."""
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return start, date.fromordinal(end.toordinal() - 1)


def previous_quarter(year: int, quarter: int) -> tuple[int, int]:
    return (year - 1, 4) if quarter == 1 else (year, quarter - 1)


def communities_without_meeting_query(user, year: int, quarter: int):
    """select() of (code, name) of the communities in scope with no meeting of their own or of their street
    held in the quarter, set-based."""
    start, end = quarter_bounds(year, quarter)
    met = exists().where(
        JointMeeting.held_on >= start,
        JointMeeting.held_on <= end,
        or_(JointMeeting.area_code == Area.code, JointMeeting.area_code == func.substr(Area.code, 1, 9)),
    )
    query = (
        select(Area.code, Area.name).where(and_(Area.level == AreaLevel.COMMUNITY, ~met)).order_by(Area.code)
    )
    return apply_scope(query, Area, user)


def communities_without_meeting(user, year: int, quarter: int) -> list:
    return list(db.session.execute(communities_without_meeting_query(user, year, quarter)))


def unmet_count(user, today: date | None = None) -> tuple[tuple[int, int], int]:
    """The last finished quarter and how many communities in scope held no joint meeting in it (dashboard)."""
    year, quarter = previous_quarter(*quarter_of(today or district_today()))
    inner = communities_without_meeting_query(user, year, quarter).order_by(None).subquery()
    return (year, quarter), db.session.scalar(select(func.count()).select_from(inner)) or 0


def figures(user, today: date | None = None) -> dict:
    """The dashboard's joint-meeting figures: communities, those without a meeting last quarter, open items
    and those past their due date, in `user`'s scope."""
    today = today or district_today()
    quarter, unmet = unmet_count(user, today)
    communities = db.session.scalar(
        apply_scope(
            select(func.count()).select_from(Area).where(Area.level == AreaLevel.COMMUNITY), Area, user
        )
    )
    open_items = apply_scope(
        select(func.count()).select_from(ServiceItem).where(ServiceItem.status == ServiceItemStatus.OPEN),
        ServiceItem,
        user,
    )
    return {
        "quarter": quarter,
        "communities": communities or 0,
        "unmet": unmet,
        "open_items": db.session.scalar(open_items) or 0,
        "overdue_items": db.session.scalar(open_items.where(ServiceItem.due_on < today)) or 0,
    }

"""Joint meetings (联席会议) and their service items over the API; the communities that held none in a quarter."""

import marshmallow as ma
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.api import api_blueprint
from app.api.auth import current_api_user, token_required
from app.api.common import (
    AREA_CODE,
    CHOOSE_ONE,
    Text,
    UtcDateTime,
    commit_or_abort,
    load_visible_or_404,
    route_actions,
)
from app.api.errors import api_abort
from app.api.idempotency import idempotent
from app.api.pagination import PageQuerySchema, page_schema, paginate
from app.ids import MAX_ID
from app.models.meetings import MINUTES_MAX, TITLE_MAX, JointMeeting, ServiceItem, ServiceItemStatus
from app.models.wishes import NOTE_MAX
from app.services import meetings as service
from app.services.clock import district_today
from app.services.scope import scope_condition

bp = api_blueprint(
    "meetings", __name__, "Joint meetings of communities and streets, and their service items."
)
ID = ma.validate.Range(min=1, max=MAX_ID)


class MeetingItemSchema(ma.Schema):
    """A service item agreed at a joint meeting, owned by a unit or a grid."""

    id = ma.fields.Integer(required=True)
    meeting_id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    unit_id = ma.fields.Integer(allow_none=True)
    grid_code = ma.fields.String(allow_none=True)
    owner = ma.fields.String(required=True, metadata={"description": "the unit's or grid's name"})
    due_on = ma.fields.Date(required=True)
    status = ma.fields.String(required=True, metadata={"enum": [s.value for s in ServiceItemStatus]})
    overdue = ma.fields.Boolean(required=True)
    note = ma.fields.String(allow_none=True)
    closed_at = UtcDateTime(allow_none=True)
    actions = ma.fields.List(ma.fields.String(), required=True)


class MeetingSchema(ma.Schema):
    """A joint meeting with its attending units and the items agreed."""

    id = ma.fields.Integer(required=True)
    area_code = ma.fields.String(required=True)
    held_on = ma.fields.Date(required=True)
    title = ma.fields.String(required=True)
    minutes = ma.fields.String(required=True)
    unit_ids = ma.fields.List(ma.fields.Integer(), required=True)
    units = ma.fields.List(ma.fields.String(), required=True)
    items = ma.fields.List(ma.fields.Nested(MeetingItemSchema), required=True)
    created_at = UtcDateTime(required=True)


class ItemRequestSchema(ma.Schema):
    """An item agreed: its title, one owner (a unit of the area or a grid of it) and its due date."""

    title = Text(required=True, validate=ma.validate.Length(min=1, max=TITLE_MAX))
    unit_id = ma.fields.Integer(allow_none=True, validate=ID)
    grid_code = Text(allow_none=True, validate=AREA_CODE)
    due_on = ma.fields.Date(required=True)


class MeetingRequestSchema(ma.Schema):
    """A meeting held by a community or street in the caller's area."""

    area_code = Text(required=True, validate=AREA_CODE)
    held_on = ma.fields.Date(required=True)
    title = Text(required=True, validate=ma.validate.Length(min=1, max=TITLE_MAX))
    minutes = Text(required=True, validate=ma.validate.Length(min=1, max=MINUTES_MAX))
    unit_ids = ma.fields.List(
        ma.fields.Integer(validate=ID), load_default=list, validate=ma.validate.Length(max=200)
    )
    items = ma.fields.List(
        ma.fields.Nested(ItemRequestSchema),
        load_default=list,
        validate=ma.validate.Length(max=service.MAX_ITEMS),
    )


class ItemQuerySchema(PageQuerySchema):
    status = Text(validate=ma.validate.OneOf([s.value for s in ServiceItemStatus], error=CHOOSE_ONE))
    unit_id = ma.fields.Integer(validate=ID)
    grid_code = Text(validate=AREA_CODE)


class QuarterQuerySchema(ma.Schema):
    """A quarter; default: the last finished one."""

    year = ma.fields.Integer(validate=ma.validate.Range(min=2000, max=2100))
    quarter = ma.fields.Integer(validate=ma.validate.Range(min=1, max=4))


class UnmetSchema(ma.Schema):
    """The communities in the caller's area with no joint meeting (their own or their street's) in a quarter."""

    year = ma.fields.Integer(required=True)
    quarter = ma.fields.Integer(required=True)
    communities = ma.fields.List(
        ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String()), required=True
    )


class NoteRequestSchema(ma.Schema):
    """What was done (optional)."""

    note = Text(allow_none=True, validate=ma.validate.Length(max=NOTE_MAX))


class ReasonRequestSchema(ma.Schema):
    """Why the item is dropped."""

    note = Text(required=True, validate=ma.validate.Length(min=1, max=NOTE_MAX))


def present_item(item: ServiceItem, user) -> dict:
    return {
        "id": item.id,
        "meeting_id": item.meeting_id,
        "title": item.title,
        "unit_id": item.unit_id,
        "grid_code": item.grid_code,
        "owner": item.owner_name,
        "due_on": item.due_on,
        "status": item.status,
        "overdue": service.is_overdue(item),
        "note": item.note,
        "closed_at": item.closed_at,
        "actions": service.item_actions(user, item),
    }


def present(meeting: JointMeeting, user) -> dict:
    return {
        "id": meeting.id,
        "area_code": meeting.area_code,
        "held_on": meeting.held_on,
        "title": meeting.title,
        "minutes": meeting.minutes,
        "unit_ids": [unit.id for unit in meeting.units],
        "units": [unit.name for unit in meeting.units],
        "items": [present_item(item, user) for item in meeting.items],
        "created_at": meeting.created_at,
    }


def _meeting(meeting_id) -> JointMeeting:
    meeting = service.get_meeting(current_api_user(), meeting_id)
    if meeting is None:
        api_abort(404, "not_found", _("Not found."))
    return meeting


@bp.route("/meetings")
@token_required()
@bp.arguments(PageQuerySchema, location="query")
@bp.response(200, page_schema(MeetingSchema))
def list_meetings(query):
    """Meetings of the caller's area and of the areas above it, latest first (staff)."""
    user = current_api_user()
    if not user.is_staff:
        return {"items": [], "page": query["page"], "per_page": query["per_page"], "has_next": False}
    page = paginate(service.meetings_query(user), query)
    page["items"] = [present(meeting, user) for meeting in page["items"]]
    return page


@bp.route("/meetings", methods=["POST"])
@token_required()
@bp.arguments(MeetingRequestSchema)
@idempotent(bp)
@bp.response(201, MeetingSchema)
@bp.alt_response(403, response="FORBIDDEN")
def post_meeting(values):
    """Record a meeting: community or street staff for their area, with the units that attended and the items."""
    user = current_api_user()
    meeting = commit_or_abort(lambda: service.record_meeting(user, **values))
    return present(_meeting(meeting.id), user)


@bp.route("/meetings/<int:meeting_id>")
@token_required()
@bp.response(200, MeetingSchema)
@bp.alt_response(404, response="NOT_FOUND")
def get_meeting(meeting_id):
    """One meeting with its items."""
    return present(_meeting(meeting_id), current_api_user())


@bp.route("/meetings/unmet")
@token_required()
@bp.arguments(QuarterQuerySchema, location="query")
@bp.response(200, UnmetSchema)
def unmet(query):
    """Communities in the caller's area that held no joint meeting in the quarter (district calendar)."""
    year, quarter = service.previous_quarter(*service.quarter_of(district_today()))
    year, quarter = query.get("year", year), query.get("quarter", quarter)
    rows = service.communities_without_meeting(current_api_user(), year, quarter)
    return {"year": year, "quarter": quarter, "communities": [{"code": c, "name": n} for c, n in rows]}


@bp.route("/service-items")
@token_required()
@bp.arguments(ItemQuerySchema, location="query")
@bp.response(200, page_schema(MeetingItemSchema))
def list_items(query):
    """Service items of the caller's area, open ones soonest due first."""
    user = current_api_user()
    items = select(ServiceItem).options(selectinload(ServiceItem.unit), selectinload(ServiceItem.grid))
    condition = scope_condition(ServiceItem, user)
    if not user.is_staff:
        items = items.where(ServiceItem.id.is_(None))
    elif condition is not None:
        items = items.where(condition)
    for key in ("status", "unit_id", "grid_code"):
        if key in query:
            items = items.where(getattr(ServiceItem, key) == query[key])
    page = paginate(items.order_by(ServiceItem.status, ServiceItem.due_on, ServiceItem.id), query)
    page["items"] = [present_item(item, user) for item in page["items"]]
    return page


ITEM_ENDPOINTS = {
    service.COMPLETE: (NoteRequestSchema, "Staff responsible for the owner mark the item done."),
    service.DROP: (ReasonRequestSchema, "Staff responsible for the owner drop the item, saying why."),
}


def _visible(user):
    condition = scope_condition(ServiceItem, user)
    if not user.is_staff:
        return ServiceItem.id.is_(None)
    return condition if condition is not None else ServiceItem.id.isnot(None)


def _item(user, item_id) -> ServiceItem:
    return load_visible_or_404(ServiceItem, item_id, _visible(user))


route_actions(
    bp, service.ITEM_MACHINE, "service-items", "item", MeetingItemSchema, ITEM_ENDPOINTS, _item, present_item
)

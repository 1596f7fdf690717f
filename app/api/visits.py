"""双报到 at work over the API: a member's 责任田 and visits, units' activities, compliance in the caller's scope."""

import marshmallow as ma
from flask_babel import gettext as _

from app.api import api_blueprint
from app.api.auth import current_api_user, token_required
from app.api.common import AREA_CODE, CHOOSE_ONE, Text, UtcDateTime, commit_or_abort
from app.api.errors import api_abort
from app.api.idempotency import idempotent
from app.api.pagination import PageQuerySchema, page_schema, paginate
from app.ids import MAX_ID
from app.models.choices import STAFF_ROLES, Role
from app.models.visits import NOTE_MAX, TITLE_MAX, ActivityKind
from app.services import activities, compliance, visits
from app.services.masking import mask_name
from app.services.wish_access import member_for

bp = api_blueprint("visits", __name__, "责任田 visits, units' activities and compliance (双报到).")

COMPLIANCE_ROLES = STAFF_ROLES + (Role.INTEGRATION,)


# --- shapes --------------------------------------------------------------------------------------
class VisitRequestSchema(ma.Schema):
    """A visit to a household of the caller's 责任田."""

    household_id = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=MAX_ID))
    visited_at = ma.fields.DateTime(
        allow_none=True,
        metadata={
            "description": "ISO 8601; without an offset, the district's local time; default: now. "
            "Not in the future, at most VISIT_BACKDATE_DAYS (31) district days back."
        },
    )
    note = Text(allow_none=True, validate=ma.validate.Length(max=NOTE_MAX))
    findings = Text(
        allow_none=True,
        validate=ma.validate.Length(max=NOTE_MAX),
        metadata={"description": "what the member found: needs, hazards, wishes to follow up"},
    )


class VisitSchema(ma.Schema):
    """A recorded household visit."""

    id = ma.fields.Integer(required=True)
    household_id = ma.fields.Integer(required=True)
    member_id = ma.fields.Integer(required=True)
    visited_at = UtcDateTime(required=True)
    visited_on = ma.fields.Date(required=True, metadata={"description": "the district's day of the visit"})
    note = ma.fields.String(allow_none=True)
    findings = ma.fields.String(allow_none=True)
    channel = ma.fields.String(required=True, metadata={"description": "where it was recorded: site, api …"})


class MyHouseholdSchema(ma.Schema):
    """A household of the caller's 责任田, with when it is next due."""

    household_id = ma.fields.Integer(required=True)
    number = ma.fields.String(required=True)
    address = ma.fields.String(required=True)
    head = ma.fields.String(allow_none=True, metadata={"description": "the head of household, masked"})
    last_visit_on = ma.fields.Date(allow_none=True, metadata={"description": "null: never visited"})
    due_on = ma.fields.Date(
        required=True, metadata={"description": "the last visit (or assignment) + interval"}
    )
    overdue = ma.fields.Boolean(
        required=True, metadata={"description": "the district's today is past due_on"}
    )


class ActivityRequestSchema(ma.Schema):
    """An activity a check-in unit held in its community."""

    unit_id = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=MAX_ID))
    community_code = Text(
        allow_none=True, validate=AREA_CODE, metadata={"description": "default: the unit's"}
    )
    held_on = ma.fields.Date(required=True, metadata={"description": "a district day, not in the future"})
    kind = Text(required=True, validate=ma.validate.OneOf([k.value for k in ActivityKind], error=CHOOSE_ONE))
    title = Text(required=True, validate=ma.validate.Length(min=1, max=TITLE_MAX))
    participants = ma.fields.Integer(
        allow_none=True, validate=ma.validate.Range(min=0, max=activities.MAX_PARTICIPANTS)
    )
    note = Text(allow_none=True, validate=ma.validate.Length(max=NOTE_MAX))


class ActivitySchema(ma.Schema):
    """A recorded unit activity."""

    id = ma.fields.Integer(required=True)
    unit_id = ma.fields.Integer(required=True)
    community_code = ma.fields.String(required=True)
    held_on = ma.fields.Date(required=True)
    kind = ma.fields.String(required=True, metadata={"enum": [k.value for k in ActivityKind]})
    title = ma.fields.String(required=True)
    participants = ma.fields.Integer(allow_none=True)
    note = ma.fields.String(allow_none=True)
    channel = ma.fields.String(required=True)


class CountSchema(ma.Schema):
    total = ma.fields.Integer(required=True)
    overdue = ma.fields.Integer(required=True)


class HouseholdCountSchema(ma.Schema):
    assigned = ma.fields.Integer(required=True)
    overdue = ma.fields.Integer(required=True)


class ComplianceSchema(ma.Schema):
    """Who is behind, in the caller's scope, on the district's today."""

    members = ma.fields.Nested(CountSchema, required=True, metadata={"description": "active members"})
    units = ma.fields.Nested(CountSchema, required=True)
    households = ma.fields.Nested(HouseholdCountSchema, required=True, metadata={"description": "in 责任田"})


class ComplianceQuerySchema(ma.Schema):
    area = Text(validate=AREA_CODE, metadata={"description": "a street, community or grid code"})


# --- endpoints -----------------------------------------------------------------------------------
def _visit_body(visit) -> dict:
    return {
        "id": visit.id,
        "household_id": visit.household_id,
        "member_id": visit.member_id,
        "visited_at": visit.visited_at,
        "visited_on": visit.visited_on,
        "note": visit.note,
        "findings": visit.findings,
        "channel": visit.channel,
    }


@bp.route("/visits", methods=["POST"])
@token_required()
@bp.arguments(VisitRequestSchema)
@idempotent(bp)
@bp.response(201, VisitSchema)
@bp.alt_response(403, response="FORBIDDEN")
def post_visit(values):
    """A checked-in member records a visit to a household of their own 责任田; any other household: 403."""
    user = current_api_user()
    visit = commit_or_abort(
        lambda: visits.record_visit(
            user,
            values["household_id"],
            values.get("visited_at"),
            note=values.get("note"),
            findings=values.get("findings"),
        )
    )
    return _visit_body(visit)


@bp.route("/my/households")
@token_required(Role.MEMBER)
@bp.arguments(PageQuerySchema, location="query")
@bp.response(200, page_schema(MyHouseholdSchema))
def my_households(query):
    """The caller's 责任田: each household with its last visit and next due day, the overdue first."""
    member = member_for(current_api_user())
    if member is None:
        api_abort(403, "forbidden", _("Only checked-in members have a 责任田."))
    page = paginate(compliance.member_households(member.id), query)
    page["items"] = [
        {
            "household_id": row.household_id,
            "number": row.number,
            "address": row.address,
            "head": mask_name(row.head_name) if row.head_name else None,
            "last_visit_on": row.last_visit_on,
            "due_on": row.due_on,
            "overdue": row.overdue,
        }
        for row in page["items"]
    ]
    return page


@bp.route("/activities", methods=["POST"])
@token_required()
@bp.arguments(ActivityRequestSchema)
@idempotent(bp)
@bp.response(201, ActivitySchema)
@bp.alt_response(403, response="FORBIDDEN")
def post_activity(values):
    """The unit's contact, or staff over its community, record an activity the unit held (主题党日 …)."""
    user = current_api_user()
    activity = commit_or_abort(
        lambda: activities.record_activity(
            user,
            values["unit_id"],
            values["held_on"],
            values["kind"],
            values["title"],
            community_code=values.get("community_code"),
            participants=values.get("participants"),
            note=values.get("note"),
        )
    )
    return {
        "id": activity.id,
        "unit_id": activity.unit_id,
        "community_code": activity.community_code,
        "held_on": activity.held_on,
        "kind": activity.kind,
        "title": activity.title,
        "participants": activity.participants,
        "note": activity.note,
        "channel": activity.channel,
    }


@bp.route("/compliance")
@token_required(*COMPLIANCE_ROLES)
@bp.arguments(ComplianceQuerySchema, location="query")
@bp.response(200, ComplianceSchema)
def get_compliance(query):
    """Members and units behind, and households overdue, in the caller's scope (optionally one area of it)."""
    return compliance.figures(current_api_user(), area=query.get("area"))

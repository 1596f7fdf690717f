"""Emergency call-ups (社区吹哨、党员报到) over the API: raise, answer, check in, mark arrived, assign, close, cancel."""

import marshmallow as ma
from sqlalchemy.orm import selectinload

from app.api import api_blueprint
from app.api.auth import current_api_user, token_required
from app.api.common import AREA_CODE, CHOOSE_ONE, Text, UtcDateTime, abort_for, action_body, commit_or_abort
from app.api.idempotency import idempotent
from app.api.pagination import PageQuerySchema, page_schema, paginate
from app.ids import MAX_ID
from app.models.callups import DETAILS_MAX, MUSTER_MAX, REASON_MAX, TASK_MAX, TITLE_MAX, TOKEN_MAX, Callup
from app.models.choices import ArrivalVia, CallupAnswer, CallupStatus
from app.services import callups as service
from app.services.errors import DomainError
from app.services.preconditions import expect_status

bp = api_blueprint(
    "callups", __name__, "Emergency call-ups: the community blows the whistle, members report."
)
ID = ma.validate.Range(min=1, max=MAX_ID)
ANSWERS = [a.value for a in CallupAnswer]


class CallupCountsSchema(ma.Schema):
    coming = ma.fields.Integer(required=True)
    cannot = ma.fields.Integer(required=True)
    arrived = ma.fields.Integer(required=True)
    no_answer = ma.fields.Integer(required=True)


class CallupFiguresSchema(ma.Schema):
    """Measured from the call's start (its raise, or `starts_at` when later); archived at close."""

    called = ma.fields.Integer(required=True, metadata={"description": "members on the roll"})
    arrived = ma.fields.Integer(required=True)
    first_arrival_at = UtcDateTime(allow_none=True)
    needed_reached_at = UtcDateTime(allow_none=True)
    seconds_to_first_arrival = ma.fields.Integer(allow_none=True)
    seconds_to_needed = ma.fields.Integer(allow_none=True)
    arrival_rate = ma.fields.Float(
        allow_none=True, metadata={"description": "arrived ÷ those coming (arrivals included)"}
    )


class CallupPersonSchema(ma.Schema):
    member_id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    unit = ma.fields.String(allow_none=True)
    answer = ma.fields.String(allow_none=True, metadata={"enum": ANSWERS})
    answered_at = UtcDateTime(allow_none=True)
    arrived_at = UtcDateTime(allow_none=True)
    arrived_via = ma.fields.String(allow_none=True, metadata={"enum": [v.value for v in ArrivalVia]})
    task = ma.fields.String(allow_none=True)


class CallupMineSchema(ma.Schema):
    """The caller's own line of the roll (members of the area)."""

    member_id = ma.fields.Integer(required=True)
    answer = ma.fields.String(allow_none=True, metadata={"enum": ANSWERS})
    answered_at = UtcDateTime(allow_none=True)
    arrived_at = UtcDateTime(allow_none=True)
    task = ma.fields.String(allow_none=True)


class CallupSchema(ma.Schema):
    """A call-up: what, where, how many, its counts and figures; `people` for those who lead it,
    `checkin_token` only for staff who manage it, `mine` for a member of its area."""

    id = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True, metadata={"enum": [s.value for s in CallupStatus]})
    title = ma.fields.String(required=True)
    details = ma.fields.String(required=True)
    area_code = ma.fields.String(required=True)
    area_name = ma.fields.String(required=True)
    grid_code = ma.fields.String(allow_none=True, metadata={"description": "the muster grid"})
    muster_point = ma.fields.String(required=True)
    needed = ma.fields.Integer(required=True)
    starts_at = UtcDateTime(required=True)
    hours = ma.fields.Float(allow_none=True)
    created_at = UtcDateTime(required=True)
    closed_at = UtcDateTime(allow_none=True)
    cancel_reason = ma.fields.String(allow_none=True)
    counts = ma.fields.Nested(CallupCountsSchema, required=True)
    figures = ma.fields.Nested(CallupFiguresSchema, required=True)
    link = ma.fields.String(required=True, metadata={"description": "the site's page of the call-up"})
    actions = ma.fields.List(ma.fields.String(), required=True)
    mine = ma.fields.Nested(CallupMineSchema, allow_none=True)
    people = ma.fields.List(ma.fields.Nested(CallupPersonSchema))
    checkin_token = ma.fields.String()


class CallupRequestSchema(ma.Schema):
    """A call-up to a grid, community or street of the caller's area (community, street or district staff)."""

    area_code = Text(required=True, validate=AREA_CODE)
    title = Text(required=True, validate=ma.validate.Length(min=1, max=TITLE_MAX))
    details = Text(load_default="", validate=ma.validate.Length(max=DETAILS_MAX))
    muster_point = Text(required=True, validate=ma.validate.Length(min=1, max=MUSTER_MAX))
    needed = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(min=1, max=10000))
    starts_at = ma.fields.DateTime(
        required=True, metadata={"description": "ISO 8601; without an offset, the district's time"}
    )
    hours = ma.fields.Decimal(
        allow_none=True, load_default=None, allow_nan=False, validate=ma.validate.Range(min=0, max=24)
    )
    grid_code = Text(allow_none=True, load_default=None, validate=AREA_CODE)


class CallupQuerySchema(PageQuerySchema):
    status = Text(validate=ma.validate.OneOf([s.value for s in CallupStatus], error=CHOOSE_ONE))


class CallupAnswerSchema(ma.Schema):
    answer = Text(required=True, validate=ma.validate.OneOf(ANSWERS, error=CHOOSE_ONE))


class CallupTokenSchema(ma.Schema):
    token = Text(required=True, validate=ma.validate.Length(min=1, max=TOKEN_MAX))


class CallupMemberSchema(ma.Schema):
    member_id = ma.fields.Integer(required=True, strict=True, validate=ID)


class CallupTaskSchema(CallupMemberSchema):
    task = Text(required=True, validate=ma.validate.Length(min=1, max=TASK_MAX))


class CallupReasonSchema(ma.Schema):
    reason = Text(required=True, validate=ma.validate.Length(min=1, max=REASON_MAX))


def _answer(callup_id: int) -> dict:
    """The call-up as the caller may see it, read again after the change."""
    user = current_api_user()
    return service.as_json(_load(user, callup_id), user)


def _load(user, callup_id) -> Callup:
    try:
        return service.get_for(user, callup_id)
    except DomainError as error:
        abort_for(error)


@bp.route("/callups")
@token_required()
@bp.arguments(CallupQuerySchema, location="query")
@bp.response(200, page_schema(CallupSchema))
def list_callups(query):
    """The call-ups the caller may see (staff: overlapping their area; members: their area's), open first."""
    user = current_api_user()
    callups = service.visible_query(user).options(selectinload(Callup.area))
    if "status" in query:
        callups = callups.where(Callup.status == query["status"])
    page = paginate(callups, query)
    page["items"] = [service.as_json(callup, user, with_people=False) for callup in page["items"]]
    return page


@bp.route("/callups", methods=["POST"])
@token_required()
@bp.arguments(CallupRequestSchema)
@idempotent(bp)
@bp.response(201, CallupSchema)
@bp.alt_response(403, response="FORBIDDEN")
def post_callup(values):
    """Raise a call-up: every active member of the area is told at once (urgent), the leads first."""
    user = current_api_user()
    callup = commit_or_abort(lambda: service.raise_callup(user, **values))
    return _answer(callup.id)


@bp.route("/callups/<int:callup_id>")
@token_required()
@bp.response(200, CallupSchema)
@bp.alt_response(404, response="NOT_FOUND")
def get_callup(callup_id):
    """One call-up with its counts; the roll for those who lead it, the token for staff who manage it."""
    return _answer(callup_id)


STATUSES = [s.value for s in CallupStatus]


def _expected_then(run, user, callup_id, values: dict):
    """The step, once the call-up is still in the status the caller last saw (`expected_status`, optional)."""
    expected = values.pop("expected_status", None)
    expect_status(service.get_for(user, callup_id), expected)
    return run(user, callup_id, values)


def _step(name: str, schema, doc: str, run):
    body = action_body(schema, f"Callup{name.capitalize()}Request", STATUSES)

    @bp.route(f"/callups/<int:callup_id>/{name}", methods=["POST"], endpoint=f"callup_{name}")
    @token_required()
    @bp.arguments(body)
    @idempotent(bp)
    @bp.response(200, CallupSchema)
    @bp.alt_response(403, response="FORBIDDEN")
    @bp.alt_response(404, response="NOT_FOUND")
    @bp.alt_response(409, response="CONFLICT")
    def step(values, callup_id):
        user = current_api_user()
        commit_or_abort(lambda: _expected_then(run, user, callup_id, values))
        return _answer(callup_id)

    step.__doc__ = doc
    return step


_step(
    "respond",
    CallupAnswerSchema,
    "A member of the area answers: coming or cannot (again: the last answer counts).",
    lambda user, cid, v: service.respond(user, cid, v["answer"]),
)
_step(
    "checkin",
    CallupTokenSchema,
    "A member of the area checks in with the token of the call-up's QR code (a wrong token: 403).",
    lambda user, cid, v: service.check_in(user, cid, v["token"]),
)
_step(
    "arrived",
    CallupMemberSchema,
    "Staff of the area, or the muster grid's captain or leader, mark a member arrived.",
    lambda user, cid, v: service.mark_arrived(user, cid, v["member_id"]),
)
_step(
    "assign",
    CallupTaskSchema,
    "The grid leader (or staff of the area) gives an arrived member a task.",
    lambda user, cid, v: service.assign_task(user, cid, v["member_id"], v["task"]),
)
_step(
    "close",
    None,
    "Close: figures archived, arrived members credited the hours once (a certificate each when hours were set).",
    lambda user, cid, v: service.close(user, cid),
)
_step(
    "cancel",
    CallupReasonSchema,
    "Call it off, saying why; nobody is credited.",
    lambda user, cid, v: service.cancel(user, cid, v["reason"]),
)

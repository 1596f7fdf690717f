"""Work logs over the API: write one, list and read them, sign them (双签字), and the grids whose log went quiet."""

import marshmallow as ma
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
    register_actions,
)
from app.api.idempotency import idempotent
from app.api.pagination import PageQuerySchema, page_schema, paginate
from app.extensions import db
from app.models.base import under_area
from app.models.worklogs import CONTENT_MAX, SignPlace, SignStatus, WorkLog
from app.services import signatures, workflow
from app.services import worklogs as service

bp = api_blueprint(
    "worklogs", __name__, "Grid work logs, signed by the vanguard captain and the grid leader."
)


# --- shapes --------------------------------------------------------------------------------------
class SignatureSchema(ma.Schema):
    """One of the two signatures: the place, who signed and when (null while missing)."""

    place = ma.fields.String(required=True, metadata={"enum": [p.value for p in SignPlace]})
    signer = ma.fields.String(allow_none=True, metadata={"description": "the signer's name"})
    signed_at = UtcDateTime(allow_none=True)


class WorkLogSchema(ma.Schema):
    """A day's entry in a grid's work log."""

    id = ma.fields.Integer(required=True)
    grid_code = ma.fields.String(required=True)
    date = ma.fields.Date(required=True)
    content = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"enum": [s.value for s in SignStatus]})
    author = ma.fields.String(allow_none=True)
    signatures = ma.fields.List(ma.fields.Nested(SignatureSchema), required=True)
    signed_at = UtcDateTime(allow_none=True, metadata={"description": "when the second signature came"})
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)
    actions = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={"description": "what the caller may do now: POST /worklogs/{id}/<action>"},
    )


class WorkLogRequestSchema(ma.Schema):
    """A new entry: the grid, the day (district calendar, not in the future) and what was done."""

    grid_code = Text(required=True, validate=AREA_CODE)
    date = ma.fields.Date(required=True)
    content = Text(required=True, validate=ma.validate.Length(min=1, max=CONTENT_MAX))


class WorkLogQuerySchema(PageQuerySchema):
    """Filters of the list."""

    status = Text(validate=ma.validate.OneOf([s.value for s in SignStatus], error=CHOOSE_ONE))
    area = Text(validate=AREA_CODE, metadata={"description": "a street, community or grid code"})


class SignRequestSchema(ma.Schema):
    """Which place the caller signs in (only needed by someone holding both)."""

    place = Text(
        allow_none=True,
        validate=ma.validate.OneOf([p.value for p in SignPlace], error=CHOOSE_ONE),
        metadata={"description": "default: the caller's place whose signature is missing"},
    )


class EditLogRequestSchema(ma.Schema):
    """New content or date; the signatures given so far are cleared."""

    content = Text(validate=ma.validate.Length(min=1, max=CONTENT_MAX))
    date = ma.fields.Date()


class StaleGridSchema(ma.Schema):
    """A grid without a work log for WORKLOG_STALE_DAYS days."""

    grid_code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    last_log_on = ma.fields.Date(allow_none=True, metadata={"description": "null: never"})


def signature_rows(entry) -> list[dict]:
    return [
        {
            "place": row["place"],
            "signer": (row["signer"].name or row["signer"].username) if row["signer"] is not None else None,
            "signed_at": row["signed_at"],
        }
        for row in signatures.signatures(entry)
    ]


def present(log: WorkLog, user) -> dict:
    return {
        "id": log.id,
        "grid_code": log.grid_code,
        "date": log.log_date,
        "content": log.content,
        "status": log.status,
        "author": (log.author.name or log.author.username) if log.author is not None else None,
        "signatures": signature_rows(log),
        "signed_at": log.signed_at,
        "created_at": log.created_at,
        "updated_at": log.updated_at,
        "actions": service.actions(user, log),
    }


OPTIONS = (
    selectinload(WorkLog.author),
    selectinload(WorkLog.captain_signer),
    selectinload(WorkLog.leader_signer),
)


def _load(user, log_id) -> WorkLog:
    return load_visible_or_404(WorkLog, log_id, service.visible_condition(user), OPTIONS)


# --- endpoints -----------------------------------------------------------------------------------
@bp.route("/worklogs")
@token_required()
@bp.arguments(WorkLogQuerySchema, location="query")
@bp.response(200, page_schema(WorkLogSchema))
def list_worklogs(query):
    """Entries the caller may read (staff: their area's; the captain and leader: their grids'), newest first."""
    user = current_api_user()
    logs = (
        select(WorkLog)
        .where(service.visible_condition(user))
        .options(*OPTIONS)
        .order_by(WorkLog.log_date.desc(), WorkLog.id.desc())
    )
    if "status" in query:
        logs = logs.where(WorkLog.status == query["status"])
    if "area" in query:
        logs = logs.where(under_area(WorkLog.grid_code, query["area"]))
    page = paginate(logs, query)
    page["items"] = [present(log, user) for log in page["items"]]
    return page


@bp.route("/worklogs", methods=["POST"])
@token_required()
@bp.arguments(WorkLogRequestSchema)
@idempotent(bp)
@bp.response(201, WorkLogSchema)
@bp.alt_response(403, response="FORBIDDEN")
def post_worklog(values):
    """Write a day's entry: the grid's worker or staff responsible for the grid. It awaits both signatures."""
    user = current_api_user()
    log = commit_or_abort(
        lambda: service.write_log(user, values["grid_code"], values["date"], values["content"])
    )
    return present(_load(user, log.id), user)


@bp.route("/worklogs/stale-grids")
@token_required()
@bp.arguments(PageQuerySchema, location="query")
@bp.response(200, page_schema(StaleGridSchema))
def stale_grids(query):
    """Grids in the caller's area with no work log for WORKLOG_STALE_DAYS days (district calendar)."""
    start, size = (query["page"] - 1) * query["per_page"], query["per_page"]
    rows = db.session.execute(service.stale_grids_query(current_api_user()).offset(start).limit(size + 1))
    items = [{"grid_code": code, "name": name, "last_log_on": last} for code, name, last in rows]
    return {"items": items[:size], "page": query["page"], "per_page": size, "has_next": len(items) > size}


@bp.route("/worklogs/<int:log_id>")
@token_required()
@bp.response(200, WorkLogSchema)
@bp.alt_response(404, response="NOT_FOUND")
def get_worklog(log_id):
    """One entry with its signatures; 404 when the caller may not read it."""
    user = current_api_user()
    return present(_load(user, log_id), user)


ACTION_ENDPOINTS = {
    signatures.SIGN: (
        SignRequestSchema,
        "The captain or the leader signs; the second signature locks the entry. 403 for others, 409 twice.",
    ),
    signatures.EDIT: (
        EditLogRequestSchema,
        "Change an entry not yet signed by both: the signatures given are cleared. 409 once signed.",
    ),
}


def _act(verb: str, log_id: int, values: dict) -> dict:
    user = current_api_user()
    log = _load(user, log_id)
    commit_or_abort(lambda: workflow.perform(service.MACHINE, user, log, verb, values))
    return present(_load(user, log_id), user)


if missing := workflow.unrouted(service.MACHINE, ACTION_ENDPOINTS):
    raise RuntimeError(f"work log actions listed but not routed: {sorted(missing)}")
register_actions(bp, "worklogs", "log", WorkLogSchema, ACTION_ENDPOINTS, _act)

"""Work logs over the API: write one, list and read them, sign them (双签字), and the grids whose log went quiet."""

import marshmallow as ma

from app.api import api_blueprint
from app.api.auth import current_api_user, token_required
from app.api.common import AREA_CODE, CHOOSE_ONE, Text, UtcDateTime
from app.api.pagination import PageQuerySchema, page_schema
from app.api.signing import SignatureSchema, SignedEntries, SignRequestSchema
from app.extensions import db
from app.models.worklogs import CONTENT_MAX, SignStatus, WorkLog
from app.services import signatures
from app.services import worklogs as service

bp = api_blueprint(
    "worklogs", __name__, "Grid work logs, signed by the vanguard captain and the grid leader."
)


# --- shapes --------------------------------------------------------------------------------------
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


class EditLogRequestSchema(ma.Schema):
    """New content or date; the signatures given so far are cleared."""

    content = Text(validate=ma.validate.Length(min=1, max=CONTENT_MAX))
    date = ma.fields.Date()


class StaleGridSchema(ma.Schema):
    """A grid without a work log for WORKLOG_STALE_DAYS days."""

    grid_code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    last_log_on = ma.fields.Date(allow_none=True, metadata={"description": "null: never"})


def fields(log: WorkLog) -> dict:
    return {
        "id": log.id,
        "grid_code": log.grid_code,
        "date": log.log_date,
        "content": log.content,
        "author": (log.author.name or log.author.username) if log.author is not None else None,
        "created_at": log.created_at,
        "updated_at": log.updated_at,
    }


LOGS = SignedEntries(bp, "worklogs", "log", WorkLog, service, WorkLogSchema, fields, loaded=(WorkLog.author,))


# --- endpoints -----------------------------------------------------------------------------------
LOGS.route_list(
    "list_worklogs",
    "Entries the caller may read (staff: their area's; the captain and leader: their grids'), newest first.",
    WorkLogQuerySchema,
    (WorkLog.log_date.desc(), WorkLog.id.desc()),
)
LOGS.route_create(
    "post_worklog",
    "Write a day's entry: the grid's worker or staff responsible for the grid. It awaits both signatures.",
    WorkLogRequestSchema,
    lambda user, values: service.write_log(user, values["grid_code"], values["date"], values["content"]),
)


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


LOGS.route_get("get_worklog", "One entry with its signatures; 404 when the caller may not read it.")
LOGS.route_actions(
    {
        signatures.SIGN: (
            SignRequestSchema,
            "The captain or the leader signs; the second signature locks the entry. 403 for others, 409 twice.",
        ),
        signatures.EDIT: (
            EditLogRequestSchema,
            "Change an entry not yet signed by both: the signatures given are cleared. 409 once signed.",
        ),
    }
)

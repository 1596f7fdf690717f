"""Monthly work records (工作纪实表) and the printable monthly sheets (PDFs) over the API."""

import marshmallow as ma
from flask import url_for
from flask_babel import gettext as _

from app.api import api_blueprint
from app.api.auth import current_api_user, token_required
from app.api.common import AREA_CODE, CHOOSE_ONE, Text, UtcDateTime, commit_or_abort
from app.api.errors import api_abort
from app.api.idempotency import idempotent
from app.api.pagination import PageQuerySchema
from app.api.signing import SignatureSchema, SignedEntries, SignRequestSchema
from app.ids import MAX_ID
from app.models.worklogs import PrintedSheet, SheetKind, SheetStatus, SignStatus, WorkRecord
from app.services import signatures, work_records, work_sheets
from app.services.certificate_pdf import pdf_response
from app.services.errors import Invalid

bp = api_blueprint(
    "records", __name__, "Members' monthly work records (双签字) and the printable monthly sheets."
)
MONTH = ma.validate.Regexp(r"^[0-9]{4}-[0-9]{2}$", error="YYYY-MM")


class RecordLineSchema(ma.Schema):
    """One line of the sheet: a visit, a claim, a completion."""

    kind = ma.fields.String(required=True, metadata={"enum": ["visit", "claim", "done"]})
    on = ma.fields.String(required=True, metadata={"description": "the local date"})
    text = ma.fields.String(required=True)


class WorkRecordSchema(ma.Schema):
    """A member's record of a month, with the figures as built and both signatures."""

    id = ma.fields.Integer(required=True)
    member_id = ma.fields.Integer(required=True)
    member = ma.fields.String(required=True)
    grid_code = ma.fields.String(required=True)
    month = ma.fields.String(required=True, metadata={"description": "YYYY-MM"})
    visits = ma.fields.Integer(required=True)
    claims = ma.fields.Integer(required=True)
    completions = ma.fields.Integer(required=True)
    hours = ma.fields.Float(required=True)
    lines = ma.fields.List(ma.fields.Nested(RecordLineSchema), required=True)
    note = ma.fields.String(allow_none=True)
    status = ma.fields.String(required=True, metadata={"enum": [s.value for s in SignStatus]})
    signatures = ma.fields.List(ma.fields.Nested(SignatureSchema), required=True)
    signed_at = UtcDateTime(allow_none=True)
    actions = ma.fields.List(ma.fields.String(), required=True)


class RecordRequestSchema(ma.Schema):
    """Build a member's record of a month (staff responsible for the member's grid)."""

    member_id = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=MAX_ID))
    month = Text(required=True, validate=MONTH, metadata={"description": "YYYY-MM, not a month to come"})
    note = Text(allow_none=True, validate=ma.validate.Length(max=work_records.NOTE_MAX))


class RecordQuerySchema(PageQuerySchema):
    status = Text(validate=ma.validate.OneOf([s.value for s in SignStatus], error=CHOOSE_ONE))
    area = Text(validate=AREA_CODE)
    month = Text(validate=MONTH)


class EditRecordRequestSchema(ma.Schema):
    """A new note and/or the figures built again; the signatures given so far are cleared."""

    note = Text(allow_none=True, validate=ma.validate.Length(max=work_records.NOTE_MAX))
    rebuild = ma.fields.Boolean(load_default=False)


class SheetSchema(ma.Schema):
    """A printable monthly sheet; `pdf_url` once its PDF is ready."""

    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, metadata={"enum": [k.value for k in SheetKind]})
    grid_code = ma.fields.String(required=True)
    member_id = ma.fields.Integer(allow_none=True)
    month = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"enum": [s.value for s in SheetStatus]})
    revision = ma.fields.Integer(required=True)
    requested_at = UtcDateTime(required=True)
    rendered_at = UtcDateTime(allow_none=True)
    pdf_url = ma.fields.String(allow_none=True)


class SheetRequestSchema(ma.Schema):
    """Print a grid's work logs (`grid_code`) or a member's record (`member_id`) of a month."""

    kind = Text(required=True, validate=ma.validate.OneOf([k.value for k in SheetKind], error=CHOOSE_ONE))
    month = Text(required=True, validate=MONTH)
    grid_code = Text(allow_none=True, validate=AREA_CODE)
    member_id = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(min=1, max=MAX_ID))


def fields(record: WorkRecord) -> dict:
    return {
        "id": record.id,
        "member_id": record.member_id,
        "member": record.member.name,
        "grid_code": record.grid_code,
        "month": f"{record.month:%Y-%m}",
        "visits": record.visits,
        "claims": record.claims,
        "completions": record.completions,
        "hours": record.hours,
        "lines": record.details or [],
        "note": record.note,
    }


RECORDS = SignedEntries(
    bp, "records", "record", WorkRecord, work_records, WorkRecordSchema, fields, loaded=(WorkRecord.member,)
)


def _of_month(query) -> tuple:
    """The list's `month` filter: 422 for a month still to come."""
    if "month" not in query:
        return ()
    try:
        return (WorkRecord.month == work_records.parse_month(query["month"]),)
    except Invalid as error:
        api_abort(422, "validation_error", error.message, errors={"month": [error.message]})


RECORDS.route_list(
    "list_records",
    "Records the caller may read (staff: their area's; the signers: their grids'; a member: their own).",
    RecordQuerySchema,
    (WorkRecord.month.desc(), WorkRecord.id.desc()),
    where=_of_month,
)
RECORDS.route_create(
    "post_record",
    "Build a member's record of a month from their visits, claims and service; it awaits both signatures.",
    RecordRequestSchema,
    lambda user, values: work_records.build_record(
        user, values["member_id"], values["month"], values.get("note")
    ),
)
RECORDS.route_get("get_record", "One record with its lines and signatures.")
RECORDS.route_actions(
    {
        signatures.SIGN: (
            SignRequestSchema,
            "The member's grid captain or leader signs; the second locks it.",
        ),
        signatures.EDIT: (
            EditRecordRequestSchema,
            "A new note or rebuilt figures; clears the signatures given.",
        ),
    }
)


# --- printable sheets ----------------------------------------------------------------------------
def present_sheet(sheet: PrintedSheet) -> dict:
    ready = sheet.status == SheetStatus.READY
    return {
        "id": sheet.id,
        "kind": sheet.kind,
        "grid_code": sheet.grid_code,
        "member_id": sheet.member_id,
        "month": f"{sheet.month:%Y-%m}",
        "status": sheet.status,
        "revision": sheet.revision,
        "requested_at": sheet.requested_at,
        "rendered_at": sheet.rendered_at,
        "pdf_url": url_for("records.sheet_pdf", sheet_id=sheet.id) if ready else None,
    }


def _sheet(sheet_id) -> PrintedSheet:
    sheet = work_sheets.get_sheet(current_api_user(), sheet_id)
    if sheet is None:
        api_abort(404, "not_found", _("Not found."))
    return sheet


@bp.route("/sheets", methods=["POST"])
@token_required()
@bp.arguments(SheetRequestSchema)
@idempotent(bp)
@bp.response(202, SheetSchema)
@bp.alt_response(403, response="FORBIDDEN")
def post_sheet(values):
    """Print a month's sheet; rendered by a job: poll GET /sheets/{id} until `status` is ready."""
    user = current_api_user()
    sheet = commit_or_abort(
        lambda: work_sheets.request_sheet(
            user,
            values["kind"],
            values["month"],
            grid_code=values.get("grid_code"),
            member_id=values.get("member_id"),
        )
    )
    return present_sheet(_sheet(sheet.id))


@bp.route("/sheets/<int:sheet_id>")
@token_required()
@bp.response(200, SheetSchema)
@bp.alt_response(404, response="NOT_FOUND")
def get_sheet(sheet_id):
    """A sheet asked for: pending while its job runs, then ready with its `pdf_url`."""
    return present_sheet(_sheet(sheet_id))


@bp.route("/sheets/<int:sheet_id>/pdf")
@token_required()
@bp.response(200, description="the PDF", content_type="application/pdf")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(409, response="CONFLICT")
def sheet_pdf(sheet_id):
    """The sheet's PDF; 409 while it is being prepared."""
    sheet = _sheet(sheet_id)
    path = work_sheets.pdf_key(sheet)
    if path is None:
        api_abort(409, "not_ready", _("This sheet is still being prepared; try again in a minute."))
    return pdf_response(path, work_sheets.download_name(sheet).removesuffix(".pdf"))

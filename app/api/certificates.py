"""Certificates over the API: the caller's own, one certificate's metadata and PDF, and public verification."""

import marshmallow as ma
from flask import jsonify, url_for
from flask_babel import gettext as _

from app.api import api_blueprint
from app.api.auth import current_api_user, token_required
from app.api.errors import ErrorSchema, api_abort
from app.api.pagination import PageQuerySchema, page_schema, paginate
from app.api.wishes import UtcDateTime
from app.models.certificates import Certificate, CertificateKind, CertificateStatus
from app.services import certificates as service
from app.services.certificate_pdf import pdf_response
from app.services.masking import mask_name

bp = api_blueprint(
    "certificates", __name__, "Service and honour certificates: list, metadata, PDF, verification."
)


class WishRefSchema(ma.Schema):
    """The confirmed wish a service certificate attests."""

    id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True, metadata={"description": "the title at issue"})


class PeriodSchema(ma.Schema):
    """The period an honour certificate counts hours over (local calendar days, both included)."""

    start = ma.fields.Date(required=True)
    end = ma.fields.Date(required=True)


class CertificateSchema(ma.Schema):
    """A certificate; `pdf_url` is set when the caller may download it."""

    serial = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, metadata={"enum": [k.value for k in CertificateKind]})
    status = ma.fields.String(required=True, metadata={"enum": [s.value for s in CertificateStatus]})
    holder = ma.fields.String(required=True, metadata={"description": "the member, masked (王*)"})
    hours = ma.fields.Float(required=True)
    issued_at = UtcDateTime(required=True)
    issuer = ma.fields.String(required=True)
    wish = ma.fields.Nested(WishRefSchema, allow_none=True)
    period = ma.fields.Nested(PeriodSchema, allow_none=True)
    pdf_url = ma.fields.String(allow_none=True)
    verify_url = ma.fields.String(
        required=True, metadata={"description": "the public page the QR code opens"}
    )
    revoked_at = UtcDateTime(allow_none=True)


class VerificationSchema(ma.Schema):
    """What anyone may learn from a serial."""

    serial = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"enum": ["valid", "revoked", "unknown"]})
    kind = ma.fields.String(required=True)
    holder = ma.fields.String(required=True, metadata={"description": "masked"})
    hours = ma.fields.Float(required=True)
    issued_at = UtcDateTime(required=True)
    issuer = ma.fields.String(required=True)
    period_start = ma.fields.Date(allow_none=True)
    period_end = ma.fields.Date(allow_none=True)
    revoked_at = UtcDateTime(allow_none=True)


class UnknownSerialSchema(ErrorSchema):
    """The answer for a serial never issued: the API's error, plus the status a verification page shows."""

    status = ma.fields.String(required=True, metadata={"enum": ["unknown"]})
    serial = ma.fields.String(
        required=True, metadata={"description": "the serial asked about (at most 40 characters)"}
    )


def present(certificate: Certificate, user) -> dict:
    """The API shape of a certificate the caller may see."""
    return {
        "serial": certificate.serial,
        "kind": certificate.kind,
        "status": certificate.status,
        "holder": mask_name(certificate.holder_name),
        "hours": certificate.hours,
        "issued_at": certificate.issued_at,
        "issuer": certificate.issuer,
        "wish": {"id": certificate.wish_id, "title": certificate.subject} if certificate.wish_id else None,
        "period": (
            {"start": certificate.period_start, "end": certificate.period_end}
            if certificate.period_start
            else None
        ),
        "pdf_url": (
            url_for("certificates.certificate_pdf", serial=certificate.serial)
            if service.may_download(user, certificate)
            else None
        ),
        "verify_url": service.verify_url(certificate.serial),
        "revoked_at": certificate.revoked_at,
    }


def _visible(serial: str) -> Certificate:
    user = current_api_user()
    certificate = service.find_certificate(serial)
    if certificate is None or not service.may_see(user, certificate):
        api_abort(404, "not_found", _("Not found."))
    return certificate


@bp.route("/certificates")
@token_required()
@bp.arguments(PageQuerySchema, location="query")
@bp.response(200, page_schema(CertificateSchema))
def list_certificates(query):
    """The caller's own certificates, newest first (a member's; empty for other roles)."""
    user = current_api_user()
    page = paginate(service.holder_certificates(user), query)
    page["items"] = [present(c, user) for c in page["items"]]
    return page


@bp.route("/certificates/<serial>")
@token_required()
@bp.response(200, CertificateSchema)
@bp.alt_response(404, response="NOT_FOUND")
def get_certificate(serial):
    """One certificate: its holder's and staff in scope; `status` pending until its PDF is stored."""
    return present(_visible(serial), current_api_user())


@bp.route("/certificates/<serial>/pdf")
@token_required()
@bp.response(200, description="the PDF", content_type="application/pdf")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(409, response="CONFLICT")
def certificate_pdf(serial):
    """The certificate's PDF; 409 while it is being prepared or once it is revoked (staff still get it)."""
    certificate = _visible(serial)
    if not service.may_download(current_api_user(), certificate):
        if certificate.status == CertificateStatus.PENDING:
            api_abort(409, "not_ready", _("This certificate is still being prepared; try again in a minute."))
        api_abort(409, "revoked", _("This certificate was revoked; it can no longer be downloaded."))
    return pdf_response(service.pdf_key(certificate), certificate.serial)


@bp.route("/certificates/<serial>/verify")
@bp.response(200, VerificationSchema)
@bp.alt_response(404, schema=UnknownSerialSchema, description="No certificate with this serial was issued.")
@bp.doc(security=[])
def verify_certificate(serial):
    """Public, no token: valid, revoked, or unknown (404 with `{"status": "unknown"}`)."""
    info = service.verification(serial)
    if info is None:
        message = _("No certificate with this serial has been issued.")
        response = jsonify(
            status="unknown", serial=serial[:40], error={"code": "not_found", "message": message}
        )
        response.status_code = 404
        response.headers["Cache-Control"] = "no-store"
        return response
    return info, 200, {"Cache-Control": "no-store"}

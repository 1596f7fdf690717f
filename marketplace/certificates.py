"""Certificate pages of the public site: anyone verifies a serial; holders and staff in scope download the PDF."""

from flask import abort, render_template
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from app.extensions import db
from app.models.certificates import Certificate, CertificateStatus
from app.services import certificates as service
from app.services.certificate_pdf import pdf_response
from marketplace.blueprint import bp
from marketplace.wishes import refused


def member_certificates(member) -> list:
    """A member's certificates, newest first (the "Certificates" section of My claims)."""
    return list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.member_id == member.id)
            .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        )
    )


bp.add_app_template_global(member_certificates, "member_certificates")


@bp.route("/verify/<serial>")
def verify(serial):
    """Public: is this certificate genuine? Valid, revoked or unknown, with the holder's name masked."""
    info = service.verification(serial)
    response = render_template("marketplace/verify.html", info=info, serial=serial[:40])
    # a revocation must show at once: nobody (browser or proxy) keeps an old answer
    headers = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
    return (response, 200 if info is not None else 404, headers)


@bp.route("/certificates/<serial>.pdf")
@login_required
def certificate_pdf(serial):
    """The stored PDF, for its holder and staff whose area covers the holder's grid; 404 for anyone else."""
    user = current_user._get_current_object()
    certificate = service.find_certificate(serial)
    if certificate is None or not service.may_see(user, certificate):
        abort(404)  # the same answer as for an unknown serial: nothing to learn about other members
    if not service.may_download(user, certificate):
        if certificate.status == CertificateStatus.PENDING:
            return refused(_("This certificate is still being prepared; try again in a minute."))
        return refused(
            _(
                "This certificate was revoked on %(day)s; it can no longer be downloaded.",
                day=format_date(certificate.revoked_at),
            )
        )
    return pdf_response(service.pdf_key(certificate), certificate.serial)

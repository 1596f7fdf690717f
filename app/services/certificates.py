"""Certificates: issued when a wish is confirmed or in an honour batch, rendered by a job, revoked, verified.

Issuing records a pending certificate and its render job in the caller's transaction; the job renders
the PDF, stores it atomically and marks the certificate ready, once, however often it runs. Like every
domain service, these functions flush and never commit.
"""

import base64
import os
import re
import secrets
from datetime import timedelta
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import false, func, select, update

from app.extensions import db
from app.models import Member, Wish
from app.models.base import utcnow
from app.models.certificates import Certificate, CertificateKind, CertificateStatus, HonourBatch
from app.models.choices import STAFF_ROLES, Role, WishAction, WishStatus
from app.services import audit, storage
from app.services.certificate_pdf import district_name, render_certificate_pdf, verify_url
from app.services.clock import local_date
from app.services.errors import DomainError
from app.services.masking import mask_name
from app.services.outbox import record_job
from app.services.scope import code_in_scope
from app.services.signals import certificate_issued

RENDER_JOB = "certificate.render"
SERIAL_PATTERN = re.compile(r"^OG-[A-Z2-7]{16}$")
REASON_MAX = 1000


class CertificateError(DomainError):
    """A certificate action was refused; `message` says why (409 unless `status` says otherwise)."""

    status = 409
    code = "state_conflict"

    def __init__(self, message: str, status: int | None = None, code: str | None = None):
        super().__init__(message, code)
        self.status = status or self.status


def invalid(message: str) -> CertificateError:
    return CertificateError(message, status=422, code="validation_error")


# --- settings --------------------------------------------------------------------------------------
def certificate_dir() -> str:
    """Where PDFs are stored: CERTIFICATE_DIR (relative to the instance folder), default instance/certificates."""
    directory = current_app.config["CERTIFICATE_DIR"] or "certificates"
    return os.path.join(current_app.instance_path, directory)  # an absolute CERTIFICATE_DIR wins the join


def issuer_for(grid_code: str) -> str:
    """The issuing body printed on certificates: CERTIFICATE_ISSUER, else the district's grid service centre."""
    configured = current_app.config["CERTIFICATE_ISSUER"]
    if configured:
        return configured
    return f"{district_name(grid_code) or '渭城区'}网格化管理服务中心"


def new_serial() -> str:
    """OG- and 16 base32 characters: 80 random bits, unguessable."""
    return "OG-" + base64.b32encode(secrets.token_bytes(10)).decode()


# --- issuing -----------------------------------------------------------------------------------------
def new_certificate(member: Member, issuers: dict, **values) -> Certificate:
    """A pending certificate of `member`, added and flushed later by the caller, rendered by its job."""
    if member.grid_code not in issuers:
        issuers[member.grid_code] = issuer_for(member.grid_code)
    return Certificate(
        serial=new_serial(),
        member_id=member.id,
        grid_code=member.grid_code,
        holder_name=member.name,
        issuer=issuers[member.grid_code],
        status=CertificateStatus.PENDING,
        **values,
    )


def enqueue_render(certificate: Certificate) -> None:
    record_job(RENDER_JOB, key=f"certificate:{certificate.id}", certificate_id=certificate.id)


def in_force_for_wish(wish_id: int) -> Certificate | None:
    return db.session.scalar(
        select(Certificate).where(
            Certificate.wish_id == wish_id, Certificate.status != CertificateStatus.REVOKED
        )
    )


def issue_service_certificate(wish: Wish) -> Certificate | None:
    """Record the certificate of a confirmed wish and its render job; None when it has one already."""
    if wish.status != WishStatus.CONFIRMED or wish.claimed_by_id is None or in_force_for_wish(wish.id):
        return None
    member = db.session.get(Member, wish.claimed_by_id)
    certificate = new_certificate(
        member,
        {},
        kind=CertificateKind.SERVICE,
        wish_id=wish.id,
        subject=wish.title,
        hours=wish.hours or Decimal(0),
        issued_at=wish.confirmed_at or utcnow(),
    )
    db.session.add(certificate)
    db.session.flush()
    enqueue_render(certificate)
    return certificate


def issue_callup_certificates(callup) -> int:
    """Record a certificate, and its render job, for every member credited for a closed call-up's hours
    (none twice: one per member and call-up); how many were recorded."""
    from app.models.callups import CallupResponse

    members = db.session.scalars(
        select(Member)
        .join(CallupResponse, CallupResponse.member_id == Member.id)
        .where(CallupResponse.callup_id == callup.id, CallupResponse.credited.is_(True))
        .where(
            ~select(Certificate.id)
            .where(Certificate.callup_id == callup.id, Certificate.member_id == Member.id)
            .exists()
        )
        .order_by(Member.id)
    ).all()
    issuers: dict = {}
    issued = [
        new_certificate(
            member,
            issuers,
            kind=CertificateKind.CALLUP,
            callup_id=callup.id,
            subject=callup.title,
            hours=callup.hours,
            issued_at=callup.closed_at or utcnow(),
        )
        for member in members
    ]
    db.session.add_all(issued)
    db.session.flush()
    for certificate in issued:
        enqueue_render(certificate)
    return len(issued)


def on_wish_changed(wish: Wish, action=None, actor=None, **_extra) -> None:
    """A confirmed wish earns its member a certificate; a reopened one loses it (its hours were taken back)."""
    if action in (WishAction.CONFIRM, WishAction.AUTO_CONFIRM):
        issue_service_certificate(wish)
    elif action == WishAction.REOPEN:
        certificate = in_force_for_wish(wish.id)
        if certificate is not None:
            revoke_certificate(actor, certificate, _("The wish was reopened after a callback."))


# --- rendering (the job) -------------------------------------------------------------------------------
def store_pdf(certificate: Certificate, pdf: bytes) -> str:
    """Store the PDF as certificates/<serial>.pdf, whole or not at all; its name (the certificate's pdf_path)."""
    name = f"{certificate.serial}.pdf"
    storage.put(f"certificates/{name}", pdf, "application/pdf")
    return name


def remove_stale_partial_files(older_than: timedelta = timedelta(hours=1)) -> int:
    """Delete temporary files killed renders left behind (never served; files storage); how many were removed."""
    return storage.remove_partial_files("certificates", older_than) + storage.remove_partial_files(
        "certificates/sheets", older_than
    )


def render_pending(certificate_id: int) -> str:
    """Render and store a pending certificate, mark it ready and announce it; 'ready', or why nothing was done."""
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None:
        return "missing"
    if certificate.status != CertificateStatus.PENDING:
        return "skipped"  # rendered by an earlier run, or revoked before it was delivered
    path = store_pdf(certificate, render_certificate_pdf(certificate))
    marked = db.session.execute(
        update(Certificate)
        .where(Certificate.id == certificate_id, Certificate.status == CertificateStatus.PENDING)
        .values(status=CertificateStatus.READY, pdf_path=path, rendered_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if marked != 1:
        return "skipped"
    db.session.refresh(certificate)
    if certificate.batch_id is not None:
        refresh_batch_progress(certificate.batch_id)
    certificate_issued.send(certificate)
    return "ready"


def pdf_key(certificate: Certificate) -> str | None:
    """The stored PDF's storage key; None while pending (a lost file is a storage.MissingFile when served)."""
    if certificate.pdf_path is None:
        return None
    return f"certificates/{certificate.pdf_path}"


# --- access and verification ------------------------------------------------------------------------
def find_certificate(serial: str) -> Certificate | None:
    """The certificate with this serial (letters in any case), or None; malformed serials never reach the database."""
    serial = (serial or "").strip().upper()
    if not SERIAL_PATTERN.match(serial):
        return None
    return db.session.scalar(select(Certificate).where(Certificate.serial == serial))


def is_holder(user, certificate: Certificate) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or user.role != Role.MEMBER:
        return False
    return certificate.member is not None and certificate.member.user_id == user.id


def is_staff_for(user, certificate: Certificate) -> bool:
    return (
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.role in STAFF_ROLES
        and code_in_scope(user, certificate.grid_code)
    )


def may_see(user, certificate: Certificate) -> bool:
    """Its holder and staff whose area covers the holder's grid; to anyone else it does not exist."""
    return is_holder(user, certificate) or is_staff_for(user, certificate)


def may_download(user, certificate: Certificate) -> bool:
    """A ready PDF: its holder and staff in scope. A revoked one: staff only (it must not circulate)."""
    if certificate.status == CertificateStatus.READY:
        return may_see(user, certificate)
    return certificate.status == CertificateStatus.REVOKED and is_staff_for(user, certificate)


def holder_certificates(user):
    """select() of the certificates a member holds, newest first (empty for anyone else)."""
    if user.role != Role.MEMBER:
        return select(Certificate).where(false())
    member_ids = select(Member.id).where(Member.user_id == user.id)
    return (
        select(Certificate)
        .where(Certificate.member_id.in_(member_ids))
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
    )


def verification(serial: str) -> dict | None:
    """What the public may learn from a serial: valid or revoked, the holder masked, hours, date, issuer.

    None for an unknown serial, and for one still pending (no document bears it yet).
    """
    certificate = find_certificate(serial)
    if certificate is None or certificate.status == CertificateStatus.PENDING:
        return None
    revoked = certificate.status == CertificateStatus.REVOKED
    return {
        "serial": certificate.serial,
        "status": "revoked" if revoked else "valid",
        "kind": certificate.kind,
        "holder": mask_name(certificate.holder_name),
        "hours": certificate.hours,
        "issued_at": certificate.issued_at,
        "issued_on": local_date(certificate.issued_at),
        "issuer": certificate.issuer,
        "period_start": certificate.period_start,
        "period_end": certificate.period_end,
        "revoked_at": certificate.revoked_at if revoked else None,
        "verify_url": verify_url(certificate.serial),
    }


def revoke_certificate(actor, certificate: Certificate, reason) -> Certificate:
    """Withdraw a certificate, saying why; verification answers "revoked" from now on."""
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise invalid(_("Say why the certificate is revoked."))
    if len(reason) > REASON_MAX or "\x00" in reason:
        raise invalid(_("The reason is too long (at most %(n)d characters).", n=REASON_MAX))
    before = {"status": audit.plain(certificate.status)}
    changed = db.session.execute(
        update(Certificate)
        .where(Certificate.id == certificate.id, Certificate.status != CertificateStatus.REVOKED)
        .values(
            status=CertificateStatus.REVOKED,
            revoked_at=utcnow(),
            revoked_reason=reason,
            revoked_by_id=getattr(actor, "id", None),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(certificate)
    if changed != 1:
        raise CertificateError(_("This certificate has already been revoked."))
    audit.record(
        actor, "update", certificate, before, {"status": certificate.status, "revoked_reason": reason}
    )
    if certificate.batch_id is not None:
        refresh_batch_progress(certificate.batch_id)
    return certificate


# --- honour batches' progress (the batches themselves: app.services.certificate_batches) ----------------
def refresh_batch_progress(batch_id: int) -> None:
    """Recount a batch's certificates (total) and those rendered or revoked (done); a recount, never +1."""
    # lock first: a count taken after the lock sees every render committed before it (PostgreSQL)
    db.session.execute(select(HonourBatch.id).where(HonourBatch.id == batch_id).with_for_update())
    counts = select(func.count()).select_from(Certificate).where(Certificate.batch_id == batch_id)
    total = db.session.scalar(counts)
    done = db.session.scalar(counts.where(Certificate.status != CertificateStatus.PENDING))
    db.session.execute(
        update(HonourBatch)
        .where(HonourBatch.id == batch_id)
        .values(total=total, done=done)
        .execution_options(synchronize_session=False)
    )
    batch = db.session.get(HonourBatch, batch_id)
    if batch is not None:
        db.session.refresh(batch)

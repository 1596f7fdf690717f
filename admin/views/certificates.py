"""Certificates in the back office: those in scope (download, revoke) and honour batches with live progress."""

from datetime import date

from flask import abort, flash, jsonify, redirect, request
from flask_admin import expose
from flask_admin.contrib.sqla.filters import FilterEqual, IntEqualFilter
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import Markup

from admin.base import MANAGERS, OneGridModelView
from admin.display import when
from admin.labels import LABELS
from admin.scoping import area_filters
from app.extensions import db
from app.models.certificates import Certificate, CertificateKind, CertificateStatus
from app.models.choices import choices
from app.services import certificate_batches as batches
from app.services import certificates as service
from app.services.certificate_pdf import pdf_response
from app.services.clock import district_today

KIND_LABELS = {
    CertificateKind.SERVICE: _l("Service certificate"),
    CertificateKind.HONOUR: _l("Honour certificate"),
    CertificateKind.CALLUP: _l("Call-up service certificate"),
}
STATUS_LABELS = {
    CertificateStatus.PENDING: _l("Being prepared"),
    CertificateStatus.READY: _l("Ready"),
    CertificateStatus.REVOKED: _l("Revoked"),
}
BATCH_FILTER = 0  # the position of the honour-batch filter among CertificateAdmin's filters
CERTIFICATE_LABELS = {
    **LABELS,
    "serial": _l("Serial"),
    "kind": _l("Certificate"),
    "status": _l("Status"),
    "holder_name": _l("Holder"),
    "member": _l("Member"),
    "subject": _l("Wish"),
    "wish": _l("Wish"),
    "batch": _l("Honour batch"),
    "hours": _l("Service hours"),
    "period_start": _l("Period from"),
    "period_end": _l("Period to"),
    "issuer": _l("Issued by"),
    "issued_at": _l("Issued"),
    "rendered_at": _l("PDF stored"),
    "revoked_at": _l("Revoked"),
    "revoked_reason": _l("Reason for revoking"),
    "revoked_by": _l("Revoked by"),
    "scope": _l("Members of"),
    "progress": _l("Progress"),
    "requested_by": _l("Started by"),
    "last_run_at": _l("Last run"),
}


def _label(labels: dict, value) -> str:
    return str(labels.get(value, value or ""))


def _status_badge(view, context, model, name):
    colour = {"ready": "success", "pending": "warning", "revoked": "danger"}.get(model.status, "secondary")
    return Markup('<span class="badge badge-%s" data-certificate-status="%s">%s</span>') % (
        colour,
        model.status,
        _label(STATUS_LABELS, model.status),
    )


def _time(view, context, model, name):
    return when(getattr(model, name))


def _member(view, context, model, name):
    member = getattr(model, name)
    return member.name if member is not None else ""


class CertificateAdmin(OneGridModelView):
    """Certificates of the members in the user's area: find one, download its PDF, revoke it with a reason."""

    edit_roles = MANAGERS  # who may revoke
    can_create = False
    can_edit = False
    can_delete = False
    details_template = "admin/certificate_details.html"
    column_list = ("serial", "kind", "holder_name", "grid", "hours", "status", "issued_at")
    column_details_list = (
        "serial",
        "kind",
        "status",
        "holder_name",
        "member",
        "grid",
        "subject",
        "batch",
        "hours",
        "period_start",
        "period_end",
        "issuer",
        "issued_at",
        "rendered_at",
        "revoked_at",
        "revoked_reason",
        "revoked_by",
    )
    column_export_list = (
        "serial",
        "kind",
        "holder_name",
        "grid",
        "hours",
        "period_start",
        "period_end",
        "status",
        "issuer",
        "issued_at",
        "revoked_at",
        "revoked_reason",
    )
    column_sortable_list = ("serial", "holder_name", ("grid", "grid_code"), "hours", "status", "issued_at")
    column_default_sort = ("issued_at", True)
    column_searchable_list = ("serial", "holder_name")
    column_labels = CERTIFICATE_LABELS

    def __init__(self, *args, **kwargs):
        formatters = {
            "kind": lambda v, c, m, n: _label(KIND_LABELS, m.kind),
            "member": _member,
            "revoked_by": lambda v, c, m, n: (
                (m.revoked_by.name or m.revoked_by.username) if m.revoked_by else ""
            ),
            "batch": lambda v, c, m, n: str(m.batch) if m.batch else "",
            **{c: _time for c in ("issued_at", "rendered_at", "revoked_at")},
        }
        self.column_formatters = {**formatters, "status": _status_badge}
        self.column_formatters_export = {
            **formatters,
            "status": lambda v, c, m, n: _label(STATUS_LABELS, m.status),
        }
        self.column_filters = [
            IntEqualFilter(
                Certificate.batch_id, _l("Honour batch")
            ),  # index BATCH_FILTER: batch pages link to it
            FilterEqual(Certificate.status, _l("Status"), options=choices(STATUS_LABELS)),
            FilterEqual(Certificate.kind, _l("Certificate"), options=choices(KIND_LABELS)),
            *area_filters(Certificate.grid_code),
        ]
        super().__init__(*args, **kwargs)

    @property
    def can_revoke(self) -> bool:
        return current_user.is_authenticated and current_user.role in self.edit_roles

    def _certificate_from_request(self) -> Certificate:
        return self.get_one(request.values.get("id", ""))

    def details_extras(self, model):
        return {
            "can_revoke": self.can_revoke and model.status != CertificateStatus.REVOKED,
            "can_download": model.status != CertificateStatus.PENDING,
            "verify_url": service.verify_url(model.serial),
        }

    @expose("/download/")
    def download_view(self):
        """The PDF (staff in scope get revoked certificates too: they may need the record)."""
        certificate = self._certificate_from_request()
        if certificate.status == CertificateStatus.PENDING:
            flash(_("This certificate is still being prepared; try again in a minute."), "warning")
            return redirect(self.get_url(".details_view", id=certificate.id))
        return pdf_response(service.pdf_key(certificate), certificate.serial)

    @expose("/revoke/", methods=("GET", "POST"))
    def revoke_view(self):
        """Ask for the reason (GET); revoke (the service audits it) and commit (POST)."""
        if not self.can_revoke:
            abort(403)
        certificate = self._certificate_from_request()
        details_url = self.get_url(".details_view", id=certificate.id)
        reason, error = (request.form.get("reason") or "").strip(), None
        if certificate.status == CertificateStatus.REVOKED:
            flash(_("This certificate has already been revoked."), "error")
            return redirect(details_url)
        if request.method == "POST":
            try:
                service.revoke_certificate(current_user._get_current_object(), certificate, reason)
            except service.CertificateError as exc:
                db.session.rollback()
                if exc.status != 422:
                    flash(exc.message, "error")
                    return redirect(details_url)
                error = exc.message
            else:
                db.session.commit()  # the service audited it
                flash(
                    _(
                        "Certificate %(serial)s revoked; its verification page now says so.",
                        serial=certificate.serial,
                    ),
                    "success",
                )
                return redirect(details_url)
        return self.render(
            "admin/certificate_revoke.html",
            certificate=certificate,
            reason=reason,
            error=error,
            cancel_url=details_url,
            kind_label=_label(KIND_LABELS, certificate.kind),
        )


class HonourBatchAdmin(OneGridModelView):
    """Honour certificates for every member of a unit, community or the district with hours in a period."""

    view_roles = MANAGERS
    edit_roles = MANAGERS
    can_edit = False
    can_delete = False
    can_export = False
    details_template = "admin/certificate_batch_details.html"
    column_list = ("scope", "period_start", "period_end", "progress", "requested_by", "last_run_at")
    column_details_list = ("scope", "period_start", "period_end", "requested_by", "created_at", "last_run_at")
    column_sortable_list = ("period_start", "period_end", "last_run_at")
    column_default_sort = ("last_run_at", True)
    column_labels = CERTIFICATE_LABELS
    column_formatters = {
        "scope": lambda v, c, m, n: m.scope_name,
        "progress": lambda v, c, m, n: (
            Markup('<span data-batch-progress="%s">%s / %s</span>') % (m.id, m.done, m.total)
        ),
        "requested_by": lambda v, c, m, n: (
            (m.requested_by.name or m.requested_by.username) if m.requested_by else ""
        ),
        "created_at": _time,
        "last_run_at": _time,
    }

    def details_extras(self, model):
        return {
            "progress": batches.batch_progress(model),
            "certificates_url": self.get_url("certificate.index_view", **{f"flt0_{BATCH_FILTER}": model.id}),
        }

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        """Pick whose members and which period; start (or re-run) the batch and go to its progress page."""
        if not self.can_create:
            abort(403)
        user = current_user._get_current_object()
        scopes = batches.batch_scopes(user)
        today = district_today()
        values = {
            "scope": request.form.get("scope", ""),
            "period_start": request.form.get("period_start", date(today.year, 1, 1).isoformat()),
            "period_end": request.form.get("period_end", today.isoformat()),
        }
        error = None
        if request.method == "POST":
            try:
                start, end = _parse_day(values["period_start"]), _parse_day(values["period_end"])
                batch, added = batches.start_honour_batch(user, values["scope"], start, end)
            except service.CertificateError as exc:
                db.session.rollback()
                error = exc.message
            else:
                db.session.commit()
                flash(
                    ngettext(
                        "%(num)d certificate added; rendering has started.",
                        "%(num)d certificates added; rendering has started.",
                        added,
                    )
                    if added
                    else _(
                        "Nothing to add: every member with hours in this period has a certificate of this batch."
                    ),
                    "success",
                )
                return redirect(self.get_url(".details_view", id=batch.id))
        return self.render(
            "admin/certificate_batch_new.html",
            scopes=scopes,
            values=values,
            error=error,
            return_url=self.get_url(".index_view"),
        )

    @expose("/progress/")
    def progress_view(self):
        """{done, total, finished} of one batch, for the progress page to poll."""
        batch = self.get_one(request.args.get("id", ""))
        db.session.refresh(batch)
        return jsonify(batches.batch_progress(batch))


def _parse_day(value: str) -> date | None:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        raise service.invalid(_("Give dates as YYYY-MM-DD.")) from None

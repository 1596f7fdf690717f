"""Work logs and work records (双签字) in the back office: write, edit, read the signatures, print the month."""

from flask import abort, flash, redirect, request
from flask_admin import BaseView, expose
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from admin.base import AREA_STAFF, REFUSED, AccessMixin, OneGridModelView, run_step
from admin.queue import AwaitingMySignatureFilter
from admin.scoping import area_filters
from admin.views.wishes import person, when
from app.extensions import db
from app.models.choices import AreaLevel, choices
from app.models.worklogs import SHEET_KIND_LABELS, SIGN_STATUS_LABELS, SheetStatus, SignPlace, SignStatus
from app.services import work_records, work_sheets, worklogs
from app.services.certificate_pdf import pdf_response
from app.services.clock import district_today
from app.services.scope import area_choices

LABELS = {
    **OneGridModelView.column_labels,
    "log_date": _l("Date"),
    "content": _l("Content"),
    "status": _l("Signatures"),
    "captain": _l("Vanguard captain"),
    "leader": _l("Grid leader"),
    "author": _l("Written by"),
    "month": _l("Month"),
    "visits": _l("Visits"),
    "claims": _l("Claims"),
    "completions": _l("Completions"),
    "hours": _l("Service hours"),
    "note": _l("Note"),
    "kind": _l("Sheet"),
    "revision": _l("Revision"),
    "created_at": _l("Created"),
    "rendered_at": _l("Rendered"),
}


def signature(place: str):
    """A signature cell: the signer and when, or a grey "awaiting"."""

    def format_(view, context, entry, name):
        signer = entry.signer_of(place)
        if signer is None:
            return Markup('<span class="text-muted">%s</span>') % _("awaiting")
        return f"{person(signer)} · {when(entry.signed_at_of(place))}"

    return format_


def status_badge(view, context, entry, name):
    label = str(SIGN_STATUS_LABELS.get(entry.status, entry.status))
    kind = "success" if entry.status == SignStatus.SIGNED else "warning"
    return Markup('<span class="badge badge-%s" data-sign-status="%s">%s</span>') % (
        kind,
        entry.status,
        label,
    )


FORMATTERS = {
    "status": status_badge,
    "captain": signature(SignPlace.CAPTAIN),
    "leader": signature(SignPlace.LEADER),
    "author": lambda v, c, m, n: person(m.author) if m.author else "",
    "content": lambda v, c, m, n: m.content if len(m.content) <= 80 else m.content[:80] + "…",
    "month": lambda v, c, m, n: f"{m.month:%Y-%m}",
    "member": lambda v, c, m, n: m.member.name if m.member is not None else "",
    "created_at": lambda v, c, m, n: when(m.created_at),
}
EXPORT_FORMATTERS = {
    **FORMATTERS,
    "status": lambda v, c, m, n: str(SIGN_STATUS_LABELS.get(m.status, m.status)),
    "captain": lambda v, c, m, n: person(m.captain_signer) if m.captain_signer else "",
    "leader": lambda v, c, m, n: person(m.leader_signer) if m.leader_signer else "",
    "content": lambda v, c, m, n: m.content,
}


class SignedEntryAdmin(OneGridModelView):
    """What work logs and records share: read-only rows, changed only through their services' steps."""

    view_roles = AREA_STAFF
    edit_roles = AREA_STAFF
    can_delete = False
    column_labels = LABELS
    details_template = "admin/signed_entry_details.html"
    service = worklogs

    def __init__(self, *args, **kwargs):
        self.column_formatters = dict(FORMATTERS)
        self.column_formatters_export = dict(EXPORT_FORMATTERS)
        super().__init__(*args, **kwargs)

    def details_extras(self, model):
        return {
            "signatures": [
                {
                    "label": label,
                    "signer": person(model.signer_of(place)) if model.signer_of(place) else "",
                    "at": when(model.signed_at_of(place)),
                }
                for place, label in (
                    (SignPlace.CAPTAIN, _("Vanguard captain")),
                    (SignPlace.LEADER, _("Grid leader")),
                )
            ],
            "locked": model.status == SignStatus.SIGNED,
            "may_edit": "edit" in self.service.actions(current_user._get_current_object(), model),
        }

    def _print(self, kind: str, month: str, **subject):
        done, _errors = run_step(lambda: self._request(kind, month, subject))
        if done:
            flash(_("The sheet is being prepared; it appears under Printed sheets."), "success")
            return redirect(self.get_url("printed_sheet.index_view"))
        return redirect(request.referrer or self.get_url(".index_view"))

    def _request(self, kind, month, subject):
        work_sheets.request_sheet(current_user._get_current_object(), kind, month, **subject)
        db.session.commit()


class WorkLogAdmin(SignedEntryAdmin):
    """A grid's work log: newest first, with both signatures; written and edited through the service."""

    column_list = ("grid", "log_date", "content", "status", "captain", "leader", "author")
    column_details_list = ("grid", "log_date", "content", "status", "author", "created_at")
    column_export_list = column_list
    column_sortable_list = (("grid", "grid_code"), "log_date", "status")
    column_default_sort = ("log_date", True)
    column_searchable_list = ("content",)
    eager_paths = ("grid.parent", "author", "captain_signer", "leader_signer")

    def __init__(self, *args, **kwargs):
        self.column_filters = [
            FilterEqual(worklogs.WorkLog.status, _l("Signatures"), options=choices(SIGN_STATUS_LABELS)),
            *area_filters(worklogs.WorkLog.grid_code),
            AwaitingMySignatureFilter(),  # the home's "work logs awaiting your signature"
        ]
        super().__init__(*args, **kwargs)

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        """The grid, the day and what was done; the entry then awaits its two signatures."""
        return self._form(None)

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        """Change an entry not yet signed by both (the signatures given are cleared)."""
        return self._form(self.get_one(request.values.get("id", "")))

    def _form(self, log):
        user = current_user._get_current_object()
        values = {
            "grid_code": request.form.get("grid_code", log.grid_code if log else ""),
            "date": request.form.get("date", (log.log_date if log else district_today()).isoformat()),
            "content": request.form.get("content", log.content if log else ""),
        }
        errors: dict = {}
        if request.method == "POST":
            if log is None:
                step = lambda: self._commit(
                    worklogs.write_log(user, values["grid_code"], values["date"], values["content"])
                )
            else:
                step = lambda: self._commit(
                    worklogs.edit_log(user, log, content=values["content"], log_date=values["date"])
                )
            done, errors = run_step(step)
            if done:
                flash(_("Work log saved; it awaits the two signatures."), "success")
                return redirect(self.get_url(".index_view"))
            if done is REFUSED:
                return redirect(self.get_url(".index_view"))
        return self.render(
            "admin/worklog_form.html",
            log=log,
            values=values,
            errors=errors,
            grids=area_choices(user, AreaLevel.GRID),
            return_url=self.get_url(".index_view"),
        )

    @staticmethod
    def _commit(log):
        db.session.commit()
        return log

    @expose("/print/", methods=("POST",))
    def print_view(self):
        """Print the logs of an entry's grid and month (PDF on the jobs queue)."""
        log = self.get_one(request.form.get("id", ""))
        return self._print("grid", f"{log.log_date:%Y-%m}", grid_code=log.grid_code)


class WorkRecordAdmin(SignedEntryAdmin):
    """Members' monthly work records with both signatures; built per member or for an area at once."""

    service = work_records
    column_list = (
        "member",
        "grid",
        "month",
        "visits",
        "claims",
        "completions",
        "hours",
        "status",
        "captain",
        "leader",
    )
    column_details_list = (
        "member",
        "grid",
        "month",
        "visits",
        "claims",
        "completions",
        "hours",
        "note",
        "status",
    )
    column_export_list = column_list
    column_sortable_list = (("grid", "grid_code"), "month", "status", "hours")
    column_default_sort = ("month", True)
    eager_paths = ("grid.parent", "member", "captain_signer", "leader_signer")

    def __init__(self, *args, **kwargs):
        self.column_filters = [
            FilterEqual(
                work_records.WorkRecord.status, _l("Signatures"), options=choices(SIGN_STATUS_LABELS)
            ),
            *area_filters(work_records.WorkRecord.grid_code),
        ]
        super().__init__(*args, **kwargs)

    def details_extras(self, model):
        return {**super().details_extras(model), "lines": model.details or [], "record": model}

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        """Build the missing records of a month for every active member of an area in the user's scope."""
        user = current_user._get_current_object()
        today = district_today()
        values = {
            "area_code": request.form.get("area_code", user.area_code or ""),
            "month": request.form.get("month", f"{today:%Y-%m}"),
        }
        errors: dict = {}
        if request.method == "POST":
            built = []
            done, errors = run_step(lambda: built.append(self._build(user, values)))
            if done:
                flash(_("%(n)d records built; they await their signatures.", n=built[0]), "success")
                return redirect(self.get_url(".index_view"))
            if done is REFUSED:
                return redirect(self.get_url(".create_view"))
        areas = [
            choice
            for level in (AreaLevel.STREET, AreaLevel.COMMUNITY, AreaLevel.GRID)
            for choice in area_choices(user, level)
        ]
        return self.render(
            "admin/work_record_build.html",
            values=values,
            errors=errors,
            areas=areas,
            return_url=self.get_url(".index_view"),
        )

    @staticmethod
    def _build(user, values) -> int:
        count = work_records.build_month(user, values["area_code"], values["month"])
        db.session.commit()
        return count

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        """A new note, or the figures built again; clears the signatures given."""
        record = self.get_one(request.values.get("id", ""))
        if request.method == "POST":
            user = current_user._get_current_object()
            done, errors = run_step(lambda: self._edit(user, record))
            if done:
                flash(_("Work record saved; it awaits the two signatures."), "success")
            elif errors:
                flash(" ".join(errors.values()), "error")
        return redirect(self.get_url(".details_view", id=record.id))

    @staticmethod
    def _edit(user, record):
        work_records.edit_record(
            user, record, note=request.form.get("note"), rebuild=request.form.get("rebuild") == "1"
        )
        db.session.commit()

    @expose("/print/", methods=("POST",))
    def print_view(self):
        """Print a member's record (PDF on the jobs queue)."""
        record = self.get_one(request.form.get("id", ""))
        return self._print("member", f"{record.month:%Y-%m}", member_id=record.member_id)


class PrintedSheetAdmin(OneGridModelView):
    """The monthly sheets asked for, and their PDFs once rendered."""

    view_roles = AREA_STAFF
    can_create = False
    can_edit = False
    can_delete = False
    can_view_details = False
    can_export = False
    column_list = (
        "kind",
        "grid",
        "member",
        "month",
        "status",
        "revision",
        "requested_at",
        "rendered_at",
        "pdf",
    )
    column_default_sort = ("requested_at", True)
    column_labels = {**LABELS, "status": _l("Status"), "requested_at": _l("Requested"), "pdf": _l("PDF")}
    eager_paths = ("grid.parent", "member")

    def __init__(self, *args, **kwargs):
        self.column_formatters = {
            "kind": lambda v, c, m, n: str(SHEET_KIND_LABELS.get(m.kind, m.kind)),
            "month": lambda v, c, m, n: f"{m.month:%Y-%m}",
            "member": lambda v, c, m, n: m.member.name if m.member else "",
            "status": lambda v, c, m, n: _("Ready") if m.status == SheetStatus.READY else _("Being prepared"),
            "requested_at": lambda v, c, m, n: when(m.requested_at),
            "rendered_at": lambda v, c, m, n: when(m.rendered_at),
            "pdf": lambda v, c, m, n: (
                Markup('<a class="btn btn-sm btn-primary" href="%s" data-sheet-download="%s">%s</a>')
                % (v.get_url(".download_view", id=m.id), m.id, _("Download"))
                if m.status == SheetStatus.READY
                else ""
            ),
        }
        super().__init__(*args, **kwargs)

    @expose("/download/")
    def download_view(self):
        sheet = self.get_one(request.args.get("id", ""))
        path = work_sheets.pdf_key(sheet)
        if path is None:
            flash(_("This sheet is still being prepared; try again in a minute."), "warning")
            return redirect(self.get_url(".index_view"))
        return pdf_response(path, work_sheets.download_name(sheet).removesuffix(".pdf"))


class StaleGridsView(AccessMixin, BaseView):
    """The grids of the user's area with no work log for WORKLOG_STALE_DAYS days."""

    view_roles = AREA_STAFF

    @expose("/")
    def index(self):
        if not self.is_accessible():
            abort(403)
        user = current_user._get_current_object()
        return self.render(
            "admin/stale_grids.html",
            grids=worklogs.stale_grids(user),
            days=worklogs.stale_days(),
            logs_url=self.get_url("worklog.index_view"),
        )


def add_views(admin) -> None:
    """The work logs' and records' pages, under their own menu (admin/__init__.py calls this)."""
    from app.models.worklogs import PrintedSheet, WorkLog, WorkRecord

    category = _l("Work logs & records")
    admin.add_view(WorkLogAdmin(WorkLog, db, name=_l("Work logs"), category=category, endpoint="worklog"))
    admin.add_view(
        WorkRecordAdmin(WorkRecord, db, name=_l("Work records"), category=category, endpoint="work_record")
    )
    admin.add_view(
        PrintedSheetAdmin(
            PrintedSheet, db, name=_l("Printed sheets"), category=category, endpoint="printed_sheet"
        )
    )
    admin.add_view(
        StaleGridsView(name=_l("Grids without a log"), category=category, endpoint="stale_worklogs")
    )

"""Work badges and a grid station's printouts in the back office: issue, print, revoke; the poster."""

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from admin.base import AREA_STAFF, REFUSED, OneGridModelView, run_step
from admin.display import when
from admin.labels import LABELS
from admin.scoping import area_filters
from app.extensions import db
from app.ids import parse_id
from app.models import Area, GridRole, Member
from app.models.badges import Badge, BadgeStatus, Printout, PrintoutKind, PrintoutStatus
from app.models.choices import choices
from app.services import badges, printouts, stations
from app.services.certificate_pdf import pdf_response
from app.services.scope import row_in_scope

STATUS_LABELS = {BadgeStatus.VALID: _l("In force"), BadgeStatus.REVOKED: _l("Revoked")}
KIND_LABELS = {
    PrintoutKind.POSTER: _l("Station poster"),
    PrintoutKind.BADGES: _l("Badges of the grid"),
    PrintoutKind.BADGE: _l("One badge"),
}
PRINT_STATUS_LABELS = {PrintoutStatus.PENDING: _l("Being prepared"), PrintoutStatus.READY: _l("Ready")}
BADGE_LABELS = {
    **LABELS,
    "serial": _l("Serial"),
    "status": _l("Status"),
    "holder_name": _l("Holder"),
    "holder_kind": _l("Holder is"),
    "role_text": _l("Role or duties"),
    "unit_name": _l("Unit"),
    "issued_at": _l("Issued"),
    "revoked_at": _l("Revoked"),
    "revoked_reason": _l("Reason for revoking"),
    "kind": _l("Printout"),
    "created_at": _l("Asked for"),
    "rendered_at": _l("PDF stored"),
    "requested_by": _l("Asked for by"),
}


def _grid_page(code: str) -> str:
    """The back office's page of the grid (where the station's buttons are)."""
    area_id = db.session.scalar(select(Area.id).where(Area.code == code))
    return url_for("area.details_view", id=area_id) if area_id else url_for("area.index_view")


def station_extras(grid_code: str) -> dict:
    """What the grid's page shows of its station: the public page, who may wear a badge, recent printouts."""
    return {
        "station_url": url_for("marketplace.station", code=grid_code),
        "badge_holders": badges.grid_holders(grid_code),
        "printouts": printouts.recent_printouts(grid_code),
        "printout_labels": KIND_LABELS,
        "printout_status_labels": PRINT_STATUS_LABELS,
        "may_manage_badges": badges.may_manage(current_user, grid_code),
    }


def visible(model, value):
    """The row `value` names when the user may see it; 404 for anything else (text, a huge number, another
    area's row)."""
    row_id = parse_id(value)
    row = db.session.get(model, row_id) if row_id is not None else None
    if row is None or not row_in_scope(current_user, row):
        abort(404)
    return row


def visible_grid(code) -> str:
    """The code of a grid the user may see, or 404."""
    grid = stations.find_grid(code)
    if grid is None or not row_in_scope(current_user, grid):
        abort(404)
    return grid.code


def _label(labels, value) -> str:
    return str(labels.get(value, value or ""))


class BadgeAdmin(OneGridModelView):
    """Badges in the user's area: issue per grid or per person, print, revoke with a reason."""

    edit_roles = AREA_STAFF
    can_create = False
    can_edit = False
    can_delete = False
    details_template = "admin/badge_details.html"
    column_list = ("serial", "holder_name", "role_text", "grid", "unit_name", "status", "issued_at")
    column_details_list = (
        "serial",
        "status",
        "holder_name",
        "role_text",
        "grid",
        "unit_name",
        "issued_at",
        "revoked_at",
        "revoked_reason",
    )
    column_searchable_list = ("serial", "holder_name")
    column_sortable_list = ("serial", "holder_name", ("grid", "grid_code"), "status", "issued_at")
    column_default_sort = ("issued_at", True)
    column_labels = BADGE_LABELS
    column_formatters = {
        "status": lambda v, c, m, n: (
            Markup('<span class="badge badge-%s" data-badge-status="%s">%s</span>')
            % (
                "success" if m.status == BadgeStatus.VALID else "danger",
                m.status,
                _label(STATUS_LABELS, m.status),
            )
        ),
        "issued_at": lambda v, c, m, n: when(m.issued_at),
        "revoked_at": lambda v, c, m, n: when(m.revoked_at),
    }

    def __init__(self, *args, **kwargs):
        self.column_filters = [
            FilterEqual(Badge.status, _l("Status"), options=choices(STATUS_LABELS)),
            *area_filters(Badge.grid_code),
        ]
        super().__init__(*args, **kwargs)

    def details_extras(self, model):
        return {
            "can_revoke": model.status == BadgeStatus.VALID
            and badges.may_manage(current_user, model.grid_code),
            "verify_url": badges.verify_url(model.serial),
            "grid_page": _grid_page(model.grid_code),
        }

    def _back(self, code: str):
        return redirect(request.form.get("next") or _grid_page(code))

    @expose("/issue/", methods=("POST",))
    def issue_view(self):
        """Issue the badges a grid still lacks (grid=…), or one person's (member=… or place=…); 404 for a
        grid, member or place that does not exist or lies outside the user's area."""
        user = current_user._get_current_object()
        if "member" in request.form:
            holder = visible(Member, request.form["member"])
            issue = badges.issue_member_badge
        elif "place" in request.form:
            holder = visible(GridRole, request.form["place"])
            issue = badges.issue_place_badge
        else:
            code = visible_grid(request.form.get("grid"))
            result = {}

            def issue_all():
                result["issued"] = badges.issue_grid_badges(user, code)
                db.session.commit()

            if run_step(issue_all)[0]:
                flash(
                    ngettext("%(num)d badge issued.", "%(num)d badges issued.", result["issued"]), "success"
                )
            return self._back(code)
        result = {}

        def issue_one():
            result["badge"], result["new"] = issue(user, holder)
            db.session.commit()

        if run_step(issue_one)[0]:
            badge = result["badge"]
            message = _("Badge %(serial)s issued.") if result["new"] else _("%(serial)s is already in force.")
            flash(message % {"serial": badge.serial}, "success")
            return redirect(self.get_url(".details_view", id=badge.id))
        return self._back(holder.grid_code)

    @expose("/print/", methods=("POST",))
    def print_view(self):
        """Ask for a PDF of one badge (id=…) or of every badge in force in a grid (grid=…)."""
        user = current_user._get_current_object()
        if "id" in request.form:
            badge = self.get_one(request.form["id"])
            code, ask = badge.grid_code, (lambda: printouts.request_badge(user, badge))
        else:
            code = visible_grid(request.form.get("grid"))
            ask = lambda: printouts.request_grid_badges(user, code)
        result = {}

        def step():
            result["printout"] = ask()
            db.session.commit()

        if run_step(step)[0]:
            return redirect(self.get_url("printout.details_view", id=result["printout"].id))
        return self._back(code)

    @expose("/revoke/", methods=("GET", "POST"))
    def revoke_view(self):
        """Ask for the reason (GET); revoke (the service audits it) and commit (POST)."""
        badge = self.get_one(request.values.get("id", ""))
        if not badges.may_manage(current_user, badge.grid_code):
            abort(403)
        details_url = self.get_url(".details_view", id=badge.id)
        reason, error = (request.form.get("reason") or "").strip(), None
        if request.method == "POST":
            user = current_user._get_current_object()

            def step():
                badges.revoke_badge(user, badge, reason)
                db.session.commit()

            done, errors = run_step(step)
            if done:
                flash(_("Badge %(serial)s revoked; its check now says so.", serial=badge.serial), "success")
                return redirect(details_url)
            if done is REFUSED:
                return redirect(details_url)
            error = errors.get("reason")
        return self.render(
            "admin/badge_revoke.html", badge=badge, reason=reason, error=error, cancel_url=details_url
        )


class PrintoutAdmin(OneGridModelView):
    """The station posters and badge sheets asked for in the user's area; download when ready."""

    edit_roles = AREA_STAFF
    can_create = False
    can_edit = False
    can_delete = False
    can_export = False
    details_template = "admin/printout_details.html"
    column_list = ("kind", "grid", "status", "requested_by", "created_at", "rendered_at")
    column_details_list = ("kind", "grid", "badge", "status", "requested_by", "created_at", "rendered_at")
    column_sortable_list = ("created_at",)
    column_default_sort = ("created_at", True)
    column_labels = BADGE_LABELS
    column_formatters = {
        "kind": lambda v, c, m, n: _label(KIND_LABELS, m.kind),
        "status": lambda v, c, m, n: (
            Markup('<span data-printout-status="%s">%s</span>')
            % (m.status, _label(PRINT_STATUS_LABELS, m.status))
        ),
        "requested_by": lambda v, c, m, n: (
            (m.requested_by.name or m.requested_by.username) if m.requested_by else ""
        ),
        "created_at": lambda v, c, m, n: when(m.created_at),
        "rendered_at": lambda v, c, m, n: when(m.rendered_at),
    }

    def __init__(self, *args, **kwargs):
        self.column_filters = area_filters(Printout.grid_code)
        super().__init__(*args, **kwargs)

    def details_extras(self, model):
        return {"ready": model.status == PrintoutStatus.READY, "grid_page": _grid_page(model.grid_code)}

    @expose("/poster/", methods=("POST",))
    def poster_view(self):
        """Ask for the grid's wall poster; its page follows the rendering (404: no such grid in the area)."""
        user = current_user._get_current_object()
        code = visible_grid(request.form.get("grid"))
        result = {}

        def step():
            result["printout"] = printouts.request_poster(user, code)
            db.session.commit()

        if run_step(step)[0]:
            return redirect(self.get_url(".details_view", id=result["printout"].id))
        return redirect(_grid_page(code))

    @expose("/download/")
    def download_view(self):
        printout = self.get_one(request.args.get("id", ""))
        path = printouts.printout_key(printout)
        if path is None:
            flash(_("This PDF is still being prepared; try again in a minute."), "warning")
            return redirect(self.get_url(".details_view", id=printout.id))
        return pdf_response(path, printouts.download_name(printout)[:-4])

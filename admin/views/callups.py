"""Emergency call-ups (社区吹哨、党员报到) in the back office: raise one (发起吹哨), follow its roll, mark arrivals,
assign tasks, close or cancel — every step through app/services/callups.py."""

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_admin.menu import MenuLink
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from admin.base import AREA_STAFF, MANAGERS, OneGridModelView, run_step
from admin.display import person, when
from admin.views.work_dashboard import minutes_text
from app.extensions import db
from app.models.base import utcnow
from app.models.callups import Callup
from app.models.choices import (
    ARRIVAL_VIA_LABELS,
    CALLUP_ANSWER_LABELS,
    CALLUP_STATUS_LABELS,
    AreaLevel,
    choices,
)
from app.services import callups
from app.services.clock import local_time
from app.services.errors import NotFound
from app.services.scope import area_choices

LABELS = {
    **OneGridModelView.column_labels,
    "title": _l("Title"),
    "area": _l("Called area"),
    "status": _l("Status"),
    "needed": _l("People needed"),
    "starts_at": _l("Starts"),
    "muster_point": _l("Muster point"),
    "details": _l("What is needed"),
    "hours": _l("Service hours"),
    "raised_by": _l("Raised by"),
    "created_at": _l("Raised"),
    "closed_at": _l("Closed"),
    "cancel_reason": _l("Reason for cancelling"),
    "called": _l("Members called"),
    "coming_count": _l("Coming"),
    "cannot_count": _l("Cannot come"),
    "arrived_count": _l("Arrived"),
    "first_arrival_at": _l("First arrival"),
    "needed_reached_at": _l("Number needed reached"),
    "grid": _l("Muster grid"),
    "closed_by": _l("Closed by"),
}
VERBS = ("arrived", "assign", "close", "cancel")


def _status(view, context, callup, name):
    return str(CALLUP_STATUS_LABELS.get(callup.status, callup.status))


class CallupAdmin(OneGridModelView):
    """The call-ups overlapping the user's area, open ones first; raised and followed through the service."""

    view_roles = AREA_STAFF
    edit_roles = MANAGERS
    can_edit = False
    can_delete = False
    details_template = "admin/callup_details.html"
    column_list = ("title", "area", "status", "needed", "starts_at", "created_at")
    column_details_list = (
        "title",
        "area",
        "status",
        "details",
        "muster_point",
        "needed",
        "starts_at",
        "hours",
        "raised_by",
        "created_at",
        "closed_at",
        "cancel_reason",
    )
    column_sortable_list = ("created_at", "starts_at")
    column_default_sort = ("created_at", True)
    column_labels = LABELS
    eager_paths = ("area",)
    column_formatters = {
        "area": lambda v, c, m, n: m.area.name if m.area else m.area_code,
        "status": _status,
        "starts_at": lambda v, c, m, n: when(m.starts_at),
        "created_at": lambda v, c, m, n: when(m.created_at),
        "closed_at": lambda v, c, m, n: when(m.closed_at),
        "raised_by": lambda v, c, m, n: person(m.raised_by) if m.raised_by else "",
    }

    def __init__(self, *args, **kwargs):
        self.column_filters = [
            FilterEqual(Callup.status, _l("Status"), options=choices(CALLUP_STATUS_LABELS)),
        ]
        super().__init__(*args, **kwargs)

    # scope: a call-up to a community shows to its grids' workers too (they run their members' part)
    def get_query(self):
        user = current_user._get_current_object()
        query = ModelView.get_query(self).filter(callups.visible_condition(user))
        return query.options(*(self._eager(path) for path in self.eager_paths))

    def get_count_query(self):
        return ModelView.get_count_query(self).filter(
            callups.visible_condition(current_user._get_current_object())
        )

    def find_visible(self, id):
        try:
            return callups.get_for(current_user._get_current_object(), id)
        except NotFound:
            return None

    def details_extras(self, model):
        user = current_user._get_current_object()
        roll = callups.roll(model)
        return {
            "roll": roll,
            "may_lead": callups.may_lead(user, model),
            "can_manage": callups.can_manage(user, model),
            "actions": callups.actions(user, model),
            "answer_labels": CALLUP_ANSWER_LABELS,
            "via_labels": ARRIVAL_VIA_LABELS,
            "when": when,
            "minutes": minutes_text,
            "site_page": f"/callups/{model.id}",
            "qr_page": f"/callups/{model.id}/qr",
        }

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        """发起吹哨: the area, what and where, how many from when, the service hours."""
        if not self.can_create:
            abort(403)
        user = current_user._get_current_object()
        form = request.form
        values = {
            key: form.get(key, default)
            for key, default in (
                ("area_code", user.area_code or ""),
                ("grid_code", ""),
                ("title", ""),
                ("details", ""),
                ("muster_point", ""),
                ("needed", "10"),
                ("starts_at", local_time(utcnow()).strftime("%Y-%m-%dT%H:%M")),
                ("hours", ""),
            )
        }
        errors: dict = {}
        if request.method == "POST":
            created = {}
            done, errors = run_step(lambda: created.update(callup=self._raise(user, values)))
            if done:
                flash(_("Call-up raised: the members of the area are being told."), "success")
                return redirect(self.get_url(".details_view", id=created["callup"].id))
            if done is None:
                return redirect(self.get_url(".index_view"))
        areas = [
            *area_choices(user, AreaLevel.STREET),
            *area_choices(user, AreaLevel.COMMUNITY),
            *area_choices(user, AreaLevel.GRID),
        ]
        return self.render(
            "admin/callup_new.html",
            values=values,
            errors=errors,
            areas=areas,
            grids=area_choices(user, AreaLevel.GRID),
            return_url=self.get_url(".index_view"),
        )

    @staticmethod
    def _raise(user, values):
        callup = callups.raise_callup(user, **values)
        db.session.commit()
        return callup

    @expose("/step/", methods=("POST",))
    def step_view(self):
        """Mark a member arrived, give them a task, close or cancel: the service decides."""
        callup = self.get_one(request.form.get("id", ""))
        verb = request.form.get("verb", "")
        if callup is None or verb not in VERBS:
            abort(404)
        user = current_user._get_current_object()
        done, errors = run_step(lambda: self._step(user, callup.id, verb, request.form))
        if done:
            flash(_("Call-up updated."), "success")
        elif errors:
            flash(" ".join(errors.values()), "error")
        return redirect(self.get_url(".details_view", id=callup.id))

    @staticmethod
    def _step(user, callup_id, verb, form):
        if verb == "arrived":
            callups.mark_arrived(user, callup_id, form.get("member_id"))
        elif verb == "assign":
            callups.assign_task(user, callup_id, form.get("member_id"), form.get("task"))
        elif verb == "close":
            callups.close(user, callup_id)
        else:
            callups.cancel(user, callup_id, form.get("reason"))
        db.session.commit()


class RaiseLink(MenuLink):
    """发起吹哨 in the menu: straight to the form, for those who may raise one."""

    def is_accessible(self):
        return current_user.is_authenticated and current_user.role in MANAGERS

    def get_url(self):
        return url_for("callup.create_view")


def add_views(admin) -> None:
    """The call-ups' pages under their own menu (admin/__init__.py calls this)."""
    category = _l("Emergency call-ups")
    admin.add_view(CallupAdmin(Callup, db, name=_l("Call-ups"), category=category, endpoint="callup"))
    admin.add_link(RaiseLink(name=_l("Raise a call-up"), category=category))

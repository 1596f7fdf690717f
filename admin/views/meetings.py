"""Joint meetings (联席会议) in the back office: record one with its items, follow the items, see unmet quarters."""

from flask import abort, flash, redirect, request
from flask_admin import BaseView, expose
from flask_admin.contrib.sqla.filters import FilterEqual, IntEqualFilter
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy import select

from admin.base import AREA_STAFF, MANAGERS, REFUSED, AccessMixin, OneGridModelView, run_step
from admin.scoping import area_filters
from admin.views.wishes import person, when
from app.extensions import db
from app.models import Unit
from app.models.choices import AreaLevel, choices
from app.models.meetings import SERVICE_ITEM_STATUS_LABELS, JointMeeting, ServiceItem, ServiceItemStatus
from app.services import meetings
from app.services.clock import district_today
from app.services.scope import apply_scope, area_choices

ITEM_ROWS = 5  # empty item rows on the new-meeting page
LABELS = {
    **OneGridModelView.column_labels,
    "held_on": _l("Meeting date"),
    "recorded_by": _l("Meeting recorded by"),
    "title": _l("Title"),
    "minutes": _l("Minutes"),
    "units": _l("Attending units"),
    "items": _l("Service items"),
    "owner": _l("Owner"),
    "due_on": _l("Due"),
    "status": _l("Status"),
    "note": _l("Note"),
    "closed_at": _l("Closed"),
    "follow": _l("Follow up"),
    "meeting": _l("Meeting"),
}


def item_status_text(view, context, item, name) -> str:
    """The status as the export writes it: 未完成 · 已逾期 for an open item past its due date."""
    label = str(SERVICE_ITEM_STATUS_LABELS.get(item.status, item.status))
    return f"{label} · {_('overdue')}" if meetings.is_overdue(item) else label


def item_status(view, context, item, name):
    """The list's badge of the same words."""
    if meetings.is_overdue(item):
        kind = "danger og-overdue"
    else:
        kind = {"open": "warning", "done": "success"}.get(item.status, "secondary")
    return Markup('<span class="badge badge-%s">%s</span>') % (
        kind,
        item_status_text(view, context, item, name),
    )


class JointMeetingAdmin(OneGridModelView):
    """Meetings of the user's area, latest first; recorded through the service with their items."""

    view_roles = AREA_STAFF
    edit_roles = MANAGERS
    can_edit = False
    can_delete = False
    details_template = "admin/meeting_details.html"
    column_list = ("area", "held_on", "title", "units", "items")
    column_details_list = ("area", "held_on", "title", "minutes", "units", "recorded_by", "created_at")
    column_sortable_list = ("held_on",)
    column_default_sort = ("held_on", True)
    column_labels = LABELS
    eager_paths = ("area", "units", "items")
    column_formatters = {
        "area": lambda v, c, m, n: m.area.name if m.area else m.area_code,
        "units": lambda v, c, m, n: "、".join(u.name for u in m.units),
        "items": lambda v, c, m, n: len(m.items),
        "recorded_by": lambda v, c, m, n: person(m.recorded_by) if m.recorded_by else "",
        "created_at": lambda v, c, m, n: when(m.created_at),
    }

    def __init__(self, *args, **kwargs):
        self.column_filters = list(area_filters(JointMeeting.area_code)[:2])
        super().__init__(*args, **kwargs)

    def details_extras(self, model):
        user = current_user._get_current_object()
        return {
            "items": [
                (item, meetings.item_actions(user, item), meetings.is_overdue(item)) for item in model.items
            ],
            "status_labels": SERVICE_ITEM_STATUS_LABELS,
        }

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        """The meeting (who held it, when, the minutes, who attended) and up to five items agreed."""
        if not self.can_create:
            abort(403)
        user = current_user._get_current_object()
        form = request.form
        values = {
            "area_code": form.get("area_code", user.area_code or ""),
            "held_on": form.get("held_on", district_today().isoformat()),
            "title": form.get("title", ""),
            "minutes": form.get("minutes", ""),
            "unit_ids": form.getlist("unit_ids"),
        }
        items = [
            {
                "title": form.get(f"item-{i}-title", ""),
                "owner": form.get(f"item-{i}-owner", ""),
                "due_on": form.get(f"item-{i}-due_on", ""),
            }
            for i in range(ITEM_ROWS)
        ]
        errors: dict = {}
        if request.method == "POST":
            agreed = [_item_values(item) for item in items if item["title"].strip()]
            done, errors = run_step(lambda: self._record(user, values, agreed))
            if done:
                flash(_("Joint meeting recorded."), "success")
                return redirect(self.get_url(".index_view"))
            if done is REFUSED:
                return redirect(self.get_url(".index_view"))
        units = db.session.scalars(apply_scope(select(Unit), Unit, user).order_by(Unit.name)).all()
        areas = area_choices(user, AreaLevel.STREET) + area_choices(user, AreaLevel.COMMUNITY)
        owners = [(f"unit:{u.id}", u.name) for u in units] + [
            (f"grid:{code}", label) for code, label in area_choices(user, AreaLevel.GRID)
        ]
        return self.render(
            "admin/meeting_new.html",
            values=values,
            items=items,
            errors=errors,
            areas=areas,
            units=units,
            owners=owners,
            return_url=self.get_url(".index_view"),
        )

    @staticmethod
    def _record(user, values, items):
        meetings.record_meeting(user, **{**values, "items": items})
        db.session.commit()


def _item_values(row: dict) -> dict:
    kind, _sep, key = row["owner"].partition(":")
    values = {"title": row["title"], "due_on": row["due_on"]}
    values["unit_id" if kind == "unit" else "grid_code"] = key or None
    return values


FOLLOW_FORM = Markup(
    '<form method="post" action="%s" class="form-inline d-inline-flex mb-1">'
    '<input type="hidden" name="csrf_token" value="%s"><input type="hidden" name="id" value="%s">'
    '<input type="hidden" name="verb" value="%s">'
    '<input class="form-control form-control-sm mr-1" name="note" placeholder="%s" maxlength="2000"%s>'
    '<button class="btn btn-sm btn-outline-%s" type="submit" data-item-action="%s">%s</button></form>'
)


def follow_forms(view, item) -> Markup:
    """The done / drop forms of an open item the user may follow up."""
    forms = []
    for verb in meetings.item_actions(current_user._get_current_object(), item):
        drop = verb == meetings.DROP
        forms.append(
            FOLLOW_FORM
            % (
                view.get_url(".follow_view"),
                generate_csrf(),
                item.id,
                verb,
                _("Reason") if drop else _("Note"),
                Markup(" required") if drop else "",
                "danger" if drop else "success",
                verb,
                _("Drop") if drop else _("Mark done"),
            )
        )
    return Markup("").join(forms)


class ServiceItemAdmin(OneGridModelView):
    """The service items of the user's area, open ones soonest due first; done or dropped through the service."""

    view_roles = AREA_STAFF
    can_create = False
    can_edit = False
    can_delete = False
    can_view_details = False
    column_list = ("title", "owner", "due_on", "status", "meeting", "note", "closed_at", "follow")
    column_export_list = column_list[:-1]  # the follow-up forms are for the page, not the file
    column_sortable_list = ("due_on", "status", "closed_at")
    column_default_sort = ("due_on", False)
    column_labels = LABELS
    eager_paths = ("unit", "grid.parent", "meeting")
    column_formatters = {
        "owner": lambda v, c, m, n: m.owner_name,
        "status": item_status,
        "meeting": lambda v, c, m, n: str(m.meeting),
        "closed_at": lambda v, c, m, n: when(m.closed_at),
        "follow": lambda v, c, m, n: follow_forms(v, m),
    }
    column_formatters_export = {**column_formatters, "status": item_status_text}

    def __init__(self, *args, **kwargs):
        self.column_filters = [
            FilterEqual(ServiceItem.status, _l("Status"), options=choices(SERVICE_ITEM_STATUS_LABELS)),
            IntEqualFilter(ServiceItem.unit_id, _l("Check-in unit")),
            *area_filters(ServiceItem.area_code),
        ]
        super().__init__(*args, **kwargs)

    def find_visible(self, id):
        return meetings.get_item(current_user, id)

    @expose("/follow/", methods=("POST",))
    def follow_view(self):
        """Mark an item done (a note) or dropped (a reason)."""
        item = self.get_one(request.form.get("id", ""))
        verb = request.form.get("verb", "")
        user = current_user._get_current_object()
        done, errors = run_step(lambda: self._follow(user, item, verb))
        if done:
            flash(_("Service item updated."), "success")
        elif errors:
            flash(" ".join(errors.values()), "error")
        return redirect(request.referrer or self.get_url(".index_view"))

    @staticmethod
    def _follow(user, item, verb):
        meetings.follow_item(user, item, verb, request.form.get("note"))
        db.session.commit()


class UnmetQuartersView(AccessMixin, BaseView):
    """The communities of the user's area with no joint meeting in a quarter (default: the last finished one)."""

    view_roles = AREA_STAFF

    @expose("/")
    def index(self):
        if not self.is_accessible():
            abort(403)
        year, quarter = meetings.previous_quarter(*meetings.quarter_of(district_today()))
        try:
            year = int(request.args.get("year", year))
            quarter = int(request.args.get("quarter", quarter))
        except ValueError:
            abort(404)
        if not (2000 <= year <= 2100 and 1 <= quarter <= 4):
            abort(404)
        return self.render(
            "admin/unmet_quarters.html",
            year=year,
            quarter=quarter,
            communities=meetings.communities_without_meeting(
                current_user._get_current_object(), year, quarter
            ),
            previous=meetings.previous_quarter(year, quarter),
            open_status=ServiceItemStatus.OPEN,
        )


def add_views(admin) -> None:
    """The joint meetings' pages, under their own menu (admin/__init__.py calls this)."""
    category = _l("Joint meetings")
    admin.add_view(
        JointMeetingAdmin(JointMeeting, db, name=_l("Meetings"), category=category, endpoint="joint_meeting")
    )
    admin.add_view(
        ServiceItemAdmin(
            ServiceItem, db, name=_l("Service items"), category=category, endpoint="service_item"
        )
    )
    admin.add_view(
        UnmetQuartersView(name=_l("Quarters without a meeting"), category=category, endpoint="unmet_quarters")
    )

"""Oversight of events in the back office: supervision notices (督办) and special-governance campaigns (专项治理)."""

from flask import request, url_for
from flask_admin.babel import lazy_gettext as admin_lazy_gettext
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, FilterEqual
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select
from wtforms.validators import ValidationError

from admin.base import AREA_STAFF, MANAGERS, OneGridModelView
from admin.display import when
from admin.scoping import area_filters
from admin.views.event_columns import level_label
from app.extensions import db
from app.models import Matter
from app.models.choices import EVENT_LEVEL_LABELS, SLA_DEADLINE_LABELS, AreaLevel, choices
from app.models.events import Event, Supervision
from app.services.event_queues import supervision_condition
from app.services.events import campaign_running

OPEN, RESOLVED, ALL = "open", "resolved", "all"


class SupervisionStateFilter(BaseSQLAFilter):
    """Open notices (the late step is still not taken), resolved ones, or all."""

    def __init__(self):
        super().__init__(
            Supervision.resolved_at,
            _l("State"),
            options=[(OPEN, _l("Not settled")), (RESOLVED, _l("Settled")), (ALL, _l("All"))],
        )

    def validate(self, value):
        return value in (OPEN, RESOLVED, ALL)

    def apply(self, query, value, alias=None):
        if value == OPEN:
            return query.filter(Supervision.resolved_at.is_(None))
        if value == RESOLVED:
            return query.filter(Supervision.resolved_at.is_not(None))
        return query

    def operation(self):
        return admin_lazy_gettext("equals")


def _event_link(view, context, supervision, name, plain: bool = False):
    event = supervision.event
    if plain:
        return event.title
    return Markup('<a href="%s">%s</a>') % (url_for("event.details_view", id=event.id), event.title)


FORMATTERS = {
    "event": _event_link,
    "deadline": lambda v, c, m, n: str(SLA_DEADLINE_LABELS.get(m.deadline, m.deadline)),
    "level": lambda v, c, m, n: level_label(m.level),
    "level_notified": lambda v, c, m, n: level_label(m.level_notified),
    "due_at": lambda v, c, m, n: when(m.due_at),
    "created_at": lambda v, c, m, n: when(m.created_at),
    "resolved_at": lambda v, c, m, n: (
        when(m.resolved_at)
        if m.resolved_at
        else Markup('<span class="badge badge-danger og-overdue">%s</span>') % _("not settled")
    ),
}


class SupervisionAdmin(OneGridModelView):
    """The supervision notices sent to the user's level: a deadline missed one level down, newest first."""

    view_roles = AREA_STAFF
    can_create = False
    can_edit = False
    can_delete = False
    can_view_details = False
    column_display_actions = False
    column_list = (
        "event",
        "grid",
        "deadline",
        "level",
        "level_notified",
        "due_at",
        "created_at",
        "resolved_at",
    )
    column_export_list = column_list
    column_sortable_list = (("grid", "grid_code"), "deadline", "due_at", "created_at", "resolved_at")
    column_default_sort = ("created_at", True)
    eager_paths = ("event", "grid.parent")
    column_labels = {
        **OneGridModelView.column_labels,
        "event": _l("Event"),
        "deadline": _l("Deadline missed"),
        "level": _l("Level at the time"),
        "level_notified": _l("Notified"),
        "due_at": _l("Was due"),
        "created_at": _l("Noticed"),
        "resolved_at": _l("Settled"),
    }

    def __init__(self, *args, **kwargs):
        self.column_formatters = dict(FORMATTERS)
        self.column_formatters_export = {
            **FORMATTERS,
            "event": lambda v, c, m, n: _event_link(v, c, m, n, True),
            "resolved_at": lambda v, c, m, n: when(m.resolved_at),
        }
        self.column_filters = [
            SupervisionStateFilter(),
            FilterEqual(Supervision.deadline, _l("Deadline missed"), options=choices(SLA_DEADLINE_LABELS)),
            FilterEqual(Supervision.level, _l("Level at the time"), options=choices(EVENT_LEVEL_LABELS)),
            *area_filters(Supervision.grid_code),
        ]
        super().__init__(*args, **kwargs)

    def get_query(self):
        return (
            ModelView.get_query(self)
            .filter(supervision_condition(current_user))
            .options(*(self._eager(path) for path in self.eager_paths))
        )

    def get_count_query(self):
        return ModelView.get_count_query(self).filter(supervision_condition(current_user))

    def _state_index(self) -> int:
        return next(i for i, flt in enumerate(self._filters) if isinstance(flt, SupervisionStateFilter))

    def _get_list_filter_args(self):
        """Open notices unless the user picked a state (the filter shows, and can be changed)."""
        filters = super()._get_list_filter_args() or []
        state = self._state_index()
        if not any(idx == state for idx, _name, _value in filters):
            filters.append((state, str(self._filters[state].name), OPEN))
        return filters

    def get_empty_list_message(self):
        """An empty list under the default filter says so, with the way to every notice."""
        state = self._state_index()
        key = self.get_filter_arg(state, self._filters[state])
        if any(arg.startswith("flt") and arg.partition("_")[2] == key for arg in request.args):
            return super().get_empty_list_message()
        everything = url_for(".index_view", **{f"flt0_{key}": ALL})
        return Markup('<span data-empty="default-filter">%s <a href="%s">%s</a></span>') % (
            _("By default only the notices not yet settled are shown, and there are none."),
            everything,
            _("Clear the filter to see them all."),
        )


class CampaignAdmin(OneGridModelView):
    """Special-governance campaigns of the user's area: a recurring problem tackled for a period."""

    edit_roles = MANAGERS
    column_list = ("name", "matter", "area", "starts_on", "ends_on", "events", "running")
    column_export_list = column_list
    column_sortable_list = ("name", "starts_on", "ends_on")
    column_default_sort = ("starts_on", True)
    column_searchable_list = ("name",)
    column_labels = {
        **OneGridModelView.column_labels,
        "starts_on": _l("Starts"),
        "ends_on": _l("Ends"),
        "matter": _l("Matter"),
        "events": _l("Events"),
        "running": _l("Running"),
    }
    form_columns = ("name", "matter", "area", "starts_on", "ends_on", "description")
    form_area_levels = {"area": (AreaLevel.DISTRICT, AreaLevel.STREET, AreaLevel.COMMUNITY)}
    form_args = {
        "matter": {
            "query_factory": lambda: (
                db.session.query(Matter).filter(Matter.admitted.is_(True)).order_by(Matter.code)
            )
        }
    }
    column_formatters = {
        "events": lambda v, c, m, n: db.session.scalar(
            select(func.count()).select_from(Event).where(Event.campaign_id == m.id)
        ),
        "running": lambda v, c, m, n: _("Yes") if campaign_running(m) else _("No"),
        "matter": lambda v, c, m, n: m.matter.name if m.matter is not None else _("Any matter"),
    }

    def before_save(self, form, model, is_created):
        if model.starts_on and model.ends_on and model.ends_on < model.starts_on:
            raise ValidationError(_("A campaign ends on or after the day it starts."))

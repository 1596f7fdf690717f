"""Events (一网统管) in the back office: every event in reach, each role's queue, quick reporting and the ladder.

The lists' columns and filters are in admin.views.event_columns, the steps' page in admin.views.event_steps.
"""

from flask import abort, flash, request
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from admin.base import AREA_STAFF, OneGridModelView, form_refused
from admin.contact import CallMixin, call_allowed, feedback_rows
from admin.display import person, when
from admin.fields import ServiceChoiceField
from admin.scoping import RowFilter, area_filters
from admin.views.event_columns import EXPORT_FORMATTERS, FORMATTERS, OverdueFilter, level_label, status_label
from admin.views.event_steps import ACTION_VERBS, ONE_CLICK, EventStepsMixin
from app.extensions import db
from app.models import Area, Matter
from app.models.callbacks import CALLBACK_OUTCOME_LABELS
from app.models.choices import (
    BACK_OFFICE_ROLES,
    DISPATCH_STATUS_LABELS,
    EVENT_ACTION_LABELS,
    EVENT_LEVEL_LABELS,
    EVENT_SOURCE_LABELS,
    EVENT_STATUS_LABELS,
    SLA_DEADLINE_LABELS,
    AreaLevel,
    choices,
)
from app.models.events import ACTING_FOR_MAX, DESCRIPTION_MAX, LOCATION_MAX, TITLE_MAX, Campaign, Event
from app.services import attachments, callbacks, contact
from app.services import events as service
from app.services.errors import DomainError
from app.services.event_queues import queue_condition
from app.services.event_sla import is_overdue, next_deadline

# the service's error keys → the report form's fields
REPORT_FIELDS = {
    "grid_code": "grid",
    "matter": "matter",
    "title": "title",
    "description": "description",
    "location_text": "location_text",
    "acting_for": "acting_for",
    "campaign_id": "campaign",
}


def _running_campaigns():
    return service.running_campaigns(current_user)


def _admitted_matters():
    return db.session.query(Matter).filter(Matter.admitted.is_(True)).order_by(Matter.category, Matter.code)


class EventAdmin(CallMixin, EventStepsMixin, OneGridModelView):
    """Every event the user may read (staff: their area; departments: what was dispatched to them)."""

    view_roles = BACK_OFFICE_ROLES
    edit_roles = AREA_STAFF  # "create" is the quick report; nothing else edits an event
    can_delete = False
    list_template = "admin/card_list.html"  # cards on a phone
    details_template = "admin/event_details.html"
    transition_template = "admin/event_transition.html"
    create_template = "admin/event_report.html"
    column_list = ("title", "matter", "grid", "level", "status", "due_by", "source", "created_at")
    column_details_list = (
        "id",
        "title",
        "description",
        "matter",
        "grid",
        "location_text",
        "source",
        "reporter",
        "acting_for",
        "external_ref",
        "campaign",
        "major",
        "level",
        "status",
        "respond_by",
        "reply_by",
        "resolve_by",
        "created_at",
        "accepted_at",
        "replied_at",
        "resolved_at",
        "resolution_note",
        "verified_at",
        "closed_at",
        "score",
        "archived_at",
    )
    column_export_list = column_list
    column_sortable_list = ("title", ("grid", "grid_code"), "level", "status", "due_by", "created_at")
    column_default_sort = ("created_at", True)
    column_searchable_list = ("title", "external_ref")
    column_labels = {
        **OneGridModelView.column_labels,
        "due_by": _l("Deadline"),
        "level": _l("Level"),
        "matter": _l("Matter"),
        "source": _l("Source"),
        "campaign": _l("Campaign"),
        "location_text": _l("Location"),
        "acting_for": _l("Reported for"),
        "external_ref": _l("Hotline ticket"),
        "major": _l("Major event"),
        "score": _l("Score"),
        "resolution_note": _l("Resolution"),
        "reporter": _l("Reported by"),
        "respond_by": _l("Respond by"),
        "reply_by": _l("Reply by"),
        "resolve_by": _l("Resolve by"),
        "accepted_at": _l("Accepted"),
        "replied_at": _l("First reply"),
        "resolved_at": _l("Resolved"),
        "verified_at": _l("Verified"),
        "closed_at": _l("Closed"),
        "archived_at": _l("Archived"),
    }

    def __init__(self, *args, **kwargs):
        self.column_formatters = dict(FORMATTERS)
        self.column_formatters_detail = {**FORMATTERS, "title": lambda v, c, m, n: m.title}
        self.column_formatters_export = dict(EXPORT_FORMATTERS)
        self.column_filters = [
            FilterEqual(Event.status, _l("Status"), options=choices(EVENT_STATUS_LABELS)),
            FilterEqual(Event.level, _l("Level"), options=choices(EVENT_LEVEL_LABELS)),
            FilterEqual(Event.source, _l("Source"), options=choices(EVENT_SOURCE_LABELS)),
            RowFilter(Event.matter_id, _l("Matter"), select(Matter).order_by(Matter.code), lambda m: m.name),
            RowFilter(Event.campaign_id, _l("Campaign"), select(Campaign).order_by(Campaign.name)),
            *area_filters(Event.grid_code),
            OverdueFilter(),
        ]
        super().__init__(*args, **kwargs)

    # --- reading: the service decides who reads what --------------------------------------------
    eager_paths = ("matter", "grid.parent")

    def get_query(self):
        return (
            ModelView.get_query(self)
            .filter(service.visible_condition(current_user))
            .options(*(self._eager(path) for path in self.eager_paths))
        )

    def get_count_query(self):
        return ModelView.get_count_query(self).filter(service.visible_condition(current_user))

    def find_visible(self, id):
        return service.get_visible_event(current_user, id)

    def edit_view(self):
        abort(404)  # an event changes only through its transitions

    @property
    def can_edit(self):
        return False

    # --- the quick report (grid workers on the spot, on a phone) ----------------------------------
    def get_create_form(self):
        class EventReportForm(self.form_base_class):
            matter = QuerySelectField(
                _l("Matter"),
                query_factory=_admitted_matters,
                validators=[InputRequired()],
                get_label=lambda m: f"{m.name} · {m.code}",
                allow_blank=True,
                blank_text=_l("Choose the matter…"),
            )
            # scope_form_choices confines it to the grids of the user's area (form_area_levels)
            grid = QuerySelectField(
                _l("Grid"), query_factory=lambda: db.session.query(Area), validators=[InputRequired()]
            )
            title = StringField(_l("Title"), validators=[InputRequired(), Length(max=TITLE_MAX)])
            location_text = StringField(
                _l("Location"),
                validators=[Optional(), Length(max=LOCATION_MAX)],
                description=_l("Building, unit, crossing … where the grid worker goes."),
            )
            description = TextAreaField(
                _l("Description"), validators=[Optional(), Length(max=DESCRIPTION_MAX)]
            )
            acting_for = StringField(
                _l("Reported for"),
                validators=[Optional(), Length(max=ACTING_FOR_MAX)],
                description=_l("The resident you report for (帮办代办), if any."),
            )
            campaign = ServiceChoiceField(
                _l("Campaign"), query_factory=_running_campaigns, allow_blank=True, blank_text=_l("None")
            )

        return EventReportForm

    form_area_levels = {"grid": AreaLevel.GRID}

    def create_form(self, obj=None):
        form = super().create_form(obj)
        if (
            request.method == "GET"
            and current_user.area is not None
            and current_user.area.level == AreaLevel.GRID
        ):
            form.grid.data = current_user.area
        return form

    def create_model(self, form):
        try:
            event, _created = service.report_event(
                current_user,
                title=form.title.data,
                description=form.description.data,
                matter_code=form.matter.data.code if form.matter.data else None,
                grid_code=form.grid.data.code if form.grid.data else None,
                location_text=form.location_text.data,
                acting_for=form.acting_for.data or None,
                campaign_id=form.campaign.data.id if form.campaign.data else None,
            )
        except DomainError as error:
            return form_refused(form, error, REPORT_FIELDS, "title")
        db.session.commit()  # the service audited the report
        flash(_("Reported. Respond by %(time)s.", time=when(event.respond_by)), "success")
        return event

    def get_save_return_url(self, model, is_created=False):
        return (
            self.get_url(".details_view", id=model.id) if is_created else super().get_save_return_url(model)
        )

    # --- the details page: the timeline ----------------------------------------------------------
    def call_contact(self, model):
        return contact.reveal_reporter(current_user, model)

    def details_extras(self, model):
        step_photos = attachments.of_steps(current_user, model.steps)
        steps = [
            {
                "action": str(EVENT_ACTION_LABELS.get(s.action, s.action)),
                "code": s.action,
                "actor": person(s.actor),
                "status": (
                    f"{status_label(s.from_status)} → "
                    if s.from_status and s.from_status != s.to_status
                    else ""
                )
                + status_label(s.to_status),
                "level": (
                    f"{level_label(s.from_level)} → " if s.from_level and s.from_level != s.to_level else ""
                )
                + level_label(s.to_level),
                "department": s.department.name if s.department is not None else "",
                "at": when(s.at),
                "note": s.note or "",
                "photos": step_photos.get(s.id, []),
            }
            for s in model.steps
        ]
        dispatches = [
            {
                "department": d.department.name,
                "status": str(DISPATCH_STATUS_LABELS.get(d.status, d.status)),
                "code": d.status,
                "at": when(d.dispatched_at),
                "answer": d.answer_note or "",
                "answered_at": when(d.answered_at),
                "done_at": when(d.done_at),
            }
            for d in model.dispatches
        ]
        supervisions = [
            {
                "deadline": str(SLA_DEADLINE_LABELS.get(s.deadline, s.deadline)),
                "level": level_label(s.level),
                "notified": level_label(s.level_notified),
                "due": when(s.due_at),
                "at": when(s.created_at),
                "resolved": when(s.resolved_at),
            }
            for s in model.supervisions
        ]
        task = callbacks.latest_task("event", model.id)
        deadline = next_deadline(model)
        return {
            "steps": steps,
            "photos": attachments.listed(attachments.Subject.of_event(model)),
            "dispatches": dispatches,
            "supervisions": supervisions,
            "callback": task,
            "callback_due": when(task.due_at) if task is not None else "",
            "callback_outcome": str(CALLBACK_OUTCOME_LABELS.get(task.outcome, ""))
            if task is not None
            else "",
            "event_actions": [
                (v, str(ACTION_VERBS[v])) for v in service.interface_actions(current_user, model)
            ],
            "one_click": ONE_CLICK,
            "my_dispatch": service.dispatch_outcome(current_user, model),
            "can_call": call_allowed(),
            "feedback": feedback_rows(model),
            "deadline": when(deadline) if deadline else "",
            "overdue": is_overdue(model),
        }


class EventQueueAdmin(EventAdmin):
    """What waits for the user (docs/workflows.md#events): nearest deadline first, overdue ones marked."""

    can_export = False
    list_template = "admin/event_queue_list.html"
    column_list = (
        "title",
        "due_by",
        "status",
        "level",
        "matter",
        "grid",
        "source",
    )  # what matters first on a phone
    column_default_sort = ("due_by", False)

    def get_query(self):
        return super().get_query().filter(queue_condition(current_user))

    def get_count_query(self):
        return super().get_count_query().filter(queue_condition(current_user))

"""Callbacks (回访) in the back office: the tasks in scope, soonest due first, and the page that records one."""

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.babel import lazy_gettext as admin_lazy_gettext
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, FilterEqual
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from admin.base import AREA_STAFF, REFUSED, OneGridModelView, run_step
from admin.display import person, when
from admin.scoping import area_filters
from admin.views.wish_columns import status_label
from app.extensions import db
from app.models.base import utcnow
from app.models.callbacks import (
    CALLBACK_OUTCOME_LABELS,
    CALLBACK_STATUS_LABELS,
    CallbackStatus,
    CallbackSubject,
    CallbackTask,
)
from app.models.choices import EVENT_STATUS_LABELS, RATING_LABELS, choices
from app.services import callbacks
from app.services.masking import mask_name

OPEN, DUE, OVERDUE, RECORDED, ALL = "open", "due", "overdue", "recorded", "all"


class CallbackStateFilter(BaseSQLAFilter):
    """Open (the default), fallen due, overdue, recorded, or all."""

    def __init__(self):
        super().__init__(
            CallbackTask.status,
            _l("State"),
            options=[
                (OPEN, _l("Open")),
                (DUE, _l("Due now")),
                (OVERDUE, _l("Overdue")),
                (RECORDED, _l("Recorded")),
                (ALL, _l("All")),
            ],
        )

    def validate(self, value):
        return value in (OPEN, DUE, OVERDUE, RECORDED, ALL)

    def apply(self, query, value, alias=None):
        is_open = CallbackTask.status == CallbackStatus.DUE
        if value == OPEN:
            return query.filter(is_open)
        if value == DUE:
            return query.filter(is_open, CallbackTask.due_at <= utcnow())
        if value == OVERDUE:
            return query.filter(is_open, CallbackTask.due_at <= callbacks.overdue_cutoff())
        if value == RECORDED:
            return query.filter(CallbackTask.status == CallbackStatus.DONE)
        return query

    def operation(self):
        return admin_lazy_gettext("equals")


def _subject(view, context, task, name, plain: bool = False):
    if task.subject_type == CallbackSubject.WISH and task.wish is not None:
        title, url = task.wish.title, url_for("wish.details_view", id=task.wish_id)
    elif (event := task.event) is not None:
        title, url = _("Event: %(title)s", title=event.title), url_for("event.details_view", id=event.id)
    else:
        return f"{task.subject_type} #{task.subject_id}"
    return title if plain else Markup('<a href="%s">%s</a>') % (url, title)


def _due(view, context, task, name, plain: bool = False):
    if plain or not callbacks.is_due(task):
        return when(task.due_at)
    if callbacks.is_overdue(task):
        return Markup('<span class="badge badge-danger og-overdue">%s · %s</span>') % (
            when(task.due_at),
            _("overdue"),
        )
    return Markup('<span class="badge badge-warning og-due">%s · %s</span>') % (when(task.due_at), _("due"))


def _status(view, context, task, name):
    label = str(CALLBACK_STATUS_LABELS.get(task.status, task.status))
    if task.status != CallbackStatus.DUE:
        return label
    return Markup(
        '%s <a class="btn btn-sm btn-outline-primary ml-1" href="%s" data-callback-record="%s">%s</a>'
    ) % (label, view.get_url(".record_view", id=task.id), task.id, _("Record"))


FORMATTERS = {
    "subject": _subject,
    "due_at": _due,
    "status": _status,
    "outcome": lambda v, c, m, n: str(CALLBACK_OUTCOME_LABELS.get(m.outcome, m.outcome or "")),
    "assignee": lambda v, c, m, n: person(m.assignee) if m.assignee else _("Any staff of the grid"),
    "recorded_by": lambda v, c, m, n: person(m.recorded_by) if m.recorded_by else "",
    "recorded_at": lambda v, c, m, n: when(m.recorded_at),
}
EXPORT_FORMATTERS = {
    **FORMATTERS,
    "subject": lambda v, c, m, n: _subject(v, c, m, n, plain=True),
    "due_at": lambda v, c, m, n: _due(v, c, m, n, plain=True),
    "status": lambda v, c, m, n: str(CALLBACK_STATUS_LABELS.get(m.status, m.status)),
}


class CallbackAdmin(OneGridModelView):
    """The callbacks of the user's area: open ones soonest due first, due and overdue ones flagged."""

    view_roles = AREA_STAFF
    can_create = False
    can_edit = False
    can_delete = False
    can_view_details = False  # the record page shows a task, recorded or not
    column_display_actions = False
    list_template = "admin/callback_list.html"
    record_template = "admin/callback_record.html"
    column_list = ("subject", "grid", "assignee", "due_at", "status", "outcome", "recorded_by", "recorded_at")
    eager_paths = ("wish", "event", "grid.parent", "assignee", "recorded_by")
    column_export_list = column_list
    column_sortable_list = (("grid", "grid_code"), "due_at", "status", "outcome", "recorded_at")
    column_default_sort = ("due_at", False)
    column_labels = {
        **OneGridModelView.column_labels,
        "subject": _l("Wish or event"),
        "assignee": _l("Grid worker"),
        "due_at": _l("Due"),
        "status": _l("State"),
        "outcome": _l("Outcome"),
        "recorded_by": _l("Recorded by"),
        "recorded_at": _l("Recorded"),
    }

    def __init__(self, *args, **kwargs):
        self.column_formatters = dict(FORMATTERS)
        self.column_formatters_export = dict(EXPORT_FORMATTERS)
        self.column_filters = [
            CallbackStateFilter(),
            FilterEqual(CallbackTask.outcome, _l("Outcome"), options=choices(CALLBACK_OUTCOME_LABELS)),
            *area_filters(CallbackTask.grid_code),
        ]
        super().__init__(*args, **kwargs)

    def _get_list_filter_args(self):
        """Open tasks unless the user picked a state (the filter shows, and can be changed)."""
        filters = super()._get_list_filter_args() or []
        state = next(i for i, flt in enumerate(self._filters) if isinstance(flt, CallbackStateFilter))
        if not any(idx == state for idx, _name, _value in filters):
            filters.append((state, str(self._filters[state].name), OPEN))
        return filters

    def render(self, template, **kwargs):
        if template == self.list_template:
            kwargs["state_links"] = self._state_links()
        return super().render(template, **kwargs)

    def _state_links(self) -> list[tuple[str, str, bool]]:
        """(label, url, active) of the quick links above the list: open, due now, overdue, recorded."""
        key = next(k for k, (_i, flt) in self._filter_args.items() if isinstance(flt, CallbackStateFilter))
        current = request.args.get(f"flt0_{key}", OPEN)
        return [
            (label, self.get_url(".index_view", **{f"flt0_{key}": value}), value == current)
            for value, label in (
                (OPEN, _("Open")),
                (DUE, _("Due now")),
                (OVERDUE, _("Overdue")),
                (RECORDED, _("Recorded")),
                (ALL, _("All")),
            )
        ]

    def find_visible(self, id):
        return callbacks.get_task(current_user, id)

    @expose("/record/", methods=("GET", "POST"))
    def record_view(self):
        """The task with its wish (GET); satisfied / unsatisfied + note, through the service (POST)."""
        task = self.get_one(request.values.get("id", ""))
        list_url = self.get_url(".index_view")
        values = {
            "outcome": request.form.get("outcome", ""),
            "note": (request.form.get("note") or "").strip(),
        }
        errors: dict = {}
        if request.method == "POST" and task.status == CallbackStatus.DUE:
            if values["outcome"] not in ("satisfied", "unsatisfied"):
                errors["outcome"] = _("Choose whether the resident is satisfied.")
            else:
                done, errors = run_step(
                    lambda: self._record(task, values["outcome"] == "satisfied", values["note"])
                )
                if done is REFUSED:
                    return redirect(list_url)
                if done:
                    flash(
                        _("Callback recorded.")
                        if values["outcome"] == "satisfied"
                        else _("Callback recorded; the event was reopened.")
                        if task.subject_type == CallbackSubject.EVENT
                        else _("Callback recorded; the wish went back to its member."),
                        "success",
                    )
                    return redirect(list_url)
        elif request.method == "POST":
            flash(_("This callback has already been recorded."), "error")
        return self.render(
            self.record_template,
            task=task,
            wish=task.wish,
            event=task.event,
            values=values,
            errors=errors,
            list_url=list_url,
            **self._facts(task),
        )

    def _record(self, task: CallbackTask, satisfied: bool, note: str) -> None:
        """Record through the service (which audits the task and what follows it) and commit."""
        callbacks.record_callback(current_user, task, satisfied, note)
        db.session.commit()

    def _facts(self, task: CallbackTask) -> dict:
        """What the caller needs on the page: who was helped, by whom, how it was rated, and when it is due."""
        wish = task.wish
        facts = {
            "due": when(task.due_at),
            "is_due": callbacks.is_due(task),
            "overdue": callbacks.is_overdue(task),
            "assignee": person(task.assignee) if task.assignee else _("Any staff of the grid"),
            "outcome": str(CALLBACK_OUTCOME_LABELS.get(task.outcome, "")),
            "recorded_by": person(task.recorded_by) if task.recorded_by else "",
            "recorded_at": when(task.recorded_at),
        }
        event = task.event
        if event is not None:
            facts.update(
                event_status=str(EVENT_STATUS_LABELS.get(event.status, event.status)),
                resolution=event.resolution_note or "",
                matter=event.matter.name,
                location=event.location_text or "",
            )
        if wish is not None:
            facts.update(
                owner=mask_name(wish.owner_name),
                member=wish.claimed_by.name if wish.claimed_by else "",
                wish_status=status_label(wish.status),
                hours=wish.hours or "",
                rating=str(RATING_LABELS.get(wish.rating, "")) if wish.rating else "",
                comment=wish.comment or "",
                completion_note=wish.completion_note or "",
                resident_url=url_for("resident.details_view", id=wish.resident_id)
                if wish.resident_id
                else "",
            )
        return facts

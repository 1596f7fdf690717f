"""An event's steps in the back office: the page asking for a step's values, and the step through the machine.

EventStepsMixin gives the event views (admin.views.events) their /transition/<verb>/ page; each step runs
through the service (app.services.events.perform), which checks and audits it.
"""

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_admin.helpers import get_redirect_target
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from admin.base import REFUSED, run_step
from admin.views.event_columns import level_label, status_label
from app.extensions import db
from app.models import Department
from app.models.choices import DispatchStatus
from app.models.events import Event
from app.services import attachments, workflow
from app.services import events as service

# the values each interface verb asks for (the service validates them)
ACTION_FIELDS = {
    "accept": (),
    "start": ("note",),
    "escalate": ("reason", "major"),
    "dispatch": ("departments",),
    "answer": ("note", "done"),
    "resolve": ("note",),
    "verify": ("passed", "note"),
    "callback": ("satisfied", "note"),
    "archive": ("score",),
}
ACTION_VERBS = {
    "accept": _l("Accept"),
    "start": _l("Start work"),
    "escalate": _l("Escalate"),
    "dispatch": _l("Dispatch to departments"),
    "answer": _l("Answer the dispatch"),
    "resolve": _l("Report resolved"),
    "verify": _l("Verify on the spot"),
    "callback": _l("Record the callback"),
    "archive": _l("Score and archive"),
}
# verbs taken with one click (no values to ask for)
ONE_CLICK = ("accept",)
# steps that may carry photos (the resolve's "after" photo above all)
PHOTO_VERBS = ("start", "answer", "resolve", "verify")


class EventStepsMixin:
    """The transition page of an event view: GET asks for the step's values, POST takes the step."""

    @expose("/transition/<verb>/", methods=("GET", "POST"))
    def transition_view(self, verb):
        """The values an action asks for (GET); the action through the state machine (POST)."""
        if verb not in ACTION_FIELDS:
            abort(404)
        event = self.get_one(request.values.get("id", ""))
        details_url = self.get_url(".details_view", id=event.id)
        return_url = get_redirect_target() or details_url
        values = self._values(verb)
        errors: dict = {}
        if verb not in service.interface_actions(current_user, event):
            flash(self._refusal(event, verb), "error")
            return redirect(details_url)
        if request.method == "POST":
            done, errors = run_step(lambda: self._transition(event, verb, values))
            if done is REFUSED:
                return redirect(details_url)
            if done:
                # a department hears what became of its own dispatch; the handlers, where the event stands
                outcome = service.dispatch_outcome(current_user, event) if verb == "answer" else None
                flash(
                    outcome
                    or _(
                        "The event is now “%(status)s” at %(level)s level.",
                        status=status_label(event.status),
                        level=level_label(event.level),
                    ),
                    "success",
                )
                return redirect(return_url)
        # the departments that may be called in: not those still waiting on this event (the service refuses them)
        waiting = {d.department_id for d in event.dispatches if d.status == DispatchStatus.PENDING}
        departments = (
            [
                d
                for d in db.session.scalars(
                    select(Department).where(Department.active.is_(True)).order_by(Department.code)
                )
                if d.id not in waiting
            ]
            if verb == "dispatch"
            else []
        )
        if verb == "dispatch" and request.method == "GET" and event.matter.department in departments:
            values["departments"] = [event.matter.department.code]
        return self.render(
            self.transition_template,
            event=event,
            verb=verb,
            verb_label=str(ACTION_VERBS[verb]),
            fields=ACTION_FIELDS[verb],
            photos=verb in PHOTO_VERBS,
            values=values,
            errors=errors,
            departments=departments,
            return_url=return_url,
            cancel_url=details_url,
        )

    @staticmethod
    def _values(verb: str) -> dict:
        """The form's values as the service takes them (yes/no boxes as "true"/"false")."""
        values = {}
        for field in ACTION_FIELDS[verb]:
            if field == "departments":
                values[field] = request.form.getlist("departments")
            elif field in ("major", "done"):
                values[field] = "true" if request.form.get(field) else "false"
            else:
                values[field] = (request.form.get(field) or "").strip()
        return values

    @staticmethod
    def _refusal(event: Event, verb: str) -> str:
        """Why `verb` is not offered: the machine's own refusal for the first matching step."""
        return workflow.refusal_of(service.MACHINE, current_user, event, verb) or _(
            "That step is not possible now."
        )

    def _transition(self, event: Event, verb: str, values: dict) -> None:
        """Run one step through the service (which audits it) and commit; errors propagate uncommitted."""
        photos = []
        if verb in PHOTO_VERBS:  # checked before the step: a refused photo refuses the step
            photos = attachments.prepare_all([d for f in request.files.getlist("photos") if (d := f.read())])
        service.perform(current_user, event, verb, **values)
        if photos:
            step = attachments.latest_step(event, None, current_user)
            attachments.store(current_user, attachments.Subject.of_event(event, step), photos)
        db.session.commit()

"""Notices to the resident or member who reported an event (随手拍): accepted, replied to, escalated, resolved, closed.

Only reporters who follow their report on the site are told (residents and members); staff, departments and
the hotline follow events in the back office and through the API. The link is the report's page, /events/<id>.
"""

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import Department, User
from app.models.choices import EVENT_LEVEL_LABELS, EventAction, EventLevel, NotificationKind
from app.models.events import Event, EventStep
from app.services import notifications
from app.services.event_reporting import REPORTER_ROLES
from app.services.notices.common import account, clip, language, title

K = NotificationKind


def report_link(event_id: int) -> str:
    return f"/events/{event_id}"


def _reporter(event: Event) -> int | None:
    """The reporter's account when they follow reports on the site, else None."""
    role = db.session.scalar(select(User.role).where(User.id == event.reporter_id))
    return event.reporter_id if role in REPORTER_ROLES else None


def _tell(kind, event: Event, title_text, body) -> int:
    """Send one notice to the reporter; `title_text` and `body` make the words (in the reporter's language)."""
    reporter = _reporter(event)
    if reporter is None:
        return 0
    with language(reporter):
        return notifications.send(
            kind,
            account(reporter),
            title=title(str(title_text())),
            body=str(body()),
            link=report_link(event.id),
            subject=f"event:{event.id}",
        )


def _event(event_id: int) -> Event | None:
    return db.session.get(Event, event_id)


def _level_name(level: str) -> str:
    return str(EVENT_LEVEL_LABELS.get(EventLevel(level), level))


@notifications.builder(K.REPORT_ACCEPTED)
def report_accepted(event_id: int) -> int:
    event = _event(event_id)
    if event is None:
        return 0
    return _tell(
        K.REPORT_ACCEPTED,
        event,
        lambda: _("Your report “%(title)s” was accepted", title=event.title),
        lambda: _("The grid staff have taken it on and will keep you informed."),
    )


@notifications.builder(K.REPORT_REPLIED)
def report_replied(event_id: int, step_id: int) -> int:
    """A step whose note the reporter reads on the report's page: the note is the reply."""
    event, step = _event(event_id), db.session.get(EventStep, step_id)
    if event is None or step is None or not step.note or step.action == EventAction.ARCHIVE:
        return 0
    return _tell(
        K.REPORT_REPLIED,
        event,
        lambda: _("A reply on your report “%(title)s”", title=event.title),
        lambda: _reply(step),
    )


def _reply(step: EventStep) -> str:
    """The reply as the report's page shows it: the departments called in, a department's answer, or the note."""
    if step.action == EventAction.DISPATCH:
        return _("Handed to: %(departments)s", departments=clip(step.note))
    if step.action == EventAction.ANSWER and step.department_id is not None:
        name = db.session.scalar(select(Department.name).where(Department.id == step.department_id))
        return _("%(department)s: %(note)s", department=name, note=clip(step.note))
    return clip(step.note)


@notifications.builder(K.REPORT_ESCALATED)
def report_escalated(events) -> int:
    """A report escalated by its handler, or the reports among a sweep's escalations (`events`: [id, level reached]
    pairs), each to its own reporter."""
    reached = {int(event_id): level for event_id, level in events}
    if not reached:
        return 0
    reported = db.session.scalars(
        select(Event)
        .join(User, User.id == Event.reporter_id)
        .where(Event.id.in_(list(reached)), User.role.in_(REPORTER_ROLES))
        .order_by(Event.id)
    )
    sent = 0
    for event in reported:
        sent += _tell(
            K.REPORT_ESCALATED,
            event,
            lambda e=event: _(
                "Your report “%(title)s” went up to the %(level)s",
                title=e.title,
                level=_level_name(reached[e.id]),
            ),
            lambda: _("The next level up now handles it, with more hands than the grid has."),
        )
    return sent


@notifications.builder(K.REPORT_RESOLVED)
def report_resolved(event_id: int) -> int:
    event = _event(event_id)
    if event is None:
        return 0
    return _tell(
        K.REPORT_RESOLVED,
        event,
        lambda: _("Your report “%(title)s” was resolved: please check", title=event.title),
        lambda: _(
            "%(note)s The grid worker will check it on the spot; tell us if it is not right.",
            note=clip(event.resolution_note),
        ),
    )


@notifications.builder(K.REPORT_CLOSED)
def report_closed(event_id: int) -> int:
    event = _event(event_id)
    if event is None:
        return 0
    return _tell(
        K.REPORT_CLOSED,
        event,
        lambda: _("Your report “%(title)s” is closed", title=event.title),
        lambda: _("Thank you for reporting it."),
    )

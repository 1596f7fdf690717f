"""The event machine as data (docs/workflows.md#events): its transitions, who takes them, what they require.

Also the deadlines each step meets (`settle`, the engine's after-step), the interface verb of each
transition and the words of a refusal for a wrong state. app.services.events runs the machine through
the engine (app.services.workflow) with its steps.
"""

from flask_babel import gettext as _
from sqlalchemy import update

from app.extensions import db
from app.models.choices import (
    EVENT_STATUS_LABELS,
    DispatchStatus,
    EventAction,
    EventLevel,
    EventStatus,
    SlaDeadline,
)
from app.models.events import Event, Supervision
from app.services.event_ladder import TOP
from app.services.workflow import Requirement, Transition

S, L = EventStatus, EventLevel
# departments are called in at the street (or while they work); the district is the top of the ladder
AT_STREET = Requirement(
    lambda e: e.level in (EventLevel.STREET, EventLevel.DEPARTMENT),
    lambda: _("Departments are called in at street level: escalate the event to the street first."),
    "wrong_level",
)
BELOW_TOP = Requirement(
    lambda e: e.level != TOP,
    lambda: _("The event is already at the district: it cannot go higher."),
    "top_level",
    condition=lambda: Event.level != TOP,
)
# the handler reports it solved only once every department called in has finished (listed only then, too)
DISPATCHES_DONE = Requirement(
    lambda e: all(d.status == DispatchStatus.DONE for d in e.dispatches),
    lambda: _("The departments called in have not all finished yet."),
    "dispatches_open",
)
# `target` None keeps the status (escalate, answer)
TRANSITIONS = {
    t.action: t
    for t in (
        Transition(EventAction.ACCEPT, (S.REPORTED,), S.ACCEPTED, "handler"),
        Transition(EventAction.START, (S.ACCEPTED,), S.IN_PROGRESS, "handler"),
        Transition(EventAction.ESCALATE, (S.ACCEPTED, S.IN_PROGRESS), None, "handler", (BELOW_TOP,)),
        Transition(
            EventAction.AUTO_ESCALATE, (S.REPORTED, S.ACCEPTED, S.IN_PROGRESS), None, "system", (BELOW_TOP,)
        ),
        # 吹哨: the street calls departments in; more may be called while they work
        Transition(EventAction.DISPATCH, (S.ACCEPTED, S.IN_PROGRESS), S.IN_PROGRESS, "handler", (AT_STREET,)),
        Transition(EventAction.ANSWER, (S.IN_PROGRESS,), None, "department"),
        Transition(EventAction.RESOLVE, (S.IN_PROGRESS,), S.RESOLVED, "handler", (DISPATCHES_DONE,)),
        Transition(EventAction.VERIFY, (S.RESOLVED,), S.VERIFIED, "verifier"),
        Transition(EventAction.VERIFY_FAIL, (S.RESOLVED,), S.IN_PROGRESS, "verifier"),
        Transition(EventAction.CLOSE, (S.VERIFIED,), S.CLOSED, "staff"),
        Transition(EventAction.REOPEN, (S.VERIFIED,), S.IN_PROGRESS, "staff"),
        Transition(EventAction.ARCHIVE, (S.CLOSED,), S.ARCHIVED, "community"),
        # the resident's say (app.services.resident_say): withdraw before anyone accepts it; "not fixed" after
        Transition(EventAction.WITHDRAW, (S.REPORTED,), S.WITHDRAWN, "reporter"),
        Transition(EventAction.NOT_FIXED, (S.RESOLVED, S.VERIFIED), S.IN_PROGRESS, "reporter"),
    )
}
del S, L
# "not fixed" is given with the reporter's feedback (its own endpoint), never offered as a bare verb
USER_ACTIONS = tuple(a for a, t in TRANSITIONS.items() if t.actor != "system" and a != EventAction.NOT_FIXED)
# the deadline a step meets, so its supervision (if any) is settled
SETTLES = {EventAction.ACCEPT: (SlaDeadline.RESPOND,), EventAction.RESOLVE: (SlaDeadline.RESOLVE,)}
# steps that tell the reporter something: the first of them meets the reply deadline
REPLIES = (EventAction.START, EventAction.DISPATCH, EventAction.ANSWER, EventAction.RESOLVE)


# the state machine's verbs as interfaces name them: a failed check and an unsatisfied callback are
# the same verb as their happy twin
INTERFACE_ACTION = {
    EventAction.VERIFY_FAIL: "verify",
    EventAction.CLOSE: "callback",
    EventAction.REOPEN: "callback",
}


def conflict_message(event: Event, _transition=None) -> str:
    return _(
        "This event is now “%(status)s”; that step is not possible from there.",
        status=EVENT_STATUS_LABELS[EventStatus(event.status)],
    )


def lost_message(event: Event, _transition=None) -> str:
    return _("Someone else changed this event meanwhile: %(now)s", now=conflict_message(event))


def settle(event: Event, action: EventAction, now) -> None:
    """The step meets its deadlines: their supervisions (督办), if any, are settled."""
    settled = SETTLES.get(action, ()) + ((SlaDeadline.REPLY,) if action in REPLIES else ())
    if settled:
        db.session.execute(
            update(Supervision)
            .where(
                Supervision.event_id == event.id,
                Supervision.deadline.in_(settled),
                Supervision.resolved_at.is_(None),
            )
            .values(resolved_at=now)
            .execution_options(synchronize_session=False)
        )

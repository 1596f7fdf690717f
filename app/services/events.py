"""The event workflow (docs/workflows.md#events): its steps, run on one machine for the back office, site, API and jobs.

The engine (app.services.workflow) makes every step one conditional UPDATE (`… WHERE id = :id AND
status = :seen AND level = :seen`), so when two people act on one event at once exactly one wins and
the other gets a `Conflict`. The machine's transitions are declared in app.services.event_machine, who
is who lives in app.services.event_access, the ladder in app.services.event_ladder, reporting and
deadlines in app.services.event_intake; the sweep and the on-time rate in app.services.event_sla.
Functions flush and never commit: the caller owns the transaction.
"""

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import Department, User
from app.models.base import utcnow
from app.models.callbacks import CallbackSubject
from app.models.choices import DispatchStatus, EventAction, EventLevel, EventStatus
from app.models.events import Dispatch, Event, EventStep
from app.services import callbacks, workflow
from app.services.errors import Conflict, DomainError, Forbidden, Invalid

# who is who, reading and reporting live in their own modules; callers know their names from here too
from app.services.event_access import (
    HANDLER_ROLE,  # noqa: F401
    dispatch_of,
    dispatch_outcome,  # noqa: F401
    get_visible_event,  # noqa: F401
    handles,  # noqa: F401
    refusal,
    visible_condition,  # noqa: F401
)
from app.services.event_intake import (
    DEFAULT_SOURCE,  # noqa: F401
    SOURCES_BY_ROLE,  # noqa: F401
    EventLimited,  # noqa: F401
    campaign_running,  # noqa: F401
    default_title,  # noqa: F401
    report_event,  # noqa: F401
    running_campaigns,  # noqa: F401
)
from app.services.event_ladder import NEXT_LEVEL
from app.services.event_machine import (
    INTERFACE_ACTION,
    REPLIES,
    TRANSITIONS,
    USER_ACTIONS,
    conflict_message,
    lost_message,
    settle,
)
from app.services.signals import event_changed
from app.services.text import single_text

# the event's names for the one refusal hierarchy (app.services.errors)
EventError, EventConflict, EventForbidden, EventInvalid = DomainError, Conflict, Forbidden, Invalid


# --- the checks ----------------------------------------------------------------------------------
def check_action(user, event: Event, action: EventAction) -> None:
    """Raise EventForbidden for a wrong actor, EventConflict for a wrong state or level; return when allowed."""
    workflow.check(MACHINE, user, event, EventAction(action))


def can(user, event: Event, action: EventAction) -> bool:
    """Whether `user` may take `action` on `event` now (for showing buttons)."""
    return workflow.can(MACHINE, user, event, EventAction(action))


def available_actions(user, event: Event) -> list[EventAction]:
    """The actions `user` may take on `event` now, in the order of the lifecycle."""
    return workflow.available_actions(MACHINE, user, event)


# --- validation of values ------------------------------------------------------------------------
def _single_text(field: str, value, label: str, required: bool = False) -> str | None:
    return single_text(field, value, label, EventInvalid, required)


def _flag(field: str, value) -> bool:
    """A yes/no value from JSON or a form."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in (
        "true",
        "1",
        "yes",
        "on",
        "false",
        "0",
        "no",
        "off",
    ):
        return value.strip().lower() in ("true", "1", "yes", "on")
    raise EventInvalid({field: _("Answer yes or no (true or false).")})


# --- the transitions -----------------------------------------------------------------------------
def _move(
    event: Event,
    actor: User | None,
    action: EventAction,
    *,
    note=None,
    to_level=None,
    department_id=None,
    now=None,
    **values,
) -> Event:
    """Apply one transition through the engine, at `to_level` (default: the event's); EventConflict when
    someone got there first."""
    now = now or utcnow()
    to_level = to_level or event.level
    if action in REPLIES:
        values["replied_at"] = func.coalesce(Event.replied_at, now)
    return workflow.move(
        MACHINE,
        event,
        actor,
        action,
        note=note,
        now=now,
        level=to_level,
        step={"from_level": event.level, "to_level": to_level, "department_id": department_id},
        **values,
    )


def accept_event(actor: User, event: Event, *, now=None) -> Event:
    """The handler takes the event on (meets the respond deadline)."""
    check_action(actor, event, EventAction.ACCEPT)
    now = now or utcnow()
    return _move(event, actor, EventAction.ACCEPT, now=now, accepted_at=now)


def start_event(actor: User, event: Event, note=None, *, now=None) -> Event:
    """The handler starts work (the first word back to the reporter, unless one went already)."""
    check_action(actor, event, EventAction.START)
    note = _single_text("note", note, _("Note"))
    return _move(event, actor, EventAction.START, note=note, now=now)


def escalate_event(actor: User, event: Event, reason, major=False, *, now=None) -> Event:
    """Hand the event one level up, or straight to the district when it is major; the status stays."""
    check_action(actor, event, EventAction.ESCALATE)
    reason = _single_text("reason", reason, _("Reason"), required=True)
    major = _flag("major", major)
    to_level = EventLevel.DISTRICT if major else NEXT_LEVEL[EventLevel(event.level)]
    return _move(
        event,
        actor,
        EventAction.ESCALATE,
        note=reason,
        to_level=to_level,
        now=now,
        major=event.major or major,
    )


def dispatch_event(actor: User, event: Event, department_codes, *, now=None) -> list[Dispatch]:
    """Street staff whistle departments in (吹哨): one pending dispatch each; the event waits at department level.

    A department whose earlier dispatch is answered or done is called in again (back to pending).
    """
    check_action(actor, event, EventAction.DISPATCH)
    now = now or utcnow()
    if isinstance(department_codes, str) or not isinstance(department_codes, (list, tuple, set)):
        raise EventInvalid({"departments": _("Choose one or more departments.")})
    codes = list(dict.fromkeys(str(c).strip() for c in department_codes if str(c).strip()))
    if not codes:
        raise EventInvalid({"departments": _("Choose one or more departments.")})
    departments = {
        d.code: d
        for d in db.session.scalars(
            select(Department).where(Department.code.in_(codes), Department.active.is_(True))
        )
    }
    unknown = [c for c in codes if c not in departments]
    if unknown:
        raise EventInvalid(
            {"departments": _("Unknown departments: %(codes)s.", codes=", ".join(unknown[:10]))}
        )
    existing = {d.department_id: d for d in event.dispatches}
    pending = [
        c
        for c in codes
        if existing.get(departments[c].id) is not None
        and existing[departments[c].id].status == DispatchStatus.PENDING
    ]
    if pending:
        raise EventInvalid({"departments": _("Already waiting for: %(codes)s.", codes=", ".join(pending))})
    names = "、".join(departments[c].name for c in codes)
    _move(event, actor, EventAction.DISPATCH, note=names, to_level=EventLevel.DEPARTMENT, now=now)
    dispatches = []
    for code in codes:
        dispatch = existing.get(departments[code].id)
        if dispatch is None:
            dispatch = Dispatch(event_id=event.id, department_id=departments[code].id)
            db.session.add(dispatch)
        dispatch.status, dispatch.dispatched_by_id, dispatch.dispatched_at = (
            DispatchStatus.PENDING,
            actor.id,
            now,
        )
        dispatch.done_at = None
        dispatches.append(dispatch)
    db.session.flush()
    db.session.expire(event, ["dispatches"])
    return dispatches


def answer_dispatch(actor: User, event: Event, note, done=False, *, now=None) -> Dispatch:
    """A department reports in on its dispatch (报到): a note, and whether its part is done."""
    check_action(actor, event, EventAction.ANSWER)
    now = now or utcnow()
    note = _single_text("note", note, _("Answer"), required=True)
    done = _flag("done", done)
    dispatch = dispatch_of(actor, event)
    changed = db.session.execute(
        update(Dispatch)
        .where(Dispatch.id == dispatch.id, Dispatch.status != DispatchStatus.DONE)
        .values(
            status=DispatchStatus.DONE if done else DispatchStatus.ANSWERED,
            answer_note=note,
            answered_at=now,
            done_at=now if done else None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise EventConflict(_("Your department has already finished its part of this event."))
    _move(event, actor, EventAction.ANSWER, note=note, department_id=dispatch.department_id, now=now)
    db.session.refresh(dispatch)
    return dispatch


def resolve_event(actor: User, event: Event, note, *, now=None) -> Event:
    """The handler reports the event solved: only once every dispatched department has finished (the
    machine's requirement)."""
    check_action(actor, event, EventAction.RESOLVE)
    note = _single_text("note", note, _("Note"), required=True)
    now = now or utcnow()
    return _move(event, actor, EventAction.RESOLVE, note=note, now=now, resolved_at=now, resolution_note=note)


def verify_event(actor: User, event: Event, passed, note=None, *, now=None) -> Event:
    """The grid worker checks on the spot: passed → verified; failed (with a note) → back to work."""
    passed = _flag("passed", passed)
    action = EventAction.VERIFY if passed else EventAction.VERIFY_FAIL
    check_action(actor, event, action)
    note = _single_text("note", note, _("Note"), required=not passed)
    now = now or utcnow()
    if passed:
        return _move(event, actor, action, note=note, now=now, verified_at=now)
    return _move(event, actor, action, note=note, now=now, resolved_at=None)


def callback_event(actor: User, event: Event, satisfied, note=None, *, now=None) -> Event:
    """Record the callback (回访): satisfied → closed; unsatisfied (with a note) → back to work (reopened)."""
    satisfied = _flag("satisfied", satisfied)
    check_action(actor, event, EventAction.CLOSE if satisfied else EventAction.REOPEN)
    note = _single_text("note", note, _("Note"), required=not satisfied)
    task = callbacks.open_task(CallbackSubject.EVENT, event.id)
    if task is not None:
        # records the task (a Conflict when it was recorded meanwhile); "unsatisfied" comes back through reopen_from_task
        callbacks.record_callback(actor, task, satisfied, note)
        db.session.refresh(event)  # closed or reopened through the task's follow-up below
        return event
    if satisfied:
        now = now or utcnow()
        return _move(event, actor, EventAction.CLOSE, note=note, now=now, closed_at=now)
    return reopen_event(actor, event, note, now=now)


def reopen_event(actor: User, event: Event, note, *, now=None) -> Event:
    """An unsatisfied callback sends a verified event back to work at its level."""
    check_action(actor, event, EventAction.REOPEN)
    note = _single_text("note", note, _("Note"), required=True)
    return _move(event, actor, EventAction.REOPEN, note=note, now=now, resolved_at=None, verified_at=None)


def reopen_from_task(actor, task, note: str) -> None:
    """An unsatisfied callback sends its verified event back to work."""
    reopen_event(actor, db.session.get(Event, task.subject_id), note)


def close_from_task(actor, task, note) -> None:
    """A satisfied callback closes its verified event."""
    event = db.session.get(Event, task.subject_id)
    check_action(actor, event, EventAction.CLOSE)
    now = utcnow()
    _move(event, actor, EventAction.CLOSE, note=note, now=now, closed_at=now)


def archive_event(actor: User, event: Event, score, *, now=None) -> Event:
    """The community scores the closed event 1–5 and archives it (社区考评归档)."""
    check_action(actor, event, EventAction.ARCHIVE)
    if isinstance(score, str) and score.strip().isdigit():
        score = int(score.strip())
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise EventInvalid({"score": _("Give a score from 1 to 5.")})
    now = now or utcnow()
    return _move(event, actor, EventAction.ARCHIVE, note=str(score), now=now, score=score, archived_at=now)


# --- one entry point for interfaces -----------------------------------------------------------------
ACTIONS = {
    "accept": lambda a, e, v: accept_event(a, e),
    "start": lambda a, e, v: start_event(a, e, v.get("note")),
    "escalate": lambda a, e, v: escalate_event(a, e, v.get("reason"), v.get("major", False)),
    "dispatch": lambda a, e, v: dispatch_event(a, e, v.get("departments")),
    "answer": lambda a, e, v: answer_dispatch(a, e, v.get("note"), v.get("done", False)),
    "resolve": lambda a, e, v: resolve_event(a, e, v.get("note")),
    "verify": lambda a, e, v: verify_event(a, e, v.get("passed"), v.get("note")),
    "callback": lambda a, e, v: callback_event(a, e, v.get("satisfied"), v.get("note")),
    "archive": lambda a, e, v: archive_event(a, e, v.get("score")),
    "withdraw": lambda a, e, v: _say().withdraw_event(a, e, v.get("note")),
}


def _say():
    from app.services import resident_say  # it runs its steps on this machine: imported when called

    return resident_say


MACHINE = workflow.Machine(
    name="event",
    model=Event,
    step_model=EventStep,
    subject_key="event_id",
    transitions=TRANSITIONS,
    refusal=refusal,
    conflict_message=conflict_message,
    lost_message=lost_message,
    signal=event_changed,
    states=tuple(EventStatus),
    user_actions=USER_ACTIONS,
    pinned=("status", "level"),
    after_step=settle,
    steps=ACTIONS,
    verbs=INTERFACE_ACTION,
)


def interface_actions(user, event: Event) -> list[str]:
    """The interface verbs (keys of ACTIONS) `user` may use on `event` now, in lifecycle order."""
    return workflow.interface_actions(MACHINE, user, event)


def perform(actor: User, event: Event, action: str, **values):
    """Run the interface action named `action` (the API's and the back office's verbs) with its values."""
    return workflow.perform(MACHINE, actor, event, action, values)

"""The event state machine (SPEC §5): one transition table used by the back office, the site, the API and jobs.

Every transition is a conditional UPDATE (`… WHERE id = :id AND status = :seen AND level = :seen`), so
when two people act on one event at once exactly one wins and the other gets an `EventConflict`.
Functions flush and never commit: the caller owns the transaction. Deadlines, the sweep and the
on-time rate live in app.services.event_sla.
"""
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.ids import parse_id
from app.models import Area, Department, Matter, Resident, User
from app.models.base import utcnow
from app.models.callbacks import CallbackSubject
from app.models.choices import (
    EVENT_STATUS_LABELS, STAFF_ROLES, AreaLevel, DispatchStatus, EventAction, EventLevel, EventSource,
    EventStatus, Role, SlaDeadline,
)
from app.models.events import (
    ACTING_FOR_MAX, Campaign, DESCRIPTION_MAX, EXTERNAL_REF_MAX, LOCATION_MAX, TITLE_MAX, Dispatch, Event,
    EventStep, Supervision,
)
from app.services import callbacks
from app.services.event_reporting import REPORTER_ROLES, seconds_until_next_report
from app.services.event_sla import deadlines_for
from app.services.scope import apply_reach, code_in_scope, scope_condition
from app.services.signals import event_changed
from app.services.text import check_text, single_text
from app.services.wishes import WishError, WishInvalid


class EventError(WishError):
    """An event action was refused; `message` says why, for the person who tried.

    A kind of WishError: interfaces answer both alike (status, code, message).
    """


class EventConflict(EventError):
    """The event is not in a state (or at a level) that allows the action: HTTP 409."""

    status = 409
    code = "state_conflict"


class EventForbidden(EventError):
    """This user may not take this action on this event: HTTP 403."""

    status = 403
    code = "forbidden"


class EventInvalid(EventError, WishInvalid):
    """The values given do not pass validation; `errors` maps field names to messages: HTTP 422."""


class EventLimited(EventError):
    """Too many reports in a short time: HTTP 429; another is accepted in `retry_after` seconds."""

    status = 429
    code = "too_many_reports"

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Transition:
    """One row of the state machine: the action, the states it leaves, the state it reaches, who acts.

    `target` None keeps the status (escalate, answer); `levels` None allows every level.
    """

    action: EventAction
    sources: tuple[EventStatus, ...]
    target: EventStatus | None
    actor: str  # handler | department | verifier | staff | community | system
    levels: tuple[EventLevel, ...] | None = None


S, L = EventStatus, EventLevel
TRANSITIONS = {t.action: t for t in (
    Transition(EventAction.ACCEPT, (S.REPORTED,), S.ACCEPTED, "handler"),
    Transition(EventAction.START, (S.ACCEPTED,), S.IN_PROGRESS, "handler"),
    Transition(EventAction.ESCALATE, (S.ACCEPTED, S.IN_PROGRESS), None, "handler"),
    Transition(EventAction.AUTO_ESCALATE, (S.REPORTED, S.ACCEPTED, S.IN_PROGRESS), None, "system"),
    # 吹哨: the street calls departments in; more may be called while they work
    Transition(EventAction.DISPATCH, (S.ACCEPTED, S.IN_PROGRESS), S.IN_PROGRESS, "handler",
               (L.STREET, L.DEPARTMENT)),
    Transition(EventAction.ANSWER, (S.IN_PROGRESS,), None, "department"),
    Transition(EventAction.RESOLVE, (S.IN_PROGRESS,), S.RESOLVED, "handler"),
    Transition(EventAction.VERIFY, (S.RESOLVED,), S.VERIFIED, "verifier"),
    Transition(EventAction.VERIFY_FAIL, (S.RESOLVED,), S.IN_PROGRESS, "verifier"),
    Transition(EventAction.CLOSE, (S.VERIFIED,), S.CLOSED, "staff"),
    Transition(EventAction.REOPEN, (S.VERIFIED,), S.IN_PROGRESS, "staff"),
    Transition(EventAction.ARCHIVE, (S.CLOSED,), S.ARCHIVED, "community"),
)}
del S, L
# one level up the ladder; departments are reached by dispatch, not by escalation
NEXT_LEVEL = {
    EventLevel.GRID: EventLevel.COMMUNITY,
    EventLevel.COMMUNITY: EventLevel.STREET,
    EventLevel.STREET: EventLevel.DISTRICT,
    EventLevel.DEPARTMENT: EventLevel.DISTRICT,
}
# who handles the event at each level (admins act at every level)
HANDLER_ROLE = {
    EventLevel.GRID: Role.GRID_WORKER,
    EventLevel.COMMUNITY: Role.COMMUNITY_ADMIN,
    EventLevel.STREET: Role.STREET_ADMIN,
    EventLevel.DEPARTMENT: Role.STREET_ADMIN,  # the street that whistled keeps coordinating
    EventLevel.DISTRICT: Role.ADMIN,
}
# the sources each kind of reporter may claim
SOURCES_BY_ROLE = {
    Role.RESIDENT: (EventSource.RESIDENT,),
    Role.MEMBER: (EventSource.RESIDENT,),
    Role.INTEGRATION: (EventSource.HOTLINE, EventSource.E_PATROL),
    Role.DEPARTMENT: (EventSource.DEPARTMENT,),
}
DEFAULT_SOURCE = {Role.RESIDENT: EventSource.RESIDENT, Role.MEMBER: EventSource.RESIDENT,
                  Role.INTEGRATION: EventSource.HOTLINE, Role.DEPARTMENT: EventSource.DEPARTMENT}
# the deadline a step meets, so its supervision (if any) is settled
SETTLES = {EventAction.ACCEPT: (SlaDeadline.RESPOND,), EventAction.RESOLVE: (SlaDeadline.RESOLVE,)}
# steps that tell the reporter something: the first of them meets the reply deadline
REPLIES = (EventAction.START, EventAction.DISPATCH, EventAction.ANSWER, EventAction.RESOLVE)


# --- who is who ----------------------------------------------------------------------------------
def _staff_in_scope(user, event: Event, role=None) -> bool:
    if user is None or not getattr(user, "is_authenticated", True):
        return False
    if user.role == Role.ADMIN:
        return True
    roles = (role,) if role else STAFF_ROLES
    return user.role in roles and code_in_scope(user, event.grid_code)


def handles(user, event: Event) -> bool:
    """Staff of the event's present level whose scope covers its grid (admins: every level)."""
    return _staff_in_scope(user, event, HANDLER_ROLE[EventLevel(event.level)])


def dispatch_of(user, event: Event) -> Dispatch | None:
    """The dispatch of `event` to the department of a department user, or None."""
    if user is None or user.role != Role.DEPARTMENT or user.department_id is None:
        return None
    return db.session.scalar(select(Dispatch).where(Dispatch.event_id == event.id,
                                                    Dispatch.department_id == user.department_id))


def _is_actor(user, event: Event, kind: str) -> bool:
    if kind == "handler":
        return handles(user, event)
    if kind == "department":
        return dispatch_of(user, event) is not None
    if kind == "verifier":  # 网格员确认验收: the grid worker of the grid confirms on the spot
        return _staff_in_scope(user, event, Role.GRID_WORKER)
    if kind == "staff":
        return _staff_in_scope(user, event)
    if kind == "community":  # 社区考评归档
        return _staff_in_scope(user, event, Role.COMMUNITY_ADMIN)
    return False  # system


_FORBIDDEN = {
    "handler": lambda: _("Only the staff handling this event at its present level may do this."),
    "department": lambda: _("Only a department this event was dispatched to may answer it."),
    "verifier": lambda: _("Only the grid worker of this event's grid may verify it."),
    "staff": lambda: _("Only the staff responsible for this event's grid may do this."),
    "community": lambda: _("Only the community staff of this event's grid may archive it."),
    "system": lambda: _("Only the system takes this step."),
}


def check_action(user, event: Event, action: EventAction) -> None:
    """Raise EventForbidden for a wrong actor, EventConflict for a wrong state or level; return when allowed."""
    transition = TRANSITIONS[EventAction(action)]
    if not _is_actor(user, event, transition.actor):
        raise EventForbidden(_FORBIDDEN[transition.actor]())
    if event.status not in transition.sources:
        raise EventConflict(_conflict_message(event))
    if transition.levels and event.level not in transition.levels:
        raise EventConflict(_("Departments are called in at street level: escalate the event to the street first."),
                            code="wrong_level")
    if action == EventAction.ESCALATE and event.level == EventLevel.DISTRICT:
        raise EventConflict(_("The event is already at the district: it cannot go higher."), code="top_level")


def can(user, event: Event, action: EventAction) -> bool:
    """Whether `user` may take `action` on `event` now (for showing buttons)."""
    try:
        check_action(user, event, action)
    except EventError:
        return False
    return True


USER_ACTIONS = tuple(a for a, t in TRANSITIONS.items() if t.actor != "system")


def available_actions(user, event: Event) -> list[EventAction]:
    """The actions `user` may take on `event` now, in the order of the lifecycle."""
    return [a for a in USER_ACTIONS if can(user, event, a)]


def _conflict_message(event: Event) -> str:
    return _("This event is now “%(status)s”; that step is not possible from there.",
             status=EVENT_STATUS_LABELS[EventStatus(event.status)])


# --- reading -------------------------------------------------------------------------------------
def visible_condition(user):
    """WHERE condition of the events `user` may read: staff their scope, departments their dispatches,
    everyone else what they reported."""
    if user.role in STAFF_ROLES:
        condition = scope_condition(Event, user)
        return Event.id.is_not(None) if condition is None else condition
    own = Event.reporter_id == user.id
    if user.role == Role.DEPARTMENT and user.department_id is not None:
        dispatched = select(Dispatch.id).where(Dispatch.event_id == Event.id,
                                               Dispatch.department_id == user.department_id).exists()
        return or_(own, dispatched)
    return own


def get_visible_event(user, event_id: int) -> Event | None:
    """The event when `user` may read it, else None (the caller answers 404)."""
    event_id = parse_id(event_id)
    if event_id is None:
        return None
    return db.session.scalar(select(Event).where(Event.id == event_id, visible_condition(user)))


# --- validation of values ------------------------------------------------------------------------
def _single_text(field: str, value, label: str, required: bool = False) -> str | None:
    return single_text(field, value, label, EventInvalid, required)


def _flag(field: str, value) -> bool:
    """A yes/no value from JSON or a form."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "on", "false", "0", "no", "off"):
        return value.strip().lower() in ("true", "1", "yes", "on")
    raise EventInvalid({field: _("Answer yes or no (true or false).")})


# --- reporting -----------------------------------------------------------------------------------
SUMMARY_CHARS = 16  # the words of the description a blank title borrows


def default_title(matter_code: str | None, description: str | None) -> str:
    """A title for a report given without one: the matter's name, '：' and the description's first words,
    at most TITLE_MAX characters ('' without either)."""
    matter = db.session.scalar(select(Matter).where(Matter.code == (matter_code or "")))
    words = " ".join((description or "").split())
    if len(words) > SUMMARY_CHARS:
        words = words[:SUMMARY_CHARS].rstrip() + "…"
    parts = [p for p in ((matter.name if matter else ""), words) if p]
    return "：".join(parts)[:TITLE_MAX]


def report_event(actor: User, *, title, description, matter_code, grid_code=None, location_text=None,
                 source=None, external_ref=None, acting_for=None, campaign_id=None,
                 now: datetime | None = None) -> tuple[Event, bool]:
    """Report an event at grid level of its grid; (the event, whether it was created now).

    An integration user (the 12345 hotline) passes its ticket id as `external_ref`: a repeat with the
    same ref returns the first event and creates nothing, even when the repeats race each other.
    """
    now = now or utcnow()
    errors: dict[str, str] = {}
    external_ref = check_text(errors, "external_ref", external_ref, EXTERNAL_REF_MAX, False, _("Ticket id"))
    if external_ref is not None and actor.role != Role.INTEGRATION:
        errors["external_ref"] = _("Only the hotline integration gives ticket ids.")
    if errors:
        raise EventInvalid(errors)
    if external_ref is not None:
        existing = _existing(actor, external_ref)
        if existing is not None:
            return existing, False

    reporter = actor.role in REPORTER_ROLES
    if reporter and (retry_after := seconds_until_next_report(actor, now)):
        raise EventLimited(_("You have sent many reports in a short time. Please try again later, "
                             "or call your grid worker if it is urgent."), retry_after)
    title = check_text(errors, "title", title, TITLE_MAX, True, _("Title"))
    description = check_text(errors, "description", description, DESCRIPTION_MAX, False, _("Description"))
    location_text = check_text(errors, "location_text", location_text, LOCATION_MAX, False, _("Location"))
    if reporter:  # staff may leave these out (a quick note from patrol); a resident's report needs both
        if description is None and "description" not in errors:
            errors["description"] = _("Say what is wrong.")
        if location_text is None and "location_text" not in errors:
            errors["location_text"] = _("Say where it is, so the grid worker can find it.")
    matter = db.session.scalar(select(Matter).where(Matter.code == str(matter_code or "")))
    if matter is None:
        errors["matter"] = _("Choose a matter from the matter list.")
    elif not matter.admitted:
        errors["matter"] = _("This matter is not admitted to the grid's matter list (准入).")

    allowed = SOURCES_BY_ROLE.get(Role(actor.role), tuple(EventSource))
    source = source or DEFAULT_SOURCE.get(Role(actor.role), EventSource.PATROL)
    if source not in allowed:
        errors["source"] = _("Choose one of the sources: %(choices)s.", choices=", ".join(allowed))

    if reporter and not grid_code:
        grid_code = actor.area_code
    grid = db.session.scalar(select(Area).where(Area.code == str(grid_code or ""), Area.level == AreaLevel.GRID))
    if grid is None:
        errors["grid_code"] = _("Choose an existing grid.")
    elif actor.role in (*STAFF_ROLES, Role.INTEGRATION) and not code_in_scope(actor, grid.code):
        errors["grid_code"] = _("You can only report events in your own area.")
    elif reporter and not grid.code.startswith(actor.area_code or "-"):
        errors["grid_code"] = _("You can report only in your own grid.")

    acting_for = _acting_for(errors, actor, acting_for)
    campaign_id = _campaign(errors, campaign_id, matter, grid, now)
    if errors:
        raise EventInvalid(errors)

    respond_by, reply_by, resolve_by = deadlines_for(matter, now)
    values = dict(title=title, description=description, matter_id=matter.id, grid_code=grid.code,
                  location_text=location_text, source=source, reporter_id=actor.id, acting_for=acting_for,
                  external_ref=external_ref, level=EventLevel.GRID, status=EventStatus.REPORTED,
                  campaign_id=campaign_id, respond_by=respond_by, reply_by=reply_by, resolve_by=resolve_by,
                  created_at=now, updated_at=now)
    if external_ref is None:
        event = Event(**values)
        db.session.add(event)
        db.session.flush()
    else:
        event = _insert_once(actor, values)
        if event is None:  # another request with the same ticket got there first
            return _existing(actor, external_ref), False
    db.session.add(EventStep(event_id=event.id, actor_id=actor.id, action=EventAction.REPORT, from_status=None,
                             to_status=EventStatus.REPORTED, from_level=None, to_level=EventLevel.GRID, at=now))
    db.session.flush()
    event_changed.send(event, action=EventAction.REPORT, actor=actor)
    return event, True


def _existing(actor: User, external_ref: str) -> Event | None:
    event = db.session.scalar(select(Event).where(Event.external_ref == external_ref))
    if event is not None and event.reporter_id != actor.id:
        raise EventConflict(_("Another client already used this ticket id."), code="idempotency_conflict")
    return event


def _insert_once(actor: User, values: dict) -> Event | None:
    """INSERT … ON CONFLICT (external_ref) DO NOTHING: the new event, or None when the ref exists.

    The unique constraint decides between racing requests: on PostgreSQL the loser waits for the
    winner's commit and inserts nothing; SQLite writers are serial anyway.
    """
    dialect = db.session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    event_id = db.session.execute(
        insert(Event).values(**values).on_conflict_do_nothing(index_elements=["external_ref"]).returning(Event.id)
    ).scalar()
    return db.session.get(Event, event_id) if event_id is not None else None


def _acting_for(errors: dict, actor: User, value) -> str | None:
    """帮办代办: staff report for someone — a name, or a census record (its id) in their scope."""
    if value in (None, ""):
        return None
    if actor.role not in STAFF_ROLES:
        errors["acting_for"] = _("Only grid staff report on someone's behalf.")
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        resident = db.session.get(Resident, value) if parse_id(value) else None
        if resident is None or not code_in_scope(actor, resident.grid_code):
            errors["acting_for"] = _("Choose a resident from your own area.")
            return None
        return f"resident:{resident.id}"
    return check_text(errors, "acting_for", value, ACTING_FOR_MAX, False, _("Reported for"))


def _campaign(errors: dict, campaign_id, matter: Matter | None, grid: Area | None, now: datetime) -> int | None:
    """A campaign (专项治理) the event belongs to: running today, covering its grid, of its matter if it names one."""
    if campaign_id in (None, ""):
        return None
    campaign_id = parse_id(campaign_id)
    campaign = db.session.get(Campaign, campaign_id) if campaign_id is not None else None
    if campaign is None:
        errors["campaign_id"] = _("Choose an existing campaign.")
    elif not campaign_running(campaign, now):
        errors["campaign_id"] = _("This campaign is not running today.")
    elif grid is not None and not grid.code.startswith(campaign.area_code):
        errors["campaign_id"] = _("This campaign does not cover the event's grid.")
    elif matter is not None and campaign.matter_id not in (None, matter.id):
        errors["campaign_id"] = _("This campaign is about another matter.")
    else:
        return campaign.id
    return None


def campaign_running(campaign: Campaign, now: datetime | None = None) -> bool:
    """Whether `campaign`'s period covers today."""
    today = (now or utcnow()).date()
    return campaign.starts_on <= today and (campaign.ends_on is None or today <= campaign.ends_on)


def running_campaigns(user: User, now: datetime | None = None) -> list[Campaign]:
    """The campaigns an event `user` reports may join: running today and set for their area or one above it."""
    today = (now or utcnow()).date()
    query = (select(Campaign).where(Campaign.starts_on <= today,
                                    or_(Campaign.ends_on.is_(None), Campaign.ends_on >= today))
             .order_by(Campaign.name))
    return list(db.session.scalars(apply_reach(query, Campaign, user)))


# --- the transitions -----------------------------------------------------------------------------
def _move(event: Event, actor: User | None, action: EventAction, *, note=None, to_level=None, department_id=None,
          now: datetime | None = None, **values) -> Event:
    """Apply one transition as a conditional UPDATE and record it; EventConflict when someone got there first."""
    transition = TRANSITIONS[action]
    now = now or utcnow()
    source, level = event.status, event.level
    target = transition.target or source
    to_level = to_level or level
    if action in REPLIES:
        values["replied_at"] = func.coalesce(Event.replied_at, now)
    result = db.session.execute(
        update(Event)
        .where(Event.id == event.id, Event.status == source, Event.level == level)
        .values(status=target, level=to_level, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.refresh(event)
        raise EventConflict(_("Someone else changed this event meanwhile: %(now)s",
                              now=_conflict_message(event)))
    db.session.add(EventStep(event_id=event.id, actor_id=actor.id if actor is not None else None, action=action,
                             from_status=source, to_status=target, from_level=level, to_level=to_level,
                             department_id=department_id, note=note, at=now))
    settled = SETTLES.get(action, ()) + ((SlaDeadline.REPLY,) if action in REPLIES else ())
    if settled:
        db.session.execute(
            update(Supervision).where(Supervision.event_id == event.id, Supervision.deadline.in_(settled),
                                      Supervision.resolved_at.is_(None))
            .values(resolved_at=now).execution_options(synchronize_session=False))
    db.session.flush()
    db.session.refresh(event)
    event_changed.send(event, action=action, actor=actor)
    return event


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
    return _move(event, actor, EventAction.ESCALATE, note=reason, to_level=to_level, now=now,
                 major=event.major or major)


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
    departments = {d.code: d for d in db.session.scalars(
        select(Department).where(Department.code.in_(codes), Department.active.is_(True)))}
    unknown = [c for c in codes if c not in departments]
    if unknown:
        raise EventInvalid({"departments": _("Unknown departments: %(codes)s.", codes=", ".join(unknown[:10]))})
    existing = {d.department_id: d for d in event.dispatches}
    pending = [c for c in codes if existing.get(departments[c].id) is not None
               and existing[departments[c].id].status == DispatchStatus.PENDING]
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
        dispatch.status, dispatch.dispatched_by_id, dispatch.dispatched_at = DispatchStatus.PENDING, actor.id, now
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
        update(Dispatch).where(Dispatch.id == dispatch.id, Dispatch.status != DispatchStatus.DONE)
        .values(status=DispatchStatus.DONE if done else DispatchStatus.ANSWERED, answer_note=note,
                answered_at=now, done_at=now if done else None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise EventConflict(_("Your department has already finished its part of this event."))
    _move(event, actor, EventAction.ANSWER, note=note, department_id=dispatch.department_id, now=now)
    db.session.refresh(dispatch)
    return dispatch


def resolve_event(actor: User, event: Event, note, *, now=None) -> Event:
    """The handler reports the event solved: only once every dispatched department has finished."""
    check_action(actor, event, EventAction.RESOLVE)
    note = _single_text("note", note, _("Note"), required=True)
    waiting = db.session.scalar(select(func.count()).select_from(Dispatch).where(
        Dispatch.event_id == event.id, Dispatch.status != DispatchStatus.DONE)) or 0
    if waiting:
        raise EventConflict(_("%(n)d dispatched departments have not finished yet.", n=waiting),
                            code="dispatches_open")
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
        try:  # records the task; "unsatisfied" comes back through REOPEN below
            callbacks.record_callback(actor, task, satisfied, note)
        except EventError:
            raise
        except WishError as error:  # the task was recorded meanwhile
            raise EventConflict(error.message) from None
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


def _reopen_from_task(actor, task, note: str) -> None:
    reopen_event(actor, db.session.get(Event, task.subject_id), note)


def _close_from_task(actor, task, note) -> None:
    event = db.session.get(Event, task.subject_id)
    check_action(actor, event, EventAction.CLOSE)
    now = utcnow()
    _move(event, actor, EventAction.CLOSE, note=note, now=now, closed_at=now)


callbacks.REOPEN.setdefault(CallbackSubject.EVENT, _reopen_from_task)
callbacks.SATISFIED.setdefault(CallbackSubject.EVENT, _close_from_task)


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
}


# the state machine's verbs as interfaces name them: a failed check and an unsatisfied callback are
# the same verb as their happy twin
INTERFACE_ACTION = {EventAction.VERIFY_FAIL: "verify", EventAction.CLOSE: "callback", EventAction.REOPEN: "callback"}


def interface_actions(user, event: Event) -> list[str]:
    """The interface verbs (keys of ACTIONS) `user` may use on `event` now, in lifecycle order."""
    names = [INTERFACE_ACTION.get(a, str(a)) for a in available_actions(user, event)]
    return [name for name in dict.fromkeys(names) if name in ACTIONS]


def perform(actor: User, event: Event, action: str, **values):
    """Run the interface action named `action` (the API's and the back office's verbs) with its values."""
    if action not in ACTIONS:
        raise EventConflict(_("Unknown action."), code="unknown_action")
    return ACTIONS[action](actor, event, values)


# --- demo data -----------------------------------------------------------------------------------
# (title, matter, location, how far along the ladder the demo takes it)
DEMO_EVENTS = [
    ("3号楼楼道堆放杂物堵塞消防通道", "AQ-001", "文汇社区A区3号楼2单元", "reported"),
    ("小区门口夜市油烟扰民", "HJ-002", "文汇社区A区北门", "accepted"),
    ("垃圾箱三天未清运", "HW-001", "文汇社区A区5号楼旁", "in_progress"),
    ("沿街商户占道经营", "HW-002", "文汇路与渭阳西路十字东南角", "dispatched"),
    ("电梯频繁停运困人", "WY-002", "文汇社区A区1号楼", "verified"),
    ("邻里噪声纠纷", "WD-001", "文汇社区A区2号楼302室", "archived"),
]


def seed_events() -> None:
    """A handful of events at different stages of the ladder (once: only into an empty event list)."""
    if db.session.scalar(select(Event.id).limit(1)) is not None:
        return
    users = {u.username: u for u in db.session.scalars(select(User).where(
        User.username.in_(("grid", "community", "street", "dept", "resident"))))}
    if len(users) < 5:
        return
    grid, community, street, dept = users["grid"], users["community"], users["street"], users["dept"]
    stages = ["reported", "accepted", "in_progress", "dispatched", "verified", "archived"]
    for n, (title, matter, location, stage) in enumerate(DEMO_EVENTS):
        reporter = users["resident"] if n % 2 else grid
        event, _created = report_event(reporter, title=title, description=title, matter_code=matter,
                                       grid_code=grid.area_code, location_text=location)
        reached = stages.index(stage)
        if reached >= 1:
            accept_event(grid, event)
        if reached >= 2:
            start_event(grid, event, "已到现场查看。")
        if stage == "dispatched":
            escalate_event(grid, event, "涉及执法，网格无法处置。")
            escalate_event(community, event, "需街道协调执法部门。")
            dispatch_event(street, event, [dept.department.code])
        if reached >= 4:
            resolve_event(grid, event, "已协调处理完毕。")
            verify_event(grid, event, True, "现场核实已解决。")
        if reached >= 5:
            callback_event(grid, event, True, "居民表示满意。")
            archive_event(community, event, 5)

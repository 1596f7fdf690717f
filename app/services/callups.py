"""Emergency call-ups (社区吹哨、党员报到): staff raise one to an area's checked-in members, who answer, check in at
the muster point, get their tasks from the grid leader, and are credited the hours when it is closed.

A call-up is `open` until closed (arrived members credited `hours` once, a certificate each when hours were
set) or cancelled; both are steps of the workflow engine (a conditional UPDATE: of two closes one wins, the
other is a 409). Answers, check-ins, arrivals and tasks are steps that keep the call-up open: checked by
the same machine (a closed call-up refuses them with a 409), written to the member's row of the roll.
Who is who: app/services/callup_access.py; the roll and the figures: app/services/callup_roll.py.
Functions flush and never commit: the caller owns the transaction.
"""

import hmac
import secrets

from flask_babel import gettext as _
from sqlalchemy import exists, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.ids import parse_id
from app.models import Member
from app.models.base import utcnow
from app.models.callups import (
    REASON_MAX,
    TASK_MAX,
    TOKEN_MAX,
    Callup,
    CallupResponse,
)
from app.models.choices import CALLUP_STATUS_LABELS, ArrivalVia, CallupAnswer, CallupStatus
from app.services import audit, callup_values, certificates, workflow
from app.services.callup_access import (  # noqa: F401 (the call-up's API: who is who)
    area_member,
    area_members,
    can_manage,
    get_for,
    is_muster_lead,
    may_lead,
    may_raise,
    refusal,
    visible_condition,
)
from app.services.callup_roll import (  # noqa: F401 (the call-up's API: the roll, its answer, the listings)
    as_json,
    figures,
    open_for_member,
    roll,
    visible_query,
)
from app.services.errors import Conflict, Forbidden, Invalid
from app.services.signals import callup_changed
from app.services.text import single_text

RESPOND, CHECK_IN, MARK_ARRIVED, ASSIGN, CLOSE, CANCEL = (
    "respond",
    "check_in",
    "mark_arrived",
    "assign",
    "close",
    "cancel",
)
RAISE = "raise"


def _conflict(callup, _transition=None) -> str:
    return _(
        "This call-up is now “%(status)s”; that is not possible any more.",
        status=CALLUP_STATUS_LABELS.get(callup.status, callup.status),
    )


def _close_step(action):
    def run(actor, callup, values):
        return close(actor, callup.id) if action == CLOSE else cancel(actor, callup.id, values.get("reason"))

    return run


OPEN = (CallupStatus.OPEN,)
MACHINE = workflow.Machine(
    name="callup",
    model=Callup,
    step_model=None,
    subject_key="",
    transitions={
        RESPOND: workflow.Transition(RESPOND, OPEN, None, "member"),
        CHECK_IN: workflow.Transition(CHECK_IN, OPEN, None, "member"),
        MARK_ARRIVED: workflow.Transition(MARK_ARRIVED, OPEN, None, "lead"),
        ASSIGN: workflow.Transition(ASSIGN, OPEN, None, "lead"),
        CLOSE: workflow.Transition(CLOSE, OPEN, CallupStatus.CLOSED, "manager"),
        CANCEL: workflow.Transition(CANCEL, OPEN, CallupStatus.CANCELLED, "manager"),
    },
    refusal=refusal,
    conflict_message=_conflict,
    lost_message=_conflict,
    signal=callup_changed,
    states=tuple(CallupStatus),
    user_actions=(CLOSE, CANCEL),
    steps={CLOSE: _close_step(CLOSE), CANCEL: _close_step(CANCEL)},
)


def actions(user, callup: Callup) -> list[str]:
    """The verbs (close, cancel) `user` may use on the call-up now, for buttons."""
    return workflow.interface_actions(MACHINE, user, callup)


# --- raising ----------------------------------------------------------------------------------------
def raise_callup(
    actor, *, area_code, title, details, muster_point, needed, starts_at, hours=None, grid_code=None
) -> Callup:
    """Call the active checked-in members of a grid, community or street to a muster point.

    Every member of the area is put on the roll (one INSERT … SELECT); the notifications follow the commit
    (the reaction to `callup_changed` "raise": the leads first, then the members).
    """
    area = callup_values.area(actor, area_code)
    now = utcnow()
    values = callup_values.checked(
        area,
        now,
        title=title,
        details=details,
        muster_point=muster_point,
        needed=needed,
        starts_at=starts_at,
        hours=hours,
        grid_code=grid_code,
    )
    callup = Callup(
        area_code=area.code,
        status=CallupStatus.OPEN,
        checkin_token=secrets.token_urlsafe(24),
        raised_by_id=actor.id,
        created_at=now,
        updated_at=now,
        **values,
    )
    db.session.add(callup)
    db.session.flush()
    on_roll = select(literal(callup.id), Member.id, literal(False)).where(area_members(area.code))
    db.session.execute(
        insert(CallupResponse.__table__).from_select(["callup_id", "member_id", "credited"], on_roll)
    )
    callup.called = db.session.scalar(
        select(func.count()).select_from(CallupResponse).where(CallupResponse.callup_id == callup.id)
    )
    db.session.flush()
    audit.record(actor, "create", callup, None, audit.snapshot(callup))
    callup_changed.send(callup, action=RAISE, actor=actor)
    return callup


# --- the roll: answers, arrivals, tasks ------------------------------------------------------------------
def _still_open(callup: Callup) -> None:
    """Hold the call-up open while this step writes (PostgreSQL: FOR SHARE, so a close waits for it)."""
    status = db.session.scalar(select(Callup.status).where(Callup.id == callup.id).with_for_update(read=True))
    if status != CallupStatus.OPEN:
        db.session.refresh(callup)
        raise Conflict(_conflict(callup))


def _row(callup: Callup, member_id: int) -> CallupResponse:
    """The member's row of the roll, made when they joined the area after the call-up was raised."""
    query = select(CallupResponse).where(
        CallupResponse.callup_id == callup.id, CallupResponse.member_id == member_id
    )
    response = db.session.scalar(query.with_for_update())
    if response is not None:
        return response
    try:
        with db.session.begin_nested():
            db.session.add(CallupResponse(callup_id=callup.id, member_id=member_id, credited=False))
    except IntegrityError:  # made meanwhile by their other request
        pass
    return db.session.scalar(query.with_for_update())


def _write(callup: Callup, response: CallupResponse, guard: tuple, **values) -> bool:
    """Write the member's row in one UPDATE that also requires the call-up open (and `guard`), so no write lands
    after a close (SQLite: the UPDATE runs under the one write lock); False when `guard` did not hold."""
    still_open = exists().where(Callup.id == callup.id, Callup.status == CallupStatus.OPEN)
    db.session.flush()
    written = db.session.execute(
        update(CallupResponse)
        .where(CallupResponse.id == response.id, still_open, *guard)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(response)
    if written != 1:
        db.session.refresh(callup)
        if callup.status != CallupStatus.OPEN:
            raise Conflict(_conflict(callup))
    return written == 1


def _audit(actor, callup: Callup, action: str, response: CallupResponse, before: dict, **values) -> None:
    audit.record_step(
        actor,
        callup,
        action,
        {"status": callup.status, **before},
        {"status": callup.status},
        values={"member_id": response.member_id, **values},
        at=utcnow(),
    )


def respond(actor, callup_id, answer) -> CallupResponse:
    """A member of the area answers: coming or cannot. Answering again keeps the last answer; once arrived,
    "cannot" is refused."""
    callup = get_for(actor, callup_id)
    workflow.check(MACHINE, actor, callup, RESPOND)
    if answer not in (CallupAnswer.COMING.value, CallupAnswer.CANNOT.value):
        raise Invalid({"answer": _("Answer “coming” or “cannot”.")})
    member = area_member(actor, callup)
    _still_open(callup)
    response = _row(callup, member.id)
    if response.arrived_at is not None and answer == CallupAnswer.CANNOT:
        raise Conflict(_("You have checked in already."), code="already_arrived")
    before = {"answer": response.answer}
    guard = (CallupResponse.arrived_at.is_(None),) if answer == CallupAnswer.CANNOT else ()
    if not _write(callup, response, guard, answer=answer, answered_at=utcnow()):
        raise Conflict(_("You have checked in already."), code="already_arrived")
    _audit(actor, callup, RESPOND, response, before, answer=answer)
    return response


def _arrive(actor, callup: Callup, response: CallupResponse, via: str, action: str) -> CallupResponse:
    if response.arrived_at is not None:
        return response  # arrived once: the first arrival stands
    now = utcnow()
    before = {"answer": response.answer, "arrived_at": None}
    values = {
        "arrived_at": now,
        "arrived_via": via,
        "marked_by_id": actor.id if via == ArrivalVia.STAFF else None,
    }
    if response.answer != CallupAnswer.COMING:  # arriving is coming
        values.update(answer=CallupAnswer.COMING, answered_at=now)
    if not _write(callup, response, (CallupResponse.arrived_at.is_(None),), **values):
        return response  # arrived meanwhile (their other request): the first arrival stands
    _audit(actor, callup, action, response, before, arrived_via=str(via))
    return response


def check_in(actor, callup_id, token) -> CallupResponse:
    """A member of the area checks in at the muster point with the token of the call-up's QR code."""
    callup = get_for(actor, callup_id)
    workflow.check(MACHINE, actor, callup, CHECK_IN)
    given = token.strip() if isinstance(token, str) else ""
    if not given or len(given) > TOKEN_MAX or not given.isascii():
        given = "-"
    if not hmac.compare_digest(given.encode(), callup.checkin_token.encode()):
        raise Forbidden(
            _("This is not the call-up's check-in code: scan the QR code shown at the muster point."),
            code="wrong_token",
        )
    member = area_member(actor, callup)
    _still_open(callup)
    return _arrive(actor, callup, _row(callup, member.id), ArrivalVia.QR, CHECK_IN)


def _roll_member(callup: Callup, member_id) -> Member:
    member_id = parse_id(member_id)
    member = None
    if member_id is not None:
        member = db.session.scalar(
            select(Member).where(Member.id == member_id, area_members(callup.area_code))
        )
    if member is None:
        raise Invalid({"member_id": _("Choose a checked-in member of the call-up's area.")})
    return member


def mark_arrived(actor, callup_id, member_id) -> CallupResponse:
    """Staff of the area (or the muster grid's captain or leader) mark a member of the area arrived."""
    callup = get_for(actor, callup_id)
    workflow.check(MACHINE, actor, callup, MARK_ARRIVED)
    member = _roll_member(callup, member_id)
    _still_open(callup)
    return _arrive(actor, callup, _row(callup, member.id), ArrivalVia.STAFF, MARK_ARRIVED)


def assign_task(actor, callup_id, member_id, task) -> CallupResponse:
    """The grid leader (or staff of the area) gives an arrived member their task; a new task replaces it."""
    callup = get_for(actor, callup_id)
    workflow.check(MACHINE, actor, callup, ASSIGN)
    member = _roll_member(callup, member_id)
    task = single_text("task", task, _("Task"), Invalid, required=True, max_length=TASK_MAX)
    _still_open(callup)
    response = _row(callup, member.id)
    if response.arrived_at is None:
        raise Conflict(_("Tasks go to members who have arrived."), code="not_arrived")
    before = {"task": response.task}
    _write(callup, response, (), task=task, assigned_at=utcnow(), assigned_by_id=actor.id)
    _audit(actor, callup, ASSIGN, response, before, task=task)
    return response


# --- closing ------------------------------------------------------------------------------------------
def close(actor, callup_id) -> Callup:
    """Close the call-up: its figures archived, arrived members credited `hours` once (a certificate each,
    through the certificate job, when hours were set). A second close is a conflict (409)."""
    callup = get_for(actor, callup_id)
    workflow.check(MACHINE, actor, callup, CLOSE)
    now = utcnow()
    numbers = figures(callup)
    workflow.move(
        MACHINE,
        callup,
        actor,
        CLOSE,
        now=now,
        closed_at=now,
        closed_by_id=actor.id,
        first_arrival_at=numbers["first_arrival_at"],
        needed_reached_at=numbers["needed_reached_at"],
        coming_count=numbers["coming"],
        cannot_count=numbers["cannot"],
        arrived_count=numbers["arrived"],
    )
    if callup.hours is not None:
        _credit(callup)
        if callup.hours > 0:
            certificates.issue_callup_certificates(callup)
    return callup


def _credit(callup: Callup) -> None:
    """Add the hours to every arrived member not credited yet, and mark them credited: set-based, once."""
    arrived = select(CallupResponse.member_id).where(
        CallupResponse.callup_id == callup.id,
        CallupResponse.arrived_at.isnot(None),
        CallupResponse.credited.is_(False),
    )
    db.session.execute(
        update(Member)
        .where(Member.id.in_(arrived))
        .values(service_hours=Member.service_hours + callup.hours)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(CallupResponse)
        .where(
            CallupResponse.callup_id == callup.id,
            CallupResponse.arrived_at.isnot(None),
            CallupResponse.credited.is_(False),
        )
        .values(credited=True)
        .execution_options(synchronize_session=False)
    )
    for member in [o for o in db.session.identity_map.values() if isinstance(o, Member)]:
        db.session.expire(member, ["service_hours"])


def cancel(actor, callup_id, reason) -> Callup:
    """Call the call-up off, saying why; nobody is credited."""
    callup = get_for(actor, callup_id)
    workflow.check(MACHINE, actor, callup, CANCEL)
    reason = single_text("reason", reason, _("Reason"), Invalid, required=True, max_length=REASON_MAX)
    now = utcnow()
    return workflow.move(
        MACHINE,
        callup,
        actor,
        CANCEL,
        note=reason,
        now=now,
        closed_at=now,
        closed_by_id=actor.id,
        cancel_reason=reason,
    )

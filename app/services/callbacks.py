"""Callbacks (回访): a task falls due when a wish is confirmed; staff record whether the requester is satisfied.

"Unsatisfied" sends the wish back to its member (services.wishes.reopen_wish). Functions flush and
never commit: the caller owns the transaction.
"""

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from app.extensions import db
from app.ids import parse_id
from app.models import User, Wish, WishStep
from app.models.base import aware, utcnow
from app.models.callbacks import CallbackOutcome, CallbackStatus, CallbackSubject, CallbackTask
from app.models.choices import STAFF_ROLES, Role, WishAction
from app.services import wishes, workflow
from app.services.errors import Invalid
from app.services.scope import code_in_scope, scope_condition
from app.services.text import single_text

DEFAULT_DELAY_HOURS = 24  # CALLBACK_DELAY_HOURS: from the confirmation to the call
DEFAULT_OVERDUE_HOURS = 24  # CALLBACK_OVERDUE_HOURS: from due to overdue


def _hours(name: str, default: float) -> timedelta:
    return timedelta(hours=float(current_app.config.get(name, default)))


# --- scheduling ------------------------------------------------------------------------------------
def grid_worker_of(grid_code: str) -> int | None:
    """The id of the active grid worker of a grid (the first, when it has several), or None."""
    return db.session.scalar(
        select(User.id)
        .where(User.role == Role.GRID_WORKER, User.area_code == grid_code, User.active.is_(True))
        .order_by(User.id)
        .limit(1)
    )


def schedule_callback(
    subject_type: str,
    subject_id: int,
    grid_code: str,
    *,
    wish_id: int | None = None,
    now: datetime | None = None,
) -> CallbackTask:
    """Open the next callback task of a subject, due CALLBACK_DELAY_HOURS from now, for its grid worker."""
    now = now or utcnow()
    cycle = (
        db.session.scalar(
            select(func.max(CallbackTask.cycle)).where(
                CallbackTask.subject_type == subject_type, CallbackTask.subject_id == subject_id
            )
        )
        or 0
    )
    task = CallbackTask(
        subject_type=subject_type,
        subject_id=subject_id,
        cycle=cycle + 1,
        wish_id=wish_id,
        grid_code=grid_code,
        assignee_id=grid_worker_of(grid_code),
        status=CallbackStatus.DUE,
        due_at=now + _hours("CALLBACK_DELAY_HOURS", DEFAULT_DELAY_HOURS),
        created_at=now,
    )
    db.session.add(task)
    db.session.flush()
    return task


def open_task(subject_type: str, subject_id: int) -> CallbackTask | None:
    return db.session.scalar(
        select(CallbackTask).where(
            CallbackTask.subject_type == subject_type,
            CallbackTask.subject_id == subject_id,
            CallbackTask.status == CallbackStatus.DUE,
        )
    )


def latest_task(subject_type: str, subject_id: int) -> CallbackTask | None:
    """The subject's most recent callback, open or recorded."""
    return db.session.scalar(
        select(CallbackTask)
        .where(CallbackTask.subject_type == subject_type, CallbackTask.subject_id == subject_id)
        .order_by(CallbackTask.cycle.desc())
        .limit(1)
    )


def on_wish_changed(wish: Wish, action=None, actor=None, **_kwargs) -> None:
    """A confirmed wish gets a callback; a wish reopened some other way closes its open one."""
    if action in (WishAction.CONFIRM, WishAction.AUTO_CONFIRM):
        schedule_callback(CallbackSubject.WISH, wish.id, wish.grid_code, wish_id=wish.id)
    elif action == WishAction.REOPEN:
        task = open_task(CallbackSubject.WISH, wish.id)
        if task is not None:  # record_callback closes its task before reopening; anything else lands here
            reason = db.session.scalar(
                select(WishStep.note)
                .where(WishStep.wish_id == wish.id, WishStep.action == WishAction.REOPEN)
                .order_by(WishStep.id.desc())
            )
            _close(task, actor, CallbackOutcome.UNSATISFIED, reason or "-")


# --- reading ---------------------------------------------------------------------------------------
def can_record(user, task: CallbackTask) -> bool:
    """Staff whose scope covers the task's grid: its grid worker, community, street or district staff."""
    return user is not None and user.role in STAFF_ROLES and code_in_scope(user, task.grid_code)


def get_task(user, task_id) -> CallbackTask | None:
    """The task when it lies in `user`'s scope, else None (the caller answers 404)."""
    task_id = parse_id(task_id)
    task = db.session.get(CallbackTask, task_id) if task_id is not None else None
    return task if task is not None and can_record(user, task) else None


def is_due(task: CallbackTask, now: datetime | None = None) -> bool:
    """Open, and its time has come."""
    return task.status == CallbackStatus.DUE and (now or utcnow()) >= aware(task.due_at)


def is_overdue(task: CallbackTask, now: datetime | None = None) -> bool:
    """Open, and still not made CALLBACK_OVERDUE_HOURS after it fell due."""
    return is_due(task, now) and (now or utcnow()) >= aware(task.due_at) + _hours(
        "CALLBACK_OVERDUE_HOURS", DEFAULT_OVERDUE_HOURS
    )


def overdue_cutoff(now: datetime | None = None) -> datetime:
    """Open tasks due before this moment are overdue."""
    return (now or utcnow()) - _hours("CALLBACK_OVERDUE_HOURS", DEFAULT_OVERDUE_HOURS)


def due_count(user, now: datetime | None = None) -> int:
    """How many open callbacks in `user`'s scope have fallen due (for the back-office home)."""
    query = (
        select(func.count())
        .select_from(CallbackTask)
        .where(CallbackTask.status == CallbackStatus.DUE, CallbackTask.due_at <= (now or utcnow()))
    )
    condition = scope_condition(CallbackTask, user)
    return db.session.scalar(query if condition is None else query.where(condition)) or 0


# --- the machine: an open task is recorded once, by staff whose scope covers its grid ---------------
RECORD = "record"


def _refusal(user, task: CallbackTask, _kind: str, _context=None) -> str | None:
    if can_record(user, task):
        return None
    return _("Only the grid staff responsible for this grid may record its callbacks.")


def _recorded(_task=None, _transition=None) -> str:
    return _("This callback has already been recorded.")


# the task row itself records who and when (no history table), and what follows is the subject's
MACHINE = workflow.Machine(
    name="callback",
    model=CallbackTask,
    step_model=None,
    subject_key="",
    signal=None,
    transitions={RECORD: workflow.Transition(RECORD, (CallbackStatus.DUE,), CallbackStatus.DONE, "staff")},
    refusal=_refusal,
    conflict_message=_recorded,
    lost_message=_recorded,
    states=tuple(CallbackStatus),
)


# --- recording -------------------------------------------------------------------------------------
def _note(value, required: bool) -> str | None:
    note = single_text("note", value, _("Note"), Invalid)
    if required and not note:
        raise Invalid({"note": _("Say what the resident is unsatisfied with.")})
    return note


def _close(task: CallbackTask, actor, outcome: CallbackOutcome, note: str | None) -> None:
    """Mark an open task recorded; Conflict when someone recorded it first."""
    workflow.move(
        MACHINE,
        task,
        actor,
        RECORD,
        columns={"note": note},
        outcome=outcome,
        recorded_at=utcnow(),
        recorded_by_id=getattr(actor, "id", None),
    )


def close_unsatisfied(subject_type: str, subject_id: int, actor, note: str) -> None:
    """The subject was reopened some other way (its reporter said "not fixed"): its open task, if any, is
    recorded unsatisfied with those words."""
    task = open_task(subject_type, subject_id)
    if task is not None:
        _close(task, actor, CallbackOutcome.UNSATISFIED, note or "-")


def record_callback(actor, task: CallbackTask, satisfied: bool, note=None) -> CallbackTask:
    """Record how the callback went; "unsatisfied" (with a note) reopens the wish: back to its member, hours back."""
    workflow.check(MACHINE, actor, task, RECORD)
    note = _note(note, required=not satisfied)
    outcome = CallbackOutcome.SATISFIED if satisfied else CallbackOutcome.UNSATISFIED
    _close(task, actor, outcome, note)
    subject = CallbackSubject(task.subject_type)
    if subject not in FOLLOW_UPS:
        raise RuntimeError(
            f"no follow-up declared for {subject} callbacks: app.reactions.wire_reactions() "
            "declares them (create_app calls it)"
        )
    follow_up = FOLLOW_UPS[subject][0 if satisfied else 1]
    if follow_up is not None:
        follow_up(actor, task, note)
    db.session.flush()
    return task


def reopen_wish_from_task(actor, task: CallbackTask, note: str) -> None:
    """An unsatisfied callback sends its wish back to its member."""
    wishes.reopen_wish(actor, db.session.get(Wish, task.wish_id), note)


# what a recorded callback does to its subject: {subject: (when satisfied, when unsatisfied)}, each
# (actor, task, note) -> None or None for nothing. Declared by app.reactions (the subjects' services
# import this module, so it cannot import theirs), never patched in when a module is imported.
FOLLOW_UPS: dict = {}


def declare_follow_ups(subject: CallbackSubject, *, satisfied, unsatisfied) -> None:
    """Say what a satisfied and an unsatisfied callback of `subject` do (app.reactions calls this)."""
    FOLLOW_UPS[CallbackSubject(subject)] = (satisfied, unsatisfied)


# --- reminders -------------------------------------------------------------------------------------
def remind_due_callbacks(now: datetime | None = None) -> int:
    """Mark the open tasks that have fallen due since the last sweep; how many (idempotent)."""
    now = now or utcnow()
    result = db.session.execute(
        update(CallbackTask)
        .where(
            CallbackTask.status == CallbackStatus.DUE,
            CallbackTask.due_at <= now,
            CallbackTask.reminded_at.is_(None),
        )
        .values(reminded_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return result.rowcount

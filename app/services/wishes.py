"""The micro-wish workflow (docs/workflows.md#micro-wishes): one machine for the board, back office, API and jobs.

The engine (app.services.workflow) makes every step one conditional UPDATE (`… WHERE id = :id AND
status IN (:sources)`), so when many people act on one wish at once exactly one wins and the others
get a `Conflict`. Who is who lives in app.services.wish_access, posting in app.services.wish_intake.
Functions flush and never commit: the caller owns the transaction.
"""

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import Member, User, Wish, WishStep
from app.models.base import utcnow
from app.models.choices import RATING_LABELS, WISH_STATUS_LABELS, Rating, WishAction, WishStatus
from app.models.wishes import NOTE_MAX
from app.services import audit, workflow
from app.services.errors import Conflict, DomainError, Forbidden, Invalid
from app.services.signals import wish_changed
from app.services.text import check_text, single_text

# who is who, reading and posting live in their own modules; callers know their names from here too
from app.services.wish_access import (
    CLAIM_SCOPE_PREFIX,  # noqa: F401
    active_claims,  # noqa: F401
    can_see_notes,  # noqa: F401
    claim_limit_guard,
    claim_prefix,  # noqa: F401
    get_visible_wish,  # noqa: F401
    is_owner,  # noqa: F401
    is_staff_for,  # noqa: F401
    lock_member,
    member_for,
    refusal,
    visible_condition,  # noqa: F401
)
from app.services.wish_deadlines import current_deadline, deadline_now, is_overdue  # noqa: F401
from app.services.wish_intake import (
    active_categories,  # noqa: F401
    submit_wish,
)
from app.services.workflow import Transition

# the wish's names for the one refusal hierarchy (app.services.errors)
WishError, WishConflict, WishForbidden, WishInvalid = DomainError, Conflict, Forbidden, Invalid

MIN_HOURS, MAX_HOURS = Decimal("0.5"), Decimal(24)

TRANSITIONS = {
    t.action: t
    for t in (
        Transition(WishAction.PUBLISH, (WishStatus.SUBMITTED,), WishStatus.PUBLISHED, "staff"),
        Transition(WishAction.REJECT, (WishStatus.SUBMITTED,), WishStatus.REJECTED, "staff"),
        Transition(
            WishAction.CANCEL, (WishStatus.SUBMITTED, WishStatus.PUBLISHED), WishStatus.CANCELLED, "owner"
        ),
        Transition(WishAction.CLAIM, (WishStatus.PUBLISHED,), WishStatus.CLAIMED, "member"),
        Transition(WishAction.RELEASE, (WishStatus.CLAIMED,), WishStatus.PUBLISHED, "claimer_or_staff"),
        Transition(WishAction.COMPLETE, (WishStatus.CLAIMED,), WishStatus.DONE, "claimer"),
        Transition(WishAction.CONFIRM, (WishStatus.DONE,), WishStatus.CONFIRMED, "owner"),
        Transition(WishAction.DISPUTE, (WishStatus.DONE,), WishStatus.CLAIMED, "owner"),
        Transition(WishAction.AUTO_CONFIRM, (WishStatus.DONE,), WishStatus.CONFIRMED, "system"),
        # a callback (回访) found the resident unsatisfied: the work goes back to its member
        Transition(WishAction.REOPEN, (WishStatus.CONFIRMED,), WishStatus.CLAIMED, "staff"),
        # the owner edits a rejected wish and sends it to review again (app.services.resident_say)
        Transition(WishAction.RESUBMIT, (WishStatus.REJECTED,), WishStatus.SUBMITTED, "owner"),
    )
}
# what people do on the board, the back office and the API; reopening happens through a callback
USER_ACTIONS = tuple(a for a, t in TRANSITIONS.items() if t.actor != "system" and a != WishAction.REOPEN)


def _setting(name: str):
    return current_app.config[name]


def _conflict_message(wish: Wish, transition: Transition) -> str:
    if transition.action == WishAction.CLAIM and wish.status in (
        WishStatus.CLAIMED,
        WishStatus.DONE,
        WishStatus.CONFIRMED,
    ):
        return _("Someone else has already claimed this wish.")
    return _(
        "This wish is now “%(status)s”; that step is not possible from there.",
        status=WISH_STATUS_LABELS[WishStatus(wish.status)],
    )


# --- the checks ----------------------------------------------------------------------------------
def check_action(user, wish: Wish, action: WishAction, member: Member | None = None) -> None:
    """Raise Forbidden for a wrong actor, Conflict for a wrong state; return when allowed.

    `member` is the user's member profile when the caller has it; it is looked up otherwise.
    """
    member = member if member is not None else member_for(user)
    workflow.check(MACHINE, user, wish, WishAction(action), member)


def can(user, wish: Wish, action: WishAction, member: Member | None = None) -> bool:
    """Whether `user` may take `action` on `wish` now (for showing buttons); `member` as in check_action."""
    member = member if member is not None else member_for(user)
    return workflow.can(MACHINE, user, wish, WishAction(action), member)


def available_actions(user, wish: Wish, member: Member | None = None) -> list[WishAction]:
    """The actions `user` may take on `wish` now, in the order of the lifecycle.

    Lists pass the user's `member` profile, looked up once, rather than once per wish.
    """
    member = member if member is not None else member_for(user)
    return workflow.available_actions(MACHINE, user, wish, member)


# --- validation of values ------------------------------------------------------------------------
def _single_text(field: str, value, label: str, required: bool = False) -> str | None:
    return single_text(field, value, label, Invalid, required)


def parse_hours(value) -> Decimal:
    """Service hours from a form or JSON value: 0.5 to 24, at most one decimal place."""
    try:
        hours = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise WishInvalid({"hours": _("Enter the hours as a number, e.g. 1.5.")}) from None
    if not hours.is_finite() or hours < MIN_HOURS or hours > MAX_HOURS:
        raise WishInvalid(
            {"hours": _("Hours must be between %(min)s and %(max)s.", min=MIN_HOURS, max=MAX_HOURS)}
        )
    if hours != hours.quantize(Decimal("0.1")):
        raise WishInvalid({"hours": _("Hours take at most one decimal place, e.g. 1.5.")})
    return hours.quantize(Decimal("0.1"))


# --- posting -------------------------------------------------------------------------------------
def post_wish(
    actor: User, *, title, description, category_code, grid_code=None, resident_id=None, publish: bool = False
) -> Wish:
    """A resident posts a wish for themself; grid staff post one for a resident (帮办代办).

    Staff may publish it at once (`publish=True`): two steps are recorded, post then publish. Audited.
    """
    wish = submit_wish(
        actor,
        title=title,
        description=description,
        category_code=category_code,
        grid_code=grid_code,
        resident_id=resident_id,
    )
    audit.record(actor, "create", wish, None, audit.snapshot(wish))
    if publish:
        publish_wish(actor, wish)
    return wish


# --- the transitions -----------------------------------------------------------------------------
def _move(wish: Wish, actor: User | None, action: WishAction, note: str | None = None, **values) -> Wish:
    """Apply one transition through the engine (`values`: its columns, guard …); WishConflict when someone got
    there first."""
    return workflow.move(MACHINE, wish, actor, action, note=note, **values)


def publish_wish(actor: User, wish: Wish) -> Wish:
    """Grid staff put a submitted wish on the public board."""
    check_action(actor, wish, WishAction.PUBLISH)
    return _move(wish, actor, WishAction.PUBLISH, published_at=utcnow(), reject_reason=None)


def reject_wish(actor: User, wish: Wish, reason) -> Wish:
    """Grid staff turn a submitted wish down, saying why."""
    check_action(actor, wish, WishAction.REJECT)
    reason = _single_text("reason", reason, _("Reason"), required=True)
    return _move(wish, actor, WishAction.REJECT, note=reason, reject_reason=reason)


def cancel_wish(actor: User, wish: Wish, note=None) -> Wish:
    """The owner withdraws a wish nobody has claimed yet."""
    check_action(actor, wish, WishAction.CANCEL)
    note = _single_text("note", note, _("Note"))
    return _move(wish, actor, WishAction.CANCEL, note=note)


def claim_wish(actor: User, wish: Wish) -> Wish:
    """A checked-in member of the wish's community takes it on; exactly one of many concurrent claimers wins."""
    member = member_for(actor)
    check_action(actor, wish, WishAction.CLAIM, member)
    if db.engine.dialect.name != "sqlite":
        # serialise one member's claims with a row lock, so the count in the UPDATE's guard below (read after
        # the lock is granted) holds even when the same member claims several wishes at once. SQLite needs
        # none: its transaction begins with the UPDATE, which holds the one write lock while it counts.
        # Core: a lock, nothing for the ORM to load
        db.session.connection().execute(lock_member(), {"member_id": member.id})
    limit = _setting("MAX_ACTIVE_CLAIMS")
    # the member's claims are counted by the UPDATE itself; when it matches no row while the wish is still
    # published, the limit refused it (below)
    try:
        return _move(
            wish,
            actor,
            WishAction.CLAIM,
            guard=(claim_limit_guard(),),
            guard_params={"claimer_id": member.id, "claim_limit": limit},
            claimed_by_id=member.id,
            claimed_at=utcnow(),
        )
    except WishConflict:
        if wish.status == WishStatus.PUBLISHED:  # the wish was free: the limit stopped it
            raise WishConflict(_limit_message(limit), code="claim_limit") from None
        raise


def _limit_message(limit: int) -> str:
    return _("You already hold %(n)d claimed wishes; complete or release one first.", n=limit)


def release_wish(actor: User, wish: Wish, reason=None) -> Wish:
    """The claiming member asks to be released (or staff in scope release them, when they cannot go on): the wish
    goes back to the board, the reason in its history."""
    member = member_for(actor)
    check_action(actor, wish, WishAction.RELEASE, member)
    note = _single_text("reason", reason, _("Reason"), required=True)
    return _move(
        wish,
        actor,
        WishAction.RELEASE,
        note=note,
        guard=(Wish.claimed_by_id == (member.id if member is not None else wish.claimed_by_id),),
        claimed_by_id=None,
        claimed_at=None,
    )


def complete_wish(actor: User, wish: Wish, note, hours) -> Wish:
    """The claiming member reports the wish done, with what was done and the hours it took."""
    member = member_for(actor)
    check_action(actor, wish, WishAction.COMPLETE, member)
    errors: dict[str, str] = {}
    note = check_text(errors, "note", note, NOTE_MAX, True, _("What was done"))
    try:
        hours = parse_hours(hours)
    except WishInvalid as error:
        errors.update(error.errors)
    if errors:
        raise WishInvalid(errors)
    now = utcnow()
    return _move(
        wish,
        actor,
        WishAction.COMPLETE,
        note=note,
        guard=(Wish.claimed_by_id == member.id,),
        completion_note=note,
        hours=hours,
        done_at=now,
    )


def confirm_wish(actor: User, wish: Wish, rating, comment=None) -> Wish:
    """The owner confirms the help and rates it 好/中/差; the member's service hours grow, once."""
    check_action(actor, wish, WishAction.CONFIRM)
    errors: dict[str, str] = {}
    if rating not in {r.value for r in Rating}:
        errors["rating"] = _(
            "Choose a rating: %(choices)s.", choices="、".join(str(v) for v in RATING_LABELS.values())
        )
    comment = check_text(errors, "comment", comment, NOTE_MAX, False, _("Comment"))
    if errors:
        raise WishInvalid(errors)
    return _confirm(wish, actor, WishAction.CONFIRM, rating=rating, comment=comment)


def _confirm(wish: Wish, actor: User | None, action: WishAction, **values) -> Wish:
    _move(wish, actor, action, note=values.get("comment"), confirmed_at=utcnow(), **values)
    # the conditional UPDATE above succeeds once per wish, so the hours are credited once
    db.session.execute(
        update(Member)
        .where(Member.id == wish.claimed_by_id)
        .values(service_hours=Member.service_hours + (wish.hours or 0))
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return wish


def dispute_wish(actor: User, wish: Wish, reason) -> Wish:
    """The owner says the work is not done: the wish goes back to its member, claimed."""
    check_action(actor, wish, WishAction.DISPUTE)
    reason = _single_text("reason", reason, _("Reason"), required=True)
    return _move(wish, actor, WishAction.DISPUTE, note=reason, done_at=None)


def reopen_wish(actor: User, wish: Wish, reason) -> Wish:
    """Grid staff reopen a confirmed wish after an unsatisfied callback: back to its member, hours taken back."""
    check_action(actor, wish, WishAction.REOPEN)
    reason = _single_text("reason", reason, _("Reason"), required=True)
    credited = wish.hours or 0
    _move(
        wish,
        actor,
        WishAction.REOPEN,
        note=reason,
        confirmed_at=None,
        done_at=None,
        rating=None,
        comment=None,
    )
    db.session.execute(
        update(Member)
        .where(Member.id == wish.claimed_by_id)
        .values(
            service_hours=func.max(Member.service_hours - credited, 0)
            if db.engine.dialect.name == "sqlite"
            else func.greatest(Member.service_hours - credited, 0)
        )
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return wish


def auto_confirm_stale_wishes(now: datetime | None = None) -> list[int]:
    """Confirm (without a rating) every wish left `done` longer than WISH_AUTO_CONFIRM_HOURS; the ids confirmed.

    Idempotent: a wish confirmed meanwhile (by its owner or another run) is skipped.
    """
    cutoff = (now or utcnow()) - timedelta(hours=_setting("WISH_AUTO_CONFIRM_HOURS"))
    ids = list(
        db.session.scalars(
            select(Wish.id).where(Wish.status == WishStatus.DONE, Wish.done_at <= cutoff).order_by(Wish.id)
        )
    )
    confirmed = []
    for wish_id in ids:
        wish = db.session.get(Wish, wish_id)
        try:
            _confirm(wish, None, WishAction.AUTO_CONFIRM)
        except WishConflict:
            continue
        confirmed.append(wish_id)
    return confirmed


# --- the machine ----------------------------------------------------------------------------------
# the interface verbs and the values each takes (reason, note, hours, rating, comment)
STEPS = {
    WishAction.PUBLISH: lambda a, w, v: publish_wish(a, w),
    WishAction.REJECT: lambda a, w, v: reject_wish(a, w, v.get("reason")),
    WishAction.CANCEL: lambda a, w, v: cancel_wish(a, w, v.get("note")),
    WishAction.CLAIM: lambda a, w, v: claim_wish(a, w),
    WishAction.RELEASE: lambda a, w, v: release_wish(a, w, v.get("reason") or v.get("note")),
    WishAction.COMPLETE: lambda a, w, v: complete_wish(a, w, v.get("note"), v.get("hours")),
    WishAction.CONFIRM: lambda a, w, v: confirm_wish(a, w, v.get("rating"), v.get("comment")),
    WishAction.DISPUTE: lambda a, w, v: dispute_wish(a, w, v.get("reason")),
    WishAction.REOPEN: lambda a, w, v: reopen_wish(a, w, v.get("reason")),
    WishAction.RESUBMIT: lambda a, w, v: _say().resubmit_wish(
        a, w, v.get("title"), v.get("description"), v.get("category")
    ),
}


def _say():
    from app.services import resident_say  # it runs its steps on this machine: imported when called

    return resident_say


MACHINE = workflow.Machine(
    name="wish",
    model=Wish,
    step_model=WishStep,
    subject_key="wish_id",
    transitions=TRANSITIONS,
    refusal=refusal,
    conflict_message=_conflict_message,
    lost_message=_conflict_message,
    signal=wish_changed,
    states=tuple(WishStatus),
    user_actions=USER_ACTIONS,
    steps=STEPS,
)


def perform(actor: User, wish: Wish, action: str, **values) -> Wish:
    """Run the user action named `action` with its values (reason, note, hours, rating, comment)."""
    return workflow.perform(MACHINE, actor, wish, action, values)

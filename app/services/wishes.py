"""The micro-wish state machine (SPEC §4): one transition table used by the board, back office, API and jobs.

Every transition is a conditional UPDATE (`… WHERE id = :id AND status IN (:sources)`), so when
many people act on one wish at once exactly one wins and the others get a `WishConflict`.
Functions flush and never commit: the caller owns the transaction.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, or_, select, update

from app.extensions import db
from app.ids import parse_id
from app.models import Area, Member, Resident, User, Wish, WishCategory, WishStep
from app.models.base import aware, utcnow
from app.models.choices import (
    PUBLIC_WISH_STATUSES, RATING_LABELS, STAFF_ROLES, WISH_STATUS_LABELS, AreaLevel, Rating,
    Role, WishAction, WishStatus,
)
from app.models.wishes import DESCRIPTION_MAX, NOTE_MAX, TITLE_MAX
from app.services.scope import code_in_scope, scope_condition
from app.services.signals import wish_changed
from app.services.text import check_text, single_text

MIN_HOURS, MAX_HOURS = Decimal("0.5"), Decimal("24")
# the area code length that must match between a member's grid and a wish's grid, per claim scope
CLAIM_SCOPE_PREFIX = {"community": 12, "street": 9, "district": 6}


class WishError(Exception):
    """A wish action was refused; `message` says why, for the person who tried."""

    status = 409
    code = "conflict"

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class WishConflict(WishError):
    """The wish (or the member) is not in a state that allows the action: HTTP 409."""

    status = 409
    code = "state_conflict"


class WishForbidden(WishError):
    """This user may not take this action on this wish: HTTP 403."""

    status = 403
    code = "forbidden"


class WishInvalid(WishError):
    """The values given do not pass validation; `errors` maps field names to messages: HTTP 422."""

    status = 422
    code = "validation_error"

    def __init__(self, errors: dict[str, str]):
        super().__init__(" ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class Transition:
    """One row of the state machine: the action, the states it leaves, the state it reaches, who acts."""

    action: WishAction
    sources: tuple[WishStatus, ...]
    target: WishStatus
    actor: str  # staff | owner | member | claimer | system


TRANSITIONS = {t.action: t for t in (
    Transition(WishAction.PUBLISH, (WishStatus.SUBMITTED,), WishStatus.PUBLISHED, "staff"),
    Transition(WishAction.REJECT, (WishStatus.SUBMITTED,), WishStatus.REJECTED, "staff"),
    Transition(WishAction.CANCEL, (WishStatus.SUBMITTED, WishStatus.PUBLISHED), WishStatus.CANCELLED, "owner"),
    Transition(WishAction.CLAIM, (WishStatus.PUBLISHED,), WishStatus.CLAIMED, "member"),
    Transition(WishAction.RELEASE, (WishStatus.CLAIMED,), WishStatus.PUBLISHED, "claimer"),
    Transition(WishAction.COMPLETE, (WishStatus.CLAIMED,), WishStatus.DONE, "claimer"),
    Transition(WishAction.CONFIRM, (WishStatus.DONE,), WishStatus.CONFIRMED, "owner"),
    Transition(WishAction.DISPUTE, (WishStatus.DONE,), WishStatus.CLAIMED, "owner"),
    Transition(WishAction.AUTO_CONFIRM, (WishStatus.DONE,), WishStatus.CONFIRMED, "system"),
    # a callback (回访) found the resident unsatisfied: the work goes back to its member
    Transition(WishAction.REOPEN, (WishStatus.CONFIRMED,), WishStatus.CLAIMED, "staff"),
)}
# what people do on the board, the back office and the API; reopening happens through a callback
USER_ACTIONS = tuple(a for a, t in TRANSITIONS.items() if t.actor != "system" and a != WishAction.REOPEN)


def _setting(name: str):
    return current_app.config[name]


# --- who is who ----------------------------------------------------------------------------------
def member_for(user) -> Member | None:
    """The active member profile of a logged-in member user, or None."""
    if user is None or not getattr(user, "is_authenticated", True) or user.role != Role.MEMBER:
        return None
    # one lookup per user object (a request's): visibility, the checks and the answer all ask for it
    if "_member_profile" not in user.__dict__:
        user.__dict__["_member_profile"] = db.session.scalar(
            select(Member).where(Member.user_id == user.id, Member.active.is_(True)))
    return user.__dict__["_member_profile"]


def claim_prefix(member: Member) -> str:
    """The area code prefix a wish's grid must share with the member's grid for the member to claim it."""
    length = CLAIM_SCOPE_PREFIX.get(_setting("WISH_CLAIM_SCOPE"), CLAIM_SCOPE_PREFIX["community"])
    return member.grid_code[:length]


def is_staff_for(user, wish: Wish) -> bool:
    """Grid staff (or community, street, district staff) whose scope covers the wish's grid."""
    return user is not None and user.role in STAFF_ROLES and code_in_scope(user, wish.grid_code)


def is_owner(user, wish: Wish) -> bool:
    """The resident who owns the wish, or, for a resident without an account, staff acting for them."""
    if user is None:
        return False
    if wish.owner_id is not None:
        return wish.owner_id == user.id
    return is_staff_for(user, wish)


def active_claims(member_id: int) -> int:
    """How many wishes the member has claimed and not yet completed."""
    return db.session.scalar(
        select(func.count()).select_from(Wish)
        .where(Wish.claimed_by_id == member_id, Wish.status == WishStatus.CLAIMED)
    ) or 0


# --- reading -------------------------------------------------------------------------------------
def visible_condition(user):
    """WHERE condition of the wishes `user` may read: public ones, their own, and all in a staff scope."""
    public = Wish.status.in_(PUBLIC_WISH_STATUSES)
    if user is None or not getattr(user, "is_authenticated", False):
        return public
    if user.role in STAFF_ROLES:
        condition = scope_condition(Wish, user)
        return Wish.id.is_not(None) if condition is None else or_(condition, Wish.posted_by_id == user.id)
    own = [Wish.owner_id == user.id, Wish.posted_by_id == user.id]
    member = member_for(user)
    if member is not None:
        own.append(Wish.claimed_by_id == member.id)
    return or_(public, *own)




def get_visible_wish(user, wish_id: int) -> Wish | None:
    """The wish when `user` may read it, else None (the caller answers 404)."""
    wish_id = parse_id(wish_id)
    if wish_id is None:
        return None
    return db.session.scalar(select(Wish).where(Wish.id == wish_id, visible_condition(user)))


def can_see_notes(user, wish: Wish) -> bool:
    """Reasons and notes in the history are for the people involved and the staff in scope."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if is_staff_for(user, wish) or user.id in (wish.owner_id, wish.posted_by_id):
        return True
    member = member_for(user)
    return member is not None and member.id == wish.claimed_by_id


# --- the checks ----------------------------------------------------------------------------------
def check_action(user, wish: Wish, action: WishAction, member: Member | None = None) -> None:
    """Raise WishForbidden for a wrong actor, WishConflict for a wrong state; return when allowed."""
    transition = TRANSITIONS[WishAction(action)]
    if transition.actor == "staff" and not is_staff_for(user, wish):
        raise WishForbidden(_("Only the grid staff responsible for this wish's grid may do this."))
    if transition.actor == "owner" and not is_owner(user, wish):
        raise WishForbidden(_("Only the resident who posted this wish may do this."))
    if transition.actor == "member":
        if member is None:
            raise WishForbidden(_("Only checked-in party members may claim wishes."))
        if not wish.grid_code.startswith(claim_prefix(member)):
            raise WishForbidden(_("You can only claim wishes of the community you are checked in to."))
    if transition.actor == "claimer":
        if member is None or (wish.claimed_by_id is not None and wish.claimed_by_id != member.id):
            raise WishForbidden(_("Only the member who claimed this wish may do this."))
    if wish.status not in transition.sources:
        raise WishConflict(_conflict_message(wish, transition))


def can(user, wish: Wish, action: WishAction, member: Member | None = None) -> bool:
    """Whether `user` may take `action` on `wish` now (for showing buttons)."""
    try:
        check_action(user, wish, action, member)
    except WishError:
        return False
    return True


def available_actions(user, wish: Wish, member: Member | None = None) -> list[WishAction]:
    """The actions `user` may take on `wish` now, in the order of the lifecycle.

    Lists pass the user's `member` profile, looked up once, rather than once per wish.
    """
    member = member if member is not None else member_for(user)
    return [a for a in USER_ACTIONS if can(user, wish, a, member)]


def _conflict_message(wish: Wish, transition: Transition) -> str:
    if transition.action == WishAction.CLAIM and wish.status in (WishStatus.CLAIMED, WishStatus.DONE,
                                                                 WishStatus.CONFIRMED):
        return _("Someone else has already claimed this wish.")
    return _("This wish is now “%(status)s”; that step is not possible from there.",
             status=WISH_STATUS_LABELS[WishStatus(wish.status)])


# --- validation of values ------------------------------------------------------------------------
def _single_text(field: str, value, label: str, required: bool = False) -> str | None:
    return single_text(field, value, label, WishInvalid, required)


def parse_hours(value) -> Decimal:
    """Service hours from a form or JSON value: 0.5 to 24, at most one decimal place."""
    try:
        hours = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise WishInvalid({"hours": _("Enter the hours as a number, e.g. 1.5.")}) from None
    if not hours.is_finite() or hours < MIN_HOURS or hours > MAX_HOURS:
        raise WishInvalid({"hours": _("Hours must be between %(min)s and %(max)s.", min=MIN_HOURS, max=MAX_HOURS)})
    if hours != hours.quantize(Decimal("0.1")):
        raise WishInvalid({"hours": _("Hours take at most one decimal place, e.g. 1.5.")})
    return hours.quantize(Decimal("0.1"))


def active_categories() -> list[WishCategory]:
    """The categories residents may choose, in their display order."""
    return list(db.session.scalars(
        select(WishCategory).where(WishCategory.active.is_(True)).order_by(WishCategory.position, WishCategory.id)
    ))


# --- posting -------------------------------------------------------------------------------------
def post_wish(actor: User, *, title, description, category_code, grid_code=None, resident_id=None,
              publish: bool = False) -> Wish:
    """A resident posts a wish for themself; grid staff post one for a resident (帮办代办).

    Staff may publish it at once (`publish=True`): two steps are recorded, post then publish.
    """
    if actor.role not in (Role.RESIDENT, *STAFF_ROLES):
        raise WishForbidden(_("Only residents, and grid staff on a resident's behalf, may post wishes."))
    errors: dict[str, str] = {}
    title = check_text(errors, "title", title, TITLE_MAX, True, _("Title"))
    description = check_text(errors, "description", description, DESCRIPTION_MAX, False, _("Description"))
    category = db.session.scalar(select(WishCategory).where(WishCategory.code == (category_code or ""),
                                                            WishCategory.active.is_(True)))
    if category is None:
        errors["category"] = _("Choose one of the wish categories.")

    resident = None
    if actor.role == Role.RESIDENT:
        owner_id = actor.id
        resident = db.session.scalar(select(Resident).where(Resident.user_id == actor.id))
        grid_code = grid_code or actor.area_code
    else:
        resident = db.session.get(Resident, resident_id) if resident_id else None
        if resident is None or not code_in_scope(actor, resident.grid_code):
            errors["resident_id"] = _("Choose the resident you are posting for, from your own area.")
        owner_id = resident.user_id if resident is not None else None
        grid_code = grid_code or (resident.grid_code if resident is not None else None)

    grid = db.session.scalar(select(Area).where(Area.code == (grid_code or ""), Area.level == AreaLevel.GRID))
    if grid is None:
        errors["grid_code"] = _("Choose an existing grid.")
    elif actor.role in STAFF_ROLES and not code_in_scope(actor, grid.code):
        errors["grid_code"] = _("You can only post wishes in your own area.")
    if errors:
        raise WishInvalid(errors)

    now = utcnow()
    wish = Wish(
        title=title, description=description, category_id=category.id, grid_code=grid.code,
        owner_id=owner_id, resident_id=resident.id if resident is not None else None, posted_by_id=actor.id,
        status=WishStatus.SUBMITTED, created_at=now, updated_at=now,
        respond_by=now + timedelta(hours=_setting("WISH_REVIEW_HOURS")),
        reply_by=now + timedelta(hours=_setting("WISH_CLAIM_HOURS")),
        resolve_by=now + timedelta(hours=_setting("WISH_RESOLVE_HOURS")),
    )
    db.session.add(wish)
    db.session.flush()
    # whether it was posted on a resident's behalf is `wish.assisted`; notes stay the people's own words
    db.session.add(WishStep(wish_id=wish.id, actor_id=actor.id, action=WishAction.POST, from_status=None,
                            to_status=WishStatus.SUBMITTED, at=now))
    db.session.flush()
    wish_changed.send(wish, action=WishAction.POST, actor=actor)
    if publish:
        publish_wish(actor, wish)
    return wish


# --- the transitions -----------------------------------------------------------------------------
def _move(wish: Wish, actor: User | None, action: WishAction, note: str | None = None, guard=(), **values) -> Wish:
    """Apply one transition as a conditional UPDATE and record it; WishConflict when someone got there first."""
    transition = TRANSITIONS[action]
    now = utcnow()
    source = wish.status
    values.setdefault("updated_at", now)
    result = db.session.execute(
        update(Wish)
        .where(Wish.id == wish.id, Wish.status.in_(transition.sources), *guard)
        .values(status=transition.target, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.refresh(wish)
        raise WishConflict(_conflict_message(wish, transition))
    db.session.add(WishStep(wish_id=wish.id, actor_id=actor.id if actor is not None else None, action=action,
                            from_status=source, to_status=transition.target, note=note, at=now))
    db.session.flush()
    db.session.refresh(wish)
    wish_changed.send(wish, action=action, actor=actor)
    return wish


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
    # serialise one member's claims (PostgreSQL row lock; SQLite writers are serial anyway), so the
    # limit below holds even when the same member claims several wishes at once
    db.session.execute(select(Member.id).where(Member.id == member.id).with_for_update())
    limit = _setting("MAX_ACTIVE_CLAIMS")
    if active_claims(member.id) >= limit:
        raise WishConflict(_limit_message(limit), code="claim_limit")
    active = (select(func.count()).select_from(Wish)
              .where(Wish.claimed_by_id == member.id, Wish.status == WishStatus.CLAIMED).scalar_subquery())
    try:
        return _move(wish, actor, WishAction.CLAIM, guard=(active < limit,), claimed_by_id=member.id,
                     claimed_at=utcnow())
    except WishConflict:
        if wish.status == WishStatus.PUBLISHED:  # the wish was free: the limit stopped it
            raise WishConflict(_limit_message(limit), code="claim_limit") from None
        raise


def _limit_message(limit: int) -> str:
    return _("You already hold %(n)d claimed wishes; complete or release one first.", n=limit)


def release_wish(actor: User, wish: Wish, note=None) -> Wish:
    """The claiming member gives the wish back to the board."""
    member = member_for(actor)
    check_action(actor, wish, WishAction.RELEASE, member)
    note = _single_text("note", note, _("Note"))
    return _move(wish, actor, WishAction.RELEASE, note=note, guard=(Wish.claimed_by_id == member.id,),
                 claimed_by_id=None, claimed_at=None)


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
    return _move(wish, actor, WishAction.COMPLETE, note=note, guard=(Wish.claimed_by_id == member.id,),
                 completion_note=note, hours=hours, done_at=now)


def confirm_wish(actor: User, wish: Wish, rating, comment=None) -> Wish:
    """The owner confirms the help and rates it 好/中/差; the member's service hours grow, once."""
    check_action(actor, wish, WishAction.CONFIRM)
    errors: dict[str, str] = {}
    if rating not in {r.value for r in Rating}:
        errors["rating"] = _("Choose a rating: %(choices)s.", choices="、".join(str(v) for v in RATING_LABELS.values()))
    comment = check_text(errors, "comment", comment, NOTE_MAX, False, _("Comment"))
    if errors:
        raise WishInvalid(errors)
    return _confirm(wish, actor, WishAction.CONFIRM, rating=rating, comment=comment)


def _confirm(wish: Wish, actor: User | None, action: WishAction, **values) -> Wish:
    _move(wish, actor, action, note=values.get("comment"), confirmed_at=utcnow(), **values)
    # the conditional UPDATE above succeeds once per wish, so the hours are credited once
    db.session.execute(
        update(Member).where(Member.id == wish.claimed_by_id)
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
    _move(wish, actor, WishAction.REOPEN, note=reason, confirmed_at=None, done_at=None, rating=None, comment=None)
    db.session.execute(
        update(Member).where(Member.id == wish.claimed_by_id)
        .values(service_hours=func.max(Member.service_hours - credited, 0)
                if db.engine.dialect.name == "sqlite" else func.greatest(Member.service_hours - credited, 0))
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return wish


def auto_confirm_stale_wishes(now: datetime | None = None) -> list[int]:
    """Confirm (without a rating) every wish left `done` longer than WISH_AUTO_CONFIRM_HOURS; the ids confirmed.

    Idempotent: a wish confirmed meanwhile (by its owner or another run) is skipped.
    """
    cutoff = (now or utcnow()) - timedelta(hours=_setting("WISH_AUTO_CONFIRM_HOURS"))
    ids = list(db.session.scalars(
        select(Wish.id).where(Wish.status == WishStatus.DONE, Wish.done_at <= cutoff).order_by(Wish.id)
    ))
    confirmed = []
    for wish_id in ids:
        wish = db.session.get(Wish, wish_id)
        try:
            _confirm(wish, None, WishAction.AUTO_CONFIRM)
        except WishConflict:
            continue
        confirmed.append(wish_id)
    return confirmed


ACTIONS = {
    WishAction.PUBLISH: publish_wish,
    WishAction.REJECT: reject_wish,
    WishAction.CANCEL: cancel_wish,
    WishAction.CLAIM: claim_wish,
    WishAction.RELEASE: release_wish,
    WishAction.COMPLETE: complete_wish,
    WishAction.CONFIRM: confirm_wish,
    WishAction.DISPUTE: dispute_wish,
    WishAction.REOPEN: reopen_wish,
}


def perform(actor: User, wish: Wish, action: str, **values) -> Wish:
    """Run the user action named `action` with its values (reason, note, hours, rating, comment)."""
    if action not in ACTIONS:
        raise WishConflict(_("Unknown action."), code="unknown_action")
    function = ACTIONS[WishAction(action)]
    if action in (WishAction.REJECT, WishAction.DISPUTE, WishAction.REOPEN):
        return function(actor, wish, values.get("reason"))
    if action == WishAction.COMPLETE:
        return function(actor, wish, values.get("note"), values.get("hours"))
    if action == WishAction.CONFIRM:
        return function(actor, wish, values.get("rating"), values.get("comment"))
    if action in (WishAction.CANCEL, WishAction.RELEASE):
        return function(actor, wish, values.get("note"))
    return function(actor, wish)


# --- deadlines -----------------------------------------------------------------------------------
DEADLINE_FOR_STATUS = {
    WishStatus.SUBMITTED: "respond_by",
    WishStatus.PUBLISHED: "reply_by",
    WishStatus.CLAIMED: "resolve_by",
}


def current_deadline(wish: Wish) -> datetime | None:
    """The deadline the wish's present status is measured against (review, claim or completion), if any."""
    column = DEADLINE_FOR_STATUS.get(WishStatus(wish.status))
    return getattr(wish, column) if column else None


def is_overdue(wish: Wish, now: datetime | None = None) -> bool:
    deadline = aware(current_deadline(wish))
    return deadline is not None and (now or utcnow()) > deadline

"""Who is who around a wish: members, owners, staff in scope; who may read a wish and its notes; who may act."""

from functools import cache, lru_cache

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, func, or_, select

from app.extensions import db
from app.ids import parse_id
from app.models import Member, Unit, User, Wish
from app.models.base import one_of
from app.models.choices import PUBLIC_WISH_STATUSES, STAFF_ROLES, Role, WishStatus
from app.services.scope import code_in_scope, scope_condition

MEMBER_PROFILE = "_member_profile"  # where member_for keeps a user's profile, on the user object

# the area code length that must match between a member's grid and a wish's grid, per claim scope
CLAIM_SCOPE_PREFIX = {"community": 12, "street": 9, "district": 6}


def member_for(user) -> Member | None:
    """The active member profile of a logged-in member user, or None."""
    if user is None or not getattr(user, "is_authenticated", True) or user.role != Role.MEMBER:
        return None
    # one lookup per user object (a request's): visibility, the checks and the answer all ask for it
    if MEMBER_PROFILE not in user.__dict__:
        remember_member(user, db.session.scalar(select(Member).where(is_profile_of(user.id))))
    return user.__dict__[MEMBER_PROFILE]


def is_profile_of(user_id):
    """SQL condition: the member row is the active profile of `user_id` (a value or a column; at most one
    row, `Member.user_id` is unique). The token and session lookups join it to the user with this."""
    return and_(Member.user_id == user_id, Member.active.is_(True))


def with_profile(query):
    """`query` (its FROM has User) with the user's active member profile and the profile's check-in unit, outer
    joined: the token and session lookups read them with the user, for the wish checks (the profile) and a
    claim's notice to the wish's owner (the unit), so neither is read again."""
    return (
        query.add_columns(Member, Unit)
        .outerjoin(Member, is_profile_of(User.id))
        .outerjoin(Unit, Unit.id == Member.unit_id)
    )


def remember_member(user, member: Member | None) -> None:
    """Keep `member` as `user`'s active member profile, loaded with the user (the token and session lookups
    join it), so `member_for` asks no more."""
    user.__dict__[MEMBER_PROFILE] = member


def claim_prefix(member: Member) -> str:
    """The area code prefix a wish's grid must share with the member's grid for the member to claim it."""
    scope = current_app.config["WISH_CLAIM_SCOPE"]
    return member.grid_code[: CLAIM_SCOPE_PREFIX.get(scope, CLAIM_SCOPE_PREFIX["community"])]


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
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Wish)
            .where(Wish.claimed_by_id == member_id, Wish.status == WishStatus.CLAIMED)
        )
        or 0
    )


@cache
def claim_limit_guard():
    """SQL condition of a claim's UPDATE: the member `:claimer_id` holds fewer than `:claim_limit` claims.
    Built once (the engine then builds the claim's UPDATE once too)."""
    held = (
        select(func.count())
        .select_from(Wish)
        .where(Wish.claimed_by_id == bindparam("claimer_id"), Wish.status == WishStatus.CLAIMED)
        .scalar_subquery()
    )
    return held < bindparam("claim_limit")


@cache
def lock_member():
    """SELECT … FOR UPDATE of the member `:member_id` (PostgreSQL: one member's claims one after another)."""
    return select(Member.id).where(Member.id == bindparam("member_id")).with_for_update()


def refusal(user, wish: Wish, kind: str, member: Member | None) -> str | None:
    """Why `user` (whose member profile is `member`) is not the `kind` of actor a step needs; None when they are."""
    if kind == "staff" and not is_staff_for(user, wish):
        return _("Only the grid staff responsible for this wish's grid may do this.")
    if kind == "owner" and not is_owner(user, wish):
        return _("Only the resident who posted this wish may do this.")
    if kind == "member":
        if member is None:
            return _("Only checked-in party members may claim wishes.")
        if not wish.grid_code.startswith(claim_prefix(member)):
            return _("You can only claim wishes of the community you are checked in to.")
    if kind == "claimer_or_staff":  # a claim staff may give back (the member fell ill, moved away …)
        if member is None and is_staff_for(user, wish):
            return None
        kind = "claimer"
    if kind == "claimer" and (
        member is None or (wish.claimed_by_id is not None and wish.claimed_by_id != member.id)
    ):
        return _("Only the member who claimed this wish may do this.")
    return None


# --- reading -------------------------------------------------------------------------------------
def visible_condition(user):
    """WHERE condition of the wishes `user` may read: public ones, their own, and all in a staff scope."""
    public = one_of(Wish.status, PUBLIC_WISH_STATUSES)
    if user is None or not getattr(user, "is_authenticated", False):
        return public
    if user.role in STAFF_ROLES:
        condition = scope_condition(Wish, user)
        return Wish.id.is_not(None) if condition is None else or_(condition, Wish.posted_by_id == user.id)
    member = member_for(user)
    return _personal_condition(user.id, member.id if member is not None else None)


def _personal_condition(user_id, member_id):
    """What a resident or member reads: the public wishes, those they own or posted, and those they claimed
    (`member_id` None: no member profile). The ids are values, or parameters of a statement built once."""
    own = [Wish.owner_id == user_id, Wish.posted_by_id == user_id]
    if member_id is not None:
        own.append(Wish.claimed_by_id == member_id)
    return or_(one_of(Wish.status, PUBLIC_WISH_STATUSES), *own)


def get_visible_wish(user, wish_id: int, options=()) -> Wish | None:
    """The wish when `user` may read it, else None (the caller answers 404); `options` are loader options.

    A resident's or member's look-up is one statement built once per set of `options` (a module's constant),
    with the ids as parameters: on the API's hot path (a claim) building it anew cost as much as running it.
    """
    wish_id = parse_id(wish_id)
    if wish_id is None:
        return None
    if user is None or not getattr(user, "is_authenticated", False) or user.role in STAFF_ROLES:
        return db.session.scalar(
            select(Wish).where(Wish.id == wish_id, visible_condition(user)).options(*options)
        )
    member = member_for(user)
    return db.session.scalar(
        _personal_query(tuple(options), member is not None),
        {
            "wish_id": wish_id,
            "viewer_id": user.id,
            "viewer_member_id": member.id if member is not None else None,
        },
    )


@lru_cache(maxsize=64)  # keyed by the loader options: a module keeps its own as constants
def _personal_query(options: tuple, with_member: bool):
    member_id = bindparam("viewer_member_id") if with_member else None
    return (
        select(Wish)
        .where(Wish.id == bindparam("wish_id"), _personal_condition(bindparam("viewer_id"), member_id))
        .options(*options)
    )


def can_see_notes(user, wish: Wish) -> bool:
    """Reasons and notes in the history are for the people involved and the staff in scope."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if is_staff_for(user, wish) or user.id in (wish.owner_id, wish.posted_by_id):
        return True
    member = member_for(user)
    return member is not None and member.id == wish.claimed_by_id

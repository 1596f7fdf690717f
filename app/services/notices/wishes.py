"""Notices about micro-wishes: what the resident who owns one, the members of its community and its member hear.

Each builder runs after the step committed (app.services.notices.receivers recorded it), reads the wish as it is
now and sends once; a wish that has since moved on past what a notice would announce is not announced. The
owner's "claimed" notice is the exception: the claim's own statement writes it, from the rows the claim holds
(`claimed_with_step`).
"""

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import Area, Member, User, Wish, WishCategory, WishStep
from app.models.choices import NotificationKind, WishAction, WishStatus
from app.services import notifications
from app.services.notices.common import account, clip, language, member_account, title, when
from app.services.wish_access import CLAIM_SCOPE_PREFIX
from app.services.workflow_history import Written

K = NotificationKind


def wish_link(wish_id: int) -> str:
    return f"/wishes/{wish_id}"


def _subject(wish: Wish) -> str:
    return f"wish:{wish.id}"


def _to_owner(kind, wish: Wish, title_text: notifications.Words, body: notifications.Words = "") -> int:
    return notifications.send(
        kind,
        [wish.owner_id] if wish.owner_id is not None else [],  # when active: send keeps active accounts only
        title=title(title_text) if isinstance(title_text, str) else title_text,
        body=body,
        link=wish_link(wish.id),
        subject=_subject(wish),
    )


def comrade(name: str, unit: str | None) -> tuple[str, str | None]:
    """How a resident is told who took their wish: the family name and 同志 (never the full name), and the unit."""
    return _("Comrade %(family)s", family=name[:1]), unit


# --- the resident who owns the wish ------------------------------------------------------------------
@notifications.builder(K.WISH_PUBLISHED)
def wish_published(wish_id: int) -> int:
    wish = db.session.get(Wish, wish_id)
    if wish is None:
        return 0
    with language(wish.owner_id):
        return _to_owner(
            K.WISH_PUBLISHED,
            wish,
            _("Your wish “%(title)s” is on the board", title=wish.title),
            _("The checked-in party members of your community can now take it on."),
        )


@notifications.builder(K.WISH_REJECTED)
def wish_rejected(wish_id: int) -> int:
    wish = db.session.get(Wish, wish_id)
    if wish is None:
        return 0
    with language(wish.owner_id):
        return _to_owner(
            K.WISH_REJECTED,
            wish,
            _("Your wish “%(title)s” was not accepted", title=wish.title),
            _("Reason: %(reason)s", reason=clip(wish.reject_reason)),
        )


def claimed_with_step(wish: Wish, action, actor, sets: dict) -> Written | None:
    """The owner's "claimed" notice, written by the claim's own statement (`workflow_history.write_with_steps`,
    declared in app.reactions), so it costs the claim no statement of its own and a claim that loses writes
    none. It reads nothing: the wish and the claiming member (the token or session lookup read them with their
    unit) are rows the claim holds; the claim's time is among the columns it sets. The owner reads it in their
    language, chosen as the row is written."""
    if action != WishAction.CLAIM or wish.owner_id is None or wish.owner_id == getattr(actor, "id", None):
        return None
    member = db.session.get(Member, sets["claimed_by_id"])
    unit_name = member.unit.name if member.unit is not None else None
    at = when(sets["claimed_at"])  # the district's time, the same in every language

    def words() -> tuple[str, str]:
        who, unit = comrade(member.name, unit_name)
        body = (
            _("%(who)s of %(unit)s took it on at %(when)s.", who=who, unit=unit, when=at)
            if unit
            else _("%(who)s took it on at %(when)s.", who=who, when=at)
        )
        return title(_("%(who)s has taken on your wish “%(title)s”", who=who, title=wish.title)), body

    titles, bodies = notifications.in_each_language(words)
    return notifications.with_step(
        K.WISH_CLAIMED,
        wish.owner_id,
        title=titles,
        body=bodies,
        link=wish_link(wish.id),
        subject=_subject(wish),
    )


@notifications.builder(K.WISH_DONE)
def wish_done(wish_id: int) -> int:
    wish = db.session.get(Wish, wish_id)
    if wish is None or wish.status != WishStatus.DONE:
        return 0
    with language(wish.owner_id):
        return _to_owner(
            K.WISH_DONE,
            wish,
            _("Your wish “%(title)s” is done: please confirm", title=wish.title),
            _(
                "What was done: %(note)s Please confirm and rate the help, or say what is still missing.",
                note=clip(wish.completion_note),
            ),
        )


@notifications.builder(K.WISH_AUTO_CONFIRMED)
def wish_auto_confirmed(wish_id: int) -> int:
    wish = db.session.get(Wish, wish_id)
    if wish is None:
        return 0
    with language(wish.owner_id):
        return _to_owner(
            K.WISH_AUTO_CONFIRMED,
            wish,
            _("Your wish “%(title)s” was confirmed automatically", title=wish.title),
            _(
                "It was not confirmed within %(hours)d hours of being done, so it was confirmed without a rating.",
                hours=current_app.config["WISH_AUTO_CONFIRM_HOURS"],
            ),
        )


# --- the members -------------------------------------------------------------------------------------
@notifications.builder(K.NEW_WISH)
def new_wish(wish_id: int) -> int:
    """Every active checked-in member with an account who may claim it (its community, by WISH_CLAIM_SCOPE),
    except those who muted its category."""
    wish = db.session.get(Wish, wish_id)
    if wish is None or wish.status != WishStatus.PUBLISHED:
        return 0
    length = CLAIM_SCOPE_PREFIX.get(current_app.config["WISH_CLAIM_SCOPE"], CLAIM_SCOPE_PREFIX["community"])
    prefix = wish.grid_code[:length]
    members = (
        select(User.id)
        .join(Member, Member.user_id == User.id)
        .where(
            Member.active.is_(True),
            Member.grid_code >= prefix,
            Member.grid_code < prefix + ";",  # under the prefix (app.models.base.under_area), on its index
            User.active.is_(True),
        )
    )
    category = db.session.get(WishCategory, wish.category_id)
    grid = db.session.scalar(select(Area).where(Area.code == wish.grid_code))
    body = " · ".join(p for p in (category.name if category else "", grid.name if grid else "") if p)
    return notifications.send_words(
        K.NEW_WISH,
        members,
        lambda: (title(_("New wish in your community: %(title)s", title=wish.title)), body),
        link=wish_link(wish.id),
        subject=_subject(wish),
        category_id=wish.category_id,
    )


@notifications.builder(K.CLAIM_RELEASED)
def claim_released(wish_id: int, user_id: int) -> int:
    """The member whose claim staff gave back to the board."""
    wish = db.session.get(Wish, wish_id)
    if wish is None:
        return 0
    note = db.session.scalar(
        select(WishStep.note)
        .where(WishStep.wish_id == wish.id, WishStep.action == "release")
        .order_by(WishStep.id.desc())
        .limit(1)
    )
    with language(user_id):
        body = _("The grid staff gave the wish back to the board: it is no longer yours to do.")
        if note:
            body += " " + _("Reason: %(reason)s", reason=clip(note))
        return notifications.send(
            K.CLAIM_RELEASED,
            account(user_id),
            title=title(_("Your claim on “%(title)s” was released", title=wish.title)),
            body=body,
            link=wish_link(wish.id),
            subject=_subject(wish),
        )


@notifications.builder(K.WISH_DISPUTED)
def wish_disputed(wish_id: int, step_id: int | None = None) -> int:
    """The member who did the wish: its resident says it is not done, and why."""
    wish = db.session.get(Wish, wish_id)
    if wish is None or wish.claimed_by_id is None:
        return 0
    step = db.session.get(WishStep, step_id) if step_id else None
    recipient = db.session.scalar(member_account(wish.claimed_by_id))
    with language(recipient):
        return notifications.send(
            K.WISH_DISPUTED,
            member_account(wish.claimed_by_id),
            title=title(_("“%(title)s” is not done yet, says its resident", title=wish.title)),
            body=_("Reason: %(reason)s", reason=clip(step.note if step else "")),
            link=wish_link(wish.id),
            subject=_subject(wish),
        )

"""What the notices share: who holds a place (set-based SELECTs of user ids), and the words in the recipient's language.

Every recipient set is a SELECT of one column of user ids, for `notifications.send` to INSERT … SELECT from;
nothing here loops over people.
"""

from contextlib import contextmanager
from datetime import datetime

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import and_, bindparam, false, or_, select

from app.extensions import db, parsed_locale
from app.models import Member, User
from app.models.choices import EventLevel, Role
from app.services.clock import local_time
from app.services.event_ladder import HANDLER_ROLE

TITLE_MAX = 200  # Notification.title
BODY_MAX = 300  # a notice quotes at most this much of a note


def prefixes(code: str) -> list[str]:
    """Every area code that covers `code` (itself included): a user whose area is one of them has it in scope."""
    return [code[:n] for n in range(1, len(code) + 1)]


def covering(code: str):
    """SQL: the user's scope covers the area `code` (administrators cover everything)."""
    return or_(User.role == Role.ADMIN, User.area_code.in_(prefixes(code)))


def staff_of(roles, code: str, *, besides: int | None = None):
    """SELECT of the active users of `roles` whose scope covers area `code`, without `besides` (who acted)."""
    query = select(User.id).where(User.active.is_(True), User.role.in_(list(roles)), covering(code))
    return query.where(User.id != besides) if besides is not None else query


def handlers_at(level: str, grid_code: str, *, besides: int | None = None):
    """SELECT of the staff who handle an event of `grid_code` at `level` (docs/workflows.md#events): the grid
    worker of the grid, the community's or the street's staff, the district's administrators."""
    role = HANDLER_ROLE[EventLevel(level)]
    if role == Role.ADMIN:
        query = select(User.id).where(User.active.is_(True), User.role == Role.ADMIN)
        return query.where(User.id != besides) if besides is not None else query
    return staff_of((role,), grid_code, besides=besides)


def member_account(member_id: int | None):
    """SELECT of the account of an active member, when they have one (else no row)."""
    if member_id is None:
        return select(User.id).where(false())
    return (
        select(User.id)
        .join(Member, Member.user_id == User.id)
        .where(Member.id == member_id, Member.active.is_(True), User.active.is_(True))
    )


def account(user_id: int | None, *, besides: int | None = None):
    """SELECT of one active account (none when `user_id` is None or is `besides`)."""
    if user_id is None or user_id == besides:
        return select(User.id).where(false())
    return select(User.id).where(and_(User.id == user_id, User.active.is_(True)))


_LOCALE = select(User.locale).where(User.id == bindparam("user_id"))


def locale_of(user_id: int | None) -> str:
    """The language a notice to this one user is written in: theirs when they chose one, else the district's."""
    return chosen_or_default(db.session.scalar(_LOCALE, {"user_id": user_id}) if user_id else None)


def chosen_or_default(chosen: str | None) -> str:
    """A user's chosen language (`User.locale`) when the interface speaks it, else the district's."""
    return chosen if chosen in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"]


@contextmanager
def speaking(chosen: str | None):
    """Write the notice's words in `chosen` (a recipient's `User.locale`, read with the rest), else the district's."""
    with force_locale(parsed_locale(chosen_or_default(chosen))):
        yield


@contextmanager
def language(user_id: int | None = None):
    """Write the notice's words in the language of `user_id` (one recipient), else the district's (many)."""
    with force_locale(parsed_locale(locale_of(user_id))):
        yield


def clip(text: str | None, limit: int = BODY_MAX) -> str:
    """A note quoted in a notice: one paragraph, at most `limit` characters."""
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def title(text: str) -> str:
    return clip(text, TITLE_MAX)


def when(moment: datetime | None) -> str:
    """A moment as the district reads it (Beijing time, to the minute)."""
    return local_time(moment).strftime("%Y-%m-%d %H:%M") if moment is not None else ""

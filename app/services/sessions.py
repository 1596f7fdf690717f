"""Login sessions on the site: a row per login, so logout and a password change end a session for good."""

import secrets

from flask import current_app
from sqlalchemy import delete, select

from app.extensions import db
from app.ids import parse_id
from app.models import ApiToken, LoginSession, User
from app.models.base import utcnow
from app.services.wish_access import remember_member, with_profile


def start_session(user: User, remember: bool = False) -> str:
    """A new login session for `user` (its key is put on `user` for Flask-Login's cookies); flushes, never commits.

    A remembered login lives as long as its remember-me cookie, any other for LOGIN_SESSION_LIFETIME; the
    user's expired rows are dropped on the way so the table does not grow without end.
    """
    now = utcnow()
    lifetime = current_app.config["REMEMBER_COOKIE_DURATION" if remember else "LOGIN_SESSION_LIFETIME"]
    key = secrets.token_urlsafe(32)
    db.session.execute(
        delete(LoginSession).where(LoginSession.user_id == user.id, LoginSession.expires_at <= now)
    )
    db.session.add(LoginSession(user_id=user.id, key_hash=LoginSession.hash(key), expires_at=now + lifetime))
    db.session.flush()
    user.login_session_key = key
    return key


def user_for_session(session_id: str | None) -> User | None:
    """The active user of a live login session, from the id Flask-Login keeps ("<user id>:<key>"), or None."""
    user_part, _sep, key = (session_id or "").partition(":")
    user_id = parse_id(user_part)
    if user_id is None or not key:
        return None
    # one query: the user, its live session, its member profile and the profile's unit (with_profile)
    found = db.session.execute(
        with_profile(select(User).join(LoginSession, LoginSession.user_id == User.id)).where(
            User.id == user_id,
            User.active.is_(True),
            LoginSession.key_hash == LoginSession.hash(key),
            LoginSession.expires_at > utcnow(),
        )
    ).first()
    if found is None:
        return None
    remember_member(found.User, found.Member)
    found.User.login_session_key = key
    return found.User


def end_session(user: User) -> None:
    """End the login session `user` was loaded for (logout); executes, never commits."""
    if user.login_session_key:
        db.session.execute(
            delete(LoginSession).where(
                LoginSession.user_id == user.id,
                LoginSession.key_hash == LoginSession.hash(user.login_session_key),
            )
        )


def end_all_sessions(user: User, keep: str | None = None) -> int:
    """End every login session of `user` but the one whose key is `keep`; the number ended. Never commits."""
    statement = delete(LoginSession).where(LoginSession.user_id == user.id)
    if keep:
        statement = statement.where(LoginSession.key_hash != LoginSession.hash(keep))
    return db.session.execute(statement).rowcount


def remove_expired_access() -> int:
    """Delete every expired login session and API token (of users who never came back); how many. Never commits."""
    now = utcnow()
    return (
        db.session.execute(delete(LoginSession).where(LoginSession.expires_at <= now)).rowcount
        + db.session.execute(delete(ApiToken).where(ApiToken.expires_at <= now)).rowcount
    )

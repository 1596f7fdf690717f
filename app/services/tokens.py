"""Bearer tokens for the JSON API: issued at login, only their SHA-256 kept."""

import secrets
from datetime import UTC, datetime, timedelta
from functools import cache

from flask import current_app
from sqlalchemy import bindparam, delete, select

from app.extensions import db
from app.models import ApiToken, User
from app.models.base import utcnow
from app.services.wish_access import remember_member, with_profile


def issue_token(user: User, ttl: timedelta | None = None) -> tuple[str, datetime]:
    """A new raw token for `user` and its expiry; flushes, never commits.

    The user's expired tokens are dropped on the way so the table does not grow without end.
    """
    now = utcnow()
    expires_at = now + (ttl if ttl is not None else current_app.config["API_TOKEN_TTL"])
    raw = secrets.token_urlsafe(32)
    db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id, ApiToken.expires_at <= now))
    db.session.add(ApiToken(user_id=user.id, token_hash=ApiToken.hash(raw), expires_at=expires_at))
    db.session.flush()
    return raw, expires_at


def user_for_token(raw: str | None) -> User | None:
    """The active user a raw token belongs to, or None when it is unknown or expired."""
    if not raw:
        return None
    found = db.session.execute(_token_query(), {"token_hash": ApiToken.hash(raw)}).first()
    if found is None or _as_utc(found.expires_at) <= utcnow() or not found.User.active:
        return None
    remember_member(found.User, found.Member)
    return found.User


@cache
def _token_query():
    """One query: the token's expiry, its user, the user's member profile and its unit (`with_profile`).

    Built once, with the hash as a parameter: building the statement anew cost more than running it, on
    every API request (bench/README.md, the claim race).
    """
    return with_profile(select(ApiToken.expires_at, User).join(User, User.id == ApiToken.user_id)).where(
        ApiToken.token_hash == bindparam("token_hash")
    )


def revoke_tokens(user: User) -> int:
    """Delete every API token of `user`; the number deleted. Executes, never commits."""
    return db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id)).rowcount


def _as_utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes from DateTime(timezone=True); they were stored in UTC
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment

"""Who the caller is and what their role lets them reach."""

from app.models import User
from app.services.sessions import user_for_session


def load_user(session_id: str) -> User | None:
    """Flask-Login's loader (session and remember-me cookies alike): active users of a live login session only."""
    return user_for_session(session_id)


def login_rate_limit() -> str:
    """The configured limit on password attempts per client address."""
    from flask import current_app

    return current_app.config["LOGIN_RATE_LIMIT"]


def login_rate_limit_off() -> bool:
    """Per-app switch (the Limiter object itself is shared by every app in a process)."""
    from flask import current_app

    return not current_app.config["LOGIN_RATE_LIMIT_ENABLED"]

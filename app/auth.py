"""Who the caller is and what their role lets them reach."""
from app.extensions import db
from app.models import User


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: active users only."""
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


def login_rate_limit() -> str:
    """The configured limit on password attempts per client address."""
    from flask import current_app

    return current_app.config["LOGIN_RATE_LIMIT"]


def login_rate_limit_off() -> bool:
    """Per-app switch (the Limiter object itself is shared by every app in a process)."""
    from flask import current_app

    return not current_app.config["LOGIN_RATE_LIMIT_ENABLED"]

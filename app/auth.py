"""Who the caller is and what their role lets them reach."""
from functools import wraps

from flask import abort
from flask_login import current_user

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


def roles_required(*roles: str):
    """View decorator: 401 for anonymous callers (login redirect), 403 for other roles."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                from app.extensions import login_manager

                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator

"""Failed passwords counted per account in the rate limiter's storage (Redis when set), so every worker agrees."""

import math
import time

from flask import current_app
from flask_babel import gettext as _
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter, RateLimiter

from app.models import User
from app.models.accounts import sha256_hex
from app.services.errors import Limited
from app.services.users import authenticate

NAMESPACE = "onegrid-login-failures"


class TooManyFailedLogins(Limited):
    """The account had too many wrong passwords lately; no password is checked for `retry_after` seconds."""

    def __init__(self, retry_after: int):
        super().__init__(
            _("Too many wrong passwords for this account; try again later."), retry_after, "too_many_attempts"
        )


def check_credentials(username: str, password: str) -> User | None:
    """`authenticate` under the per-account limit: the user, or None for a wrong pair (counted against the account).

    Raises TooManyFailedLogins while the account is refused, whatever the address and even for the right
    password, so guessing gains nothing. A successful login is not counted. The test and the count are two
    steps: a few requests in flight at once may each slip one guess past the limit, never more.
    """
    limits = failure_limits()
    key = _account_key(username)
    if limits:
        wait = seconds_refused(key, limits)
        if wait:
            raise TooManyFailedLogins(wait)
    user = authenticate(username, password)
    if user is None and limits:
        strategy = _strategy()
        for limit in limits:
            strategy.hit(limit, NAMESPACE, key)
    return user


def failure_limits() -> list[RateLimitItem]:
    """LOGIN_ACCOUNT_FAILURE_LIMIT parsed; none when it is empty or the login limits are switched off."""
    setting = (current_app.config.get("LOGIN_ACCOUNT_FAILURE_LIMIT") or "").strip()
    if not setting or not current_app.config["LOGIN_RATE_LIMIT_ENABLED"]:
        return []
    return parse_many(setting)


def seconds_refused(key: str, limits: list[RateLimitItem]) -> int:
    """0 while the account `key` may try a password; else the seconds until its oldest counted failure expires."""
    strategy = _strategy()
    now = time.time()
    waits = [
        math.ceil(strategy.get_window_stats(limit, NAMESPACE, key).reset_time - now)
        for limit in limits
        if not strategy.test(limit, NAMESPACE, key)
    ]
    return max(1, *waits) if waits else 0


def _account_key(username: str) -> str:
    # one counter per account however its name is typed; hashed, so the storage holds no usernames
    return sha256_hex((username or "").strip().casefold())


def _strategy() -> RateLimiter:
    """This app's counter, on the storage Flask-Limiter uses (RATELIMIT_STORAGE_URI), made once per app.

    Kept per app rather than taken from the shared Limiter object, which follows whichever app was made last.
    """
    strategy = current_app.extensions.get("login_failures")
    if strategy is None:
        storage = storage_from_string(
            current_app.config.get("RATELIMIT_STORAGE_URI") or "memory://",
            **current_app.config.get("RATELIMIT_STORAGE_OPTIONS", {}),
        )
        try:
            strategy = MovingWindowRateLimiter(storage)
        except NotImplementedError:  # e.g. memcached keeps no moving windows
            strategy = FixedWindowRateLimiter(storage)
        current_app.extensions["login_failures"] = strategy
    return strategy

"""Where to send the browser next: safe local redirect targets and the back office's address."""

from urllib.parse import urlsplit

from flask import request, url_for
from werkzeug.routing import BuildError


def safe_target(target: str | None) -> str | None:
    """`target` when it is a path on this site (no scheme, host or protocol-relative trick), else None."""
    if not target or not isinstance(target, str):
        return None
    if any(ord(ch) < 32 or ch == "\\" for ch in target):  # browsers read '\' as '/' and drop tabs/newlines
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def safe_referrer() -> str | None:
    """The referring page's path when it is on this host, for "back to where you were"."""
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.netloc != request.host:
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return safe_target(path)


def back_office_url() -> str:
    """The back office home: Flask-Admin's index when it is registered, else its fixed path."""
    try:
        return url_for("admin.index")
    except BuildError:
        return request.script_root + "/admin/"


def landing_url(user) -> str:
    """Where a user lands after logging in without a `next`: staff in the back office, others at home."""
    return back_office_url() if user.has_back_office else url_for("marketplace.home")

"""长辈模式 (适老化): larger text and tap targets, higher contrast, a simpler layout, on the site and in the back
office. One tap switches it; a cookie remembers it on this device and the account's preference on every
device the person logs in on (the cookie, once set, wins on its device)."""

from flask import current_app, has_request_context, redirect, request, url_for
from flask_login import current_user

from app.extensions import db
from app.services.users import set_elder_mode
from marketplace.blueprint import bp
from marketplace.navigation import safe_referrer, safe_target

COOKIE = "og_elder"
ONE_YEAR = 365 * 24 * 3600


def elder_mode() -> bool:
    """Whether this request is shown in 长辈模式: the device's cookie, else the logged-in account's preference.
    Outside a request (a PDF rendered by a job) there is no one to show it to: never."""
    if not has_request_context():
        return False
    chosen = request.cookies.get(COOKIE)
    if chosen in ("1", "0"):
        return chosen == "1"
    return bool(getattr(current_user, "is_authenticated", False) and current_user.elder_mode)


@bp.app_context_processor
def inject_elder_mode():
    return {"elder_mode": elder_mode()}


@bp.route("/elder", methods=["POST"])
@bp.route("/elder/<state>", methods=["GET"])
def switch_elder_mode(state: str | None = None):
    """Turn 长辈模式 on or off for this device and, when logged in, for the account; back to the page."""
    state = state or request.form.get("elder")
    if state not in ("on", "off"):
        return redirect(url_for("marketplace.home"), 303)
    on = state == "on"
    if current_user.is_authenticated and request.method == "POST":  # an account changes by its form only
        set_elder_mode(current_user._get_current_object(), on)
        db.session.commit()
    target = safe_target(request.values.get("next")) or safe_referrer() or url_for("marketplace.home")
    response = redirect(target, 303)
    response.set_cookie(
        COOKIE,
        "1" if on else "0",
        max_age=ONE_YEAR,
        samesite="Lax",
        httponly=True,
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
    )
    return response

"""Logging in and out, changing one's password, and resident self-registration."""

import math

from flask import flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy.exc import IntegrityError

from app.auth import login_rate_limit, login_rate_limit_off
from app.extensions import db, limiter
from app.models.base import utcnow
from app.models.choices import Role
from app.services.login_limits import TooManyFailedLogins, check_credentials
from app.services.registration import register_resident
from app.services.sessions import end_session, start_session
from app.services.users import UserError, set_password
from marketplace.areas import building_choices
from marketplace.blueprint import bp
from marketplace.forms import ChangePasswordForm, LoginForm, RegisterForm
from marketplace.navigation import landing_url, safe_target

KEPT_ACROSS_LOGIN = ("lang",)  # everything else in the session is dropped when the user changes


def _fresh_session() -> None:
    """Empty the session except for the chosen language."""
    kept = {key: session[key] for key in KEPT_ACROSS_LOGIN if key in session}
    session.clear()
    session.update(kept)


def _start_session(user, remember: bool = False) -> None:
    """Log `user` in on a fresh session (a login session on the server too) and note the time."""
    _fresh_session()
    start_session(user, remember=remember)
    login_user(user, remember=remember)
    user.last_login_at = utcnow()
    db.session.commit()


def _refused(template: str, form, message: str, retry_after: int | None = None, **context):
    """The form again, saying why no password was checked: status 429, with Retry-After when known."""
    form.form_errors.append(message)
    response = make_response(render_template(template, form=form, **context), 429)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _refused_login(form, message: str, retry_after: int | None = None):
    return _refused(
        "marketplace/login.html", form, message, retry_after, next_url=safe_target(request.args.get("next"))
    )


def _too_many_failures(retry_after: int) -> str:
    return _(
        "Too many wrong passwords for this account. Please try again in %(minutes)d minutes.",
        minutes=math.ceil(retry_after / 60),
    )


def _too_many_from_this_address(_limit):
    """Flask-Limiter's breach of the per-address ceiling, told on the form (it adds Retry-After itself)."""
    return _refused_login(
        LoginForm(), _("Too many logins from your network just now. Please try again in a minute.")
    )


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    login_rate_limit,
    methods=["POST"],
    exempt_when=login_rate_limit_off,
    on_breach=_too_many_from_this_address,
)
def login():
    """Log in with username and password; staff land in the back office."""
    next_url = safe_target(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or landing_url(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = check_credentials(form.username.data, form.password.data)
        except TooManyFailedLogins as exc:
            return _refused_login(form, _too_many_failures(exc.retry_after), exc.retry_after)
        if user is None:
            form.form_errors.append(_("Wrong username or password."))
        elif user.role == Role.INTEGRATION:
            form.form_errors.append(_("This account is for the API only and cannot log in here."))
        else:
            _start_session(user, remember=form.remember.data)
            flash(_("Welcome, %(name)s.", name=user.name or user.username), "success")
            return redirect(next_url or landing_url(user), 303)
    return render_template("marketplace/login.html", form=form, next_url=next_url)


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    """POST logs out; GET only asks for confirmation, so a link or an image cannot log anyone out."""
    if request.method == "GET":
        if not current_user.is_authenticated:
            return redirect(url_for("marketplace.home"))
        return render_template("marketplace/logout.html")
    if current_user.is_authenticated:
        end_session(current_user)  # the session cookie, or a copy of it, no longer logs anyone in
        db.session.commit()
        _fresh_session()
        logout_user()  # after the clear: it leaves the note that deletes a "keep me logged in" cookie
        flash(_("You have logged out."), "info")
    return redirect(url_for("marketplace.home"), 303)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Choose a new password; every other session, remember-me cookie and API token of the account ends."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            # a wrong current password counts against the account, as at login
            confirmed = check_credentials(user.username, form.current_password.data)
        except TooManyFailedLogins as exc:
            return _refused(
                "marketplace/password.html", form, _too_many_failures(exc.retry_after), exc.retry_after
            )
        if confirmed is None:
            form.current_password.errors.append(_("The current password is wrong."))
        else:
            try:
                set_password(user, form.password.data, keep_session=user.login_session_key)
            except UserError as exc:
                form.password.errors.append(str(exc))
            else:
                db.session.commit()
                flash(
                    _("Your password is changed. Everywhere else you were logged in, you are logged out."),
                    "success",
                )
                return redirect(url_for("marketplace.account"), 303)
    return render_template("marketplace/password.html", form=form)


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(login_rate_limit, methods=["POST"], exempt_when=login_rate_limit_off)
def register():
    """A resident finds their compound, picks their building (the grid follows), creates an account and is
    logged in; a record the grid already keeps for their phone or ID number becomes theirs."""
    next_url = safe_target(request.args.get("next"))
    if current_user.is_authenticated:
        flash(_("You are already logged in."), "info")
        return redirect(next_url or url_for("marketplace.home"))
    compound = (request.args.get("compound") or "").strip()[:100]
    form = RegisterForm()
    form.building.choices = building_choices(compound)
    if form.validate_on_submit():
        try:
            user = register_resident(
                form.username.data,
                form.password.data,
                name=form.name.data,
                phone=form.phone.data,
                building_id=int(form.building.data),
                id_number=form.id_number.data,
            )
            db.session.commit()
        except UserError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        except IntegrityError:  # the same username registered a moment earlier by someone else
            db.session.rollback()
            form.username.errors.append(_("The username %(name)s is already taken.", name=form.username.data))
        else:
            _start_session(user)
            flash(_("Welcome, %(name)s. Your account is ready.", name=user.name), "success")
            return redirect(next_url or url_for("marketplace.home"), 303)
    return render_template("marketplace/register.html", form=form, next_url=next_url, compound=compound)

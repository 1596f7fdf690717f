"""Error pages in the site's layout, for every path except the JSON API's, and the site's one mapping of the
services' refusals (app.services.errors.DomainError) to what a person sees."""

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, flash, g, jsonify, make_response, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.services.errors import DomainError, Invalid, Limited
from app.services.storage import MissingFile
from marketplace.blueprint import bp

API_PREFIX = "/api/"
# the site's page for a refusal that has no form to show again and no subject page to return to
REFUSAL_PAGES = {403: "errors/403.html", 404: "errors/404.html"}


def _is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def _api_error(error: HTTPException):
    """Hand an API path's error to the app-wide handler the API module registered, else a plain JSON error."""
    for scope in (*request.blueprints, None):  # the API blueprint's own handlers first, then the app's
        handlers = current_app.error_handler_spec[scope][None]
        for cls in type(error).__mro__:
            handler = handlers.get(cls)
            if handler is not None:
                return handler(error)
    code = (error.name or "error").lower().replace(" ", "_")
    return jsonify(error={"code": code, "message": error.description}), error.code


def _page(template: str, error: HTTPException, **context):
    if _is_api_request():
        return _api_error(error)
    return render_template(template, error=error, **context), error.code


@bp.app_errorhandler(403)
def forbidden(error):
    return _page("errors/403.html", error)


@bp.app_errorhandler(404)
def not_found(error):
    return _page("errors/404.html", error)


@bp.app_errorhandler(413)
def too_large(error):
    """A body over the request cap (MAX_CONTENT_LENGTH): say how much the site takes, in the site's layout."""
    max_mb = f"{(request.max_content_length or 0) / 1_048_576:.0f}"
    return _page("errors/413.html", error, max_mb=max_mb)


@bp.app_errorhandler(MissingFile)
def stored_file_missing(error: MissingFile):
    """A record names a stored file that is gone, wherever it is asked for (site, back office, API): 404 naming it."""
    if _is_api_request():
        return jsonify(error={"code": error.code, "message": error.message}), 404
    return render_template("errors/refused.html", message=error.message, error=error), 404


@bp.app_errorhandler(CSRFError)
def csrf_refused(error):
    """A form sent without its token (or after the session ended): say so and offer a way back."""
    return _page("errors/400.html", error)


# --- refusals by the domain services ----------------------------------------------------------------
@dataclass
class OnRefusal:
    """What a refused action on this request leads to (see `on_refusal`)."""

    back_to: str | None = None
    form: Callable[[DomainError], ResponseReturnValue] | None = None
    form_for: tuple[type[DomainError], ...] = (DomainError,)


def on_refusal(
    back_to: str | None = None,
    form: Callable[[DomainError], ResponseReturnValue] | None = None,
    form_for: tuple[type[DomainError], ...] = (DomainError,),
) -> None:
    """Say, before calling a service, what the site's one refusal handler does if the service refuses.

    `form(error)`: the page with its form again (the typed values kept, `mark_fields` puts the messages on
    the fields), for the refusals in `form_for`; otherwise, for a POST, the message is flashed and the
    browser sent back to `back_to`, the subject's page (303: post, redirect, get). Without either, the
    refusal is a page of the site saying why, with the service's status.
    """
    g.on_refusal = OnRefusal(back_to, form, form_for)


def mark_fields(form, error: DomainError, keep=lambda errors: errors):
    """Put a refusal's messages on `form`: each of an Invalid's on its field (or above the form when the form
    has no such field), any other refusal's above the form. `keep` may trim the field messages first."""
    errors = keep(dict(error.errors)) if isinstance(error, Invalid) else {"": error.message}
    for name, message in errors.items():
        target = form._fields.get(name)
        (target.errors if target is not None else form.form_errors).append(message)
    return form


@bp.errorhandler(DomainError)
def refused(error: DomainError):
    """A service refused what a page asked: nothing it did is kept; the person reads the service's message."""
    db.session.rollback()
    plan = g.get("on_refusal") or OnRefusal()
    if plan.form is not None and isinstance(error, plan.form_for):
        response = make_response(plan.form(error))
        response.status_code = error.status
    elif plan.back_to is not None and request.method == "POST":
        flash(error.message, "error")
        response = redirect(plan.back_to, 303)
    else:
        template = REFUSAL_PAGES.get(error.status, "errors/refused.html")
        response = make_response(render_template(template, message=error.message, error=error), error.status)
    if isinstance(error, Limited):
        response.headers["Retry-After"] = str(error.retry_after)
    return response

"""Error pages in the site's layout, for every path except the JSON API's, and the site's one mapping of the
services' refusals (app.services.errors.DomainError) to what a person sees."""

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, flash, g, jsonify, make_response, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed, NotFound

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


# the other statuses: a title and what the person can do, on one page in the site's layout
STATUS_PAGES = {
    400: (_l("The request could not be understood"), _l("Please open the page again and try once more.")),
    401: (_l("Please log in"), _l("This page is for logged-in users. Log in and open it again.")),
    405: (
        _l("This address is not a page"),
        _l("It only takes a form sent from a page. Open the page again from the menu."),
    ),
    429: (
        _l("Too many requests"),
        _l("You sent too many requests in a short time. Please wait a minute and try again."),
    ),
    500: (
        _l("Something went wrong on our side"),
        _l(
            "Nothing you did caused this. Please try again later; if it keeps happening, tell your grid worker."
        ),
    ),
}


def _status_page(error: HTTPException):
    if _is_api_request():
        return _api_error(error)
    if error.response is not None:  # a page that answered for itself (the login form's own 429)
        return error.response
    title, hint = STATUS_PAGES[error.code]
    page = render_template("errors/status.html", error=error, title=title, hint=hint)
    response = make_response(page, error.code)
    for name, value in error.get_headers():  # Allow on 405, Retry-After on 429
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _page_above(path: str) -> str | None:
    """The nearest page (GET) above a form's address: /wishes/7/complete -> /wishes/7."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    while "/" in path.rstrip("/"):
        path = path.rstrip("/").rsplit("/", 1)[0] or "/"
        try:
            adapter.match(path, method="GET")
        except (NotFound, MethodNotAllowed):
            continue
        except Exception:  # a redirect rule: not a page to land on
            return None
        return path
    return None


@bp.app_errorhandler(405)
def method_not_allowed(error):
    """A reload (GET) of an address that only takes a form goes back to the page the form is on."""
    if request.method in ("GET", "HEAD") and not _is_api_request() and not request.path.startswith("/admin"):
        page = _page_above(request.path)
        if page is not None:
            return redirect(page, 303)
    return _status_page(error)


@bp.app_errorhandler(400)
@bp.app_errorhandler(401)
@bp.app_errorhandler(429)
def status_page(error):
    return _status_page(error)


@bp.app_errorhandler(InternalServerError)
def server_error(error):
    """An unexpected failure: nothing half-done is kept; the person sees the site's page, never a traceback."""
    db.session.rollback()
    if not isinstance(error, HTTPException) or error.code != 500:
        error = InternalServerError()
    return _status_page(error)


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

"""Error pages in the site's layout, for every path except the JSON API's."""

from flask import current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from marketplace.blueprint import bp

API_PREFIX = "/api/"


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


@bp.app_errorhandler(CSRFError)
def csrf_refused(error):
    """A form sent without its token (or after the session ended): say so and offer a way back."""
    return _page("errors/400.html", error)

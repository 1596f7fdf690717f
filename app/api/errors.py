"""JSON errors for the API: every failure answers `{"error": {"code", "message"}}`."""

import re
from typing import NoReturn

import marshmallow as ma
from flask import current_app, jsonify, request
from flask_babel import lazy_gettext as _l
from flask_smorest import abort
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RoutingException

MESSAGES = {
    400: _l("The request could not be understood."),
    401: _l("A valid bearer token is required."),
    403: _l("Your role may not do this."),
    404: _l("Not found."),
    405: _l("This method is not allowed here."),
    409: _l("This conflicts with the current state of the record."),
    413: _l("The request body is too large."),
    422: _l("The request did not pass validation."),
    500: _l("Something went wrong on our side; please try again later."),
}
CODES = {422: "validation_error", 500: "internal_error"}  # the rest come from the HTTP reason


class ErrorDetailSchema(ma.Schema):
    """What went wrong, for programs (`code`) and for people (`message`)."""

    code = ma.fields.String(required=True, metadata={"description": "short snake_case code, e.g. not_found"})
    message = ma.fields.String(
        required=True, metadata={"description": "human-readable, in the caller's language"}
    )
    field_errors = ma.fields.Dict(
        data_key="fields",
        keys=ma.fields.String(),
        metadata={"description": "validation messages by field (422 only)"},
    )


class ErrorSchema(ma.Schema):
    """The body of every API error response."""

    error = ma.fields.Nested(ErrorDetailSchema, required=True)


def api_abort(status: int, code: str, message: str, **extra) -> NoReturn:
    """Stop the request with a JSON error: HTTP `status`, a snake_case `code` and a human `message`."""
    abort(status, error_code=code, message=message, **extra)


def error_response(error: HTTPException):
    """The JSON response for an HTTP error raised anywhere in the API (aborts, webargs, routing)."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}  # set by webargs' and flask-smorest's abort
    body = {
        "code": data.get("error_code") or CODES.get(status) or _snake_case(error.name),
        "message": str(data.get("message") or MESSAGES.get(status) or error.description),
    }
    messages = data.get("errors") or data.get("messages")
    if messages:
        body["fields"] = _by_field(messages)
    response = jsonify(error=body)
    response.status_code = status
    for name, value in error.get_headers():  # keeps Allow on 405 and WWW-Authenticate on 401
        if name.lower() != "content-type":
            response.headers[name] = value
    response.headers.update(data.get("headers") or {})
    return response


def is_api_request() -> bool:
    """Whether the current request addresses the API (its path lies under the API prefix)."""
    prefix = current_app.config["OPENAPI_URL_PREFIX"].rstrip("/")
    return request.path == prefix or request.path.startswith(prefix + "/")


def answer_routing_errors_in_json():
    """before_request: an unknown URL or method under the API prefix answers JSON.

    No API blueprint matched such a request, so only app-wide handlers would see it, and an HTML
    404 page registered by the site would win over the API's class-wide handler.
    """
    error = request.routing_exception
    if error is None or isinstance(error, RoutingException) or not isinstance(error, HTTPException):
        return None  # matched, or a redirect werkzeug handles itself
    return error_response(error) if is_api_request() else None


def _by_field(messages: dict) -> dict:
    # webargs groups messages by location ({"query": {"level": [...]}}); clients want them by field
    flat = {}
    for location, value in messages.items():
        if isinstance(value, dict):
            flat.update(value)
        else:
            flat[location] = value
    return flat


def _snake_case(reason: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", reason.lower()).strip("_")

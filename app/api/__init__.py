"""The JSON API at /api/v1 (flask-smorest: schemas, validation and the OpenAPI document)."""

from decimal import Decimal

from flask import Flask, current_app, request
from flask_smorest import Api, Blueprint
from flask_smorest.spec.plugins import integerconverter2paramschema
from werkzeug.exceptions import default_exceptions

from app.api.errors import ErrorSchema, answer_routing_errors_in_json, error_response, is_api_request
from app.api.parsing import ApiParser
from app.extensions import csrf
from app.ids import IdConverter
from app.origin import audit_requests


class OneGridApi(Api):
    """flask-smorest's Api, with OneGrid's error shape in responses and in the document."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        """JSON for requests to the API; every other page keeps the site's own error page."""
        if not is_api_request():
            return error  # Flask renders its default (HTML) response
        return error_response(error)


class ApiBlueprint(Blueprint):
    """A blueprint of the API: its arguments go through the API's own parser (app/api/parsing.py)."""

    ARGUMENTS_PARSER = ApiParser()


def api_blueprint(name: str, import_name: str, description: str) -> Blueprint:
    """A blueprint of the API whose every error, whatever its code, answers in the API's JSON shape.

    Blueprint handlers for a code outrank app-wide ones, so an HTML 404 or 403 page the site
    registers cannot leak into API responses.
    """
    blueprint = ApiBlueprint(name, import_name, description=description)
    audit_requests(blueprint, "api")
    for code in default_exceptions:
        blueprint.register_error_handler(code, error_response)
    return blueprint


def decimal_bounds_as_numbers(converter, field, ret, **kwargs) -> dict:
    """apispec attribute function: a Decimal field's Range bounds are numbers in the document, not strings.

    Flask's JSON writes a Decimal as a string, and OpenAPI (and every client generator) wants numbers there.
    """
    return {
        key: float(value)
        for key, value in ret.items()
        if key in ("minimum", "maximum") and isinstance(value, Decimal)
    }


def cap_api_bodies() -> None:
    """before_request: a body sent to the API may be far smaller than a page's (413 before it is read)."""
    from app.api.attachments import UPLOAD_ENDPOINTS

    if is_api_request() and request.endpoint not in UPLOAD_ENDPOINTS:
        request.max_content_length = current_app.config["API_MAX_CONTENT_LENGTH"]
    elif is_api_request():  # one photo and its form
        request.max_content_length = current_app.config["ATTACHMENT_MAX_BYTES"] + 64 * 1024


def register_api(app: Flask) -> None:
    """Attach the API to `app`: one Api (and one OpenAPI document) per app, blueprints under /api/v1."""
    from app.api import (
        attachments,
        auth,
        callups,
        certificates,
        events,
        meetings,
        notifications,
        records,
        reference,
        stations,
        stats,
        visits,
        wishes,
        worklogs,
    )

    api = OneGridApi(app)
    api.ma_plugin.converter.add_attribute_function(decimal_bounds_as_numbers)
    api.register_converter(IdConverter, integerconverter2paramschema)  # ids documented with their bounds
    api.spec.components.security_scheme(
        "bearerAuth",
        {"type": "http", "scheme": "bearer", "description": "A token from POST /api/v1/auth/token."},
    )
    prefix = app.config["OPENAPI_URL_PREFIX"].rstrip("/")
    for blueprint in (
        attachments.bp,
        auth.bp,
        callups.bp,
        certificates.bp,
        events.bp,
        meetings.bp,
        notifications.bp,
        records.bp,
        reference.bp,
        stations.bp,
        stats.bp,
        visits.bp,
        wishes.bp,
        worklogs.bp,
    ):
        csrf.exempt(blueprint)  # bearer tokens, never cookies: nothing for a forged form to ride on
        api.register_blueprint(blueprint, url_prefix=prefix)
    app.before_request(cap_api_bodies)
    app.before_request(answer_routing_errors_in_json)

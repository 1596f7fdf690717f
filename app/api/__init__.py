"""The JSON API at /api/v1 (flask-smorest: schemas, validation and the OpenAPI document)."""
from flask import Flask
from flask_smorest import Api, Blueprint
from flask_smorest.spec.plugins import integerconverter2paramschema
from werkzeug.exceptions import default_exceptions

from app.api.errors import ErrorSchema, answer_routing_errors_in_json, error_response, is_api_request
from app.extensions import csrf
from app.ids import IdConverter


class OneGridApi(Api):
    """flask-smorest's Api, with OneGrid's error shape in responses and in the document."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        """JSON for requests to the API; every other page keeps the site's own error page."""
        if not is_api_request():
            return error  # Flask renders its default (HTML) response
        return error_response(error)


def api_blueprint(name: str, import_name: str, description: str) -> Blueprint:
    """A blueprint of the API whose every error, whatever its code, answers in the API's JSON shape.

    Blueprint handlers for a code outrank app-wide ones, so an HTML 404 or 403 page the site
    registers cannot leak into API responses.
    """
    blueprint = Blueprint(name, import_name, description=description)
    for code in default_exceptions:
        blueprint.register_error_handler(code, error_response)
    return blueprint


def register_api(app: Flask) -> None:
    """Attach the API to `app`: one Api (and one OpenAPI document) per app, blueprints under /api/v1."""
    from app.api import auth, certificates, events, reference, stats, wishes

    api = OneGridApi(app)
    api.register_converter(IdConverter, integerconverter2paramschema)  # ids documented with their bounds
    api.spec.components.security_scheme(
        "bearerAuth",
        {"type": "http", "scheme": "bearer", "description": "A token from POST /api/v1/auth/token."},
    )
    prefix = app.config["OPENAPI_URL_PREFIX"].rstrip("/")
    for blueprint in (auth.bp, certificates.bp, events.bp, reference.bp, stats.bp, wishes.bp):
        csrf.exempt(blueprint)  # bearer tokens, never cookies: nothing for a forged form to ride on
        api.register_blueprint(blueprint, url_prefix=prefix)
    app.before_request(answer_routing_errors_in_json)

"""Requests as OneGrid reads them: JSON nested too deep to parse, or text no database stores, is a 400, never a 500;
a request without a session cookie opens its empty session without more ado."""

from flask import Flask, Request, abort, current_app, request
from flask.sessions import SecureCookieSessionInterface

from app.api.errors import is_api_request
from app.services.text import contains_unstorable_text, has_unstorable_character


class OneGridRequest(Request):
    """Flask's request, whose `get_json` (Flask-WTF's forms read JSON bodies through it) never raises a 500.

    The JSON API parses its bodies itself and names the field at fault (app/api/parsing.py).
    """

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True):
        try:
            data = super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError as error:  # about 1,000 levels deep; Flask only expects a ValueError
            return None if silent else self.on_json_loading_failed(ValueError(str(error)))
        if contains_unstorable_text(data):  # NUL or a lone surrogate: no database stores them
            return None if silent else self.on_json_loading_failed(ValueError("unstorable character"))
        return data


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, but a request that brings no session cookie (an API call with its token,
    a visitor's first page) gets its empty session at once, without a signer made for nothing to check."""

    def open_session(self, app, request):
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def refuse_unstorable_fields() -> None:
    """before_request: a posted form field holding NUL (no person types it, PostgreSQL cannot store it) is a 400,
    for every form of the site and the back office alike; query strings are the pages' own filters, which
    ignore what they cannot use.

    The API refuses such fields itself, with a 422 that names them (app/api/parsing.py).
    """
    if request.method in ("GET", "HEAD", "OPTIONS") or is_api_request():
        return
    if any(
        has_unstorable_character(key) or has_unstorable_character(value)
        for key, value in request.form.items(multi=True)
    ):
        abort(400)


# the site's forms that carry photos (up to 9, each up to ATTACHMENT_MAX_BYTES) and the back office's step forms
PHOTO_FORMS = (
    "marketplace.new_event",
    "marketplace.new_wish",
    "marketplace.wish_action",
    "event.transition_view",
    "event_queue.transition_view",
)


def allow_photo_bodies() -> None:
    """before_request, before anything reads the body: a form carrying photos may be as large as its photos."""
    if request.endpoint in PHOTO_FORMS and request.method == "POST":
        request.max_content_length = 9 * current_app.config["ATTACHMENT_MAX_BYTES"] + 1024 * 1024


def init_requests(app: Flask) -> None:
    """Read every request of `app` as above."""
    app.request_class = OneGridRequest
    app.session_interface = CookieSessions()
    app.before_request(allow_photo_bodies)
    app.before_request(refuse_unstorable_fields)

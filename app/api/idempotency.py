"""The Idempotency-Key header on every state-changing API call: a retry gets the first answer, and acts once.

`idempotent(bp)` decorates an endpoint (register_actions does it for every action, the create endpoints by
hand): it documents and checks the header, reserves the key before the view acts (app/services/idempotency.py),
and commits the view's change together with its answer. `commit_or_abort` (app/api/common.py) ends its change
through `commit_change` / `roll_back_change`, which under a key leave the commit to this module.

What is kept: every answer the view gave, refusals (4xx) included, as the draft says — a retry of a refused
claim is refused the same way, even if the wish was released meanwhile. Not kept: 5xx and 429 (try again later),
and requests refused before the view ran (no token, an invalid header or body): nothing was processed.
"""

import hashlib
from copy import deepcopy
from functools import wraps

import marshmallow as ma
from flask import Response, g, request
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import HTTPException

from app.api.auth import current_api_user
from app.api.errors import api_abort, error_response
from app.connections import commit_answered, nothing_to_undo
from app.extensions import db
from app.models.idempotency import KEY_MAX
from app.services import idempotency as service

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = r"^[\x20-\x7e]+$"  # printable ASCII: what every HTTP stack carries unchanged
_SAVEPOINT = "idempotency_savepoint"
REPLAYED_DOC = {
    "description": "`true` on an answer replayed for a repeated Idempotency-Key",
    "schema": {"type": "string", "enum": ["true"]},
}


class IdempotencyKeySchema(ma.Schema):
    """The Idempotency-Key request header (every other header is ignored)."""

    class Meta:
        unknown = ma.EXCLUDE

    idempotency_key = ma.fields.String(
        data_key=HEADER,
        validate=[
            ma.validate.Length(min=1, max=KEY_MAX),
            ma.validate.Regexp(KEY_PATTERN, error=_l("Use printable ASCII characters only.")),
        ],
        metadata={
            "description": "Any unique string (a UUID is best), 1–255 printable ASCII characters. The same "
            "key from the same user within 24 hours returns the first answer (with "
            f"`{REPLAYED_HEADER}: true`) without acting again; the key sent with another "
            "request is refused (422 idempotency_key_reused)."
        },
    )


def idempotent(bp, *, own_key=None):
    """Decorator for a state-changing endpoint: honour an Idempotency-Key (see the module's docstring).

    Put it below the body's `bp.arguments` and above `bp.response`. `own_key(user)` true: the view handles
    the key itself (the hotline's ticket ids at event intake) and receives it as `idempotency_key`.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(*args, idempotency_key=None, **kwargs):
            if idempotency_key is None:
                return view(*args, **kwargs)
            user = current_api_user()
            if own_key is not None and own_key(user):
                return view(*args, idempotency_key=idempotency_key, **kwargs)
            return _answer_once(user.id, idempotency_key, args, lambda: view(*args, **kwargs))

        wrapped = bp.alt_response(409, response="CONFLICT")(_document_replays(wrapped))
        # an instance, not the class: webargs would make one per request
        parsed = bp.arguments(IdempotencyKeySchema(), location="headers", as_kwargs=True)(wrapped)

        @wraps(parsed)  # documented as `parsed` is
        def keyed(*args, **kwargs):
            # the header's parser (webargs and marshmallow, on every action) runs only for a call that sends
            # the header: without it there is no key to check
            if HEADER not in request.headers:
                return wrapped(*args, **kwargs)
            return parsed(*args, **kwargs)

        return keyed

    return decorator


def _document_replays(view):
    """The view's successful answers name the header a replay carries (in the OpenAPI document)."""
    view._apidoc = deepcopy(getattr(view, "_apidoc", {}))
    for status, docs in view._apidoc.get("response", {}).get("responses", {}).items():
        for doc in docs:
            if int(status) < 300 and isinstance(doc, dict):
                doc["headers"] = {**doc.get("headers", {}), REPLAYED_HEADER: REPLAYED_DOC}
    return view


def commit_change(*, answered: bool = False) -> None:
    """Commit the change of a request; under a key only flush it: its answer is committed with it. `answered`:
    the answer is already built, so the commit leaves the session's objects as they are (`commit_answered`)."""
    if g.get(_SAVEPOINT) is not None:
        db.session.flush()
    elif answered:
        commit_answered(db.session())
    else:
        db.session.commit()


def roll_back_change() -> None:
    """Undo the change of a refused request; under a key only the change, keeping the key for its answer. A
    refusal that changed nothing (a lost claim: it only read) has nothing to undo."""
    savepoint = g.get(_SAVEPOINT)
    if savepoint is None:
        if not nothing_to_undo(db.session()):
            db.session.rollback()
    elif savepoint.is_active:
        savepoint.rollback()


def _comparable(value):
    """What the fingerprint sees of a parsed argument: an uploaded file by its bytes (the same name with other
    bytes is another request), everything else as parsed."""
    if isinstance(value, dict):
        return {name: _comparable(item) for name, item in value.items()}
    if isinstance(value, FileStorage):
        digest = hashlib.sha256()
        for chunk in iter(lambda: value.stream.read(1 << 16), b""):
            digest.update(chunk)
        value.stream.seek(0)
        return {"file": value.filename, "sha256": digest.hexdigest()}
    return value


def _answer_once(user_id: int, key: str, body, run) -> Response:
    print_ = service.fingerprint(request.method, request.path, [_comparable(part) for part in body])
    try:
        row = service.reserve(user_id, key, request.method, request.path[:255], print_)
    except (service.KeyReused, service.KeyBusy) as refusal:
        api_abort(refusal.status, refusal.code, refusal.message)
    if row.status_code is not None:
        return Response(
            row.response_body,
            status=row.status_code,
            mimetype="application/json",
            headers={REPLAYED_HEADER: "true"},
        )
    savepoint = db.session.begin_nested()  # a refusal undoes the change, not the key
    setattr(g, _SAVEPOINT, savepoint)
    try:
        response = run()
    except HTTPException as error:
        roll_back_change()
        response = error_response(error)
    except Exception:
        db.session.rollback()
        raise
    finally:
        g.pop(_SAVEPOINT, None)
    if response.status_code >= 500 or response.status_code == 429:
        db.session.rollback()  # not an answer to keep: the key stays free for the retry
        return response
    if savepoint.is_active:
        savepoint.commit()
    service.record(row, response.status_code, response.get_data(as_text=True))
    db.session.commit()
    return response

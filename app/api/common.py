"""Shapes and helpers the wish and event APIs share: fields, deadlines, masked actors, commit-or-abort."""
from datetime import datetime, timezone

import marshmallow as ma
from flask_babel import lazy_gettext as _l

from app.api.errors import api_abort
from app.api.reference import AREA_CODE_PATTERN
from app.extensions import db
from app.services.masking import mask_name
from app.services.wishes import WishError, WishInvalid

CHOOSE_ONE = _l("Choose one of: {choices}.")
AREA_CODE = ma.validate.Regexp(AREA_CODE_PATTERN, error=_l("An area code has 6, 9, 12 or 15 digits."))


class UtcDateTime(ma.fields.DateTime):
    """ISO 8601 with its offset; SQLite hands back naive datetimes, stored in UTC."""

    def _serialize(self, value: datetime | None, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return super()._serialize(value, attr, obj, **kwargs)


class Text(ma.fields.String):
    """A string without NUL characters, which PostgreSQL cannot store: a clear 422 rather than a 500."""

    default_error_messages = {"nul": _l("Contains a character that is not allowed.")}

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise self.make_error("nul")
        return text


class DeadlinesSchema(ma.Schema):
    """The three deadlines: respond, reply, resolve (for a wish: reviewed, claimed, done)."""

    respond = UtcDateTime(required=True)
    reply = UtcDateTime(required=True)
    resolve = UtcDateTime(required=True)


def masked_user(user) -> str | None:
    return mask_name(user.name or user.username) if user is not None else None


def abort_for(error: WishError):
    """The JSON error for a refused action (wishes, events); the caller has rolled back."""
    if isinstance(error, WishInvalid):
        api_abort(422, error.code, error.message, errors={k: [v] for k, v in error.errors.items()})
    api_abort(error.status, error.code, error.message)


def commit_or_abort(change):
    """Run `change()`; commit what it did, or roll all of it back and answer the refusal as JSON."""
    try:
        result = change()
    except WishError as error:
        db.session.rollback()
        abort_for(error)
    db.session.commit()
    return result

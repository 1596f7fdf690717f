"""The bodies of the wish actions over the API (app/api/wishes.py routes them): reasons, notes, hours, ratings."""

import marshmallow as ma

from app.api.common import CHOOSE_ONE, Text
from app.models.choices import Rating
from app.models.wishes import DESCRIPTION_MAX, NOTE_MAX, TITLE_MAX
from app.services import wishes as service


class ReasonRequestSchema(ma.Schema):
    """Why (reject, dispute)."""

    reason = Text(required=True, validate=ma.validate.Length(min=1, max=NOTE_MAX))


class NoteRequestSchema(ma.Schema):
    """An optional note (cancel, release)."""

    note = Text(allow_none=True, validate=ma.validate.Length(max=NOTE_MAX))


class ReleaseRequestSchema(ma.Schema):
    """Why the member asks to be released (`note` is the older name of `reason`); one is required."""

    reason = Text(allow_none=True, validate=ma.validate.Length(max=NOTE_MAX))
    note = Text(allow_none=True, validate=ma.validate.Length(max=NOTE_MAX))


class ResubmitRequestSchema(ma.Schema):
    """A rejected wish edited: what changes (omitted values stay as they were)."""

    title = Text(validate=ma.validate.Length(min=1, max=TITLE_MAX))
    description = Text(allow_none=True, validate=ma.validate.Length(max=DESCRIPTION_MAX))
    category = Text(validate=ma.validate.Length(min=1, max=20), metadata={"description": "category code"})


class CompleteRequestSchema(ma.Schema):
    """What was done and the hours it took."""

    note = Text(required=True, validate=ma.validate.Length(min=1, max=NOTE_MAX))
    hours = ma.fields.Decimal(
        required=True,
        validate=ma.validate.Range(min=service.MIN_HOURS, max=service.MAX_HOURS),
        metadata={"description": "0.5 to 24, one decimal place"},
    )


class ConfirmRequestSchema(ma.Schema):
    """The owner's rating (好/中/差) and an optional comment."""

    rating = Text(required=True, validate=ma.validate.OneOf([r.value for r in Rating], error=CHOOSE_ONE))
    comment = Text(allow_none=True, validate=ma.validate.Length(max=NOTE_MAX))

"""Events' shapes in the API: an event with its dispatches and history, the list's filters, the request bodies.

The bodies are those of reporting (POST /events) and of each step (POST /events/{id}/<action>);
app.api.events serves them.
"""

import marshmallow as ma
from flask_babel import lazy_gettext as _l

from app.api.attachments import AttachmentSchema
from app.api.common import AREA_CODE, CHOOSE_ONE, DeadlinesSchema, Text, UtcDateTime
from app.api.pagination import PageQuerySchema
from app.api.wishes import StepSchema
from app.ids import MAX_ID
from app.models.choices import DispatchStatus, EventAction, EventLevel, EventSource, EventStatus
from app.models.events import ACTING_FOR_MAX, DESCRIPTION_MAX, LOCATION_MAX, NOTE_MAX, TITLE_MAX

MAX_DEPARTMENTS = 20


# --- the event --------------------------------------------------------------------------------------
class EventDeadlinesSchema(DeadlinesSchema):
    """When the event must be accepted (respond), answered (reply) and solved (resolve)."""


class EventStepSchema(StepSchema):
    """One step of the event: who, what, from which status and level to which."""

    action = ma.fields.String(required=True, metadata={"enum": [a.value for a in EventAction]})
    from_level = ma.fields.String(allow_none=True)
    to_level = ma.fields.String(required=True)
    department = ma.fields.String(allow_none=True, metadata={"description": "department code (answers)"})


class AnswerSchema(ma.Schema):
    """One answer of a department to its dispatch (报到)."""

    note = ma.fields.String(allow_none=True)
    at = UtcDateTime(required=True)


class DispatchSchema(ma.Schema):
    """The event whistled to one department (吹哨) and what it answered."""

    department = ma.fields.String(required=True, metadata={"description": "department code"})
    department_name = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"enum": [s.value for s in DispatchStatus]})
    dispatched_at = UtcDateTime(required=True)
    answered_at = UtcDateTime(allow_none=True)
    done_at = UtcDateTime(allow_none=True)
    answers = ma.fields.List(ma.fields.Nested(AnswerSchema), required=True)


class FeedbackSchema(ma.Schema):
    """The reporter's say on one resolution."""

    fixed = ma.fields.Boolean(required=True)
    rating = ma.fields.String(required=True, metadata={"enum": ["good", "average", "poor"]})
    comment = ma.fields.String(allow_none=True)
    at = UtcDateTime(required=True)


class EventSchema(ma.Schema):
    """An event; `dispatches` and `history` only on the detail endpoint."""

    id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    description = ma.fields.String(allow_none=True)
    matter = ma.fields.String(required=True, metadata={"description": "matter code"})
    matter_name = ma.fields.String(required=True)
    grid_code = ma.fields.String(required=True)
    location_text = ma.fields.String(allow_none=True)
    source = ma.fields.String(required=True, metadata={"enum": [s.value for s in EventSource]})
    reporter = ma.fields.String(required=True, metadata={"description": "masked name"})
    acting_for = ma.fields.String(
        allow_none=True, metadata={"description": "staff only: whom it was reported for"}
    )
    level = ma.fields.String(required=True, metadata={"enum": [lv.value for lv in EventLevel]})
    status = ma.fields.String(required=True, metadata={"enum": [s.value for s in EventStatus]})
    major = ma.fields.Boolean(required=True)
    external_ref = ma.fields.String(allow_none=True, metadata={"description": "the hotline ticket id"})
    campaign_id = ma.fields.Integer(allow_none=True)
    score = ma.fields.Integer(allow_none=True)
    created_at = UtcDateTime(required=True)
    accepted_at = UtcDateTime(allow_none=True)
    resolved_at = UtcDateTime(allow_none=True)
    verified_at = UtcDateTime(allow_none=True)
    closed_at = UtcDateTime(allow_none=True)
    archived_at = UtcDateTime(allow_none=True)
    deadlines = ma.fields.Nested(EventDeadlinesSchema, required=True)
    next_deadline = UtcDateTime(allow_none=True, metadata={"description": "the deadline that runs now"})
    overdue = ma.fields.Boolean(required=True)
    actions = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={"description": "what the caller may do now: POST /events/{id}/<action>"},
    )
    dispatches = ma.fields.List(ma.fields.Nested(DispatchSchema))
    history = ma.fields.List(ma.fields.Nested(EventStepSchema))
    feedback_due = ma.fields.Boolean(
        metadata={
            "description": "the caller is the reporter, asked for their say: POST /events/{id}/feedback"
        }
    )
    feedback = ma.fields.List(
        ma.fields.Nested(FeedbackSchema),
        metadata={"description": "the reporter's say on each resolution (the reporter and staff only)"},
    )
    attachments = ma.fields.List(ma.fields.Nested(AttachmentSchema), metadata={"description": "detail only"})


class EventQuerySchema(PageQuerySchema):
    """Filters of the event list."""

    status = Text(validate=ma.validate.OneOf([s.value for s in EventStatus], error=CHOOSE_ONE))
    level = Text(validate=ma.validate.OneOf([lv.value for lv in EventLevel], error=CHOOSE_ONE))
    area = Text(validate=AREA_CODE, metadata={"description": "a street, community or grid code"})
    matter = Text(validate=ma.validate.Length(max=20), metadata={"description": "matter code"})
    source = Text(validate=ma.validate.OneOf([s.value for s in EventSource], error=CHOOSE_ONE))


class PersonField(ma.fields.Field):
    """A name (text), or the id of a census record (a whole number)."""

    default_error_messages = {"invalid": _l("Give a name or a resident id.")}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, int):
            if not 0 < value <= MAX_ID:
                raise self.make_error("invalid")
            return value
        if isinstance(value, str):
            return Text(validate=ma.validate.Length(max=ACTING_FOR_MAX)).deserialize(value)
        raise self.make_error("invalid")


class EventRequestSchema(ma.Schema):
    """A new event, at grid level of its grid; the matter must be admitted to the grid's list (准入)."""

    title = Text(required=True, validate=ma.validate.Length(min=1, max=TITLE_MAX))
    description = Text(allow_none=True, validate=ma.validate.Length(max=DESCRIPTION_MAX))
    matter = Text(
        required=True,
        validate=ma.validate.Length(min=1, max=20),
        metadata={"description": "matter code, see GET /matters"},
    )
    grid_code = Text(
        allow_none=True,
        validate=AREA_CODE,
        metadata={"description": "a grid (15 digits); residents: default their home grid"},
    )
    location_text = Text(allow_none=True, validate=ma.validate.Length(max=LOCATION_MAX))
    source = Text(
        allow_none=True,
        validate=ma.validate.OneOf([s.value for s in EventSource], error=CHOOSE_ONE),
        metadata={"description": "default by role: patrol, resident, hotline, department"},
    )
    acting_for = PersonField(
        allow_none=True,
        metadata={
            "description": "staff only: the person reported for, a name or a resident id",
            "oneOf": [{"type": "string"}, {"type": "integer"}],
        },
    )
    campaign_id = ma.fields.Integer(
        allow_none=True,
        strict=True,
        validate=ma.validate.Range(min=1, max=MAX_ID),
        metadata={"description": "a running campaign (专项治理) covering the grid"},
    )


class EscalateRequestSchema(ma.Schema):
    """Why the event goes up; a major event goes straight to the district."""

    reason = Text(required=True, validate=ma.validate.Length(min=1, max=NOTE_MAX))
    major = ma.fields.Boolean(load_default=False)


class DispatchRequestSchema(ma.Schema):
    """The departments called in (吹哨), by code (see GET /departments)."""

    departments = ma.fields.List(
        Text(validate=ma.validate.Length(min=1, max=20)),
        required=True,
        validate=ma.validate.Length(min=1, max=MAX_DEPARTMENTS),
    )


class AnswerRequestSchema(ma.Schema):
    """A department's answer to its dispatch, and whether its part is done."""

    note = Text(required=True, validate=ma.validate.Length(min=1, max=NOTE_MAX))
    done = ma.fields.Boolean(load_default=False)


class StartRequestSchema(ma.Schema):
    """What the handler found or does first, optionally."""

    note = Text(allow_none=True, validate=ma.validate.Length(max=NOTE_MAX))


class ResolveRequestSchema(ma.Schema):
    """What was done."""

    note = Text(required=True, validate=ma.validate.Length(min=1, max=NOTE_MAX))


class VerifyRequestSchema(ma.Schema):
    """The on-the-spot check: passed, or failed with a note (back to work)."""

    passed = ma.fields.Boolean(required=True)
    note = Text(
        allow_none=True,
        validate=ma.validate.Length(max=NOTE_MAX),
        metadata={"description": "required when the check failed"},
    )


class CallbackRequestSchema(ma.Schema):
    """The callback (回访): satisfied closes the event, unsatisfied (with a note) reopens it."""

    satisfied = ma.fields.Boolean(required=True)
    note = Text(
        allow_none=True,
        validate=ma.validate.Length(max=NOTE_MAX),
        metadata={"description": "required when unsatisfied"},
    )


class ArchiveRequestSchema(ma.Schema):
    """The community's score (社区考评)."""

    score = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(min=1, max=5))


class FeedbackRequestSchema(ma.Schema):
    """The reporter's say on a resolved report: fixed or not, 好/中/差, a comment (required when not fixed)."""

    fixed = ma.fields.Boolean(required=True)
    rating = Text(
        required=True,
        validate=ma.validate.OneOf(["good", "fair", "average", "poor"], error=CHOOSE_ONE),
        metadata={"description": "good (好), fair (中; also `average`), poor (差)"},
    )
    comment = Text(
        allow_none=True,
        validate=ma.validate.Length(max=NOTE_MAX),
        metadata={"description": "required when not fixed: what is still wrong"},
    )

"""Shapes and helpers the API modules share: fields, deadlines, masked actors, commit-or-abort, workflow actions."""

from datetime import UTC, datetime

import marshmallow as ma
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.api.auth import current_api_user, token_required
from app.api.errors import api_abort
from app.api.idempotency import commit_change, idempotent, roll_back_change
from app.api.parsing import NOT_ALLOWED
from app.api.reference import AREA_CODE_PATTERN
from app.extensions import db
from app.ids import parse_id
from app.services import workflow
from app.services.errors import DomainError, Invalid
from app.services.masking import mask_name
from app.services.text import has_unstorable_character

CHOOSE_ONE = _l("Choose one of: {choices}.")
AREA_CODE = ma.validate.Regexp(AREA_CODE_PATTERN, error=_l("An area code has 6, 9, 12 or 15 digits."))


class UtcDateTime(ma.fields.DateTime):
    """ISO 8601 with its offset; SQLite hands back naive datetimes, stored in UTC."""

    def _serialize(self, value: datetime | None, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class Text(ma.fields.String):
    """A string without NUL or lone surrogates, which no database stores: a clear 422 rather than a 500.

    The API's parser (app/api/parsing.py) refuses them in every field already; this keeps a schema loaded
    elsewhere just as safe.
    """

    default_error_messages = {"nul": NOT_ALLOWED}

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if has_unstorable_character(text):
            raise self.make_error("nul")
        return text


class DeadlinesSchema(ma.Schema):
    """The three deadlines: respond, reply, resolve (for a wish: reviewed, claimed, done)."""

    respond = UtcDateTime(required=True)
    reply = UtcDateTime(required=True)
    resolve = UtcDateTime(required=True)


class CurrentDeadlineSchema(ma.Schema):
    """The deadline a wish's present status runs against: review, claim or complete, and when."""

    kind = ma.fields.String(required=True, metadata={"enum": ["review", "claim", "complete"]})
    at = UtcDateTime(required=True)


def current_deadline_json(deadline) -> dict | None:
    return {"kind": deadline.kind, "at": deadline.at} if deadline is not None else None


def masked_user(user) -> str | None:
    return mask_name(user.name or user.username) if user is not None else None


def step_body(step, note: bool = True) -> dict:
    """One history step as the API shows it (app.api.wishes.StepSchema; events add their levels)."""
    return {
        "action": step.action,
        "actor": masked_user(step.actor),
        "from_status": step.from_status,
        "to_status": step.to_status,
        "at": step.at,
        "note": step.note if note else None,
    }


def abort_for(error: DomainError):
    """The JSON error for a refused action (wishes, events); the caller has rolled back."""
    if isinstance(error, Invalid):
        api_abort(422, error.code, error.message, errors={k: [v] for k, v in error.errors.items()})
    retry_after = getattr(error, "retry_after", None)
    api_abort(
        error.status,
        error.code,
        error.message,
        **({"headers": {"Retry-After": str(retry_after)}} if retry_after else {}),
    )


def commit_or_abort(change, *, answered: bool = False):
    """Run `change()`; commit what it did, or roll all of it back and answer the refusal as JSON.

    Under an Idempotency-Key the commit waits for the answer, which is kept with the change (app/api/idempotency.py).
    `answered`: `change()` returns the answer itself, plain data, so the commit need not expire the objects it was
    built from.
    """
    try:
        result = change()
    except DomainError as error:
        roll_back_change()
        abort_for(error)
    commit_change(answered=answered)
    return result


def load_visible_or_404(model, object_id: int, visible, options=()):
    """The `model` row with this id when the `visible` condition admits it; else a JSON 404."""
    row = (
        None
        if parse_id(object_id) is None
        else db.session.scalar(select(model).where(model.id == object_id, visible).options(*options))
    )
    if row is None:
        api_abort(404, "not_found", _("Not found."))
    return row


def action_body(body, name: str, statuses) -> type[ma.Schema]:
    """`body` (a schema class, or None for none) with the optional `expected_status` every action accepts."""
    expected_status = Text(
        validate=ma.validate.OneOf(statuses, error=CHOOSE_ONE),
        metadata={
            "description": "the status the caller last saw; when the record has moved on since, nothing is done: "
            "409 status_mismatch, naming the current status"
        },
    )
    return type(
        name,
        (body or ma.Schema,),
        {"__doc__": body.__doc__ if body else "Optional preconditions.", "expected_status": expected_status},
    )


def register_actions(bp, collection: str, noun: str, schema, actions: dict, act, responses=()) -> None:
    """One documented `POST /<collection>/<id>/<action>` endpoint per entry of `actions` ({action: (body schema
    or None, summary)}); `act(action, id, values)` does the work and returns the answer. `responses` adds
    (status, name) pairs to the documented refusals (403, 404, 409).

    Every action honours an Idempotency-Key, and its body may carry `expected_status` (one of the statuses of
    `schema`'s `status` field), which the services' `perform` checks (app/services/workflow.py)."""
    statuses = schema._declared_fields["status"].metadata["enum"]
    for action, (body, summary) in actions.items():
        body = action_body(body, f"{action.title()}{noun.title()}RequestSchema", statuses)

        def view(*args, _action=action, **kwargs):
            return act(_action, kwargs[f"{noun}_id"], args[0] if args else {})

        view.__name__ = view.__qualname__ = f"{action}_{noun}"
        view.__doc__ = summary
        # the decorators a hand-written endpoint would carry, applied from the innermost out
        for status, response in ((403, "FORBIDDEN"), (404, "NOT_FOUND"), (409, "CONFLICT"), *responses):
            view = bp.alt_response(status, response=response)(view)
        view = bp.response(200, schema)(view)
        view = idempotent(bp)(view)
        # a body of optional fields may be left out altogether; an instance, not the class: webargs would make
        # one per request
        instance = body()
        view = bp.arguments(instance, required=any(f.required for f in instance.fields.values()))(view)
        view = token_required()(view)
        bp.route(f"/{collection}/<int:{noun}_id>/{action}", methods=["POST"], endpoint=f"{action}_{noun}")(
            view
        )


def route_actions(bp, machine, collection: str, noun: str, schema, actions: dict, load, present) -> None:
    """`register_actions` for every user action of the workflow `machine` (RuntimeError when one is not listed):
    each loads the row with `load(user, id)` (a JSON 404 when the caller may not see it), performs the step on
    the engine, commits it or answers the refusal, and answers `present(row, user)` with the row read again."""
    if missing := workflow.unrouted(machine, actions):
        raise RuntimeError(
            f"{machine.name.replace('_', ' ')} actions listed but not routed: {sorted(missing)}"
        )

    def act(action: str, object_id: int, values: dict) -> dict:
        user = current_api_user()
        row = load(user, object_id)
        commit_or_abort(lambda: workflow.perform(machine, user, row, action, values))
        db.session.expire_all()
        return present(load(user, object_id), user)

    register_actions(bp, collection, noun, schema, actions, act)

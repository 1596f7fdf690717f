"""The audit log: every change, from every channel, and every reveal, import and export of personal data.

The interface a change comes through says once which channel it is and the client's address
(`acting_through`: a before_request of the site, the API and the back office, the job runner, the
command line); every entry written while it holds carries them, so services never read the request.
"""

from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import insert, inspect

from app.extensions import db
from app.models import AuditLog
from app.services.masking import MASKERS

SECRET_COLUMNS = {"password_hash", "token_hash", "secret", "checkin_token"}
STEP_VALUES = (str, int, float, bool, date, datetime, Decimal, type(None))  # not SQL expressions
SECRET_HIDDEN, SECRET_CHANGED = "(hidden)", "(changed)"  # what the log shows of a secret that changed


@dataclass(frozen=True)
class Origin:
    """Where the changes being made come from: the channel (AUDIT_CHANNELS) and the client's address."""

    channel: str | None = None
    address: str | None = None


_origin: ContextVar[Origin] = ContextVar("audit_origin", default=Origin())  # noqa: B039 (Origin is frozen)


def current_origin() -> Origin:
    """The channel and address set by the interface now running (Origin() outside any)."""
    return _origin.get()


def enter(channel: str, address: str | None = None) -> Token:
    """Record what follows as coming through `channel` from `address`; `leave(token)` ends it."""
    return _origin.set(Origin(channel, address))


def leave(token: Token) -> None:
    _origin.reset(token)


@contextmanager
def acting_through(channel: str, address: str | None = None):
    """Within the block, entries are recorded as coming through `channel` (a job, a command)."""
    token = enter(channel, address)
    try:
        yield
    finally:
        leave(token)


def plain(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _masked(key: str, value):
    masker = MASKERS.get(key)
    return masker(value) if masker and isinstance(value, str) else plain(value)


def snapshot(obj) -> dict:
    """Column values of a row, personal data masked and secrets left out."""
    mapper = inspect(type(obj))
    return {
        col.key: _masked(col.key, getattr(obj, col.key))
        for col in mapper.column_attrs
        if col.key not in SECRET_COLUMNS
    }


def changes(obj) -> tuple[dict, dict]:
    """(before, after) of the columns changed on a pending row, from the session's history."""
    state = inspect(obj)
    before, after = {}, {}
    for attr in state.mapper.column_attrs:
        history = state.attrs[attr.key].history
        if attr.key in SECRET_COLUMNS:
            if history.has_changes() and state.has_identity:  # that it changed, never the value
                before[attr.key], after[attr.key] = SECRET_HIDDEN, SECRET_CHANGED
            continue
        if history.has_changes():
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            if plain(old) != plain(new):
                before[attr.key] = _masked(attr.key, old)
                after[attr.key] = _masked(attr.key, new)
    return before, after


def area_of(obj) -> str | None:
    column_name = getattr(type(obj), "scope_column_name", None)
    return getattr(obj, column_name) if column_name else None


def _entry(actor, action: str, model: str, **columns) -> dict:
    origin = _origin.get()
    return dict(
        user_id=getattr(actor, "id", None),
        username=getattr(actor, "username", None),
        action=action,
        model=model,
        channel=origin.channel,
        ip=columns.pop("ip", None) or origin.address,
        **columns,
    )


def record_bulk(
    actor, action: str, model, area_code: str | None, details: dict, ip: str | None = None
) -> AuditLog:
    """Add one audit row for an import or export of many `model` rows within `area_code` (None: everywhere)."""
    entry = AuditLog(**_entry(actor, action, model.__name__, area_code=area_code, after=details, ip=ip))
    db.session.add(entry)
    return entry


def record(
    actor, action: str, obj, before: dict | None = None, after: dict | None = None, ip: str | None = None
) -> AuditLog:
    """Add one audit row to the session (the caller's commit writes it with the change)."""
    identity = inspect(obj).identity
    entry = AuditLog(
        **_entry(
            actor,
            action,
            type(obj).__name__,
            object_id=str(identity[0]) if identity else None,
            area_code=area_of(obj),
            before=before,
            after=after,
            ip=ip,
        )
    )
    db.session.add(entry)
    return entry


def record_created(actor, obj) -> AuditLog:
    """A record made by hand (the back office's forms): its snapshot, once it has an id."""
    db.session.flush()
    return record(actor, "create", obj, None, snapshot(obj))


def record_updated(actor, obj, before: dict, after: dict) -> AuditLog | None:
    """A record edited by hand: the columns that changed (`changes(obj)`, taken before anything flushed).

    Nothing changed: no row.
    """
    return record(actor, "update", obj, before, after) if after else None


def record_deleted(actor, obj) -> AuditLog:
    """A record deleted by hand: its last snapshot."""
    return record(actor, "delete", obj, snapshot(obj), None)


def record_reveal(actor, obj, fields, reason: str | None = None) -> AuditLog:
    """Personal data of `obj` shown in full (`fields`, never their values), and why when the display says
    (a claimer shown the owner's phone: "claimed wish #12")."""
    return record(
        actor, "reveal", obj, None, {"fields": list(fields), **({"reason": reason} if reason else {})}
    )


def _step_row(actor, subject, action, before: dict, after: dict, note, values, at) -> dict:
    after = {
        **after,
        **{
            key: _masked(key, value)
            for key, value in (values or {}).items()
            if key not in SECRET_COLUMNS and key != "updated_at" and isinstance(value, STEP_VALUES)
        },
        "step": str(action),
    }
    if note is not None or "note" not in after:
        after["note"] = note
    identity = getattr(subject, "id", None)
    return _entry(
        actor,
        "update",
        type(subject).__name__,
        object_id=str(identity) if identity is not None else None,
        area_code=area_of(subject),
        before=before,
        after=after,
        at=at,
    )


# built once: on the hot path (a claim) building it cost as much as running it
_INSERT_ROW = insert(AuditLog.__table__)


def record_step(
    actor, subject, action, before: dict, after: dict, *, note=None, values=None, at=None
) -> None:
    """One audit row for a workflow step, as one INSERT in the step's transaction (nothing left to flush).

    `before`/`after` hold the status (and the columns the machine pins, e.g. an event's level); `after` adds
    the step, its note and the plain values the step set (who claimed, the rating …), masked like a snapshot.
    """
    insert_row(step_row(actor, subject, action, before, after, note=note, values=values, at=at))


def step_row(actor, subject, action, before: dict, after: dict, *, note=None, values=None, at=None) -> dict:
    """The audit row of a workflow step, as the columns' values (`record_step` describes it); the workflow
    engine writes it with the step's history row."""
    return _step_row(actor, subject, action, before, after, note, values, at)


def insert_row(row: dict) -> None:
    """Write one audit row given as its columns' values."""
    # the table's INSERT with the row as its parameters: one compiled statement for every step, not one per row
    # (Core, on the session's connection: the ORM's DML layer adds nothing to it)
    db.session.connection().execute(_INSERT_ROW, row)


def record_steps(subjects, action, before: dict, after, *, note=None, at=None) -> None:
    """The audit rows of one system step taken on many subjects at once (`before`: {id: {column: value}},
    `after(subject)`: its values now), as one INSERT of many rows."""
    rows = [
        _step_row(None, subject, action, before[subject.id], after(subject), note, None, at)
        for subject in subjects
    ]
    if rows:
        db.session.execute(insert(AuditLog), rows)

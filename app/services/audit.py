"""The audit log: every back-office change and every reveal of personal data."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import inspect

from app.extensions import db
from app.models import AuditLog
from app.services.masking import MASKERS

SECRET_COLUMNS = {"password_hash", "token_hash", "secret"}
SECRET_HIDDEN, SECRET_CHANGED = "(hidden)", "(changed)"  # what the log shows of a secret that changed


def _plain(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _masked(key: str, value):
    masker = MASKERS.get(key)
    return masker(value) if masker and isinstance(value, str) else _plain(value)


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
            if _plain(old) != _plain(new):
                before[attr.key] = _masked(attr.key, old)
                after[attr.key] = _masked(attr.key, new)
    return before, after


def area_of(obj) -> str | None:
    column_name = getattr(type(obj), "scope_column_name", None)
    return getattr(obj, column_name) if column_name else None


def record_bulk(actor, action: str, model, area_code: str | None, details: dict, ip: str | None = None) -> AuditLog:
    """Add one audit row for an import or export of many `model` rows within `area_code` (None: everywhere)."""
    entry = AuditLog(user_id=getattr(actor, "id", None), username=getattr(actor, "username", None), action=action,
                     model=model.__name__, area_code=area_code, after=details, ip=ip)
    db.session.add(entry)
    return entry


def record(actor, action: str, obj, before: dict | None = None, after: dict | None = None, ip: str | None = None) -> AuditLog:
    """Add one audit row to the session (the caller's commit writes it with the change)."""
    entry = AuditLog(
        user_id=getattr(actor, "id", None),
        username=getattr(actor, "username", None),
        action=action,
        model=type(obj).__name__,
        object_id=str(inspect(obj).identity[0]) if inspect(obj).identity else None,
        area_code=area_of(obj),
        before=before,
        after=after,
        ip=ip,
    )
    db.session.add(entry)
    return entry

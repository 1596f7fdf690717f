"""The audit log as staff read it: the record's Chinese name with a link to its page, and each change as
"field: before → after" with the back office's field labels and the vocabularies' value labels."""

import re
from datetime import datetime

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import CheckConstraint

from admin.display import when
from admin.labels import LABELS
from app.extensions import db
from app.models.choices import Labelled

RECORD_NAMES = {
    "Area": _l("Area"),
    "Resident": _l("Resident"),
    "Household": _l("Household"),
    "Compound": _l("Compound"),
    "Building": _l("Building"),
    "Room": _l("Room"),
    "Enterprise": _l("Enterprise"),
    "Facility": _l("Facility"),
    "Event": _l("Event"),
    "Dispatch": _l("Dispatch"),
    "Supervision": _l("Supervision notice"),
    "Campaign": _l("Campaign"),
    "Wish": _l("Wish"),
    "WishCategory": _l("Wish category"),
    "User": _l("User account"),
    "Member": _l("Member"),
    "Unit": _l("Check-in unit"),
    "PartyOrg": _l("Party organisation"),
    "Pledge": _l("Pledge"),
    "TeamPerson": _l("Team person"),
    "GridRole": _l("Grid team place"),
    "Matter": _l("Matter"),
    "Department": _l("Department"),
    "SlaPolicy": _l("SLA policy"),
    "Certificate": _l("Certificate"),
    "CallbackTask": _l("Callback"),
    "Callup": _l("Call-up"),
}
STEP_LABELS = {
    "step": _l("Step"),
    "note": _l("Note"),
    "fields": _l("Fields shown"),
    "reason": _l("Reason"),
    "list": _l("List"),
    "query": _l("Filters"),
    "rows": _l("Rows"),
    "of": _l("Rows in the list"),
    "respond_breached": _l("Response overdue"),
    "reply_breached": _l("Reply overdue"),
    "resolve_breached": _l("Resolution overdue"),
}
# the steps of machines whose actions are not a Labelled vocabulary (signatures, call-ups, callbacks, items)
STEP_VALUES = {
    "sign": _l("Signed"),
    "countersign": _l("Countersigned"),
    "edit": _l("Edited"),
    "record": _l("Callback recorded"),
    "respond": _l("Answered"),
    "check_in": _l("Checked in by QR code"),
    "mark_arrived": _l("Marked arrived"),
    "assign": _l("Task assigned"),
    "close": _l("Closed"),
    "cancel": _l("Cancelled"),
    "complete": _l("Completed"),
    "drop": _l("Dropped"),
}
SKIPPED = {"id", "updated_at"}  # bookkeeping, not what a person changed
EMPTY = "—"
_CHECK = re.compile(r"^(\w+) IN \((.*)\)$")
_MOMENT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")


def _views_of(model_name: str) -> list:
    admin = current_app.extensions["admin"][0]
    return [v for v in admin._views if getattr(getattr(v, "model", None), "__name__", None) == model_name]


def _main_view(model_name: str):
    """The view a record of `model_name` is opened in: the one named after the model, else the first."""
    views = [v for v in _views_of(model_name) if v.can_view_details]
    named = [v for v in views if v.endpoint == model_name.lower()]
    return (named or views or [None])[0]


def record_name(model_name: str) -> str:
    """The record type in the user's language: its name here, else its back-office list's name."""
    if model_name in RECORD_NAMES:
        return str(RECORD_NAMES[model_name])
    views = _views_of(model_name)
    return str(views[0].name) if views else model_name


def record_url(model_name: str, object_id) -> str | None:
    view = _main_view(model_name)
    if view is None or not object_id:
        return None
    return url_for(f"{view.endpoint}.details_view", id=object_id)


def _all_labelled(cls=Labelled):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_labelled(sub)


def _vocabulary(model_name: str, key: str) -> dict:
    """{value: label} of column `key`: the Labelled vocabulary its check constraint allows (a step: the
    model's actions), else the choices its back-office view shows."""
    if key == "step":
        for enum in _all_labelled():
            if enum.__name__ == f"{model_name}Action":
                return enum.labels()
        return STEP_VALUES
    model = db.Model.registry._class_registry.get(model_name)
    table = getattr(model, "__table__", None)
    if table is not None:
        for constraint in table.constraints:
            found = isinstance(constraint, CheckConstraint) and _CHECK.match(str(constraint.sqltext))
            if found and found.group(1) == key:
                allowed = set(re.findall(r"'([^']*)'", found.group(2)))
                for enum in _all_labelled():
                    if allowed <= {str(m) for m in enum}:
                        return enum.labels()
    for view in _views_of(model_name):
        mapped = getattr(view, "_column_choices_map", {}).get(key)
        if mapped:
            return mapped
    return {}


def field_label(model_name: str, key: str) -> str:
    """The label the back office gives column `key` (a foreign key `matter_id`: its relation's, `matter`)."""
    for name in (key, key.removesuffix("_id")):
        for view in _views_of(model_name):
            if name in (view.column_labels or {}):
                return str(view.column_labels[name])
        if name in LABELS or name in STEP_LABELS:
            return str(LABELS.get(name) or STEP_LABELS[name])
    return key


def value_label(model_name: str, key: str, value) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):  # a reveal's fields are columns: their labels
        if key == "fields":
            return "、".join(field_label(model_name, str(v)) for v in value)
        return "、".join(value_label(model_name, key, v) for v in value)
    if isinstance(value, str) and _MOMENT.match(value):
        try:
            return when(datetime.fromisoformat(value))
        except ValueError:
            return value
    labels = _vocabulary(model_name, key)
    label = labels.get(value) if isinstance(value, str) else None
    return str(label) if label is not None else str(value)


def change_lines(entry) -> list[tuple[str, str | None, str | None]]:
    """(field label, before, after) per field the entry touches: before None when there was nothing before
    (a created record, a step's note), after None on a deleted record; fields empty on both sides left out."""
    before, after = entry.before or {}, entry.after or {}
    rows = []
    for key in list(after) + [k for k in before if k not in after]:
        if key in SKIPPED:
            continue
        old = value_label(entry.model, key, before[key]) if key in before else None
        new = value_label(entry.model, key, after[key]) if key in after else None
        if old in (None, EMPTY) and new in (None, EMPTY):
            continue
        if old == new:  # unchanged (a step names the level it happened at): the value once
            old = None
        rows.append((field_label(entry.model, key), old, new))
    return rows


def _line(label, old, new) -> str:
    if old is None:
        return f"{label}: {new}"
    if new is None:
        return f"{label}: {old}"
    return f"{label}: {old} → {new}"


def changes_text(entry) -> str:
    """The changes as plain text, one per line (exports)."""
    return "\n".join(_line(*row) for row in change_lines(entry))


def changes_html(entry) -> Markup:
    items = Markup("").join(
        Markup("<li>%s</li>") % _line(label, old, new) for label, old, new in change_lines(entry)
    )
    return Markup('<ul class="list-unstyled mb-0 og-changes">%s</ul>') % items if items else Markup("")


def record_html(entry) -> Markup:
    name = escape(record_name(entry.model))
    url = record_url(entry.model, entry.object_id)
    label = Markup("%s #%s") % (name, entry.object_id) if entry.object_id else name
    return Markup('<a href="%s">%s</a>') % (url, label) if url else label

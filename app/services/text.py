"""Free-text values from forms and JSON: stripped, required or not, bounded, and free of unstorable characters."""

import re

from flask_babel import gettext as _

from app.models.wishes import NOTE_MAX

# a mainland mobile number, or a landline with its area code (029-12345678)
PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
# NUL, which PostgreSQL cannot store, and lone UTF-16 surrogates (JSON's "\ud800"), which cannot be encoded as
# UTF-8 at all: no person types either, and either would fail in the database driver
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def has_unstorable_character(value: str) -> bool:
    """Whether `value` holds a character no database (or UTF-8 encoder) accepts."""
    return _UNSTORABLE.search(value) is not None


def contains_unstorable_text(value) -> bool:
    """Whether any string within `value` (parsed JSON: keys, items, nested at any depth) holds such a character."""
    pending = [value]  # a loop, not recursion: parsed JSON may be nested as deep as its parser allows
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if has_unstorable_character(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def check_text(errors: dict, field: str, value, max_length: int, required: bool, label: str) -> str | None:
    """`value` stripped (None when empty); a message for `field` in `errors` when it does not pass."""
    value = (value or "").strip() if isinstance(value, str) or value is None else str(value).strip()
    if has_unstorable_character(value):
        errors[field] = _("%(field)s contains a character that is not allowed.", field=label)
    elif required and not value:
        errors[field] = _("%(field)s is required.", field=label)
    elif len(value) > max_length:
        errors[field] = _("%(field)s must be at most %(n)d characters long.", field=label, n=max_length)
    return value or None


def single_text(
    field: str, value, label: str, invalid, required: bool = False, max_length: int = NOTE_MAX
) -> str | None:
    """One free-text value (a note, a reason), checked; raises `invalid({field: message})` when it does not pass."""
    errors: dict[str, str] = {}
    value = check_text(errors, field, value, max_length, required, label)
    if errors:
        raise invalid(errors)
    return value

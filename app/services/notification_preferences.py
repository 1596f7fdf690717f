"""Each user's notification preferences: the kinds their role can receive, what they muted, their quiet hours.

`app.services.notifications.send` reads them in its INSERT … SELECT (a muted kind or wish category) and the
gateway's deliveries read the quiet hours (app.services.notification_gateway).
"""

import re
from collections.abc import Iterable

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import NotificationPreference, WishCategory
from app.models.choices import URGENT, NotificationKind
from app.services import audit
from app.services.errors import Invalid

_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def preferences(user) -> NotificationPreference:
    """The user's preferences: their stored row, or the defaults (not added to the session)."""
    stored = db.session.get(NotificationPreference, user.id)
    if stored is not None:
        return stored
    return NotificationPreference(user_id=user.id, muted_kinds=[], muted_categories=[])


K = NotificationKind
RESIDENT_KINDS = (
    K.WISH_PUBLISHED,
    K.WISH_REJECTED,
    K.WISH_CLAIMED,
    K.WISH_DONE,
    K.WISH_AUTO_CONFIRMED,
    K.REPORT_ACCEPTED,
    K.REPORT_REPLIED,
    K.REPORT_ESCALATED,
    K.REPORT_RESOLVED,
    K.REPORT_CLOSED,
)
MEMBER_KINDS = (
    K.NEW_WISH,
    K.CLAIM_RELEASED,
    K.WISH_DISPUTED,
    K.CERTIFICATE_READY,
    K.VISITS_DUE,
    K.CALLUP,
    K.CALLUP_LEAD,
    *RESIDENT_KINDS[5:],  # members report problems too
)
STAFF_KINDS = (K.REVIEW_QUEUE, K.EVENT_QUEUE, K.DISPATCH_QUEUE, K.SUPERVISION, K.CALLBACK_DUE, K.CALLUP_LEAD)


def kinds_for(user) -> tuple[NotificationKind, ...]:
    """The kinds a user of this role can receive (what their preferences page offers)."""
    if user.role == "resident":
        return RESIDENT_KINDS
    if user.role == "member":
        return MEMBER_KINDS
    if user.has_back_office:
        return STAFF_KINDS
    return tuple(NotificationKind)


def mutable_kinds() -> list[NotificationKind]:
    """The kinds a user may mute (every kind but the urgent ones)."""
    return [kind for kind in NotificationKind if kind not in URGENT]


def save_preferences(
    user,
    *,
    muted_kinds: Iterable[str] = (),
    muted_categories: Iterable = (),
    quiet_start: str | None = None,
    quiet_end: str | None = None,
) -> NotificationPreference:
    """Store what the user does not want and their quiet hours; Invalid when a value is wrong. Audited; flushes."""
    errors = {}
    kinds = sorted({str(k) for k in muted_kinds or ()})
    unknown = [k for k in kinds if k not in NotificationKind._value2member_map_]
    if unknown:
        errors["muted_kinds"] = _("Unknown notification kinds: %(kinds)s.", kinds=", ".join(unknown))
    elif any(k in URGENT for k in kinds):
        errors["muted_kinds"] = _("Emergency call-ups cannot be muted.")
    try:
        categories = sorted({int(c) for c in muted_categories or ()})
    except (TypeError, ValueError):
        categories = None
        errors["muted_categories"] = _("Wish categories are given by their numbers.")
    if categories:
        found = set(db.session.scalars(select(WishCategory.id).where(WishCategory.id.in_(categories))))
        if found != set(categories):
            errors["muted_categories"] = _("No such wish category.")
    quiet_start, quiet_end = (quiet_start or "").strip() or None, (quiet_end or "").strip() or None
    for field, value in (("quiet_start", quiet_start), ("quiet_end", quiet_end)):
        if value is not None and not _TIME.match(value):
            errors[field] = _("Give a time as HH:MM (00:00 to 23:59).")
    if (quiet_start is None) != (quiet_end is None) and not errors.get("quiet_start"):
        errors["quiet_end"] = _("Give both the start and the end of the quiet hours, or neither.")
    elif quiet_start is not None and quiet_start == quiet_end:
        errors["quiet_end"] = _("The quiet hours must end at another time than they start.")
    if errors:
        raise Invalid(errors)
    stored = db.session.get(NotificationPreference, user.id)
    before = _plain(stored) if stored is not None else None
    if stored is None:
        stored = NotificationPreference(user_id=user.id)
        db.session.add(stored)
    stored.muted_kinds, stored.muted_categories = kinds, categories
    stored.quiet_start, stored.quiet_end = quiet_start, quiet_end
    db.session.flush()
    after = _plain(stored)
    if before != after:
        audit.record(user, "create" if before is None else "update", stored, before, after)
    return stored


def _plain(stored: NotificationPreference) -> dict:
    return {
        "muted_kinds": list(stored.muted_kinds or []),
        "muted_categories": list(stored.muted_categories or []),
        "quiet_start": stored.quiet_start,
        "quiet_end": stored.quiet_end,
    }

"""Notifications (docs/jobs.md#notifications): who is told what, written set-based, and each user's inbox.

A service that changes something calls `later(kind, **ids)` in its transaction: an outbox job "notify"
that, once the change is committed, runs the builder registered for the kind (`@builder(kind)`), which
works out the recipients and the texts and calls `send`. `send` writes one row per recipient with one
INSERT … SELECT, skipping those who muted the kind (never an URGENT one) or the wish category, and
records the SMS/WeChat gateway's webhook deliveries for the rows written (app.services.notification_gateway).
"""

import json
import re
from collections.abc import Callable, Iterable
from datetime import timedelta
from functools import lru_cache

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import (
    Boolean,
    DateTime,
    Select,
    String,
    Text,
    bindparam,
    cast,
    delete,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.sql.expression import SelectBase

from app.extensions import db
from app.models import Notification, NotificationPreference, User, WishCategory
from app.models.base import utcnow
from app.models.choices import URGENT, NotificationKind
from app.services import audit, notification_gateway
from app.services.errors import Invalid, NotFound
from app.services.outbox import record_job

NOTIFY_JOB = "notify"  # the outbox job that runs a kind's builder after the commit (app.jobs.notifications)
PER_PAGE = 20
BUILDERS: dict[str, Callable[..., int]] = {}
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


# --- sending -----------------------------------------------------------------------------------------
def builder(kind: str):
    """Register the decorated `function(**payload) -> int` as the one builder of `kind`'s notifications."""
    kind = NotificationKind(kind)

    def register(function: Callable[..., int]) -> Callable[..., int]:
        known = BUILDERS.get(kind)
        if known is not None and _name(known) != _name(function):
            raise RuntimeError(f"two notification builders for {kind!r}")
        BUILDERS[kind] = function
        return function

    return register


def _name(function: Callable) -> str:
    return f"{function.__module__}.{function.__qualname__}"


def later(kind: str, **payload) -> None:
    """Notify about a change once it is committed: an outbox job in the current transaction (ids only)."""
    record_job(NOTIFY_JOB, notice=str(NotificationKind(kind)), payload=payload)


def build(kind: str, payload: dict) -> int:
    """Run `kind`'s builder with `payload` (the "notify" job); how many notifications it wrote."""
    function = BUILDERS.get(NotificationKind(kind))
    if function is None:
        raise LookupError(f"no notification builder for {kind!r}")
    return function(**payload) or 0


def recipients_query(kind: str, recipients, category_id: int | None = None) -> Select:
    """The ids of the active users among `recipients` who want `kind` (each once)."""
    if not isinstance(recipients, SelectBase):
        recipients = sorted({int(r) for r in recipients})
    category = _like_listed(int(category_id)) if category_id is not None else None
    return _wanting(recipients, kind in URGENT, _like_listed(str(kind)), category)


def _wanting(recipients, urgent: bool, kind_pattern, category_pattern=None) -> Select:
    """SELECT of the active users among `recipients` (ids, a Select or an expanding parameter) who did not mute
    the kind (LIKE `kind_pattern`, unless urgent) or the wish category (`category_pattern`, when given)."""
    query = select(User.id).where(User.id.in_(recipients), User.active.is_(True))
    if not urgent:
        wanted = _muted(NotificationPreference.muted_kinds, kind_pattern)
        if category_pattern is not None:
            wanted = wanted | _muted(NotificationPreference.muted_categories, category_pattern)
        query = query.where(~exists().where(NotificationPreference.user_id == User.id, wanted))
    return query


def send(
    kind: str,
    recipients,
    *,
    title: str,
    body: str = "",
    link: str | None = None,
    subject: str | None = None,
    category_id: int | None = None,
) -> int:
    """Write `kind`'s notification to every recipient who wants it, set-based; how many rows were written.

    `recipients` is a Select of one column of user ids, or an iterable of user ids (then the statement is
    built once per shape and only bound anew: a wish's notice to its owner runs once per claim). Flushes
    nothing else; the caller (a job handler) commits.
    """
    kind = NotificationKind(kind)
    now = utcnow()
    values = {
        "n_kind": str(kind),
        "n_title": title[:200],
        "n_body": body or "",
        "n_link": link,
        "n_urgent": kind in URGENT,
        "n_subject": subject,
        "n_created_at": now,
    }
    if isinstance(recipients, SelectBase):
        statement, params = _insert_from(recipients_query(kind, recipients, category_id)), values
    else:
        ids = sorted({int(r) for r in recipients})
        if not ids:
            return 0
        statement = _insert_for_ids(kind in URGENT, category_id is not None)
        params = {**values, "n_recipients": ids, "n_muted_kind": _like_listed(str(kind))}
        if category_id is not None:
            params["n_muted_category"] = _like_listed(int(category_id))
    db.session.flush()
    # RETURNING rather than rowcount, which SQLAlchemy 2.1 with psycopg reports as -1 for INSERT … SELECT
    written = db.session.execute(statement, params).all()
    gateways = notification_gateway.gateway_endpoints() if written else []
    if gateways:
        notification_gateway.record_deliveries(
            gateways,
            written,
            kind=kind,
            title=title[:200],
            body=body or "",
            link=link,
            at=now,
        )
    return len(written)


_COLUMNS = ["user_id", "kind", "title", "body", "link", "urgent", "subject", "created_at"]


def _insert_from(wanted: Select):
    """INSERT … SELECT of a notification for each user id `wanted` selects, its values bound as n_* parameters."""
    rows = wanted.with_only_columns(
        User.id,
        bindparam("n_kind", type_=String(30)),
        bindparam("n_title", type_=String(200)),
        bindparam("n_body", type_=Text),
        bindparam("n_link", type_=String(500)),
        bindparam("n_urgent", type_=Boolean),
        bindparam("n_subject", type_=String(40)),
        bindparam("n_created_at", type_=DateTime(timezone=True)),
    )
    table = Notification.__table__
    return insert(table).from_select(_COLUMNS, rows).returning(table.c.id, table.c.user_id)


@lru_cache(maxsize=8)
def _insert_for_ids(urgent: bool, with_category: bool):
    """The INSERT … SELECT for a list of user ids (n_recipients), built once per shape."""
    category = bindparam("n_muted_category") if with_category else None
    recipients = bindparam("n_recipients", expanding=True)
    return _insert_from(_wanting(recipients, urgent, bindparam("n_muted_kind"), category))


def _muted(column, pattern):
    """SQL: the JSON list in `column`, its items between commas, matches the LIKE `pattern` (_like_listed)."""
    text = cast(column, Text)
    for character in (" ", "[", "]"):
        text = func.replace(text, character, "" if character == " " else ",")
    return text.like(pattern, escape="/")


def _like_listed(value) -> str:
    """The LIKE pattern of `value` as one item of a JSON list (for _muted)."""
    item = json.dumps(value).replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"%,{item},%"


# --- reading -----------------------------------------------------------------------------------------
def unread_count(user) -> int:
    """How many of the user's notifications are unread."""
    return db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )


def inbox_query(user, unread_only: bool = False) -> Select:
    """The user's notifications, newest first (unread only when asked)."""
    query = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return query.order_by(Notification.id.desc())


def inbox(user, unread_only: bool = False, page: int = 1, per_page: int = PER_PAGE) -> dict:
    """One page of the inbox: {"items", "page", "per_page", "has_next"}."""
    page, per_page = max(1, int(page)), max(1, min(int(per_page), 100))
    rows = list(
        db.session.scalars(inbox_query(user, unread_only).offset((page - 1) * per_page).limit(per_page + 1))
    )
    return {"items": rows[:per_page], "page": page, "per_page": per_page, "has_next": len(rows) > per_page}


def get_own(user, notification_id) -> Notification:
    """The user's own notification; NotFound for anyone else's (or none)."""
    try:
        notification_id = int(notification_id)
    except (TypeError, ValueError):
        notification_id = None
    in_range = notification_id is not None and 0 < notification_id < 2**31  # an INTEGER column's range
    notification = db.session.get(Notification, notification_id) if in_range else None
    if notification is None or notification.user_id != user.id:
        raise NotFound(_("No such notification."))
    return notification


def mark_read(user, notification_id) -> Notification:
    """Mark one of the user's notifications read (once: a read one keeps its time); flushes."""
    notification = get_own(user, notification_id)
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.flush()
    return notification


def mark_all_read(user) -> int:
    """Mark every unread notification of the user read, in one statement; how many."""
    return db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount


def prune(now=None) -> int:
    """Delete notifications read more than NOTIFICATION_RETENTION_DAYS ago, in one statement; how many."""
    days = int(current_app.config["NOTIFICATION_RETENTION_DAYS"])
    cutoff = (now or utcnow()) - timedelta(days=days)
    return db.session.execute(
        delete(Notification).where(Notification.read_at < cutoff).execution_options(synchronize_session=False)
    ).rowcount


# --- preferences -------------------------------------------------------------------------------------
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

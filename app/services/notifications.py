"""Notifications (docs/jobs.md#notifications): who is told what, written set-based, and each user's inbox.

A service that changes something calls `tell(kind, **ids)` in its transaction. Mostly that records an outbox job
"notify" that, once the change is committed, runs the builder registered for the kind (`@builder(kind)`), which
works out the recipients and the texts and calls `send`. A notice a workflow step writes with itself (the
owner's "claimed" notice: `with_step`) is written by the step's own statement instead.
`send` writes one row per recipient with one INSERT … SELECT, skipping those who muted the kind (never an URGENT
one) or the wish category, in each recipient's language when given the words in each (`in_each_language`), and
records the SMS/WeChat gateway's webhook deliveries for the rows written (app.services.notification_gateway).
"""

import json
from collections.abc import Callable, Mapping
from datetime import timedelta
from functools import lru_cache, partial

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import (
    BindParameter,
    Boolean,
    DateTime,
    Select,
    String,
    Text,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.sql.expression import SelectBase

from app.extensions import db, parsed_locale
from app.models import Notification, NotificationPreference, User
from app.models.base import utcnow
from app.models.choices import URGENT, NotificationKind
from app.services import notification_gateway
from app.services.errors import NotFound
from app.services.outbox import record_job
from app.services.workflow_history import Written

NOTIFY_JOB = "notify"  # the outbox job that runs a kind's builder after the commit (app.jobs.notifications)
PER_PAGE = 20
BUILDERS: dict[str, Callable[..., int]] = {}


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


def tell(kind: str, **payload) -> None:
    """Notify about a change (`payload`: ids only): an outbox job in the current transaction that runs the kind's
    builder once the change is committed."""
    record_job(NOTIFY_JOB, notice=str(NotificationKind(kind)), payload=payload)


def in_each_language(write: Callable[[], tuple[str, str]]) -> tuple[dict[str, str], dict[str, str]]:
    """The title and body `write()` gives in the district's language and each a user may choose, for `send` to
    write each recipient's in theirs: chosen as the row is written, so the recipient's language is not read
    first."""
    titles, bodies = {}, {}
    default, others = _languages()
    for code in (default, *others):
        with force_locale(parsed_locale(code)):
            titles[code], bodies[code] = write()
    return titles, bodies


def send_words(kind: str, recipients, write: Callable[[], tuple[str, str]], **options) -> int:
    """`send` with the title and body `write()` gives, in each language (`in_each_language`): every recipient
    reads theirs. `options`: send's link, subject, category_id."""
    titles, bodies = in_each_language(write)
    return send(kind, recipients, title=titles, body=bodies, **options)


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
    """SELECT of the active users among `recipients` (ids, a Select, an expanding parameter or the parameter of
    one id) who did not mute the kind (LIKE `kind_pattern`, unless urgent) or the wish category
    (`category_pattern`, when given)."""
    one = isinstance(recipients, BindParameter) and not recipients.expanding
    query = select(User.id).where(
        User.id == recipients if one else User.id.in_(recipients), User.active.is_(True)
    )
    if not urgent:
        wanted = _muted(NotificationPreference.muted_kinds, kind_pattern)
        if category_pattern is not None:
            wanted = wanted | _muted(NotificationPreference.muted_categories, category_pattern)
        query = query.where(~exists().where(NotificationPreference.user_id == User.id, wanted))
    return query


# a text, or the same text in each language the interface speaks (in_each_language)
Words = str | Mapping[str, str]


def send(
    kind: str,
    recipients,
    *,
    title: Words,
    body: Words = "",
    link: str | None = None,
    subject: str | None = None,
    category_id: int | None = None,
) -> int:
    """Write `kind`'s notification to every recipient who wants it, set-based; how many rows were written.

    `recipients` is a Select of one column of user ids, or an iterable of user ids (then the statement is
    built once per shape and only bound anew: a wish's notice to its owner runs once per claim). `title` and
    `body` given in each language (`in_each_language`) are written in each recipient's: theirs when they chose
    one the interface speaks, else the district's. Flushes nothing else; the caller commits.
    """
    kind = NotificationKind(kind)
    now = utcnow()
    others, texts = _texts(title, body)
    values = _values(kind, texts, link, subject, now)
    if isinstance(recipients, SelectBase):
        rows = _rows_from(recipients_query(kind, recipients, category_id), others)  # built anew: not kept
        statement, params = _insert.__wrapped__(rows, bool(others)), values
    else:
        ids = sorted({int(r) for r in recipients})
        if not ids:
            return 0
        rows = _rows_for_ids(kind in URGENT, category_id is not None, others, len(ids) == 1)
        statement, params = _insert(rows, bool(others)), {**values, **_for_ids(kind, ids, category_id)}
    db.session.flush()
    # RETURNING rather than rowcount, which SQLAlchemy 2.1 with psycopg reports as -1 for INSERT … SELECT; on
    # the session's connection (Core: a table's rows, nothing for the ORM to do)
    written = db.session.connection().execute(statement, params).all()
    gateways = notification_gateway.gateway_endpoints() if written else []
    if gateways:
        notification_gateway.record_deliveries(
            gateways,
            # each row's own words when they depend on its recipient
            written if others else [(*row, texts["n_title"], texts["n_body"]) for row in written],
            kind=kind,
            link=link,
            at=now,
        )
    return len(written)


def with_step(
    kind: str, recipient: int, *, title: Words, body: Words = "", link=None, subject=None
) -> Written:
    """`send`'s notification to one recipient, for a workflow step to write with itself (the owner's "claimed"
    notice: `workflow_history.Written`): the step's own statement writes it when the step wins, then its
    gateway deliveries are recorded (`_delivered`). Nothing is written here."""
    kind = NotificationKind(kind)
    now = utcnow()
    others, texts = _texts(title, body)
    params = {**_values(kind, texts, link, subject, now), **_for_ids(kind, [int(recipient)], None)}
    rows = _rows_for_ids(kind in URGENT, False, others, True)
    then = partial(_delivered, kind=kind, link=link, at=now)
    return Written(Notification.__table__, tuple(_COLUMNS), rows, params, then)


def _delivered(notification_id: int | None, *, kind, link, at) -> None:
    """The gateway deliveries of a notification a step wrote with itself (none when the recipient muted it)."""
    gateways = notification_gateway.gateway_endpoints() if notification_id is not None else []
    if gateways:
        table = Notification.__table__
        row = db.session.execute(
            select(table.c.id, table.c.user_id, table.c.title, table.c.body).where(
                table.c.id == notification_id
            )
        ).one()
        notification_gateway.record_deliveries(gateways, [tuple(row)], kind=kind, link=link, at=at)


def _values(kind, texts: dict, link, subject, now) -> dict:
    """A notification's values as the INSERT … SELECT's parameters (n_*)."""
    return {
        "n_kind": str(kind),
        **texts,
        "n_link": link,
        "n_urgent": kind in URGENT,
        "n_subject": subject,
        "n_created_at": now,
    }


def _for_ids(kind, ids: list[int], category_id) -> dict:
    """The parameters of `_rows_for_ids`: the recipient (or recipients) and the mute patterns."""
    params = {"n_muted_kind": _like_listed(str(kind))}
    params.update({"n_recipient": ids[0]} if len(ids) == 1 else {"n_recipients": ids})
    if category_id is not None:
        params["n_muted_category"] = _like_listed(int(category_id))
    return params


def _texts(title: Words, body: Words) -> tuple[tuple[str, ...], dict[str, str]]:
    """The languages besides the district's that the words come in (none for plain texts), and the words as
    the statement's parameters: n_title and n_body in the district's language, n_title_<i> and n_body_<i> in
    the i-th other."""
    if isinstance(title, str) and isinstance(body, str):
        return (), {"n_title": title[:200], "n_body": body}
    default, others = _languages()
    texts = {}
    for suffix, code in (("", default), *((f"_{i}", code) for i, code in enumerate(others))):
        texts[f"n_title{suffix}"] = (title if isinstance(title, str) else title[code])[:200]
        texts[f"n_body{suffix}"] = body if isinstance(body, str) else body[code]
    return others, texts


def _languages() -> tuple[str, tuple[str, ...]]:
    """The district's language (`BABEL_DEFAULT_LOCALE`) and the others a user may choose (`LANGUAGES`)."""
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    return default, tuple(code for code in current_app.config["LANGUAGES"] if code != default)


_COLUMNS = ["user_id", "kind", "title", "body", "link", "urgent", "subject", "created_at"]


def _rows_from(wanted: Select, others: tuple[str, ...] = ()) -> Select:
    """SELECT of a notification's values for each user id `wanted` selects, bound as n_* parameters; with
    `others` (languages), the title and body of the recipient's language."""
    return wanted.with_only_columns(
        User.id,
        bindparam("n_kind", type_=String(30)),
        _in_their_language("n_title", String(200), others),
        _in_their_language("n_body", Text, others),
        bindparam("n_link", type_=String(500)),
        bindparam("n_urgent", type_=Boolean),
        bindparam("n_subject", type_=String(40)),
        bindparam("n_created_at", type_=DateTime(timezone=True)),
    )


@lru_cache(maxsize=32)
def _insert(rows: Select, words: bool):
    """INSERT … SELECT of `rows` (`_rows_from`), returning each row's id and user, and with `words` its title
    and body (when they depend on the recipient)."""
    table = Notification.__table__
    returned = (table.c.id, table.c.user_id, *((table.c.title, table.c.body) if words else ()))
    return insert(table).from_select(_COLUMNS, rows).returning(*returned)


def _in_their_language(name: str, type_, others: tuple[str, ...]):
    """The parameter `name`, or with `others` its version in the recipient's language (User.locale): theirs
    when it is one of `others`, else the district's."""
    default = bindparam(name, type_=type_)
    if not others:
        return default
    return case(
        *((User.locale == code, bindparam(f"{name}_{i}", type_=type_)) for i, code in enumerate(others)),
        else_=default,
    )


@lru_cache(maxsize=32)
def _rows_for_ids(urgent: bool, with_category: bool, others: tuple[str, ...], one: bool) -> Select:
    """`_rows_from` for a list of user ids (n_recipients), or for `one` (n_recipient: a notice to a wish's owner,
    once per claim, needs no list expanded into its SQL at each run), built once per shape."""
    category = bindparam("n_muted_category") if with_category else None
    recipients = bindparam("n_recipient") if one else bindparam("n_recipients", expanding=True)
    return _rows_from(_wanting(recipients, urgent, bindparam("n_muted_kind"), category), others)


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

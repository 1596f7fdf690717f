"""PostgreSQL connections (docs/jobs.md#database-connections): checked before use only after sitting idle, a
statement prepared at its second run, reads outside transactions until the first write, and a transaction that
wrote nothing ended with COMMIT rather than ROLLBACK.

SQLAlchemy's `pool_pre_ping` sends a round trip before every request's first statement. Under load a
connection goes back to the pool and out again within milliseconds, and that ping is one of the request's
dearest round trips; a connection that sat idle longer than DATABASE_PING_IDLE_SECONDS (a database restart
or a firewall may have dropped it meanwhile) is still pinged, and replaced when the ping fails.

A statement that is not prepared is parsed and planned on every run (planning the joined load of a wish
costs more than running it); a prepared one is planned anew only while PostgreSQL weighs custom plans against
a generic one, its first five runs. psycopg's default prepares a statement at its sixth run on a connection,
so each connection planned each of a claim's statements ten times: a quarter of PostgreSQL's CPU in a claim
race on a freshly started server, and again on every connection a burst opens beyond the pool. A statement
is now prepared at its second run (DATABASE_PREPARE_THRESHOLD; a query run once is not): six plans, not ten.
Forcing generic plans would save the other five, but made the residents list's name search 2.6 times slower
(its SQL 8 times: a generic plan cannot see the pattern; bench/admin_lists.py).

psycopg forgets its prepared statements on every ROLLBACK. Every read-only request and every refusal ended
its transaction with one, so almost nothing stayed prepared. A transaction that sent only SELECTs changed
nothing either way: it ends with COMMIT, which keeps them; one that wrote anything, or failed, is rolled
back as before.

A request that only reads sends no BEGIN and no COMMIT at all: plain SELECTs run outside a transaction
(psycopg's autocommit), and psycopg sends BEGIN before the first statement that writes or locks rows, so
everything from there to the commit is one transaction as before. Under READ COMMITTED, PostgreSQL's default,
each statement sees the database as it is when it starts, inside a transaction or not, so the reads see what
they saw. A BEGIN and COMMIT pair cost ≈ 0.11 ms of the machine's CPU (psycopg, the kernel and the server);
a lost claim is one such request (bench/README.md, the claim race). An isolation level set for the app, or a
stricter default on the server, keeps every statement in a transaction.
"""

import re
import time
from collections.abc import Sequence
from functools import cache

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

_USED = "onegrid_used"  # the pool record's info: when the connection last went back to the pool
_WROTE = "onegrid_wrote"  # and whether its current transaction sent anything but a SELECT
_LAZY = "onegrid_lazy"  # and that it reads outside transactions (`begin_at_first_write`)


def connect_args(config) -> dict:
    """psycopg's connection arguments: its cursor (`described_later`) and DATABASE_PREPARE_THRESHOLD, checked (a
    clear error for anything but a whole number or "none"). "none" never prepares: a pooler in transaction mode
    shares a server connection between clients, and would share their prepared statements with it."""
    threshold = str(config["DATABASE_PREPARE_THRESHOLD"]).strip().lower()
    if threshold == "none":
        return {"cursor_factory": described_later(), "prepare_threshold": None}
    if re.fullmatch(r"[0-9]{1,6}", threshold):
        return {"cursor_factory": described_later(), "prepare_threshold": int(threshold)}
    raise ValueError(
        f"DATABASE_PREPARE_THRESHOLD must be a whole number of runs (0: prepare at the first) or none, "
        f"not {threshold!r}"
    )


def ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Ping a connection at checkout when it was returned more than `idle_seconds` ago."""

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record) -> None:
        if record is not None:
            record.info[_USED] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _taken(dbapi_connection, record, _proxy) -> None:
        used = record.info.get(_USED)
        if used is None or time.monotonic() - used <= idle_seconds:
            return  # just opened, or in use moments ago
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            if not engine.dialect.is_disconnect(exc, dbapi_connection, None):
                raise
            alive = False
        if not alive:
            raise DisconnectionError("the connection was closed while idle")  # the pool opens a new one


_LOCKS = re.compile(r"\bFOR\s+(?:NO\s+KEY\s+UPDATE|UPDATE|KEY\s+SHARE|SHARE)\b", re.IGNORECASE)
_kinds: dict[str, tuple[bool, bool]] = {}  # statement text: its `kind` (the compiled statements repeat)


def kind(statement: str) -> tuple[bool, bool]:
    """Whether a statement is a SELECT, and whether it is a plain read: a SELECT that locks no rows, which under
    READ COMMITTED sees the same inside a transaction as outside one."""
    known = _kinds.get(statement)
    if known is None:
        select = statement.lstrip()[:6].upper() == "SELECT"
        known = select, select and _LOCKS.search(statement) is None
        if len(_kinds) < 4096:
            _kinds[statement] = known
    return known


def begin_at_first_write(engine: Engine) -> None:
    """Send plain reads outside a transaction and BEGIN with the first statement that writes or locks; end a
    transaction that sent only SELECTs with COMMIT (same effect; psycopg keeps its prepared statements)."""
    from psycopg.pq import TransactionStatus

    idle, in_transaction = TransactionStatus.IDLE, TransactionStatus.INTRANS

    @event.listens_for(engine, "connect")
    def _opened(dbapi_connection, record) -> None:
        # only where a transaction's statements each see the database anew anyway (not with an isolation
        # level of the app's, nor on a server whose default is stricter)
        if (
            engine.dialect.isolation_level is None
            and engine.dialect.default_isolation_level == "READ COMMITTED"
        ):
            record.info[_LAZY] = True
            dbapi_connection.autocommit = True

    @event.listens_for(engine, "checkout")
    def _taken(dbapi_connection, record, _proxy) -> None:
        # back to reading outside a transaction after an AUTOCOMMIT connection's reset, or a failed commit
        if (
            _LAZY in record.info
            and not dbapi_connection.autocommit
            and dbapi_connection.info.transaction_status == idle
        ):
            dbapi_connection.autocommit = True

    @event.listens_for(engine, "before_cursor_execute")
    def _sent(connection, _cursor, statement, *_args) -> None:
        info = connection.info  # the pool record's info, kept with the DBAPI connection
        select, plain = kind(statement)
        if not select:
            info[_WROTE] = True
        if not plain and _LAZY in info:
            begin_now(connection)

    rollback, commit = engine.dialect.do_rollback, engine.dialect.do_commit

    def do_rollback(proxied) -> None:  # the pool's proxy of the DBAPI connection, with the record's info
        info = pool_info(proxied)
        wrote = True if info is None else info.pop(_WROTE, False)
        raw = getattr(proxied, "dbapi_connection", proxied)
        if raw.autocommit:
            return  # no transaction began: nothing to end
        if not wrote and raw.info.transaction_status == in_transaction:
            raw.commit()
        else:
            rollback(proxied)
        if info is not None and _LAZY in info:
            raw.autocommit = True

    def do_commit(proxied) -> None:
        info = pool_info(proxied)
        if info is not None:
            info.pop(_WROTE, None)
        raw = getattr(proxied, "dbapi_connection", proxied)
        if raw.autocommit:
            return
        commit(proxied)
        if info is not None and _LAZY in info:
            raw.autocommit = True

    engine.dialect.do_rollback, engine.dialect.do_commit = do_rollback, do_commit


def begin_now(connection) -> None:
    """Have psycopg send BEGIN before the next statement on this SQLAlchemy `connection`, unless a transaction
    is open already or the connection was asked for AUTOCOMMIT (its `isolation_level` execution option)."""
    raw = connection.connection.dbapi_connection
    if (
        raw.autocommit
        and _LAZY in connection.info
        and "isolation_level" not in connection.get_execution_options()
    ):
        raw.autocommit = False


def nothing_to_undo(session) -> bool:
    """Whether rolling `session` back would undo nothing: it holds no pending change and its connection has no
    transaction open (PostgreSQL reads outside one until the first write; SQLite's driver begins one at the
    first write). A refused request that only read is then answered without a rollback; closing the session
    at the request's end returns its connection as before."""
    if session.new or session.dirty or session.deleted:
        return False
    if not session.in_transaction():
        return True
    raw = session.connection().connection.dbapi_connection
    if hasattr(raw, "in_transaction"):  # sqlite3
        return not raw.in_transaction
    return raw.autocommit  # psycopg: in autocommit no transaction is ever open


def has_written(connection) -> bool:
    """Whether the transaction on the SQLAlchemy `connection` has sent anything but a SELECT yet (PostgreSQL
    with `begin_at_first_write`; elsewhere nothing keeps count, and this is False)."""
    return bool(connection.info.get(_WROTE))


def matched_nothing(connection, *, wrote_before: bool) -> None:
    """The write just sent on `connection` matched no row (a step that lost its race: its conditional UPDATE,
    and the history and audit INSERTs that read the UPDATE's row). Unless the transaction wrote before it
    (`wrote_before`, `has_written` just before), it holds no change and ends as one that only read: with
    COMMIT, so psycopg keeps the connection's prepared statements (on ROLLBACK it drops them all, and every
    statement is parsed and planned anew)."""
    if not wrote_before:
        connection.info.pop(_WROTE, None)


def commit_answered(session) -> None:
    """Commit `session` without expiring what it holds: for a request whose answer is already built from it
    (the API's workflow actions). The expiry of every loaded object would be work nobody reads; the session is
    closed at the request's end (bench/README.md, the claim race)."""
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


def pool_info(proxied) -> dict | None:
    """The pool record's info of a proxied connection; None for a bare one (the dialect's first connect)."""
    try:
        return proxied.info
    except (AttributeError, NotImplementedError):
        return None


def configure(app: Flask, engine: Engine) -> None:
    """PostgreSQL: read outside transactions until the first write, commit read-only transactions; check
    connections idle longer than DATABASE_PING_IDLE_SECONDS, unless the app asked SQLAlchemy to ping every
    checkout (`pool_pre_ping`). SQLite needs neither."""
    if engine.dialect.name != "postgresql":
        return
    convert_long_statements_once()
    begin_at_first_write(engine)
    if not app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("pool_pre_ping"):
        ping_when_idle(engine, app.config["DATABASE_PING_IDLE_SECONDS"])


# psycopg turns a statement's %(name)s placeholders into $n and keeps the result for the next run of the same
# statement, but only for one of up to 4,096 characters and 50 parameters: its guard against statements an ORM
# makes once and never again (a multi-row INSERT of each length). A workflow step's one statement (the UPDATE,
# its history, audit and notice rows, and what its answer reads) is longer and runs at every step; converted
# anew each time it cost a claim more than the round trips it saved (bench/README.md, the claim race).
LONGEST_KEPT = {"MAX_CACHED_STATEMENT_LENGTH": 16384, "MAX_CACHED_STATEMENT_PARAMS": 200}


def convert_long_statements_once() -> None:
    """Have psycopg keep the conversion of statements up to LONGEST_KEPT (its limits are module settings)."""
    from psycopg import _queries

    for name, limit in LONGEST_KEPT.items():
        if isinstance(getattr(_queries, name, None), int):
            setattr(_queries, name, max(getattr(_queries, name), limit))


@cache
def described_later() -> type:
    """psycopg's cursor, with a `description` whose columns are made only when read (`Description`)."""
    from psycopg import Cursor

    class DescribedLater(Cursor):
        @property
        def description(self):
            result = self.pgresult
            if result is None or not result.nfields:
                return Cursor.description.fget(self)  # None, or no columns ("SELECT ;")
            return Description(self, result)

    return DescribedLater


class Description(Sequence):
    """A cursor's `description`: its columns (psycopg's `Column`s), made when first read.

    SQLAlchemy asks for it after every statement, but for a statement whose result columns it has met before
    only to see that rows came back. psycopg makes a `Column` of every column each time: a twentieth of a
    claim's instructions went into descriptions nobody read (bench/README.md, the claim race).
    """

    __slots__ = ("_columns", "_cursor", "_result")

    def __init__(self, cursor, result):
        self._cursor, self._result, self._columns = cursor, result, None

    def __len__(self) -> int:
        return self._result.nfields

    def __getitem__(self, index):
        return self._made()[index]

    def __iter__(self):
        return iter(self._made())

    def __eq__(self, other) -> bool:
        return self._made() == (list(other) if isinstance(other, Description) else other)

    def __repr__(self) -> str:
        return repr(self._made())

    def _made(self) -> list:
        if self._columns is None:
            from psycopg import Column

            cursor = self._cursor
            if cursor.pgresult is not self._result:  # the cursor has run another statement since
                cursor = _Described(self._result, cursor)
            self._columns = [Column(cursor, i) for i in range(self._result.nfields)]
        return self._columns


class _Described:
    """What psycopg's `Column` reads of a cursor, for a result the cursor has moved on from."""

    def __init__(self, result, cursor):
        self.pgresult, self._encoding, self.adapters = result, cursor._encoding, cursor.adapters

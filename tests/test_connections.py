"""PostgreSQL connections: as many kept open as configured, checked before use only after sitting idle, a
statement prepared at its second run, reads outside transactions until the first write, a transaction that wrote
nothing ended with COMMIT, so the driver keeps its prepared statements, and result columns described only when
read."""

import time
from contextlib import contextmanager

import psycopg
import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.exc import OperationalError, ProgrammingError
from support import app_settings, separate_database

from app import create_app
from app.config import Config
from app.connections import Description, has_written, matched_nothing
from app.extensions import db
from app.models import User


@pytest.fixture
def pg_url():
    with separate_database("postgresql", "pool_ping") as url:
        yield url


def app_on(url: str, **overrides):
    app = create_app(app_settings(url, **{"SQLALCHEMY_ENGINE_OPTIONS": {}, **overrides}))
    with app.app_context():
        db.create_all()
    return app


@contextmanager
def serving(url: str, **overrides):
    """An app on `url` (`app_on`), in its app context; its session and connections closed afterwards."""
    app = app_on(url, **overrides)
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def backend_pid() -> int:
    pid = db.session.scalar(text("SELECT pg_backend_pid()"))
    db.session.remove()  # back to the pool
    return pid


def terminate(url: str, pid: int) -> None:
    """Drop a connection from the server's side, as a restart or a firewall would."""
    engine = create_engine(url.split("?")[0].replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        assert connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    engine.dispose()
    time.sleep(0.2)


def test_the_pool_keeps_the_configured_number_of_connections(pg_url):
    assert (Config.DATABASE_POOL_SIZE, Config.DATABASE_MAX_OVERFLOW) == (
        20,
        10,
    )  # more than gunicorn's threads
    with serving(pg_url, DATABASE_POOL_SIZE=12, DATABASE_MAX_OVERFLOW=3):
        assert (db.engine.pool.size(), db.engine.pool._max_overflow) == (12, 3)


def test_a_connection_used_moments_ago_is_not_pinged(pg_url, monkeypatch):
    with serving(pg_url, DATABASE_PING_IDLE_SECONDS=3600):
        pings = []
        ping = db.engine.dialect.do_ping
        monkeypatch.setattr(db.engine.dialect, "do_ping", lambda c: pings.append(c) or ping(c))
        first, second = backend_pid(), backend_pid()
        assert first == second and pings == []


def test_a_connection_dropped_while_idle_is_replaced_before_use(pg_url):
    with serving(pg_url, DATABASE_PING_IDLE_SECONDS=0.05):
        dropped = backend_pid()
        terminate(pg_url, dropped)
        assert backend_pid() != dropped  # pinged, found closed, replaced: the query never saw it


def test_without_the_check_a_dropped_connection_would_fail_its_next_query(pg_url):
    with serving(pg_url, DATABASE_PING_IDLE_SECONDS=3600):
        terminate(pg_url, backend_pid())
        with pytest.raises(OperationalError):
            db.session.scalar(text("SELECT 1"))
        db.session.remove()
        assert backend_pid()  # the pool let the broken connection go


def prepared() -> list[str]:
    """The statements prepared on the session's connection (one is prepared at its second run)."""
    return db.session.scalars(text("SELECT statement FROM pg_prepared_statements")).all()


def plans(marker: str) -> tuple[int, int] | None:
    """(generic, custom) plans PostgreSQL made for the session's prepared statement containing `marker`."""
    row = db.session.execute(
        text(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE strpos(statement, :marker) > 0"
        ),
        {"marker": marker},
    ).first()
    return None if row is None else (row.generic_plans, row.custom_plans)


def run_lookup(times: int, marker: str) -> None:
    """Run one parametrised SELECT `times` times on the session's connection (`marker` makes its text unique)."""
    for i in range(times):
        db.session.execute(text(f'SELECT id FROM "user" WHERE id = :id /* {marker} */'), {"id": i})


def test_by_default_a_statement_is_prepared_at_its_second_run():
    assert Config.DATABASE_PREPARE_THRESHOLD == "1"


@pytest.mark.parametrize(
    ("threshold", "runs_unprepared", "then_plans"),
    [
        # the default: prepared at its second run; PostgreSQL plans its next five runs anew, then keeps a generic
        # plan (11 prepared runs: 6 generic, 5 custom)
        ("1", 1, (6, 5)),
        # psycopg's own default: five runs parsed and planned from scratch, prepared at the sixth, then the same
        # five custom plans before the generic plan serves the last two
        ("5", 5, (2, 5)),
    ],
)
def test_a_statement_is_prepared_once_it_ran_the_threshold_times(
    pg_url, threshold, runs_unprepared, then_plans
):
    with serving(pg_url, DATABASE_PREPARE_THRESHOLD=threshold):
        run_lookup(runs_unprepared, "first")
        assert plans("first") is None  # not prepared yet
        run_lookup(12, "then")
        assert plans("then") == then_plans


def test_a_pooler_in_transaction_mode_can_turn_preparing_off(pg_url):
    with serving(pg_url, DATABASE_PREPARE_THRESHOLD="none"):
        run_lookup(20, "never")
        assert plans("never") is None


@pytest.mark.parametrize("value", ["-1", "often", "9" * 40, "", "²", "\udcff"])
def test_a_wrong_prepare_threshold_is_a_clear_error_at_start_up(value):
    with pytest.raises(ValueError, match="DATABASE_PREPARE_THRESHOLD must be a whole number of runs"):
        create_app(app_settings("postgresql://127.0.0.1:1/none", DATABASE_PREPARE_THRESHOLD=value))


def test_read_only_transactions_end_with_commit_and_keep_prepared_statements(pg_url):
    with serving(pg_url):
        for _ in range(6):  # six requests that only read, each ended as a request ends: rolled back
            assert db.session.scalar(select(User.id).where(User.username == "nobody")) is None
            db.session.rollback()
        assert any('FROM "user"' in statement for statement in prepared())


def test_a_transaction_that_wrote_is_still_rolled_back(pg_url):
    with serving(pg_url):
        db.session.add(User(username="written", password_hash="x", name="写入", role="admin"))
        db.session.flush()
        db.session.rollback()
        assert db.session.scalar(select(User.id).where(User.username == "written")) is None
        # an UPDATE that matched nothing, a refused claim's: rolled back too, nothing changed
        db.session.execute(update(User).where(User.id == -1).values(name="x"))
        db.session.rollback()


def test_a_write_that_matched_nothing_ends_with_commit_and_keeps_prepared_statements(pg_url):
    with serving(pg_url):
        run_lookup(3, "kept")
        assert plans("kept") is not None
        # a step that lost its race: its lock began the transaction, its UPDATE matched no row
        db.session.execute(select(User.id).where(User.id == -1).with_for_update())
        connection = db.session.connection()
        wrote = has_written(connection)
        db.session.execute(update(User).where(User.id == -1).values(name="x"))
        assert has_written(connection) and not wrote
        matched_nothing(connection, wrote_before=wrote)
        db.session.rollback()  # as the refusal ends: with COMMIT, the prepared statement kept
        assert plans("kept") is not None

        # one that wrote before the UPDATE that matched nothing is rolled back: the row written is undone
        db.session.add(User(username="undone", password_hash="x", name="撤销", role="admin"))
        db.session.flush()
        connection = db.session.connection()
        wrote = has_written(connection)
        db.session.execute(update(User).where(User.id == -1).values(name="x"))
        matched_nothing(connection, wrote_before=wrote)
        db.session.rollback()
        assert db.session.scalar(select(User.id).where(User.username == "undone")) is None
        assert plans("kept") is None  # psycopg's ROLLBACK dropped its prepared statements


def test_a_failed_transaction_is_rolled_back_and_the_connection_goes_on(pg_url):
    with serving(pg_url):
        with pytest.raises(ProgrammingError):
            db.session.execute(text('SELECT no_such_column FROM "user"'))
        db.session.rollback()
        assert db.session.scalar(text("SELECT 1")) == 1


def driver() -> psycopg.Connection:
    """The psycopg connection under the session's."""
    return db.session.connection().connection.dbapi_connection


def test_a_request_that_only_reads_sends_no_begin_and_no_commit(pg_url):
    with serving(pg_url):
        assert db.session.scalar(select(User.id).where(User.username == "nobody")) is None
        assert db.session.scalar(text('SELECT count(*) FROM "user"')) == 0
        # no transaction is open on the server: the reads ran outside one
        assert driver().info.transaction_status == TransactionStatus.IDLE and driver().autocommit
        db.session.commit()


def test_the_first_write_begins_one_transaction_that_a_rollback_undoes_whole(pg_url):
    with serving(pg_url):
        assert db.session.scalar(select(User.id).where(User.username == "written")) is None  # outside
        db.session.add(User(username="written", password_hash="x", name="写入", role="admin"))
        db.session.flush()
        assert driver().info.transaction_status == TransactionStatus.INTRANS
        db.session.execute(update(User).where(User.username == "written").values(name="改过"))
        # a read after the write is in the same transaction: it sees the uncommitted rows
        assert db.session.scalar(select(User.name).where(User.username == "written")) == "改过"
        db.session.rollback()
        assert db.session.scalar(select(User.id).where(User.username == "written")) is None
        assert driver().autocommit  # reading outside transactions again
        db.session.add(User(username="kept", password_hash="x", name="保留", role="admin"))
        db.session.commit()
        assert driver().info.transaction_status == TransactionStatus.IDLE and driver().autocommit
        assert db.session.scalar(select(User.name).where(User.username == "kept")) == "保留"


@pytest.mark.parametrize("lock", ["update", "share"])
def test_a_select_that_locks_rows_begins_the_transaction_and_holds_its_lock(pg_url, lock):
    with serving(pg_url):
        db.session.add(User(username="locked", password_hash="x", name="加锁", role="admin"))
        db.session.commit()
        query = select(User.id).where(User.username == "locked")
        user_id = db.session.scalar(query.with_for_update(read=lock == "share"))
        assert driver().info.transaction_status == TransactionStatus.INTRANS
        locker = driver().info.backend_pid
        waiting = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
        with waiting.connect() as other:  # another connection cannot take the row while the lock is held
            other.execute(text("SET lock_timeout = '200ms'"))
            with pytest.raises(OperationalError, match="lock timeout"):
                other.execute(text('UPDATE "user" SET name = name WHERE id = :id'), {"id": user_id})
        waiting.dispose()
        assert driver().info.backend_pid == locker
        db.session.rollback()


def test_a_connection_asked_for_autocommit_keeps_it_and_the_next_reads_outside_transactions_again(pg_url):
    with serving(pg_url):
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text('VACUUM "user"'))  # refused inside a transaction
            connection.execute(
                text(
                    'INSERT INTO "user" (username, password_hash, name, role, active, created_at) '
                    "VALUES ('auto', 'x', '自动', 'admin', true, now())"
                )
            )
            assert connection.connection.dbapi_connection.info.transaction_status == TransactionStatus.IDLE
        for _ in range(3):  # whichever connection the pool hands out next
            assert db.session.scalar(select(User.name).where(User.username == "auto")) == "自动"
            assert driver().autocommit
            db.session.remove()


def test_an_isolation_level_of_the_apps_keeps_every_statement_in_a_transaction(pg_url):
    with serving(pg_url, SQLALCHEMY_ENGINE_OPTIONS={"isolation_level": "REPEATABLE READ"}):
        assert db.session.scalar(select(User.id).where(User.username == "nobody")) is None
        assert driver().info.transaction_status == TransactionStatus.INTRANS
        assert db.session.scalar(text("SHOW transaction_isolation")) == "repeatable read"
        db.session.rollback()


def test_a_description_is_made_when_read_and_says_what_psycopgs_own_says(pg_url):
    with serving(pg_url):
        cursor = db.session.connection().connection.dbapi_connection.cursor()
        query = "SELECT 1 AS one, 'x'::varchar(7) AS two, now() AS three, NULL::numeric(5, 2) AS four"
        cursor.execute(query)
        later = cursor.description
        assert isinstance(later, Description) and later._columns is None  # nothing made yet
        assert len(later) == 4 and later._columns is None
        own = psycopg.Cursor.description.fget(cursor)
        assert [tuple(c) for c in later] == [tuple(c) for c in own]
        assert [c.name for c in later] == ["one", "two", "three", "four"]
        # read after the cursor ran another statement: still the first one's columns
        cursor.execute(query)
        first = cursor.description
        cursor.execute("SELECT 2 AS other")
        assert [c.name for c in first] == ["one", "two", "three", "four"]
        assert first[1].type_code == own[1].type_code and first[1].internal_size == own[1].internal_size
        # no rows: None, as psycopg says; "SELECT ;" gives rows of no columns
        cursor.execute('UPDATE "user" SET name = name WHERE id = -1')
        assert cursor.description is None
        cursor.execute("SELECT ;")
        assert cursor.description == []
        cursor.close()


def test_sqlalchemy_reads_a_known_statements_description_no_further(pg_url, monkeypatch):
    made = []
    original = psycopg.Column.__init__
    monkeypatch.setattr(psycopg.Column, "__init__", lambda self, *a: made.append(1) or original(self, *a))
    with serving(pg_url):
        db.session.add(User(username="described", password_hash="x", name="描述", role="admin"))
        db.session.commit()
        query = select(User).where(User.username == "described")
        assert db.session.scalars(query).one().name == "描述"  # first run: the columns are named
        db.session.expunge_all()
        made.clear()
        result = db.session.execute(query)
        assert result.scalars().one().name == "描述"
        assert made == []  # known: not described again
        assert list(db.session.execute(select(User.name, User.role).where(User.id < 0)).keys()) == [
            "name",
            "role",
        ]


def test_sqlite_connections_are_never_pinged(monkeypatch):
    app = create_app(app_settings("sqlite://"))
    with app.app_context():
        monkeypatch.setattr(db.engine.dialect, "do_ping", lambda c: pytest.fail("pinged"))
        assert db.session.scalar(text("SELECT 1")) == 1
        db.session.remove()
        assert db.session.scalar(text("SELECT 1")) == 1

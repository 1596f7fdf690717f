"""SQLite's writers wait in line (app/sqlite_writers.py): a second writer waits for the first one's transaction to
end and then finds the database free, whether it is another thread, another engine or another process; every
way a transaction ends lets the next one in; nobody waits for itself, nor longer than the busy timeout."""

import fcntl
import multiprocessing
import os
import threading
import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError, OperationalError
from test_sqlite_settings import _sqlite_app

from app import sqlite_writers
from app.extensions import db
from app.models import Area


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "line.db")


def engine_for(path: str, timeout: float = 10.0, busy_ms: int = 10000):
    """An engine on the file as the app makes it (the driver's busy timeout; WAL from the app's connect hook,
    which every engine gets), its writers in line."""
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": busy_ms / 1000})
    sqlite_writers.configure(engine, timeout)
    with engine.begin() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        conn.execute(text("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, who TEXT)"))
    return engine


def line_is_free(path: str) -> bool:
    line = sqlite_writers.line_for(path)
    if not line._threads.acquire(blocking=False):
        return False
    line._threads.release()
    return True


def test_a_second_writer_waits_for_the_first_to_commit_and_then_writes(path):
    engine = engine_for(path)
    order: list[str] = []
    started = threading.Event()

    def second() -> None:
        started.set()
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t (who) VALUES ('second')"))
            order.append("second wrote")

    with engine.connect() as first:
        first.execute(text("INSERT INTO t (who) VALUES ('first')"))
        thread = threading.Thread(target=second)
        thread.start()
        started.wait()
        time.sleep(0.3)  # the second writer is waiting in line meanwhile, not failing nor writing
        assert order == [] and thread.is_alive()
        order.append("first commits")
        first.commit()
    thread.join(10)
    assert order == ["first commits", "second wrote"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT who FROM t ORDER BY id")).scalars().all() == ["first", "second"]
    assert line_is_free(path)
    engine.dispose()


def test_every_end_of_a_transaction_lets_the_next_writer_in(path):
    engine = engine_for(path, timeout=0.5, busy_ms=200)
    with engine.connect() as conn:  # rolled back
        conn.execute(text("INSERT INTO t (id, who) VALUES (1, 'kept')"))
        conn.commit()
        conn.execute(text("INSERT INTO t (who) VALUES ('dropped')"))
        assert not line_is_free(path)
        conn.rollback()
    assert line_is_free(path)
    with engine.connect() as conn:  # a failing statement, then its rollback
        with pytest.raises(IntegrityError):
            conn.execute(text("INSERT INTO t (id, who) VALUES (1, 'again')"))
        conn.rollback()
    assert line_is_free(path)
    with engine.connect() as conn:  # returned to the pool with its transaction open
        conn.execute(text("INSERT INTO t (who) VALUES ('abandoned')"))
    assert line_is_free(path)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:  # no transaction at all
        conn.execute(text("CREATE TABLE u (id INTEGER PRIMARY KEY)"))
        conn.execute(text("INSERT INTO u DEFAULT VALUES"))
        assert line_is_free(path)
    with engine.begin() as conn:  # and the next writer gets in at once
        began = time.monotonic()
        conn.execute(text("INSERT INTO t (who) VALUES ('next')"))
        assert time.monotonic() - began < 0.2
    with engine.connect() as conn:
        assert conn.execute(text("SELECT who FROM t ORDER BY id")).scalars().all() == ["kept", "next"]
    engine.dispose()


def test_a_thread_does_not_wait_for_itself(path):
    """A thread writing through a second connection while its first holds the line meets SQLite's own busy
    timeout, once, as before the line: it does not wait for the line's timeout first."""
    engine = engine_for(path, timeout=5, busy_ms=300)
    with engine.connect() as first, engine.connect() as second:
        first.execute(text("INSERT INTO t (who) VALUES ('first')"))
        began = time.monotonic()
        with pytest.raises(OperationalError, match="locked"):
            second.execute(text("INSERT INTO t (who) VALUES ('second')"))
        assert 0.25 < time.monotonic() - began < 2
        second.rollback()
        first.commit()
    assert line_is_free(path)
    engine.dispose()


def _hold_the_file(lock_path: str, held, release) -> None:
    """Another process (a second gunicorn worker) holding the line."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    held.set()
    release.wait(30)
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


@pytest.mark.parametrize("hold_seconds, timeout, waits", [(0.4, 10, True), (5, 0.3, False)])
def test_a_writer_waits_for_another_process_but_not_past_the_timeout(path, hold_seconds, timeout, waits):
    engine = engine_for(path, timeout=timeout)
    context = multiprocessing.get_context("spawn")
    held, release = context.Event(), context.Event()
    other = context.Process(target=_hold_the_file, args=(path + "-writer", held, release))
    other.start()
    try:
        assert held.wait(30)
        threading.Timer(hold_seconds, release.set).start()
        began = time.monotonic()
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t (who) VALUES ('after')"))
        waited = time.monotonic() - began
        if waits:  # in line until the other process let go
            assert hold_seconds - 0.05 < waited < hold_seconds + 2
        else:  # the line's timeout, then on unqueued: SQLite itself was free
            assert timeout - 0.05 < waited < hold_seconds - 1
    finally:
        release.set()
        other.join(30)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT who FROM t")).scalars().all() == ["after"]
    engine.dispose()


def test_many_threads_of_two_engines_all_write_without_a_busy_error(path):
    engines = [engine_for(path, busy_ms=100), engine_for(path, busy_ms=100)]
    errors: list[Exception] = []

    def write(engine, n: int) -> None:
        try:
            for i in range(20):
                with engine.begin() as conn:
                    conn.execute(text("INSERT INTO t (who) VALUES (:who)"), {"who": f"{n}-{i}"})
                    time.sleep(0.002)  # a transaction that takes a while, longer than SQLite's first naps
        except Exception as error:  # a busy error would land here
            errors.append(error)

    threads = [threading.Thread(target=write, args=(engines[n % 2], n)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with engines[0].connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 160
    for engine in engines:
        engine.dispose()


def test_an_in_memory_database_is_left_alone():
    engine = create_engine("sqlite://")
    sqlite_writers.configure(engine, 1)
    assert not engine.dispatch.before_cursor_execute  # no listener: nothing waits, nothing is locked
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        conn.execute(text("INSERT INTO t DEFAULT VALUES"))
    assert not any(key[1].startswith(":memory:") or "None" in key[1] for key in sqlite_writers._LINES)


def test_the_app_puts_its_file_database_writers_in_line(path):
    app = _sqlite_app(path, SQLITE_BUSY_TIMEOUT_MS=1500)
    with app.app_context():
        try:
            db.create_all()
            db.session.add(Area(code="610404", name="渭城区", level="district"))
            db.session.flush()
            assert not line_is_free(path)
            db.session.commit()
            assert line_is_free(path)
            assert os.path.exists(path + "-writer")
        finally:
            db.session.remove()
            db.engine.dispose()

"""SQLite's writers wait in line (docs/jobs.md#database-connections) instead of sleeping on the busy timeout.

SQLite lets one connection write at a time. Another that wants to write meanwhile gets SQLITE_BUSY, and the
busy handler of Python's driver retries after sleeping 1, 2, 5, 10, 15, 20, 25 … ms: a writer that would
have waited half a millisecond for a claim to commit sleeps a millisecond or more, newcomers overtake writers
that have waited longest, and under many short writers one can sleep out the whole busy timeout and fail
("database is locked") while the database was free most of that time.

Here a connection takes the write lock in its own process (a `threading.Lock`: its waiters wake when it is
released) and across processes (an advisory `flock` on a file next to the database: at most one waiter per
process polls it, every half millisecond) before its first write, and lets go as soon as its transaction
ends, so SQLite itself always finds the database free. A writer that cannot get in line within the
busy timeout goes on without it and meets SQLite's own timeout, as before. An in-memory database has one
connection and needs none of this.
"""

import fcntl
import os
import threading
import time

from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.connections import pool_info

_HOLDS = "onegrid_writer"  # the DBAPI connection's pool record info: it holds the write lock
POLL_SECONDS = 0.0005  # how often the one waiter of a process tries the other processes' lock
READS = ("SELECT", "PRAGMA")  # statements that never begin a write (the driver begins before INSERT …)


class WriterLine:
    """The write lock of one SQLite file: a lock among this process's threads, then one among processes.

    One per file and process, whatever the number of apps and engines on it. A thread that already holds it
    (through another connection) does not wait for itself: it goes on unqueued, as it did before the line.
    """

    def __init__(self, path: str):
        self.path = path
        self._threads = threading.Lock()
        self._file = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self._owner: int | None = None

    def acquire(self, timeout: float) -> bool:
        """Wait in line for the write lock; False (the caller goes on unqueued) after `timeout` seconds."""
        if self._owner == threading.get_ident():
            return False
        deadline = time.monotonic() + timeout
        if not self._threads.acquire(timeout=timeout):
            return False
        while True:
            try:
                fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._owner = threading.get_ident()
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    self._threads.release()
                    return False
                time.sleep(POLL_SECONDS)

    def release(self) -> None:
        self._owner = None
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._threads.release()


_LINES: dict[tuple[int, str], WriterLine] = {}  # (process, lock file): a forked worker opens its own
_LINES_LOCK = threading.Lock()


def line_for(path: str) -> WriterLine:
    """This process's line for the SQLite file at the absolute `path`."""
    key = (os.getpid(), path + "-writer")
    line = _LINES.get(key)  # every write transaction asks: no lock once the line exists
    if line is None:
        with _LINES_LOCK:
            line = _LINES.get(key)
            if line is None:
                line = _LINES[key] = WriterLine(key[1])
    return line


def configure(engine: Engine, timeout: float) -> None:
    """Queue the writers of a file-backed SQLite `engine` (`timeout`: its busy timeout, in seconds); an in-memory
    one, or one opened by a `file:` URI (which may be either), is left alone."""
    database = engine.url.database
    if (
        engine.dialect.name != "sqlite"
        or not database
        or database == ":memory:"
        or database.startswith("file:")
    ):
        return
    path = os.path.abspath(database)  # the working directory may change later

    def release(info: dict) -> None:
        line = info.pop(_HOLDS, None)
        if line:
            line.release()

    @event.listens_for(engine, "before_cursor_execute")
    def _before(connection, _cursor, statement, *_args) -> None:
        info = connection.connection.info
        if _HOLDS not in info and not statement.lstrip()[:6].upper().startswith(READS):
            line = line_for(path)
            # False: it went on unqueued, and will not wait again in this transaction
            info[_HOLDS] = line if line.acquire(timeout) else False

    @event.listens_for(engine, "after_cursor_execute")
    def _after(connection, _cursor, *_args) -> None:
        if not connection.connection.dbapi_connection.in_transaction:
            release(connection.connection.info)  # it wrote outside a transaction (DDL, autocommit): done

    @event.listens_for(engine, "handle_error")
    def _failed(context) -> None:
        connection = context.connection
        if connection is None or connection.invalidated:
            return  # a lost connection: the pool's check-in lets go
        if not connection.connection.dbapi_connection.in_transaction:
            release(connection.connection.info)  # it failed outside a transaction: nothing to end later

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record) -> None:
        if record is not None:  # back in the pool, its transaction is over whatever happened
            release(record.info)

    commit, rollback = engine.dialect.do_commit, engine.dialect.do_rollback

    def do_commit(proxied) -> None:
        try:
            commit(proxied)
        finally:
            release(pool_info(proxied) or {})  # a bare connection (the dialect's first connect) holds nothing

    def do_rollback(proxied) -> None:
        try:
            rollback(proxied)
        finally:
            release(pool_info(proxied) or {})

    engine.dialect.do_commit, engine.dialect.do_rollback = do_commit, do_rollback

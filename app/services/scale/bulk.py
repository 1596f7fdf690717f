"""Bulk writing for the generator: explicit ids, buffered Core executemany in parent-first order, clearing."""

import random
from collections.abc import Callable
from datetime import date
from operator import itemgetter

from sqlalchemy import Date, DateTime, Numeric, func, select, text

from app.connections import begin_now
from app.extensions import db

CHUNK = 10_000  # rows per executemany
# SQLite's page cache while the generator writes (KiB, as PRAGMA cache_size takes it when negative): the
# indexes of a million rows stay in memory instead of being paged through SQLite's 2 MiB default
SQLITE_BULK_CACHE_KIB = 256 * 1024


def split(total: int, parts: int, rng: random.Random, minimum: int = 0, spread: float = 0.5) -> list[int]:
    """`total` shared over `parts` with some variety (weights 1 ± spread), each at least `minimum`; sums exactly."""
    if parts <= 0:
        return []
    minimum = min(minimum, total // parts)
    weights = [rng.uniform(1 - spread, 1 + spread) for _ in range(parts)]
    left = total - minimum * parts
    scale = left / sum(weights)
    shares = [w * scale for w in weights]
    counts = [minimum + int(s) for s in shares]
    # largest remainders get the rest, ties by position: deterministic
    order = sorted(range(parts), key=lambda i: (int(shares[i]) - shares[i], i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


class Writer:
    """Buffers rows per table and writes them with one executemany per chunk, parents before children.

    Ids are given here (max + 1 onward), so children can refer to parents before anything is written,
    and nothing needs RETURNING. Every flush writes all buffers in the metadata's dependency order,
    so a foreign key never points at a row still waiting in a buffer.
    """

    def __init__(self, advance: Callable[[int], None] | None = None):
        self.connection = db.session.connection()
        self.advance = advance or (lambda n: None)
        self.buffers: dict = {}
        self.counted: set = set()
        self.ids: dict = {}
        self.statements: dict = {}
        self.order = {table: i for i, table in enumerate(db.metadata.sorted_tables)}
        self.sqlite = self.connection.dialect.name == "sqlite"
        if self.sqlite:
            self.cache_kib = self.connection.execute(text("PRAGMA cache_size")).scalar()
            self.connection.execute(text(f"PRAGMA cache_size=-{SQLITE_BULK_CACHE_KIB}"))

    def new_id(self, model) -> int:
        table = model.__table__
        if table not in self.ids:
            self.ids[table] = db.session.scalar(select(func.coalesce(func.max(table.c.id), 0)))
        self.ids[table] += 1
        return self.ids[table]

    def add(self, model, row: dict, counted: bool = True) -> None:
        """Queue one row; `counted` rows move the progress bar."""
        table = model.__table__
        self.buffers.setdefault(table, []).append(row)
        if counted:
            self.counted.add(table)
        if len(self.buffers[table]) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        for table in sorted(self.buffers, key=self.order.__getitem__):
            rows = self.buffers[table]
            if rows:
                statement, convert = self._statement(table)
                if self.connection.dialect.name == "postgresql":
                    self._copy(table, map(convert, rows))
                else:
                    self.connection.exec_driver_sql(statement, [convert(row) for row in rows])
                if table in self.counted:
                    self.advance(len(rows))
                self.buffers[table] = []

    def _copy(self, table, rows) -> None:
        """PostgreSQL's COPY FROM STDIN through psycopg: several times faster than a batched INSERT."""
        columns = ", ".join(f'"{c.name}"' for c in table.columns)
        begin_now(self.connection)  # COPY goes by the driver, unseen by the hook that begins at a first write
        cursor = self.connection.connection.dbapi_connection.cursor()
        with cursor, cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)

    def _statement(self, table):
        """The driver's INSERT for every column of `table`, and a function turning a row dict into its tuple.

        Straight to the driver's executemany: SQLAlchemy's per-parameter processing cost more than
        SQLite's own work. On SQLite, values are stored as SQLAlchemy's types would store them.
        """
        if table in self.statements:
            return self.statements[table]
        columns = list(table.columns)
        mark = "?" if self.connection.dialect.paramstyle == "qmark" else "%s"
        statement = (
            f'INSERT INTO "{table.name}" ({", ".join(chr(34) + c.name + chr(34) for c in columns)}) '
            f"VALUES ({', '.join([mark] * len(columns))})"
        )
        values = itemgetter(
            *[c.name for c in columns]
        )  # every row names every column: defaults are not guessed
        adapters = [(i, adapt) for i, c in enumerate(columns) if (adapt := _sqlite_adapter(c.type))]
        if self.connection.dialect.name != "sqlite" or not adapters:
            convert = values  # the driver adapts dates, times and decimals itself
        else:

            def convert(row):
                result = list(values(row))
                for i, adapt in adapters:
                    if result[i] is not None:
                        result[i] = adapt(result[i])
                return tuple(result)

        self.statements[table] = statement, convert
        return statement, convert

    def finish(self) -> None:
        """Write what is left; on PostgreSQL move each id sequence past the ids given here."""
        self.flush()
        if self.sqlite:  # the connection goes back to the pool with its usual cache
            self.connection.execute(text(f"PRAGMA cache_size={self.cache_kib}"))
        if self.connection.dialect.name == "postgresql":
            for table, last in self.ids.items():
                self.connection.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), {last})")
                )


def _sqlite_adapter(column_type):
    """How SQLAlchemy's SQLite dialect stores a value of this type (None: as it is)."""
    if isinstance(column_type, DateTime):  # UTC, stored like SQLAlchemy does: no offset, always microseconds
        last = [None, None]  # many rows share one created_at: format it once

        def adapt(v):
            if v is not last[0]:
                last[:] = v, v.isoformat(" ", "microseconds")[:26]
            return last[1]

        return adapt
    if isinstance(column_type, Date):
        return date.isoformat
    if isinstance(column_type, Numeric):
        return float
    return None


def clear_all() -> None:
    """Delete every row of every OneGrid table (the schema and the migration history stay)."""
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
        )
    else:
        connection.execute(text("PRAGMA defer_foreign_keys=ON"))  # the area tree refers to itself
        for table in tables:
            connection.execute(text(f'DELETE FROM "{table}"'))
    db.session.expire_all()

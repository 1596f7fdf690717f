"""A workflow step's records: its history row and its audit row (docs/workflows.md#how-a-machine-runs).

On PostgreSQL `with_move` makes the step's conditional UPDATE and both INSERTs one statement (a data-modifying
WITH whose INSERTs read the UPDATE's row, so a step that lost its race writes neither); elsewhere (SQLite has
no INSERT in WITH) `record` writes them as two INSERTs after the UPDATE. Either way without a unit-of-work
flush, and the history row then stays in the session as the persistent row it now is (`keep`), appended to the
subject's history when that is loaded, so an answer shows the step without reading the history again.

An interface that answers with more than the subject's row (the API's wish actions: its category, people and
history) asks for those rows to come with the step (`read_along`): on PostgreSQL the step's statement selects
them too, from the row the UPDATE returns, so the answer costs no round trip of its own. They are read with the
statement's snapshot, so the history among them lacks the step itself: `Along.step` is that row.
"""

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Self

from sqlalchemy import Select, Table, bindparam, exists, insert, inspect, select, true
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.models import AuditLog
from app.services import audit, rows

AUDIT = AuditLog.__table__


def record(machine, subject, row, params: dict, audit_row: dict) -> None:
    """Write the history row `row` (an unsaved `machine.step_model`, its column values `params`) and the step's
    audit row as two INSERTs, after an UPDATE that could not carry them (SQLite has no INSERT in WITH)."""
    table = inspect(machine.step_model).local_table
    new_id = db.session.connection().execute(rows.insert_of(table), params).inserted_primary_key[0]
    audit.insert_row(audit_row)
    keep(machine, subject, row, params, new_id)


def history_values(machine, row) -> dict:
    """The column values of the unsaved history row `row`, as `with_move`, `record` and `keep` take them."""
    return rows.column_values(inspect(machine.step_model), row)


class Along:
    """Rows asked to come with the next step on `subject` (`read_along`): `query(row)` selects them given the
    subject's row as the step leaves it (a FROM clause with the subject's columns). After the step, `rows` holds
    them (tuples in the query's column order, in no set order) and `step` the history row it wrote; `rows`
    stays None where they could not come with it (SQLite), and the asker reads them itself. A context manager
    (a plain class: a refused request pays for it too)."""

    __slots__ = ("_token", "query", "rows", "step", "subject")

    def __init__(self, subject, query: Callable) -> None:
        self.subject, self.query = subject, query
        self.rows: list[tuple] | None = None
        self.step = None

    def __enter__(self) -> Self:
        self._token = _ALONG.set(self)
        return self

    def __exit__(self, *_exc) -> None:
        _ALONG.reset(self._token)


_ALONG: ContextVar[Along | None] = ContextVar("onegrid_read_along", default=None)


def read_along(subject, query: Callable) -> Along:
    """`with read_along(subject, query) as along:` the next step on `subject` within the block also reads
    `query(row)`'s rows, in its own statement where the database can."""
    return Along(subject, query)


def along_for(subject) -> Along | None:
    """The rows asked to come with the step now being taken on `subject`, if any are asked (a later step on it
    within the block reads them again: they are what the last step left)."""
    along = _ALONG.get()
    return along if along is not None and along.subject is subject else None


@dataclass(frozen=True)
class Written:
    """A row a step writes with itself, at most one (the owner's "claimed" notice): INSERT INTO `table`
    (`columns`) `rows`, a SELECT of its values with the parameters `params` (named apart from the step's), that
    may select none (a recipient who muted the kind). `then(new id or None)` follows the step."""

    table: Table
    columns: tuple[str, ...]
    rows: Select
    params: dict
    then: Callable[[int | None], None] | None = None


# a machine's name → the writers of the rows its steps write with themselves (app.reactions declares them):
# writer(subject, action, actor, sets) -> Written or None, given the columns the step's UPDATE sets
WRITERS: dict[str, tuple[Callable, ...]] = {}


def write_with_steps(machine_name: str, *writers: Callable) -> None:
    """Declare the writers of rows `machine_name`'s steps write with themselves (once each)."""
    known = WRITERS.get(machine_name, ())
    WRITERS[machine_name] = (*known, *(writer for writer in writers if writer not in known))


def written_with(machine, subject, action, actor, sets: dict) -> tuple[Written, ...]:
    """The rows the step about to be taken writes with itself."""
    writers = WRITERS.get(machine.name, ())
    return tuple(w for w in (writer(subject, action, actor, sets) for writer in writers) if w is not None)


def write_after(written: tuple[Written, ...]) -> None:
    """Write `written` after a step whose statement could not carry them (SQLite has no INSERT in WITH)."""
    for one in written:
        statement = _inserting(one.table, one.columns, one.rows)
        new_id = db.session.connection().execute(statement, one.params).scalar()
        if one.then is not None:
            one.then(new_id)


@lru_cache(maxsize=64)
def _inserting(table, columns: tuple, rows):
    """INSERT INTO `table` (`columns`) `rows` RETURNING its id: built once per shape."""
    return insert(table).from_select(columns, rows).returning(table.c.id)


def with_move(
    machine, update, params: dict, audit_row: dict, cached: bool, along: Along | None, written: tuple
):
    """(statement, its parameters): `update` (a step's UPDATE … RETURNING, PostgreSQL) with the history row
    `params`, the audit row and the rows `written` inserted when the UPDATE returns its row; the statement
    returns that row's columns, then the history row's id, the ids of `written`'s rows (None for one that
    selected none), then `along`'s columns (a row for each of its rows), or no row when the UPDATE matched
    none."""
    build = _moved if cached else _moved.__wrapped__
    table = inspect(machine.step_model).local_table
    query = along.query if along is not None else None
    shapes = tuple((one.table, one.columns, one.rows) for one in written)
    statement = build(update, table, tuple(params), tuple(audit_row), query, shapes)
    bound = {**{f"h_{k}": v for k, v in params.items()}, **{f"a_{k}": v for k, v in audit_row.items()}}
    for one in written:
        if bound.keys() & one.params.keys():
            raise ValueError(f"parameters named as the step's: {sorted(bound.keys() & one.params.keys())}")
        bound.update(one.params)
    return statement, bound


def took(
    machine, subject, row, params: dict, returned: list[tuple], along: Along | None, written: tuple
) -> None:
    """After `with_move`'s statement: keep its history row, follow up what was written with it, and hand
    `along` the rows that came with it."""
    keep(machine, subject, row, params, returned[0][0])
    for one, new_id in zip(written, returned[0][1:], strict=False):
        if one.then is not None:
            one.then(new_id)
    if along is not None:
        along.rows, along.step = [found[1 + len(written) :] for found in returned], row


def keep(machine, subject, row, params: dict, new_id) -> None:
    """Keep the history row just written in the session, and in the subject's history when that is loaded."""
    rows.adopt(inspect(machine.step_model), row, params, new_id)
    key = _history_key(machine.model, machine.step_model)
    if key is not None and key in subject.__dict__:
        set_committed_value(subject, key, [*subject.__dict__[key], row])


@lru_cache(maxsize=64)
def _moved(
    update, table, history_columns: tuple, audit_columns: tuple, along: Callable | None, written: tuple
):
    """WITH moved AS (UPDATE … RETURNING …), history AS (INSERT … SELECT … FROM moved RETURNING id),
    audit AS (INSERT … SELECT … FROM moved)[, written_<i> AS (INSERT … SELECT … WHERE EXISTS (moved) RETURNING
    id)] SELECT moved.*, history.id[, (SELECT id FROM written_<i>)][, along.*]: built once per shape."""
    moved = update.cte("moved")

    def inserted(target, prefix, columns):
        chosen = select(*(bindparam(f"{prefix}_{k}", type_=target.c[k].type) for k in columns)).select_from(
            moved
        )
        return insert(target).from_select([target.c[k] for k in columns], chosen)

    history = inserted(table, "h", history_columns).returning(table.c.id).cte("history")
    audit = inserted(AUDIT, "a", audit_columns).cte("audit")
    ids = []
    for i, (target, columns, chosen) in enumerate(written):
        gated = chosen.where(exists(moved.select()))  # nothing when the step lost its race
        cte = insert(target).from_select(columns, gated).returning(target.c.id).cte(f"written_{i}")
        ids.append(select(cte.c.id).scalar_subquery())
    joined = moved.join(history, true())
    if along is None:
        return select(*moved.c, history.c.id, *ids).select_from(joined).add_cte(audit)
    also = along(moved).subquery("along")
    return select(*moved.c, history.c.id, *ids, *also.c).select_from(joined.join(also, true())).add_cte(audit)


@cache
def _history_key(model, step_model) -> str | None:
    """The name of `model`'s collection of its `step_model` rows (`Wish.steps`), if it has one."""
    for relationship in inspect(model).relationships:
        if relationship.uselist and relationship.mapper.class_ is step_model:
            return relationship.key
    return None

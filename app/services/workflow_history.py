"""A workflow step's records: its history row and its audit row (docs/workflows.md#how-a-machine-runs).

On PostgreSQL `with_move` makes the step's conditional UPDATE and both INSERTs one statement (a data-modifying
WITH whose INSERTs read the UPDATE's row, so a step that lost its race writes neither); elsewhere (SQLite has
no INSERT in WITH) `record` writes them as two INSERTs after the UPDATE. Either way without a unit-of-work
flush, and the history row then stays in the session as the persistent row it now is (`keep`), appended to the
subject's history when that is loaded, so an answer shows the step without reading the history again.
"""

from functools import cache, lru_cache

from sqlalchemy import bindparam, insert, inspect, select, true
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


def with_move(machine, update, params: dict, audit_row: dict, cached: bool = True):
    """(statement, its parameters): `update` (a step's UPDATE … RETURNING, PostgreSQL) with the history row
    `params` and the audit row inserted from the row it returns; the statement returns that row's columns
    and then the history row's id, or no row when the UPDATE matched none."""
    build = _moved if cached else _moved.__wrapped__
    statement = build(update, inspect(machine.step_model).local_table, tuple(params), tuple(audit_row))
    return statement, {
        **{f"h_{k}": v for k, v in params.items()},
        **{f"a_{k}": v for k, v in audit_row.items()},
    }


def keep(machine, subject, row, params: dict, new_id) -> None:
    """Keep the history row just written in the session, and in the subject's history when that is loaded."""
    rows.adopt(inspect(machine.step_model), row, params, new_id)
    key = _history_key(machine.model, machine.step_model)
    if key is not None and key in subject.__dict__:
        set_committed_value(subject, key, [*subject.__dict__[key], row])


@lru_cache(maxsize=64)
def _moved(update, table, history_columns: tuple, audit_columns: tuple):
    """WITH moved AS (UPDATE … RETURNING …), history AS (INSERT … SELECT … FROM moved RETURNING id),
    audit AS (INSERT … SELECT … FROM moved) SELECT moved.*, history.id: built once per shape."""
    moved = update.cte("moved")

    def inserted(target, prefix, columns):
        chosen = select(*(bindparam(f"{prefix}_{k}", type_=target.c[k].type) for k in columns)).select_from(
            moved
        )
        return insert(target).from_select([target.c[k] for k in columns], chosen)

    history = inserted(table, "h", history_columns).returning(table.c.id).cte("history")
    audit = inserted(AUDIT, "a", audit_columns).cte("audit")
    return select(*moved.c, history.c.id).select_from(moved.join(history, true())).add_cte(audit)


@cache
def _history_key(model, step_model) -> str | None:
    """The name of `model`'s collection of its `step_model` rows (`Wish.steps`), if it has one."""
    for relationship in inspect(model).relationships:
        if relationship.uselist and relationship.mapper.class_ is step_model:
            return relationship.key
    return None

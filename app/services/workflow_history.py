"""A workflow step's records: its history row and its audit row (docs/workflows.md#how-a-machine-runs).

`record(machine, subject, row, audit_row)` writes both in the step's transaction: on PostgreSQL as one
statement (a data-modifying WITH: the history INSERT returns the row's id, the audit INSERT rides along),
elsewhere (SQLite has no INSERT in WITH) as two. Either way without a unit-of-work flush, and the history
row then stays in the session as the persistent row it now is, appended to the subject's history when that
is loaded, so an answer shows the step without reading the history again.
"""

from functools import cache, lru_cache

from sqlalchemy import bindparam, insert, inspect, select
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.models import AuditLog
from app.services import audit, rows

AUDIT = AuditLog.__table__


def record(machine, subject, row, audit_row: dict) -> None:
    """Write the history row `row` (an unsaved `machine.step_model`) and the step's audit row."""
    mapper = inspect(machine.step_model)
    table = mapper.local_table
    params = rows.column_values(mapper, row)
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        statement = _together(table, tuple(params), tuple(audit_row))
        bound = {**{f"h_{k}": v for k, v in params.items()}, **{f"a_{k}": v for k, v in audit_row.items()}}
        new_id = connection.execute(statement, bound).scalar_one()
    else:
        new_id = connection.execute(rows.insert_of(table), params).inserted_primary_key[0]
        audit.insert_row(audit_row)
    rows.adopt(mapper, row, params, new_id)
    key = _history_key(machine.model, machine.step_model)
    if key is not None and key in subject.__dict__:
        set_committed_value(subject, key, [*subject.__dict__[key], row])


@lru_cache(maxsize=64)
def _together(table, history_columns: tuple, audit_columns: tuple):
    """WITH history AS (INSERT … RETURNING id), audit AS (INSERT …) SELECT id FROM history: built once per shape."""

    def values(target, prefix, columns):
        return {target.c[k]: bindparam(f"{prefix}_{k}", type_=target.c[k].type) for k in columns}

    history = insert(table).values(values(table, "h", history_columns)).returning(table.c.id).cte("history")
    audit = insert(AUDIT).values(values(AUDIT, "a", audit_columns)).cte("audit")
    return select(history.c.id).add_cte(audit)


@cache
def _history_key(model, step_model) -> str | None:
    """The name of `model`'s collection of its `step_model` rows (`Wish.steps`), if it has one."""
    for relationship in inspect(model).relationships:
        if relationship.uselist and relationship.mapper.class_ is step_model:
            return relationship.key
    return None

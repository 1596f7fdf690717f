"""One new row written at once: a single Core INSERT instead of a unit-of-work flush, on hot paths (a claim's
history and outbox rows), the ORM instance then kept in the session as the persistent row it now is."""

from functools import cache

from sqlalchemy import insert, inspect
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db


def insert_now(instance):
    """INSERT the new `instance` now (nothing else is flushed); returns it, persistent, with its id."""
    mapper = inspect(type(instance))
    params = column_values(mapper, instance)
    new_id = db.session.connection().execute(insert_of(mapper.local_table), params).inserted_primary_key[0]
    adopt(mapper, instance, params, new_id)
    return instance


def column_values(mapper, instance) -> dict:
    """The new row's column values: what `instance` was given, and the columns' Python-side defaults."""
    params = {}
    for attribute in mapper.column_attrs:
        column = attribute.columns[0]
        if attribute.key in instance.__dict__:
            params[column.key] = instance.__dict__[attribute.key]
        elif not column.primary_key and column.default is not None and column.default.is_scalar:
            params[column.key] = column.default.arg
        elif not column.primary_key and column.default is not None and column.default.is_callable:
            params[column.key] = column.default.arg(None)
    return params


def adopt(mapper, instance, params: dict, new_id) -> None:
    """Keep `instance` in the session as the row just written with `params` and primary key `new_id`."""
    for attribute in mapper.column_attrs:
        column = attribute.columns[0]
        if column.primary_key:
            set_committed_value(instance, attribute.key, new_id)
        elif attribute.key not in instance.__dict__ and column.key in params:
            set_committed_value(instance, attribute.key, params[column.key])
    make_transient_to_detached(instance)
    db.session.add(instance)


@cache
def insert_of(table):
    """The table's INSERT, built once (the values come as parameters)."""
    return insert(table)

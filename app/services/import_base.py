"""What every bulk import shares: refusing a whole file, a row's error, and lookups in chunks of values."""

from dataclasses import dataclass

from app.extensions import db

CHUNK = 500  # values per IN (…) list: well under SQLite's and PostgreSQL's parameter limits


class ImportRefused(ValueError):
    """The file as a whole is refused (unreadable, too big, no headers, not allowed); nothing was imported."""


@dataclass
class RowError:
    row: int  # the spreadsheet's row number, as the person sees it in Excel
    column: str
    message: str
    value: str = ""


def chunks(values):
    values = list(values)
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def in_chunks(query, column, values):
    for chunk in chunks(values):
        yield from db.session.scalars(query.where(column.in_(chunk)))


def rows_in_chunks(query, column, values):
    for chunk in chunks(values):
        yield from db.session.execute(query.where(column.in_(chunk)))

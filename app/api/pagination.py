"""Pages of list endpoints: `?page=&per_page=` in, `{"items", "page", "per_page", "has_next"}` out."""

from collections.abc import Sequence

import marshmallow as ma
from sqlalchemy import Select

from app.extensions import db
from app.ids import MAX_PAGE  # the one page bound of every interface

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 100


class PageQuerySchema(ma.Schema):
    """Which page of a list to return; list endpoints extend it with their filters."""

    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=MAX_PAGE))
    per_page = ma.fields.Integer(
        load_default=DEFAULT_PER_PAGE, validate=ma.validate.Range(min=1, max=MAX_PER_PAGE)
    )


class PageSchema(ma.Schema):
    """The envelope of a list; `has_next` spares clients (and the database) a total count."""

    page = ma.fields.Integer(required=True)
    per_page = ma.fields.Integer(required=True)
    has_next = ma.fields.Boolean(required=True)


def page_schema(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """The list envelope around `item_schema`, named after it (AreaSchema → AreaPageSchema)."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    return type(name, (PageSchema,), {"items": ma.fields.List(ma.fields.Nested(item_schema), required=True)})


def paginate(source: Select | Sequence, query: dict) -> dict:
    """One page of `source` (a select() of ORM rows, or rows already loaded) as the list envelope."""
    page, per_page = query["page"], query["per_page"]
    start = (page - 1) * per_page
    if isinstance(source, Select):
        rows = list(db.session.scalars(source.offset(start).limit(per_page + 1)))
    else:
        rows = list(source[start : start + per_page + 1])
    return {"items": rows[:per_page], "page": page, "per_page": per_page, "has_next": len(rows) > per_page}

"""Scoped pieces for Flask-Admin: area filters, ajax lookups, form choice lists and the filter values a list takes."""

import math
from decimal import Decimal

from flask import has_request_context
from flask_admin.babel import lazy_gettext as admin_lazy_gettext
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_admin.contrib.sqla.fields import QuerySelectField, QuerySelectMultipleField
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_admin.model.ajax import DEFAULT_PAGE_SIZE
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from admin.fields import ServiceChoiceField, column_range
from app.extensions import db
from app.ids import MAX_ID, parse_id
from app.models import Area
from app.models.base import under_area
from app.services.scope import apply_reach, apply_scope, area_choices, row_in_scope


class AreaFilter(BaseSQLAFilter):
    """ "Under this street/community/grid": options are the areas of one level in the user's scope."""

    def __init__(self, column, name, level: str):
        super().__init__(column, name, options=lambda: _scoped_area_options(level))
        self.level = level

    def apply(self, query, value, alias=None):
        return query.filter(under_area(self.get_column(alias), value))

    def operation(self):
        return _l("is in")


def _scoped_area_options(level: str):
    if not has_request_context() or not current_user.is_authenticated:
        return []
    return area_choices(current_user, level)


class RowFilter(BaseSQLAFilter):
    """ "Is this row": a foreign key equal to one of the rows `select` lists (id, label), built per request
    from the rows that reach into the user's scope (never another area's campaign)."""

    def __init__(self, column, name, select, label=str):
        super().__init__(column, name, options=self._options)
        self.select, self.label = select, label

    def _options(self):
        if not has_request_context() or not current_user.is_authenticated:  # the view is built at start-up
            return []
        model = self.select.column_descriptions[0]["entity"]
        return [
            (str(row.id), self.label(row))
            for row in db.session.scalars(apply_reach(self.select, model, current_user))
        ]

    def validate(self, value):
        return parse_id(value) is not None

    def apply(self, query, value, alias=None):
        return query.filter(self.get_column(alias) == parse_id(value))

    def operation(self):
        return admin_lazy_gettext("equals")


def filter_accepts(view, flt, value: str) -> bool:
    """Whether a list may filter by `value`: one of the choices the filter offers the user when it offers
    any (so never another area's row), a value the filter can read, and no number the column cannot hold
    (the database would fail on it)."""
    if flt.options is not None and value not in {str(key) for key, _label in flt.get_options(view) or ()}:
        return False
    try:
        if not flt.validate(value):
            return False
        cleaned = flt.clean(value)
    except (ValueError, OverflowError, TypeError):
        return False
    column = getattr(flt, "column", None)
    numbers = [
        n
        for n in (cleaned if isinstance(cleaned, list) else [cleaned])
        if isinstance(n, (int, float, Decimal)) and not isinstance(n, bool)
    ]
    return all(fits_column(column, number) for number in numbers)


def fits_column(column, number) -> bool:
    """Whether the database column can hold `number` (PostgreSQL's integer types; a numeric's precision)."""
    if isinstance(number, (float, Decimal)) and not math.isfinite(number):
        return False
    bounds = column_range(getattr(column, "type", None))
    return bounds is None or bounds[0] <= number <= bounds[1]


def area_filters(column) -> list[AreaFilter]:
    """Street, community and grid filters on a column holding an area code."""
    return [
        AreaFilter(column, _l("Street"), "street"),
        AreaFilter(column, _l("Community"), "community"),
        AreaFilter(column, _l("Grid"), "grid"),
    ]


class ScopedAjaxLoader(QueryAjaxModelLoader):
    """An ajax lookup for a big foreign key that only offers rows in the user's scope."""

    def __init__(self, name: str, model, **options):
        super().__init__(name, db, model, **options)

    def get_query(self):
        return apply_scope(super().get_query(), self.model, current_user)

    def get_list(self, term, offset=0, limit=None):
        # offset and limit come from the query string: at most a page, from an offset the database can take
        offset = offset if offset is not None and 0 <= offset <= MAX_ID else 0
        page_size = self.options.get("page_size", DEFAULT_PAGE_SIZE)
        limit = limit if limit is not None and 0 < limit <= page_size else page_size
        return super().get_list(term, offset, limit)

    def get_one(self, pk):
        pk = parse_id(pk)
        obj = super().get_one(pk) if pk is not None else None
        return obj if obj is not None and row_in_scope(current_user, obj) else None


def scope_form_choices(form, area_levels: dict[str, str | tuple]) -> None:
    """Confine every foreign-key choice list of a form to the user's scope.

    `area_levels` maps a field name to the Area level it may pick (e.g. grid), or a tuple of levels.
    A value posted from outside the list fails validation ("Not a valid choice").
    """
    for name, field in form._fields.items():
        if not isinstance(field, (QuerySelectField, QuerySelectMultipleField)) or isinstance(
            field, ServiceChoiceField
        ):
            continue
        query = field.query_factory() if field.query is None else field.query
        model = query.column_descriptions[0]["entity"]
        query = apply_scope(query, model, current_user)
        if model is Area and name in area_levels:
            levels = area_levels[name]
            levels = levels if isinstance(levels, tuple) else (levels,)
            query = query.filter(Area.level.in_(levels)).order_by(Area.code)
        field.query = query
        field._object_list = None  # drop any list computed before the scope was set

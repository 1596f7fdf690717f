"""Form fields the generated back-office forms need beyond Flask-Admin's own."""

from decimal import Decimal

from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_admin.model.form import converts
from markupsafe import Markup
from sqlalchemy import BigInteger, Float, Integer, Numeric, SmallInteger
from wtforms import SelectMultipleField
from wtforms.validators import NumberRange
from wtforms.widgets import CheckboxInput, html_params


class CheckboxList:
    """The choices as Bootstrap check rows, each box inside its label (the whole row takes the tap). Not a list
    with Flask-Admin's `form-control` class: that keeps one line's height, and the boxes spilled over the next
    field and under the save buttons."""

    def __call__(self, field, **kwargs):
        kwargs.pop("class", None), kwargs.pop("class_", None), kwargs.pop("required", None)
        kwargs.setdefault("id", field.id)
        rows = Markup("").join(
            Markup(
                '<div class="form-check og-check"><label class="form-check-label" for="%s">%s %s</label></div>'
            )
            % (option.id, option(class_="form-check-input"), option.label.text)
            for option in field
        )
        return Markup('<div %s role="group">%s</div>') % (
            Markup(html_params(class_="og-checks", **kwargs)),
            rows,
        )


class CommaSetField(SelectMultipleField):
    """Several keys from a closed vocabulary, stored as one comma-separated string."""

    widget = CheckboxList()
    option_widget = CheckboxInput()

    def process_data(self, value):
        self.data = [v for v in (value or "").split(",") if v]

    def populate_obj(self, obj, name):
        setattr(obj, name, ",".join(self.data or []) or None)


def comma_set_formatter(labels: dict):
    """A list formatter turning 'a,b' into their display labels."""

    def format_(view, context, model, name):
        value = getattr(model, name) or ""
        return "、".join(str(labels.get(v, v)) for v in value.split(",") if v)

    return format_


class BoundedModelConverter(AdminModelConverter):
    """Flask-Admin's form converter, with every number field bounded by what its column can store.

    Without bounds a 30-digit number passes the form and the database refuses it (a 500); with them the
    form says which field is out of range.
    """

    @converts("Integer")  # includes BigInteger and SmallInteger
    def handle_integer_types(self, column, field_args, **extra):
        low, high = column_range(column.type)
        field_args["validators"].append(NumberRange(min=low, max=high))
        return super().handle_integer_types(column=column, field_args=field_args, **extra)

    @converts("Numeric")  # includes DECIMAL, Float/FLOAT, REAL, and DOUBLE
    def handle_decimal_types(self, column, field_args, **extra):
        bounds = column_range(column.type)
        if bounds is not None:
            field_args["validators"].append(NumberRange(min=bounds[0], max=bounds[1]))
        return super().handle_decimal_types(column=column, field_args=field_args, **extra)


def column_range(column_type) -> tuple | None:
    """The smallest and largest number a column of this type stores (PostgreSQL's integer widths, NUMERIC(p, s));
    None when the database sets no bound."""
    if isinstance(column_type, Integer):
        bits = (
            64 if isinstance(column_type, BigInteger) else 16 if isinstance(column_type, SmallInteger) else 32
        )
        return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    if isinstance(column_type, Numeric) and not isinstance(column_type, Float) and column_type.precision:
        scale = column_type.scale or 0  # NUMERIC(p, s) holds below 10 ** (p - s)
        largest = Decimal(10) ** (column_type.precision - scale) - Decimal(1).scaleb(-scale)
        return -largest, largest
    return None


class ServiceChoiceField(QuerySelectField):
    """A choice of rows a service lists for the current user (`query_factory` returns them), already confined
    by that service's rule: the forms' scoping (admin.scoping.scope_form_choices) leaves it as it is."""

"""Form fields the generated back-office forms need beyond Flask-Admin's own."""
from decimal import Decimal

from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_admin.model.form import converts
from sqlalchemy import BigInteger, Numeric, SmallInteger
from wtforms import SelectMultipleField
from wtforms.validators import NumberRange
from wtforms.widgets import CheckboxInput, ListWidget


class CommaSetField(SelectMultipleField):
    """Several keys from a closed vocabulary, stored as one comma-separated string."""

    widget = ListWidget(prefix_label=False)
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
        bits = 16 if isinstance(column.type, SmallInteger) else 64 if isinstance(column.type, BigInteger) else 32
        field_args["validators"].append(NumberRange(min=-(2 ** (bits - 1)), max=2 ** (bits - 1) - 1))
        return super().handle_integer_types(column=column, field_args=field_args, **extra)

    @converts("Numeric")  # includes DECIMAL, Float/FLOAT, REAL, and DOUBLE
    def handle_decimal_types(self, column, field_args, **extra):
        precision, scale = getattr(column.type, "precision", None), getattr(column.type, "scale", None) or 0
        if isinstance(column.type, Numeric) and precision:  # NUMERIC(p, s) holds below 10 ** (p - s)
            largest = Decimal(10) ** (precision - scale) - Decimal(1).scaleb(-scale)
            field_args["validators"].append(NumberRange(min=-largest, max=largest))
        return super().handle_decimal_types(column=column, field_args=field_args, **extra)

"""Form fields the generated back-office forms need beyond Flask-Admin's own."""
from wtforms import SelectMultipleField
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

"""District-wide reference data: departments, the matter list and SLA policies."""

from flask_admin.contrib.sqla.filters import FilterEqual
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from admin.base import ReferenceView
from app.models import Matter
from app.models.choices import MATTER_CATEGORY_LABELS, choices


class DepartmentAdmin(ReferenceView):
    column_list = ("code", "name", "phone", "active")
    column_searchable_list = ("code", "name")
    column_sortable_list = ("code", "name")
    column_default_sort = "code"
    form_columns = ("code", "name", "phone", "active")


class SlaPolicyAdmin(ReferenceView):
    column_list = ("name", "respond_minutes", "reply_minutes", "resolve_minutes")
    column_sortable_list = ("name",)
    form_columns = ("name", "respond_minutes", "reply_minutes", "resolve_minutes")
    can_export = False

    def scaffold_form(self):
        from wtforms.validators import ValidationError

        base = super().scaffold_form()

        class SlaPolicyForm(base):
            def validate_resolve_minutes(form, field):
                values = [form.respond_minutes.data, form.reply_minutes.data, field.data]
                if any(v is None or v <= 0 for v in values):
                    raise ValidationError(_("Every deadline is a positive number of minutes."))
                if not values[0] <= values[1] <= values[2]:
                    raise ValidationError(_("Respond, reply and resolve deadlines must be in that order."))

        return SlaPolicyForm


class MatterAdmin(ReferenceView):
    column_list = ("code", "name", "category", "department", "admitted", "sla_policy")
    column_searchable_list = ("code", "name")
    column_sortable_list = ("code", "name", "category", "admitted")
    column_default_sort = "code"
    column_choices = {"category": choices(MATTER_CATEGORY_LABELS)}
    form_choices = {"category": choices(MATTER_CATEGORY_LABELS)}
    form_columns = ("code", "name", "category", "department", "admitted", "sla_policy")
    column_filters = [
        FilterEqual(Matter.category, _l("Category"), options=choices(MATTER_CATEGORY_LABELS)),
        FilterEqual(
            Matter.admitted, _l("Admitted to the grid list"), options=[("1", _l("Yes")), ("0", _l("No"))]
        ),
    ]

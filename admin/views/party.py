"""The vanguard and service circles: party organisations, check-in units, pledges, members (teams: team.py)."""

from flask_admin.contrib.sqla.filters import FilterEqual
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from wtforms.validators import ValidationError

from admin.base import OneGridModelView, RevealMixin
from admin.contact import releases_text
from admin.fields import CommaSetField, comma_set_formatter
from admin.scoping import ScopedAjaxLoader, area_filters
from admin.validators import phone_number
from admin.views.visits import member_overdue_filter, unit_overdue_filter
from app.extensions import db
from app.models import Member, PartyOrg, Pledge, Unit, User
from app.models.choices import (
    MEMBER_DUTY_LABELS,
    PARTY_ORG_LEVEL_LABELS,
    PARTY_ORG_PARENT_LEVEL,
    PLEDGE_STATUS_LABELS,
    choices,
)
from app.models.meetings import SERVICE_ITEM_STATUS_LABELS
from app.services.duties import holds_duty
from app.services.meetings import service_items_for_unit


class DutyFilter(FilterEqual):
    """Members holding one 五大员 duty, whatever their other duties."""

    def apply(self, query, value, alias=None):
        return query.filter(holds_duty(value))

    def operation(self):
        return _l("includes")


class PartyOrgAdmin(OneGridModelView):
    column_list = ("name", "level", "parent", "area", "secretary")
    column_searchable_list = ("name",)
    column_sortable_list = ("name", "level", "area_code")
    column_choices = {"level": choices(PARTY_ORG_LEVEL_LABELS)}
    form_choices = {"level": choices(PARTY_ORG_LEVEL_LABELS)}
    form_columns = ("name", "level", "parent", "area", "secretary")

    def __init__(self, *args, **kwargs):
        self.column_filters = [
            FilterEqual(PartyOrg.level, _l("Level"), options=choices(PARTY_ORG_LEVEL_LABELS))
        ] + area_filters(PartyOrg.area_code)
        super().__init__(*args, **kwargs)

    def scaffold_form(self):
        base = super().scaffold_form()

        class PartyOrgForm(base):
            def validate_parent(form, field):
                wanted = PARTY_ORG_PARENT_LEVEL.get(form.level.data)
                if wanted is None and field.data is not None:
                    raise ValidationError(_("A street working committee has no parent organisation."))
                if wanted is not None and (field.data is None or field.data.level != wanted):
                    raise ValidationError(
                        _("Choose a parent of level: %(level)s.", level=PARTY_ORG_LEVEL_LABELS[wanted])
                    )

        return PartyOrgForm


class UnitAdmin(RevealMixin, OneGridModelView):
    """Check-in units; a unit's page lists its pledges and members."""

    masked_columns = ("contact_phone",)
    column_list = (
        "name",
        "branch_name",
        "community",
        "agreement_date",
        "contact_name",
        "contact_phone",
    )
    column_searchable_list = ("name", "branch_name")
    column_sortable_list = ("name", "community_code", "agreement_date")
    form_columns = (
        "name",
        "branch_name",
        "community",
        "agreement_date",
        "contact_name",
        "contact_phone",
        "contact_user",
    )
    form_area_levels = {"community": "community"}
    form_args = {"contact_phone": {"validators": [phone_number]}}
    details_template = "admin/unit_details.html"

    def __init__(self, *args, **kwargs):
        self.column_filters = area_filters(Unit.community_code)[:2] + [unit_overdue_filter()]
        self.form_ajax_refs = {
            "contact_user": ScopedAjaxLoader("contact_user", User, fields=["username", "name"], page_size=20)
        }
        super().__init__(*args, **kwargs)

    def details_extras(self, model):
        hours = db.session.scalar(
            select(func.coalesce(func.sum(Member.service_hours), 0)).where(Member.unit_id == model.id)
        )
        return {
            "pledges": model.pledges,
            "members": model.members,
            "total_hours": hours,
            "pledge_labels": PLEDGE_STATUS_LABELS,
            # the service items agreed for the unit at joint meetings (open ones soonest due first)
            "service_items": service_items_for_unit(model.id),
            "item_labels": SERVICE_ITEM_STATUS_LABELS,
        }


class MemberAdmin(RevealMixin, OneGridModelView):
    masked_columns = ("phone",)
    eager_paths = ("unit", "grid.parent")
    column_list = (
        "name",
        "unit",
        "grid",
        "duties",
        "checked_in_on",
        "service_hours",
        "active",
    )
    column_searchable_list = ("name",)
    column_sortable_list = ("name", "grid_code", "checked_in_on", "service_hours")
    form_columns = (
        "name",
        "phone",
        "user",
        "unit",
        "grid",
        "duties",
        "checked_in_on",
        "active",
    )
    form_area_levels = {"grid": "grid"}
    form_overrides = {"duties": CommaSetField}
    form_args = {"duties": {"choices": choices(MEMBER_DUTY_LABELS)}, "phone": {"validators": [phone_number]}}
    column_formatters = {
        "duties": comma_set_formatter(MEMBER_DUTY_LABELS),
        "released_claims": lambda _v, _c, model, _n: releases_text(model),
    }
    column_formatters_export = {"duties": comma_set_formatter(MEMBER_DUTY_LABELS)}
    # the details add how often the member gave claims back (issue 15 §3)
    column_details_list = (*form_columns, "service_hours", "released_claims")
    column_labels = {**OneGridModelView.column_labels, "released_claims": _l("Claims given back")}

    def __init__(self, *args, **kwargs):
        self.column_filters = area_filters(Member.grid_code) + [
            DutyFilter(Member.duties, _l("Duties"), options=choices(MEMBER_DUTY_LABELS)),
            member_overdue_filter(),
        ]
        self.form_ajax_refs = {
            "user": ScopedAjaxLoader("user", User, fields=["username", "name"], page_size=20),
            "unit": ScopedAjaxLoader("unit", Unit, fields=["name"], page_size=20),
        }
        super().__init__(*args, **kwargs)


class PledgeAdmin(OneGridModelView):
    column_list = ("title", "unit", "member", "period_start", "period_end", "status")
    column_searchable_list = ("title",)
    column_sortable_list = ("title", "period_start", "period_end", "status")
    column_choices = {"status": choices(PLEDGE_STATUS_LABELS)}
    form_choices = {"status": choices(PLEDGE_STATUS_LABELS)}
    form_columns = ("title", "unit", "member", "content", "period_start", "period_end", "status", "evidence")

    def __init__(self, *args, **kwargs):
        self.column_filters = area_filters(Pledge.area_code) + [
            FilterEqual(Pledge.status, _l("Status"), options=choices(PLEDGE_STATUS_LABELS))
        ]
        self.form_ajax_refs = {
            "unit": ScopedAjaxLoader("unit", Unit, fields=["name"], page_size=20),
            "member": ScopedAjaxLoader("member", Member, fields=["name"], page_size=20),
        }
        super().__init__(*args, **kwargs)

    def before_save(self, form, model, is_created):
        if (model.unit is None) == (model.member is None):
            raise ValidationError(
                _("A pledge belongs either to a check-in unit or to a member: choose exactly one.")
            )
        if model.period_start and model.period_end and model.period_end < model.period_start:
            raise ValidationError(_("The period ends before it starts."))
        model.area_code = model.owner_area_code()

"""责任田, household visits and unit activities in the back office; the overdue filters of members and units."""

from flask import flash
from flask_admin.actions import action
from flask_admin.babel import gettext as admin_gettext
from flask_admin.babel import lazy_gettext as admin_lazy_gettext
from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, FilterEqual, IntEqualFilter
from flask_admin.model.fields import AjaxSelectField
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from admin.base import AREA_STAFF, OneGridModelView
from admin.scoping import ScopedAjaxLoader, area_filters
from app.extensions import db
from app.ids import parse_ids
from app.models import Building, Household, Member, Unit
from app.models.choices import choices
from app.models.visits import (
    ACTIVITY_KIND_LABELS,
    NOTE_MAX,
    TITLE_MAX,
    HouseholdAssignment,
    HouseholdVisit,
    UnitActivity,
)
from app.services import activities, compliance, visits
from app.services.clock import district_today
from app.services.errors import DomainError, Invalid

YES = [("1", _l("Yes"))]


class OverdueFilter(BaseSQLAFilter):
    """Rows behind on 双报到 today (the district's day), as app/services/compliance.py decides."""

    def __init__(self, column, name, condition):
        super().__init__(column, name, options=YES)
        self.condition = condition  # today → SQL condition on the view's model

    def apply(self, query, value, alias=None):
        return query.filter(self.condition(district_today()))

    def operation(self):
        return admin_lazy_gettext("equals")


def member_overdue(today):
    """SQL (on Member): some household of the member's 责任田 is overdue."""
    return Member.id.in_(
        select(HouseholdAssignment.member_id).where(
            compliance.open_assignment(), compliance.overdue_condition(today)
        )
    )


def member_overdue_filter() -> OverdueFilter:
    return OverdueFilter(Member.id, _l("Overdue on household visits"), member_overdue)


def unit_overdue_filter() -> OverdueFilter:
    return OverdueFilter(Unit.id, _l("Overdue on monthly activities"), compliance.unit_overdue_condition)


class CurrentFilter(BaseSQLAFilter):
    """Assignments still in force, or ended ones."""

    def __init__(self):
        super().__init__(
            HouseholdAssignment.ended_at, _l("Current"), options=[("1", _l("Yes")), ("0", _l("No"))]
        )

    def apply(self, query, value, alias=None):
        column = self.get_column(alias)
        return query.filter(column.is_(None) if value == "1" else column.is_not(None))

    def operation(self):
        return admin_lazy_gettext("equals")


def _scoped_loader(name, model, fields):
    return ScopedAjaxLoader(name, model, fields=fields, page_size=20, placeholder=_l("Type to search…"))


class HouseholdAssignmentAdmin(OneGridModelView):
    """责任田: which member answers for which household; staff assign one household or a whole building."""

    edit_roles = AREA_STAFF
    can_edit = False
    can_delete = False
    eager_paths = ("household", "member", "grid.parent")
    column_list = ("household", "member", "grid", "starts_on", "ended_at")
    column_sortable_list = ("starts_on", "ended_at", "grid_code")
    column_labels = {
        **OneGridModelView.column_labels,
        "household": _l("Household"),
        "starts_on": _l("Assigned on"),
        "ended_at": _l("Ended at"),
    }

    def __init__(self, *args, **kwargs):
        self.column_filters = area_filters(HouseholdAssignment.grid_code) + [
            CurrentFilter(),
            OverdueFilter(
                HouseholdAssignment.id,
                _l("Overdue"),
                lambda today: compliance.open_assignment() & compliance.overdue_condition(today),
            ),
        ]
        self.form_ajax_refs = {
            "member": _scoped_loader("member", Member, ["name"]),
            "household": _scoped_loader("household", Household, ["number", "head_name"]),
            "building": _scoped_loader("building", Building, ["name"]),
        }
        super().__init__(*args, **kwargs)

    def get_create_form(self):
        refs = self._form_ajax_refs

        class AssignForm(self.form_base_class):
            member = AjaxSelectField(refs["member"], _l("Member"), validators=[InputRequired()])
            household = AjaxSelectField(
                refs["household"], _l("Household"), allow_blank=True, description=_l("One household, or:")
            )
            building = AjaxSelectField(
                refs["building"],
                _l("Building"),
                allow_blank=True,
                description=_l("Every household living in the building's rooms."),
            )

        return AssignForm

    def create_model(self, form):
        try:
            member = visits.responsible_member(
                current_user, form.member.data.id if form.member.data else None
            )
            if form.household.data is not None:
                households = [form.household.data]
            elif form.building.data is not None:
                households = visits.building_households(current_user, form.building.data.id)
            else:
                raise Invalid({"household": _("Choose a household or a building.")})
            result = visits.assign_households(current_user, member, households)
        except DomainError as error:
            db.session.rollback()
            for key, message in getattr(error, "errors", {}).items():
                form[key if key in form else "household"].errors.append(message)
            flash(admin_gettext("Failed to create record. %(error)s", error=error.message), "error")
            return False
        db.session.commit()  # the service audited it
        flash(
            _(
                "%(n)d households now in %(member)s's 责任田 (%(moved)d moved from another member).",
                n=result.total,
                member=member.name,
                moved=result.moved,
            ),
            "success",
        )
        return db.session.scalar(
            select(HouseholdAssignment)
            .where(HouseholdAssignment.member_id == member.id, HouseholdAssignment.ended_at.is_(None))
            .order_by(HouseholdAssignment.id.desc())
        )

    @action(
        "end",
        _l("End responsibility"),
        _l("Take the selected households out of their member's 责任田?"),
    )
    def action_end(self, ids):
        ended = visits.end_assignments(current_user, parse_ids(ids))
        db.session.commit()
        flash(ngettext("%(num)d assignment ended.", "%(num)d assignments ended.", ended), "success")


class HouseholdVisitAdmin(OneGridModelView):
    """Household visits members recorded (on the site or through the API); read-only here."""

    can_create = False
    can_edit = False
    can_delete = False
    eager_paths = ("household", "member", "grid.parent")
    column_list = ("visited_on", "member", "household", "grid", "note", "findings", "channel")
    column_sortable_list = ("visited_on", "grid_code")
    column_default_sort = ("visited_on", True)
    column_labels = {
        **OneGridModelView.column_labels,
        "visited_on": _l("Visited on"),
        "household": _l("Household"),
        "findings": _l("Findings"),
        "channel": _l("Recorded through"),
    }

    def __init__(self, *args, **kwargs):
        self.column_filters = area_filters(HouseholdVisit.grid_code) + [
            IntEqualFilter(HouseholdVisit.member_id, _l("Member id"))
        ]
        super().__init__(*args, **kwargs)


def _units_in_reach():
    return db.session.query(Unit).order_by(Unit.name)


class UnitActivityAdmin(OneGridModelView):
    """Activities check-in units held in their community; recorded here by staff, or by the unit's contact."""

    edit_roles = AREA_STAFF
    can_edit = False
    eager_paths = ("unit", "community")
    column_list = ("held_on", "unit", "community", "kind", "title", "participants", "channel")
    column_sortable_list = ("held_on", "kind", "community_code")
    column_default_sort = ("held_on", True)
    column_choices = {"kind": choices(ACTIVITY_KIND_LABELS)}
    column_labels = {
        **OneGridModelView.column_labels,
        "held_on": _l("Held on"),
        "kind": _l("Kind"),
        "participants": _l("Participants"),
        "channel": _l("Recorded through"),
    }

    def __init__(self, *args, **kwargs):
        self.column_filters = area_filters(UnitActivity.community_code)[:2] + [
            FilterEqual(UnitActivity.kind, _l("Kind"), options=choices(ACTIVITY_KIND_LABELS))
        ]
        super().__init__(*args, **kwargs)

    def get_create_form(self):
        class ActivityForm(self.form_base_class):
            unit = QuerySelectField(
                _l("Check-in unit"), query_factory=_units_in_reach, validators=[InputRequired()]
            )
            held_on = DateField(_l("Held on"), validators=[InputRequired()])
            kind = SelectField(
                _l("Kind"), choices=choices(ACTIVITY_KIND_LABELS), validators=[InputRequired()]
            )
            title = StringField(_l("Title"), validators=[InputRequired(), Length(max=TITLE_MAX)])
            participants = IntegerField(
                _l("Participants"),
                validators=[Optional(), NumberRange(min=0, max=activities.MAX_PARTICIPANTS)],
            )
            note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=NOTE_MAX)])

        return ActivityForm

    def create_model(self, form):
        try:
            activity = activities.record_activity(
                current_user,
                form.unit.data.id if form.unit.data else None,
                form.held_on.data,
                form.kind.data,
                form.title.data,
                participants=form.participants.data,
                note=form.note.data,
            )
        except DomainError as error:
            db.session.rollback()
            fields = {"unit_id": "unit", "community_code": "unit"}
            for key, message in getattr(error, "errors", {}).items():
                form[fields.get(key, key)].errors.append(message)
            flash(admin_gettext("Failed to create record. %(error)s", error=error.message), "error")
            return False
        db.session.commit()  # the service audited it
        return activity

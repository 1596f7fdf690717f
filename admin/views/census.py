"""People and places under a grid: compounds, buildings, rooms, households, residents, enterprises, facilities."""

from flask_admin.contrib.sqla.filters import FilterEqual, FilterLike
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from admin.base import AREA_STAFF, OneGridModelView, RevealMixin
from admin.fields import CommaSetField, comma_set_formatter
from admin.password_reset import PasswordResetMixin
from admin.scoping import ScopedAjaxLoader, area_filters
from admin.search import PrefixSearchMixin
from admin.validators import id_number, phone_number
from app.models import Area, Building, Compound, Facility, Household, Resident, Room
from app.models.choices import (
    CARE_TIER_LABELS,
    FACILITY_CATEGORY_LABELS,
    FACILITY_STATUS_LABELS,
    GENDER_LABELS,
    RESIDENCE_TYPE_LABELS,
    RESIDENT_TAG_LABELS,
    choices,
)

GRID_ONLY = {"grid": "grid"}


class CensusView(OneGridModelView):
    """Grid workers record and keep these; everyone in scope reads them."""

    edit_roles = AREA_STAFF
    form_area_levels = GRID_ONLY

    def __init__(self, model, *args, **kwargs):
        self.column_filters = area_filters(model.grid_code) + list(self.extra_filters())
        super().__init__(model, *args, **kwargs)

    def extra_filters(self):
        return []

    # The page's rows come from the table alone, its related rows by id (selectinload) in a few small
    # queries: joined into the page query, they tempt PostgreSQL into walking the primary key backwards
    # through the whole table to find one grid's 20 newest rows (≈ 100 ms instead of 1 ms).
    column_auto_select_related = False

    def get_query(self):
        # each row's grid shows with its community's name (Area.short_name)
        return (
            super()
            .get_query()
            .options(selectinload(self.model.grid).selectinload(Area.parent), *self.list_loads())
        )

    def list_loads(self) -> tuple:
        """Further many-to-one paths the list shows (a room's building and compound …), loaded with the page."""
        return ()


class CompoundAdmin(CensusView):
    column_list = ("name", "grid", "address", "property_company")
    column_searchable_list = ("name",)
    column_sortable_list = ("name", "grid_code")
    form_columns = ("name", "grid", "address", "property_company")


class BuildingAdmin(CensusView):
    column_list = ("name", "compound", "grid", "floors", "address")
    column_searchable_list = ("name",)
    column_sortable_list = ("name", "grid_code")
    form_columns = ("name", "grid", "compound", "floors", "address")

    def list_loads(self):
        return (selectinload(Building.compound),)

    def __init__(self, *args, **kwargs):
        self.form_ajax_refs = {
            "compound": ScopedAjaxLoader("compound", Compound, fields=["name"], page_size=20)
        }
        super().__init__(*args, **kwargs)


class RoomAdmin(PrefixSearchMixin, CensusView):
    column_list = ("number", "building", "grid", "floor", "area_m2", "usage")
    column_searchable_list = ("number",)
    column_sortable_list = ("number", "grid_code")
    form_columns = ("building", "number", "floor", "area_m2", "usage")

    def list_loads(self):
        return (selectinload(Room.building).selectinload(Building.compound),)

    def __init__(self, *args, **kwargs):
        self.form_ajax_refs = {
            "building": ScopedAjaxLoader("building", Building, fields=["name"], page_size=20)
        }
        super().__init__(*args, **kwargs)

    def before_save(self, form, model, is_created):
        if model.building is not None:
            model.grid_code = model.building.grid_code


class HouseholdAdmin(PrefixSearchMixin, CensusView):
    list_template = "admin/card_list.html"  # cards on a phone
    column_list = ("number", "head_name", "grid", "room", "care_tier", "is_member_household")
    column_searchable_list = ("number", "head_name")
    column_sortable_list = ("number", "head_name", "grid_code", "care_tier")
    column_choices = {"care_tier": choices(CARE_TIER_LABELS)}
    form_choices = {"care_tier": choices(CARE_TIER_LABELS)}
    form_columns = ("number", "head_name", "grid", "room", "care_tier", "is_member_household", "note")

    def list_loads(self):
        return (selectinload(Household.room).selectinload(Room.building).selectinload(Building.compound),)

    def __init__(self, *args, **kwargs):
        self.form_ajax_refs = {"room": ScopedAjaxLoader("room", Room, fields=["number"], page_size=20)}
        super().__init__(*args, **kwargs)

    def extra_filters(self):
        return [
            FilterEqual(Household.care_tier, _l("Care tier"), options=choices(CARE_TIER_LABELS)),
            FilterEqual(
                Household.is_member_household,
                _l("Member household"),
                options=[("1", _l("Yes")), ("0", _l("No"))],
            ),
        ]

    def before_save(self, form, model, is_created):
        if model.room is not None:
            model.grid_code = model.room.grid_code


class ResidentAdmin(PrefixSearchMixin, RevealMixin, PasswordResetMixin, CensusView):
    """Residents: ID number and phone masked in lists, forms and exports; reveal is audited.

    At district scale (296,166 rows) every list page is index work: the search matches names from
    their beginning, sorting by name or birth date walks an index, the grid filter is a code range.
    """

    list_template = "admin/resident_list.html"  # adds the "Import" tab
    masked_columns = ("id_number", "phone")
    column_list = ("name", "gender", "grid", "household", "id_number", "phone", "birth_date", "tags")
    column_searchable_list = ("name",)
    column_sortable_list = ("name", "grid_code", "birth_date")
    column_details_list = (
        "name",
        "gender",
        "grid",
        "household",
        "id_number",
        "phone",
        "birth_date",
        "ethnicity",
        "residence_type",
        "relation_to_head",
        "tags",
        "note",
        "created_at",
    )
    column_choices = {"gender": choices(GENDER_LABELS), "residence_type": choices(RESIDENCE_TYPE_LABELS)}
    form_choices = {"gender": choices(GENDER_LABELS), "residence_type": choices(RESIDENCE_TYPE_LABELS)}
    form_columns = (
        "name",
        "gender",
        "grid",
        "household",
        "id_number",
        "phone",
        "birth_date",
        "ethnicity",
        "residence_type",
        "relation_to_head",
        "tags",
        "note",
    )
    form_overrides = {"tags": CommaSetField}
    form_args = {
        "tags": {"choices": choices(RESIDENT_TAG_LABELS)},
        "phone": {"validators": [phone_number]},
        "id_number": {"validators": [id_number]},
    }
    column_formatters = {"tags": comma_set_formatter(RESIDENT_TAG_LABELS)}
    column_formatters_export = {"tags": comma_set_formatter(RESIDENT_TAG_LABELS)}
    details_template = "admin/resident_details.html"

    def __init__(self, *args, **kwargs):
        self.form_ajax_refs = {
            "household": ScopedAjaxLoader(
                "household", Household, fields=["number", "head_name"], page_size=20
            )
        }
        super().__init__(*args, **kwargs)

    def list_loads(self):
        return (selectinload(Resident.household),)

    def extra_filters(self):
        tag_options = choices(RESIDENT_TAG_LABELS)
        return [
            FilterEqual(Resident.gender, _l("Gender"), options=choices(GENDER_LABELS)),
            FilterEqual(Resident.residence_type, _l("Residence"), options=choices(RESIDENCE_TYPE_LABELS)),
            FilterLike(Resident.tags, _l("Tags"), options=tag_options),
        ]

    def before_save(self, form, model, is_created):
        if model.household is not None:
            model.grid_code = model.household.grid_code
        if model.id_number:
            model.id_number = model.id_number.strip().upper()


class EnterpriseAdmin(RevealMixin, CensusView):
    masked_columns = ("phone",)
    column_list = ("name", "grid", "industry", "legal_person", "phone", "employees")
    column_searchable_list = ("name", "credit_code")
    column_sortable_list = ("name", "grid_code", "industry")
    form_columns = (
        "name",
        "grid",
        "credit_code",
        "legal_person",
        "phone",
        "industry",
        "address",
        "employees",
    )
    form_args = {"phone": {"validators": [phone_number]}}
    details_template = "admin/resident_details.html"


class FacilityAdmin(CensusView):
    column_list = ("code", "name", "category", "grid", "location", "status")
    column_searchable_list = ("code", "name")
    column_sortable_list = ("code", "category", "status", "grid_code")
    column_choices = {
        "category": choices(FACILITY_CATEGORY_LABELS),
        "status": choices(FACILITY_STATUS_LABELS),
    }
    form_choices = {"category": choices(FACILITY_CATEGORY_LABELS), "status": choices(FACILITY_STATUS_LABELS)}
    form_columns = ("code", "name", "category", "grid", "location", "status")

    def extra_filters(self):
        return [
            FilterEqual(Facility.category, _l("Category"), options=choices(FACILITY_CATEGORY_LABELS)),
            FilterEqual(Facility.status, _l("Status"), options=choices(FACILITY_STATUS_LABELS)),
        ]

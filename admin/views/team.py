"""The grid teams in the back office: the people who serve (a person's page lists their grids) and their places
(a grid's page lists its team: admin/views/areas.py). Rules live in app/services/teams.py."""

from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.validators import ValidationError

from admin.base import OneGridModelView, RevealMixin
from admin.scoping import ScopedAjaxLoader, area_filters
from admin.validators import phone_number
from app.extensions import db
from app.ids import parse_id
from app.models import Area, GridRole, Member, TeamPerson, User
from app.models.choices import GRID_ROLE_LABELS, choices
from app.services.teams import (
    link_profiles,
    person_places,
    person_visible,
    place_problem,
    visible_persons_condition,
)


class PersonAjaxLoader(ScopedAjaxLoader):
    """The persons a user may give a place to: managed in or above their area, or already serving in it."""

    def get_query(self):
        query = QueryAjaxModelLoader.get_query(self)
        condition = visible_persons_condition(current_user)
        return query if condition is None else query.filter(condition)

    def get_one(self, pk):
        pk = parse_id(pk)
        person = db.session.get(TeamPerson, pk) if pk is not None else None
        return person if person is not None and person_visible(current_user, person) else None


class GridRoleAdmin(OneGridModelView):
    """Places in the grid teams: five-for-one, grid workers, building heads and red stewards."""

    column_list = ("grid", "role", "person", "duties", "since")
    column_searchable_list = ("person.name",)
    column_sortable_list = ("grid_code", "role", "since")
    column_default_sort = "grid_code"
    column_choices = {"role": choices(GRID_ROLE_LABELS)}
    form_choices = {"role": choices(GRID_ROLE_LABELS)}
    form_columns = ("grid", "role", "person", "duties", "since")
    form_area_levels = {"grid": "grid"}
    eager_paths = ("grid.parent", "person")

    def __init__(self, *args, **kwargs):
        self.column_filters = area_filters(GridRole.grid_code) + [
            FilterEqual(GridRole.role, _l("Role"), options=choices(GRID_ROLE_LABELS))
        ]
        self.form_ajax_refs = {
            "person": PersonAjaxLoader("person", TeamPerson, fields=["name", "organisation"], page_size=20)
        }
        super().__init__(*args, **kwargs)

    def before_save(self, form, model, is_created):
        problem = place_problem(model)
        if problem:
            raise ValidationError(problem)


class TeamPersonAdmin(RevealMixin, OneGridModelView):
    """The people of the grid teams, each once; their page lists the grids they serve."""

    masked_columns = ("phone",)
    column_list = ("name", "organisation", "phone", "area", "user", "member")
    column_searchable_list = ("name", "organisation")
    column_sortable_list = ("name", "organisation", "area_code")
    column_default_sort = "name"
    form_columns = ("name", "phone", "organisation", "area", "user", "member")
    form_area_levels = {"area": ("street", "community", "grid")}
    form_args = {
        "phone": {"validators": [phone_number]},
        "area": {
            "description": _l(
                "The area that manages the person: their grid, or the street or community of "
                "all the grids they serve."
            )
        },
        "user": {
            "description": _l("The account that signs for the person's places (a member's own account).")
        },
    }
    details_template = "admin/team_person_details.html"

    def __init__(self, *args, **kwargs):
        self.column_filters = area_filters(TeamPerson.area_code)
        self.form_ajax_refs = {
            "user": ScopedAjaxLoader("user", User, fields=["username", "name"], page_size=20),
            "member": ScopedAjaxLoader("member", Member, fields=["name"], page_size=20),
        }
        super().__init__(*args, **kwargs)

    def _visible(self, query):
        condition = visible_persons_condition(current_user)
        return query if condition is None else query.filter(condition)

    def get_query(self):
        return self._visible(ModelView.get_query(self))

    def get_count_query(self):
        return self._visible(ModelView.get_count_query(self))

    def find_visible(self, id):
        person = db.session.get(TeamPerson, id) if id is not None else None
        return person if person is not None and person_visible(current_user, person) else None

    def before_save(self, form, model, is_created):
        link_profiles(model)

    def details_extras(self, model):
        shown = person_places(model.id, current_user)
        grids = db.session.scalars(
            select(Area).where(Area.code.in_({p.grid_code for p in shown})).options(selectinload(Area.parent))
        )
        return {
            "places": shown,
            "grid_names": {g.code: g.short_name for g in grids},
            "elsewhere": len(model.places) - len(shown),
        }

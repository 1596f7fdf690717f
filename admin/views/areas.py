"""Areas: district, streets, communities and grids; a grid's page shows its team and counts."""

from flask_admin.contrib.sqla.filters import FilterEqual
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from wtforms.validators import ValidationError

from admin.base import OneGridModelView
from admin.scoping import area_filters
from admin.views.badges import station_extras
from admin.views.gridmap import MEASURE_LABELS, map_data
from app.extensions import db
from app.models import Area, Building, Household, Member, Resident
from app.models.choices import (
    AREA_LEVEL_LABELS,
    AreaLevel,
    choices,
)
from app.services.areas import area_code_problem
from app.services.coverage import covering_units
from app.services.grid_map import GridRow, geometry, grid_value
from app.services.teams import grid_team


def _boundary_text(area) -> str:
    if not area.geojson:
        return _("none recorded")
    if geometry(area.geojson) is None:
        return _("recorded, but not a polygon the map can draw")
    return _("drawn on the map below") if area.level == AreaLevel.GRID else _("drawn on the grid map")


class AreaAdmin(OneGridModelView):
    """Streets, communities and grids; admins add districts."""

    column_list = ("code", "name", "level", "parent", "supervision_phone")
    column_searchable_list = ("code", "name")
    column_sortable_list = ("code", "name", "level")
    column_default_sort = "code"
    column_choices = {"level": choices(AREA_LEVEL_LABELS)}
    form_choices = {"level": choices(AREA_LEVEL_LABELS)}
    form_columns = ("code", "name", "level", "parent", "supervision_phone", "geojson")
    column_details_list = ("code", "name", "level", "parent", "supervision_phone", "geojson", "created_at")
    form_args = {"code": {"description": _l("District 6 digits; street +3; community +3; grid +3.")}}
    details_template = "admin/area_details.html"

    def __init__(self, *args, **kwargs):
        self.column_filters = [
            FilterEqual(Area.level, _l("Level"), options=choices(AREA_LEVEL_LABELS))
        ] + area_filters(Area.code)
        super().__init__(*args, **kwargs)

    def scaffold_form(self):
        base = super().scaffold_form()

        class AreaForm(base):
            def validate_code(form, field):
                problem = area_code_problem(field.data or "", form.level.data, form.parent.data)
                if problem:
                    raise ValidationError(problem)

        return AreaForm

    # the boundary as a map on the grid's page (the grid map's drawing), never raw GeoJSON
    column_formatters_detail = {"geojson": lambda v, c, m, n: _boundary_text(m)}

    def details_extras(self, model):
        if model.level != AreaLevel.GRID:
            return {"children": model.children}
        shape = geometry(model.geojson)
        open_events = grid_value(model.code, "open_events")
        grid_map = (
            map_data([GridRow(model, open_events, shape)], str(MEASURE_LABELS["open_events"]), links=False)
            if shape is not None
            else None
        )

        def count(m):
            return db.session.scalar(select(func.count()).select_from(m).where(m.grid_code == model.code))

        return {
            "grid_map": grid_map,
            "team": grid_team(model.code),
            "covering": covering_units(model.code),
            "buildings": db.session.scalars(
                select(Building).where(Building.grid_code == model.code).order_by(Building.name)
            ).all(),
            **station_extras(model.code),
            "counts": {
                _("Residents"): count(Resident),
                _("Households"): count(Household),
                _("Buildings"): count(Building),
                _("Checked-in members"): count(Member),
            },
        }

"""The grid map (网格地图): the grids of the user's scope drawn from their GeoJSON, coloured by one measure.

The view also serves the back office's own static files (admin/static: the vendored ECharts, the
dashboard's and the map's scripts), under /admin/grid_map/static/.
"""

import os

from flask import request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from admin.base import AREA_STAFF, AccessMixin
from app.services.grid_map import DEFAULT_MEASURE, MEASURES, feature_collection, grid_rows

STATIC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "static")
MEASURE_LABELS = {
    "open_events": _l("Open events"),
    "overdue_events": _l("Overdue events"),
    "residents": _l("Residents"),
    "care_households": _l("Care-tier households (warm and close care)"),
    "covering_units": _l("Covering units (包抓); 0: not covered"),
}


def map_data(rows, label: str, links: bool = True) -> dict:
    """What gridmap.js draws: the grids' GeoJSON, one value per grid (`label` names it), links to their pages."""
    return {
        "geojson": feature_collection(rows),
        "measure": label,
        "series": [
            {"name": r.grid.code, "value": r.value, "label": r.grid.short_name}
            for r in rows
            if r.geometry is not None
        ],
        "links": {r.grid.code: url_for("area.details_view", id=r.grid.id) for r in rows} if links else {},
    }


class GridMapView(AccessMixin, BaseView):
    """Staff see their grids on a map and in a table, with the chosen measure per grid."""

    view_roles = AREA_STAFF

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("static_folder", STATIC)
        super().__init__(*args, **kwargs)

    @expose("/")
    def index(self):
        measure = request.args.get("measure") or DEFAULT_MEASURE
        error = None
        if measure not in MEASURES:
            error = _(
                "There is no measure “%(measure)s”; showing %(default)s instead.",
                measure=measure[:40],
                default=MEASURE_LABELS[DEFAULT_MEASURE],
            )
            measure = DEFAULT_MEASURE
        rows, as_of = grid_rows(current_user, measure)
        label = str(MEASURE_LABELS[measure])
        data = map_data(rows, label)
        return self.render(
            "admin/grid_map.html",
            rows=rows,
            measure=measure,
            measure_label=label,
            measures=[(key, str(text)) for key, text in MEASURE_LABELS.items()],
            error=error,
            as_of=as_of,
            data=data,
            missing=[r for r in rows if r.geometry is None],
        )

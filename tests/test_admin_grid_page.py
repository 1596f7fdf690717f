"""A grid's page: a small map of the grid (the grid map's drawing) instead of raw GeoJSON, no filter box."""

import json
import re

from sqlalchemy import select

from app.extensions import db
from app.models import Area

GRID_A = "610404001001001"


def test_a_grids_page_shows_its_map_not_geojson(login_as):
    grid = db.session.scalar(select(Area).where(Area.code == GRID_A))
    assert grid.geojson  # the demo draws its grids
    page = login_as("community").get(f"/admin/area/details/?id={grid.id}").get_data(as_text=True)
    table = page[page.find("<table") : page.find("</table>")]
    assert "coordinates" not in table and "Polygon" not in table
    assert "地图" in table  # the boundary row points at the map
    assert 'id="fa_filter"' not in page
    data = json.loads(
        re.search(r'<script type="application/json" id="og-map-data">(.*?)</script>', page, re.DOTALL).group(
            1
        )
    )
    assert [f["properties"]["name"] for f in data["geojson"]["features"]] == [GRID_A]
    assert data["series"][0]["name"] == GRID_A and data["links"] == {}
    assert "echarts.min.js" in page and "gridmap.js" in page


def test_a_grid_without_a_boundary_says_so(login_as):
    grid = db.session.scalar(select(Area).where(Area.code == GRID_A))
    grid.geojson = None
    db.session.commit()
    page = login_as("community").get(f"/admin/area/details/?id={grid.id}").get_data(as_text=True)
    assert 'id="og-map"' not in page and "echarts.min.js" not in page
    assert "边界" in page and "未登记" in page

"""The grid map: exactly the grids in the user's scope, each measure as SQL counts it, boundaries and access."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from app.extensions import db
from app.services.clock import district_today
from app.services.grid_map import MEASURES, geometry

pytestmark = pytest.mark.usefixtures("english")

SCOPES = {"admin": "", "street": "610404001", "community": "610404001001", "grid": "610404001001001"}


def listed(page: str) -> dict[str, int]:
    return {code: int(n) for code, n in re.findall(r'data-value="(\d+)">(\d+)<', page)}


def map_data(page: str) -> dict:
    return json.loads(
        re.search(r'<script type="application/json" id="og-map-data">(.*?)</script>', page, re.DOTALL).group(
            1
        )
    )


def grid_codes(prefix: str) -> list[str]:
    return [
        r[0]
        for r in db.session.execute(
            text("SELECT code FROM area WHERE level = 'grid' AND code LIKE :p ORDER BY code"),
            {"p": prefix + "%"},
        )
    ]


def per_grid(query: str, **params) -> dict[str, int]:
    return dict(db.session.execute(text(query + " GROUP BY grid_code"), params).all())


@pytest.mark.parametrize("username", list(SCOPES))
def test_the_map_lists_exactly_the_grids_in_scope(login_as, username):
    page = login_as(username).get("/admin/grid_map/").get_data(as_text=True)
    expected = grid_codes(SCOPES[username])
    assert list(listed(page)) == expected
    assert sorted(f["properties"]["name"] for f in map_data(page)["geojson"]["features"]) == expected


@pytest.mark.parametrize("measure", list(MEASURES))
@pytest.mark.parametrize("username", ["admin", "community"])
def test_each_measure_shows_what_sql_counts_per_grid(login_as, username, measure):
    now = datetime.now(UTC)
    # one open event well past its deadlines, so "overdue" has something to count
    db.session.execute(
        text(
            "UPDATE event SET respond_by = :past, resolve_by = :past WHERE id = "
            "(SELECT min(id) FROM event WHERE status IN ('reported', 'accepted', 'in_progress'))"
        ),
        {"past": now - timedelta(days=3)},
    )
    db.session.commit()
    open_ = "status IN ('reported', 'accepted', 'in_progress')"
    queries = {
        "open_events": f"SELECT grid_code, count(*) FROM event WHERE {open_}",
        "overdue_events": f"SELECT grid_code, count(*) FROM event WHERE {open_} AND CASE WHEN status = 'reported' "
        "THEN respond_by ELSE resolve_by END < :now",
        "residents": "SELECT grid_code, count(*) FROM resident WHERE 1 = 1",
        "care_households": "SELECT grid_code, count(*) FROM household WHERE care_tier IN ('warm', 'close')",
        "covering_units": "SELECT grid_code, count(*) FROM unit_coverage WHERE since <= :today "
        "AND (until IS NULL OR until >= :today)",
    }
    params = {"now": now, "today": district_today()} if measure == "covering_units" else {"now": now}
    expected = per_grid(queries[measure], **params)
    response = login_as(username).get(f"/admin/grid_map/?measure={measure}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    shown = listed(page)
    assert shown == {code: expected.get(code, 0) for code in grid_codes(SCOPES[username])}
    assert sum(shown.values()) > 0, measure
    assert f'data-measure="{measure}"' in page
    values = {v["name"]: v["value"] for v in map_data(page)["series"]}
    assert values == shown


@pytest.mark.parametrize("measure", ["nope", "residents;drop", "<script>"])
def test_an_unknown_measure_falls_back_to_open_events_with_a_message(login_as, measure):
    response = login_as("community").get("/admin/grid_map/", query_string={"measure": measure})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "data-measure-error" in page and "There is no measure" in page
    assert 'data-measure="open_events"' in page
    assert "<script>”" not in page  # the echoed value is escaped


def test_grids_without_a_readable_boundary_are_listed_and_noted(login_as):
    db.session.execute(text("UPDATE area SET geojson = NULL WHERE code = '610404001001002'"))
    db.session.execute(text("UPDATE area SET geojson = 'not json' WHERE code = '610404001001003'"))
    db.session.commit()
    page = login_as("community").get("/admin/grid_map/").get_data(as_text=True)
    assert list(listed(page)) == grid_codes("610404001001")
    drawn = [f["properties"]["name"] for f in map_data(page)["geojson"]["features"]]
    assert drawn == ["610404001001001"]
    assert 'data-missing="2"' in page and "2 grids have no boundary recorded" in page


def test_a_grid_without_any_boundary_in_scope_gets_the_table_only(login_as):
    db.session.execute(text("UPDATE area SET geojson = NULL WHERE code = '610404001001001'"))
    db.session.commit()
    page = login_as("grid").get("/admin/grid_map/").get_data(as_text=True)
    assert list(listed(page)) == ["610404001001001"]
    assert 'id="og-map"' not in page and "echarts.min.js" not in page


def test_each_grid_links_to_its_page(login_as):
    client = login_as("street")
    page = client.get("/admin/grid_map/").get_data(as_text=True)
    links = map_data(page)["links"]
    grid_id = db.session.execute(text("SELECT id FROM area WHERE code = '610404001002001'")).scalar()
    assert links["610404001002001"] == f"/admin/area/details/?id={grid_id}"
    assert f'href="/admin/area/details/?id={grid_id}"' in page
    assert client.get(links["610404001002001"]).status_code == 200


def test_anonymous_visitors_go_to_the_login_page(client, demo):
    response = client.get("/admin/grid_map/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("username", ["resident", "member", "dept"])
def test_people_without_an_area_to_govern_get_403(login_as, username):
    assert login_as(username).get("/admin/grid_map/").status_code == 403


@pytest.mark.parametrize(
    "stored, kind",
    [
        ('{"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,0]]]}', "Polygon"),
        (
            (
                '{"type": "Feature", "properties": {}, "geometry": {"type": "MultiPolygon", '
                '"coordinates": [[[[0,0],[1,0],[1,1],[0,0]]]]}}'
            ),
            "MultiPolygon",
        ),
        (
            (
                '{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Polygon", '
                '"coordinates": [[[0,0],[1,0],[1,1],[0,0]]]}}]}'
            ),
            "MultiPolygon",
        ),
    ],
)
def test_boundaries_are_read_from_a_geometry_a_feature_or_a_collection(stored, kind):
    assert geometry(stored)["type"] == kind


@pytest.mark.parametrize(
    "stored",
    [
        None,
        "",
        "not json",
        "[1, 2]",
        '{"type": "Point", "coordinates": [1, 2]}',
        '{"type": "Polygon", "coordinates": []}',
        '{"type": "FeatureCollection"}',
    ],
)
def test_unreadable_boundaries_are_none(stored):
    assert geometry(stored) is None

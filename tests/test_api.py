"""The JSON API: JSON errors, the OpenAPI document, scoped reference data and stats.

Tokens are tested in tests/test_api_tokens.py, with the fixture and helpers defined here.
"""

import pytest
from sqlalchemy import func, select

from app import create_app
from app.config import TestConfig
from app.extensions import db
from app.models import Area, Department, Matter, Resident
from app.models.choices import EventStatus
from app.models.events import Event
from app.services.demo import DEMO_PASSWORDS
from app.services.stats import COUNTED
from app.services.users import create_user

STREET = "610404001"
COMMUNITY = "610404001001"
GRID = "610404001001001"


@pytest.fixture(scope="module")
def strict_app():
    """A second app: CSRF on, and HTML error pages that, unlike the marketplace's, ignore the API."""
    strict_app = create_app(TestConfig)
    strict_app.config["WTF_CSRF_ENABLED"] = True  # read per request by Flask-WTF
    for code in (401, 404, 405):
        strict_app.register_error_handler(code, lambda error: (f"<h1>{error.code}</h1>", error.code))
    return strict_app


def get_token(client, username: str, password: str | None = None) -> str:
    password = DEMO_PASSWORDS[username][0] if password is None else password
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["token"]


def get_as(client, username: str, url: str, password: str | None = None):
    return client.get(url, headers={"Authorization": f"Bearer {get_token(client, username, password)}"})


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status
    assert response.is_json
    error = response.get_json()["error"]
    assert error["message"]
    if code is not None:
        assert error["code"] == code
    return error


def codes(response) -> list[str]:
    return [item["code"] for item in response.get_json()["items"]]


# errors and the document


def test_unknown_api_url_is_a_json_404_while_other_pages_stay_html(client):
    api = client.get("/api/v1/nope")
    site = client.get("/no-such-page")

    assert_error(api, 404, "not_found")
    assert site.status_code == 404
    assert site.mimetype == "text/html"


def test_wrong_method_on_an_api_url_is_a_json_405(client):
    response = client.get("/api/v1/auth/token")

    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


def test_openapi_document_lists_every_endpoint_and_the_bearer_scheme(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.")
    assert {
        "/api/v1/auth/token",
        "/api/v1/areas",
        "/api/v1/departments",
        "/api/v1/matters",
        "/api/v1/stats",
    } <= set(document["paths"])
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert document["paths"]["/api/v1/stats"]["get"]["security"] == [{"bearerAuth": []}]
    assert document["paths"]["/api/v1/auth/token"]["post"]["security"] == []
    assert "AreaPage" in document["components"]["schemas"]


def test_api_errors_stay_json_even_beside_html_error_pages_for_the_same_codes(strict_app):
    client = strict_app.test_client()

    assert_error(client.get("/api/v1/nope"), 404, "not_found")
    assert_error(client.delete("/api/v1/areas"), 405, "method_not_allowed")
    assert_error(client.get("/api/v1/areas"), 401, "missing_token")
    assert client.get("/nope").data == b"<h1>404</h1>"


def test_each_app_builds_its_own_openapi_document(app, strict_app):
    documents = [a.test_client().get("/api/v1/openapi.json").get_json() for a in (app, strict_app)]

    assert documents[0] == documents[1]
    specs = [a.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec for a in (app, strict_app)]
    assert specs[0] is not specs[1]


# areas


def test_grid_worker_sees_only_their_own_grid(client, demo):
    response = get_as(client, "grid", "/api/v1/areas")

    assert response.status_code == 200
    assert response.get_json()["items"] == [
        {
            "code": GRID,
            "name": db.session.scalar(select(Area.name).where(Area.code == GRID)),
            "level": "grid",
            "parent_code": COMMUNITY,
        }
    ]


def test_street_admin_lists_only_their_streets_communities(client, demo):
    response = get_as(client, "street", "/api/v1/areas?level=community")

    expected = db.session.scalars(
        select(Area.code).where(Area.level == "community", Area.code.startswith(STREET)).order_by(Area.code)
    ).all()
    assert codes(response) == expected
    all_communities = db.session.scalar(select(func.count()).where(Area.level == "community"))
    assert 0 < len(expected) < all_communities


def test_admin_lists_the_grids_under_one_community(client, demo):
    response = get_as(client, "admin", f"/api/v1/areas?level=grid&parent={COMMUNITY}")

    assert (
        codes(response)
        == db.session.scalars(
            select(Area.code).where(Area.level == "grid", Area.code.startswith(COMMUNITY)).order_by(Area.code)
        ).all()
    )
    assert {item["parent_code"] for item in response.get_json()["items"]} == {COMMUNITY}


def test_resident_may_read_areas_of_their_grid(client, demo):
    response = get_as(client, "resident", "/api/v1/areas?level=grid")

    assert codes(response) == [GRID]


def test_unknown_area_level_is_a_json_422(client, demo):
    response = get_as(client, "admin", "/api/v1/areas?level=province")

    error = assert_error(response, 422, "validation_error")
    assert "level" in error["fields"]


def test_malformed_parent_code_is_a_json_422(client, demo):
    response = get_as(client, "admin", "/api/v1/areas?parent=61%00")

    error = assert_error(response, 422, "validation_error")
    assert "parent" in error["fields"]


# departments and matters


def test_departments_list_codes_and_names(client, demo):
    response = get_as(client, "resident", "/api/v1/departments")

    assert response.status_code == 200
    items = response.get_json()["items"]
    assert len(items) == db.session.scalar(select(func.count()).select_from(Department))
    assert {"code": "HW", "name": "区城市管理和综合执法局"} in items


def test_matters_list_their_department_code_and_admission(client, demo):
    response = get_as(client, "member", "/api/v1/matters")

    assert response.status_code == 200
    by_code = {item["code"]: item for item in response.get_json()["items"]}
    assert len(by_code) == db.session.scalar(select(func.count()).select_from(Matter))
    assert by_code["HJ-001"] == {
        "code": "HJ-001",
        "name": "噪声扰民",
        "category": "environment",
        "department": "HB",
        "admitted": True,
    }
    assert by_code["MZ-002"]["admitted"] is False


def test_matters_filter_by_admission(client, demo):
    response = get_as(client, "admin", "/api/v1/matters?admitted=false")

    assert codes(response) == ["MZ-002"]


def test_a_list_says_whether_another_page_follows(client, demo):
    token = get_token(client, "admin")
    headers = {"Authorization": f"Bearer {token}"}
    total = db.session.scalar(select(func.count()).select_from(Matter))

    first = client.get("/api/v1/matters?per_page=5", headers=headers).get_json()
    last_page = (total + 4) // 5
    last = client.get(f"/api/v1/matters?per_page=5&page={last_page}", headers=headers).get_json()
    beyond = client.get(f"/api/v1/matters?per_page=5&page={last_page + 1}", headers=headers).get_json()

    assert (first["page"], first["per_page"], first["has_next"], len(first["items"])) == (1, 5, True, 5)
    assert last["has_next"] is False and len(last["items"]) == total - 5 * (last_page - 1)
    assert beyond["items"] == [] and beyond["has_next"] is False


@pytest.mark.parametrize(
    "query", ["per_page=101", "per_page=0", "page=0", "page=abc", "page=99999999999999999999"]
)
def test_out_of_range_paging_is_a_json_422(client, demo, query):
    response = get_as(client, "admin", f"/api/v1/matters?{query}")

    assert_error(response, 422, "validation_error")


# stats


def stats_of(client, username: str, password: str | None = None) -> dict:
    response = get_as(client, username, "/api/v1/stats", password)
    assert response.status_code == 200
    return response.get_json()


def test_grid_workers_resident_count_is_their_grids(client, demo):
    stats = stats_of(client, "grid")

    in_grid = db.session.scalar(select(func.count()).select_from(Resident).where(Resident.grid_code == GRID))
    assert stats["residents"] == in_grid > 0
    assert stats["grids"] == 1
    in_grid_events = dict(
        db.session.execute(
            select(Event.status, func.count()).where(Event.grid_code == GRID).group_by(Event.status)
        ).all()
    )
    assert {k: v for k, v in stats["events"].items() if v} == in_grid_events
    assert set(stats["events"]) == {s.value for s in EventStatus}


def test_admins_resident_count_is_everyone(client, demo):
    stats = stats_of(client, "admin")

    everyone = db.session.scalar(select(func.count()).select_from(Resident))
    assert stats["residents"] == everyone > stats_of(client, "street")["residents"]


def test_a_streets_counts_are_the_sum_of_its_communities(client, demo):
    communities = db.session.scalars(
        select(Area.code).where(Area.level == "community", Area.code.startswith(STREET)).order_by(Area.code)
    ).all()
    for code in communities:
        create_user(f"staff-{code}", "community_admin", "community-password", area_code=code)
    db.session.commit()

    street = stats_of(client, "street")
    per_community = [stats_of(client, f"staff-{code}", "community-password") for code in communities]

    assert len(per_community) >= 2
    assert street["residents"] > 0
    for key in (*COUNTED, "grids"):
        assert street[key] == sum(stats[key] for stats in per_community), key


def test_resident_is_refused_stats_with_a_json_403(client, demo):
    response = get_as(client, "resident", "/api/v1/stats")

    assert_error(response, 403, "forbidden")


def test_member_is_refused_stats_with_a_json_403(client, demo):
    response = get_as(client, "member", "/api/v1/stats")

    assert_error(response, 403, "forbidden")

"""Bodies no database or parser can take (lone surrogates, deep nesting, huge numbers, too many bytes) and the document."""

import io

import pytest
from flask import request, url_for
from sqlalchemy import func, select
from test_api_wishes import Caller
from werkzeug.exceptions import BadRequest

from app.extensions import db
from app.models import Event, Wish, WishCategory, WishStep

pytestmark = pytest.mark.usefixtures("english")

SURROGATE = "\ud800"  # a lone UTF-16 surrogate: valid in JSON text, not encodable as UTF-8
MB = 1024 * 1024

# (user, path, the body's other fields, the field given the surrogate): every kind of text the wish and event
# endpoints take; ids need not exist, since a body is checked before the record is looked up
TEXT_FIELDS = [
    ("resident", "/api/v1/wishes", {"title": "修水龙头", "category": "repair"}, "title"),
    ("resident", "/api/v1/wishes", {"title": "修水龙头", "category": "repair"}, "description"),
    ("resident", "/api/v1/wishes", {"title": "修水龙头"}, "category"),
    ("grid", "/api/v1/wishes/1/reject", {}, "reason"),
    ("member", "/api/v1/wishes/1/complete", {"hours": 1}, "note"),
    ("resident", "/api/v1/wishes/1/confirm", {"rating": "good"}, "comment"),
    ("grid", "/api/v1/events", {"title": "楼道堆物", "matter": "HW-001"}, "title"),
    ("grid", "/api/v1/events", {"title": "楼道堆物"}, "matter"),
    ("grid", "/api/v1/events", {"title": "楼道堆物", "matter": "HW-001"}, "location_text"),
    ("grid", "/api/v1/events", {"title": "楼道堆物", "matter": "HW-001"}, "acting_for"),
    ("grid", "/api/v1/events/1/resolve", {}, "note"),
    ("grid", "/api/v1/events/1/dispatch", {}, "departments"),
]


def raw_post(
    client, path: str, body: bytes | str, headers: dict | None = None, content_type="application/json"
):
    return client.post(path, data=body, content_type=content_type, headers=headers or {})


def rows_written() -> tuple:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model)) for model in (Wish, WishStep, Event)
    )


def assert_refused_field(response, field: str) -> None:
    assert response.status_code == 422, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["fields"]


def test_lone_surrogate_in_a_token_request_is_a_422_naming_the_field(client, demo):
    response = raw_post(client, "/api/v1/auth/token", '{"username": "\\ud800", "password": "x"}')
    assert_refused_field(response, "username")


@pytest.mark.parametrize(("username", "path", "body", "field"), TEXT_FIELDS)
def test_lone_surrogate_in_any_wish_or_event_text_is_a_422_naming_the_field(
    client, demo, username, path, body, field
):
    caller = Caller(client, username)
    before = rows_written()
    value = [SURROGATE] if field == "departments" else f"问题{SURROGATE}"
    response = caller.post(path, json={**body, field: value})
    assert_refused_field(response, field)
    assert rows_written() == before


def test_nul_in_a_field_the_schema_leaves_untyped_is_a_422_too(client, demo):
    response = client.post("/api/v1/auth/token", json={"username": "admin\x00", "password": "x"})
    assert_refused_field(response, "username")


def test_a_valid_surrogate_pair_is_just_an_emoji(client, demo):
    caller = Caller(client, "resident")
    response = caller.post("/api/v1/wishes", json={"title": "修水龙头 \ud83d\ude00", "category": "repair"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["title"] == "修水龙头 😀"


@pytest.mark.parametrize("depth", [990, 100_000])
def test_deeply_nested_json_is_a_json_400(client, demo, depth):
    response = raw_post(client, "/api/v1/auth/token", "[" * depth + "]" * depth)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


def test_deeply_nested_value_of_a_field_is_refused_without_a_crash(client, demo):
    caller = Caller(client, "resident")
    nested = '{"title": ' + "[" * 900 + '"\\ud800"' + "]" * 900 + ', "category": "repair"}'
    response = caller.client.post(
        "/api/v1/wishes", data=nested, content_type="application/json", headers=caller.headers
    )
    assert response.status_code in (400, 422)


def test_integer_longer_than_python_parses_is_a_json_400(client, demo):
    caller = Caller(client, "member")
    response = raw_post(
        client,
        "/api/v1/wishes/1/complete",
        '{"note": "done", "hours": ' + "9" * 5000 + "}",
        headers=caller.headers,
    )
    assert response.status_code == 400
    assert response.is_json


def test_thirty_megabyte_body_to_the_api_is_a_json_413(client, demo):
    body = '{"username": "' + "a" * (30 * MB) + '", "password": "x"}'
    response = raw_post(client, "/api/v1/auth/token", body)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "request_entity_too_large"


def test_api_body_just_over_the_api_cap_is_a_json_413_though_a_page_may_take_it(app, client, demo):
    size = app.config["API_MAX_CONTENT_LENGTH"] + 1
    assert size < app.config["MAX_CONTENT_LENGTH"]
    response = raw_post(client, "/api/v1/auth/token", b"{" + b" " * (size - 2) + b"}")
    assert response.status_code == 413
    assert response.is_json
    page = client.post("/login", data={"username": "x" * size, "password": "x"})
    assert page.status_code == 200  # the form is read, and answered with its own message


def test_api_cap_is_a_setting(app, client, demo, monkeypatch):
    monkeypatch.setitem(app.config, "API_MAX_CONTENT_LENGTH", 100)
    response = client.post("/api/v1/auth/token", json={"username": "admin", "password": "x" * 100})
    assert response.status_code == 413
    monkeypatch.setitem(app.config, "API_MAX_CONTENT_LENGTH", 10 * MB)
    response = client.post("/api/v1/auth/token", json={"username": "admin", "password": "x" * 100})
    assert response.status_code == 401


def test_site_form_over_the_global_cap_is_a_413_page(app, client, demo):
    size = app.config["MAX_CONTENT_LENGTH"] + 1
    response = client.post("/login", data={"username": "x" * size, "password": "x"})
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    assert "Too much sent" in response.get_data(as_text=True)


def test_global_cap_leaves_room_for_the_largest_import_file(app, client, demo, login_as):
    cap = app.config["MAX_CONTENT_LENGTH"]
    assert cap > app.config["IMPORT_MAX_BYTES"]
    with app.test_request_context():
        import_url = url_for("resident_import.index")
    largest_file = io.BytesIO(b"x" * app.config["IMPORT_MAX_BYTES"])
    upload = login_as("admin").post(import_url, data={"file": (largest_file, "residents.csv")})
    assert upload.status_code == 200  # the import's own answer, not the cap's


def test_complete_request_hours_bounds_are_numbers_in_the_document(client):
    document = client.get("/api/v1/openapi.json").get_json()
    body = document["paths"]["/api/v1/wishes/{wish_id}/complete"]["post"]["requestBody"]
    name = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    hours = document["components"]["schemas"][name]["properties"]["hours"]
    assert (hours["minimum"], hours["maximum"]) == (0.5, 24)


def test_unknown_serial_answers_a_404_its_documented_schema_admits(client, demo):
    document = client.get("/api/v1/openapi.json").get_json()
    response = client.get("/api/v1/certificates/00/verify")
    assert response.status_code == 404
    declared = document["paths"]["/api/v1/certificates/{serial}/verify"]["get"]["responses"]["404"]
    declared = document["components"]["responses"].get(declared.get("$ref", "").rsplit("/", 1)[-1], declared)
    schema_ref = declared["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][schema_ref.rsplit("/", 1)[-1]]
    body = response.get_json()
    assert set(body) <= set(schema["properties"])
    assert set(schema["required"]) <= set(body)
    assert body["status"] == "unknown"


@pytest.mark.parametrize("body", ["[" * 990 + "]" * 990, '{"a": "\\ud800"}', '{"a": "\\u0000"}'])
def test_json_too_deep_or_unstorable_is_a_bad_request_wherever_a_page_reads_it(app, body):
    with app.test_request_context("/anywhere", method="POST", data=body, content_type="application/json"):
        with pytest.raises(BadRequest):
            request.get_json()
        assert request.get_json(silent=True) is None


def test_deeply_nested_json_to_a_site_form_leaves_it_empty(client, demo):
    response = raw_post(client, "/login", "[" * 990 + "]" * 990)
    assert response.status_code == 200  # the form again, with what is missing


def test_json_with_objects_for_names_leaves_a_site_form_empty(client, demo):
    response = client.post("/register", json={"username": {"a": 1}, "password": ["x"], "name": {}})
    assert response.status_code == 200  # the form again, with what is missing


def test_nul_in_a_back_office_form_field_is_a_400_and_stores_nothing(client, demo, login_as):
    before = db.session.scalar(select(func.count()).select_from(WishCategory))
    response = login_as("admin").post("/admin/wishcategory/new/", data={"code": "nul", "name": "开锁\x00"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(WishCategory)) == before

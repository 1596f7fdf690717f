"""Ids and page numbers from outside: huge, negative or non-ASCII numbers name nothing (404), never a 500."""

import pytest

from app.ids import MAX_ID, parse_id, parse_page

HUGE = "9" * 23


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("1", 1),
        (" 42 ", 42),
        (7, 7),
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),
        (HUGE, None),
        (2**70, None),
        ("0", None),
        ("-3", None),
        ("²", None),
        ("١٢", None),
        ("1e3", None),
        ("", None),
        (None, None),
        (True, None),
        (3.0, None),
    ],
)
def test_only_a_plain_number_in_the_id_range_is_an_id(raw, expected):
    assert parse_id(raw) == expected


def test_a_missing_or_nonsense_page_is_the_first_and_one_past_either_end_is_none():
    assert [parse_page(v) for v in (None, "", "x", "²", "3", HUGE, "0", "-1")] == [
        1,
        1,
        1,
        1,
        3,
        None,
        None,
        None,
    ]


@pytest.mark.parametrize(
    "url",
    [
        f"/?page={HUGE}",
        "/?page=-1",
        f"/wishes/{HUGE}",
        f"/wishes/{MAX_ID + 1}",
    ],
)
def test_the_board_answers_not_found_for_numbers_past_any_row(client, demo, url):
    assert client.get(url).status_code == 404


def test_my_reports_answer_not_found_for_a_huge_page(login_as):
    assert login_as("resident").get(f"/my/events?page={HUGE}").status_code == 404
    assert login_as("resident").get(f"/events/{HUGE}").status_code == 404


@pytest.mark.parametrize("url", [f"/api/v1/wishes/{HUGE}", f"/api/v1/events/{HUGE}"])
def test_the_api_answers_a_json_not_found_for_a_huge_id(client, demo, url):
    token = client.post(
        "/api/v1/auth/token", json={"username": "grid", "password": _password("grid")}
    ).get_json()
    response = client.get(url, headers={"Authorization": f"Bearer {token['token']}"})
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
    posted = client.post(url + "/claim", headers={"Authorization": f"Bearer {token['token']}"})
    assert posted.status_code == 404 and posted.is_json


def test_the_openapi_document_bounds_path_ids(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    wish_id = next(p for p in paths["/api/v1/wishes/{wish_id}"]["parameters"] if p["name"] == "wish_id")
    assert wish_id["schema"]["type"] == "integer" and wish_id["schema"]["maximum"] == MAX_ID


def _password(username: str) -> str:
    from app.services.demo import DEMO_PASSWORDS

    return DEMO_PASSWORDS[username][0]

"""Micro-wishes through the JSON API, bad input: a clear 422 naming the field (or a 404), nothing written."""

import pytest
from sqlalchemy import func, select
from test_api_wishes import (
    ACTOR_OF,
    CLAIMED,
    DONE,
    PUBLISHED,
    SUBMITTED,
    Caller,
    assert_error,
    fresh_wish,
    step_count,
    wish_id,
)

from app.extensions import db
from app.models import Wish

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def as_user(client, demo):
    return lambda username, password=None: Caller(client, username, password)


# --- bad input: a clear 422, nothing written -------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "", "category": "life"}, "title"),
        ({"title": "   ", "category": "life"}, "title"),
        ({"title": "x" * 101, "category": "life"}, "title"),
        ({"title": "修门", "category": "life", "description": "很长" * 5000}, "description"),
        ({"title": "修门", "category": "astrology"}, "category"),
        ({"title": "修门"}, "category"),
        ({"title": "修门", "category": "life", "grid_code": "610404001001"}, "grid_code"),
        ({"title": "修门", "category": "life", "grid_code": "abc"}, "grid_code"),
        ({"title": "修门", "category": "life", "colour": "red"}, "colour"),
    ],
    ids=[
        "empty-title",
        "blank-title",
        "long-title",
        "10000-char-description",
        "unknown-category",
        "no-category",
        "community-not-grid",
        "malformed-grid",
        "unknown-field",
    ],
)
def test_posting_bad_values_is_a_422_naming_the_field_and_writes_nothing(as_user, body, field):
    before = db.session.scalar(select(func.count()).select_from(Wish))

    response = as_user("resident").post("/api/v1/wishes", json=body)

    error = assert_error(response, 422, "validation_error")
    assert field in error["fields"]
    assert db.session.scalar(select(func.count()).select_from(Wish)) == before


@pytest.mark.parametrize("hours", [0, 25, "abc", 1.25, None, True])
def test_completing_with_bad_hours_is_a_422_and_the_wish_stays_claimed(as_user, hours):
    steps = step_count()

    response = as_user("member").act(wish_id(CLAIMED), "complete", note="做完了", hours=hours)

    assert "hours" in assert_error(response, 422, "validation_error")["fields"]
    assert fresh_wish(wish_id(CLAIMED)).status == "claimed"
    assert step_count() == steps


@pytest.mark.parametrize(
    ("title", "action", "body", "field"),
    [
        (SUBMITTED, "reject", {}, "reason"),
        (SUBMITTED, "reject", {"reason": "   "}, "reason"),
        (DONE, "dispute", {"reason": ""}, "reason"),
        (CLAIMED, "complete", {"hours": 1}, "note"),
        (DONE, "confirm", {"rating": "excellent"}, "rating"),
        (DONE, "confirm", {}, "rating"),
        (PUBLISHED, "cancel", {"note": "x" * 1001}, "note"),
    ],
)
def test_a_transition_with_missing_or_bad_values_is_a_422_and_changes_nothing(
    as_user, title, action, body, field
):
    before = fresh_wish(wish_id(title)).status
    steps = step_count()

    response = as_user(ACTOR_OF[action]).post(f"/api/v1/wishes/{wish_id(title)}/{action}", json=body)

    assert field in assert_error(response, 422, "validation_error")["fields"]
    assert fresh_wish(wish_id(title)).status == before
    assert step_count() == steps


def test_html_in_a_title_is_stored_and_returned_as_plain_text(as_user):
    title = '<script>alert("x")</script><b>帮忙</b>'

    posted = as_user("resident").post("/api/v1/wishes", json={"title": title, "category": "life"})

    assert posted.status_code == 201
    assert posted.get_json()["title"] == title
    assert as_user("grid").get(f"/api/v1/wishes/{posted.get_json()['id']}").get_json()["title"] == title
    assert fresh_wish(posted.get_json()["id"]).title == title


def test_unknown_wish_is_a_json_404(as_user):
    assert_error(as_user("admin").get("/api/v1/wishes/999999"), 404, "not_found")
    assert_error(as_user("admin").act(999999, "publish"), 404, "not_found")


def test_out_of_range_ids_are_refused_cleanly(as_user):
    huge = 10**20

    assert_error(as_user("admin").get(f"/api/v1/wishes/{huge}"), 404, "not_found")
    posted = as_user("grid").post(
        "/api/v1/wishes", json={"title": "代发", "category": "life", "resident_id": huge}
    )
    assert "resident_id" in assert_error(posted, 422, "validation_error")["fields"]


def test_a_nul_character_is_a_422_not_a_database_error(as_user):
    posted = as_user("resident").post("/api/v1/wishes", json={"title": "修\x00门", "category": "life"})
    listed = as_user("resident").get("/api/v1/wishes?category=li%00fe")

    assert "title" in assert_error(posted, 422, "validation_error")["fields"]
    assert "category" in assert_error(listed, 422, "validation_error")["fields"]

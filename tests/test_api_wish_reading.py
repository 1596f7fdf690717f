"""Micro-wishes through the JSON API, reading: the list, its scope and filters, one wish, categories, stats, the document."""

import pytest
from sqlalchemy import event, func, select
from test_api_wishes import (
    ACTOR_OF,
    ASSISTED,
    CLAIMED,
    CONFIRMED,
    DONE,
    GRID,
    GRID2,
    PUBLISHED,
    SUBMITTED,
    Caller,
    assert_error,
    make_member,
    published_wish,
    wish_id,
)

from app.extensions import db
from app.models import Wish, WishCategory

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def as_user(client, demo):
    return lambda username, password=None: Caller(client, username, password)


# --- reading: the list, its scope and filters, one wish --------------------------------------------


def titles(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [item["title"] for item in response.get_json()["items"]]


def test_anonymous_caller_is_refused_the_list_with_a_401(client, demo):
    assert_error(client.get("/api/v1/wishes"), 401, "missing_token")
    assert_error(client.post(f"/api/v1/wishes/{wish_id(PUBLISHED)}/claim"), 401, "missing_token")


def test_grid_worker_sees_their_grids_wishes_including_submitted_but_not_another_grids(as_user):
    listed = as_user("grid").get("/api/v1/wishes?per_page=100").get_json()["items"]

    assert {item["grid_code"] for item in listed} == {GRID}
    assert SUBMITTED in [item["title"] for item in listed]
    assert ASSISTED not in [item["title"] for item in listed]
    assert titles(as_user("grid2").get("/api/v1/wishes?status=submitted")) == []


def test_member_sees_the_board_but_not_wishes_awaiting_review(as_user):
    listed = titles(as_user("member").get("/api/v1/wishes?per_page=100"))

    assert {PUBLISHED, CLAIMED, DONE, CONFIRMED, ASSISTED} <= set(listed)
    assert SUBMITTED not in listed
    assert_error(as_user("member").get(f"/api/v1/wishes/{wish_id(SUBMITTED)}"), 404, "not_found")


def test_list_is_newest_first_and_filters_by_status_area_category_and_mine(as_user):
    newest = published_wish("最新的心愿")
    resident, member = as_user("resident"), as_user("member")

    assert resident.get("/api/v1/wishes").get_json()["items"][0]["id"] == newest
    assert set(titles(resident.get("/api/v1/wishes?status=published"))) == {
        "最新的心愿",
        PUBLISHED,
        "咨询租房合同纠纷",
        ASSISTED,
    }
    assert titles(resident.get(f"/api/v1/wishes?area={GRID2}")) == [ASSISTED]
    assert titles(resident.get("/api/v1/wishes?category=health")) == [PUBLISHED]
    assert ASSISTED not in titles(resident.get("/api/v1/wishes?mine=true"))
    assert SUBMITTED in titles(resident.get("/api/v1/wishes?mine=true"))
    assert set(titles(member.get("/api/v1/wishes?mine=true"))) == {CLAIMED, DONE, CONFIRMED}


@pytest.mark.parametrize("query", ["status=lost", "area=6104", "mine=perhaps", "per_page=101"])
def test_bad_list_filters_are_a_422(as_user, query):
    assert_error(as_user("resident").get(f"/api/v1/wishes?{query}"), 422, "validation_error")


def test_one_wish_shows_the_spec_shape_with_deadlines_and_the_callers_actions(as_user):
    body = as_user("resident").get(f"/api/v1/wishes/{wish_id(DONE)}").get_json()

    assert {
        "id",
        "title",
        "description",
        "category",
        "category_name",
        "grid_code",
        "status",
        "owner",
        "claimed_by",
        "hours",
        "rating",
        "created_at",
        "deadlines",
        "overdue",
        "actions",
        "history",
    } <= set(body)
    repair = db.session.scalar(select(WishCategory.name).where(WishCategory.code == "repair"))
    assert (body["category"], body["category_name"], body["hours"]) == ("repair", repair, 1.5)
    assert set(body["deadlines"]) == {"respond", "reply", "resolve"}
    assert body["created_at"].endswith("+00:00")
    assert body["actions"] == ["confirm", "dispute"]
    assert body["overdue"] is False


def test_history_notes_are_hidden_from_members_not_involved(as_user):
    make_member("bystander", GRID2)

    owner_view = as_user("resident").get(f"/api/v1/wishes/{wish_id(CONFIRMED)}").get_json()
    bystander_view = (
        as_user("bystander", "member-password").get(f"/api/v1/wishes/{wish_id(CONFIRMED)}").get_json()
    )

    assert "已按约定完成。" in [step["note"] for step in owner_view["history"]]
    assert {step["note"] for step in bystander_view["history"]} == {None}
    assert bystander_view["actions"] == []


def test_the_list_costs_the_same_queries_however_many_wishes_it_shows(app, as_user):
    grid = as_user("grid")

    def queries_for(url: str) -> int:
        statements = []
        listener = lambda *args: statements.append(args[2])
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert grid.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    few = queries_for("/api/v1/wishes")  # the demo grid's six wishes, claimed ones among them
    for n in range(20):
        published_wish(f"批量{n}")
    many = queries_for("/api/v1/wishes")

    assert many == few


# --- categories, stats, the document -----------------------------------------------------------------


def test_categories_list_the_active_ones_in_order(as_user):
    db.session.execute(
        WishCategory.__table__.update().where(WishCategory.code == "legal").values(active=False)
    )
    db.session.commit()

    response = as_user("member").get("/api/v1/categories")

    assert response.status_code == 200
    body = response.get_json()
    assert [c["code"] for c in body["items"]] == ["life", "elderly", "repair", "education", "health", "other"]
    assert body["items"][0] == {
        "code": "life",
        "name": db.session.scalar(select(WishCategory.name).where(WishCategory.code == "life")),
    }
    assert body["has_next"] is False


def test_stats_count_the_wishes_in_the_callers_scope_by_status(as_user):
    grid_stats = as_user("grid").get("/api/v1/stats").get_json()
    grid2_stats = as_user("grid2").get("/api/v1/stats").get_json()
    admin_stats = as_user("admin").get("/api/v1/stats").get_json()

    assert grid_stats["wishes"] == {
        "submitted": 1,
        "published": 2,
        "rejected": 0,
        "cancelled": 0,
        "claimed": 1,
        "done": 1,
        "confirmed": 1,
    }
    assert grid2_stats["wishes"]["published"] == 1 and sum(grid2_stats["wishes"].values()) == 1
    assert sum(admin_stats["wishes"].values()) == db.session.scalar(select(func.count()).select_from(Wish))
    assert "residents" in grid_stats and "events" in grid_stats


def test_openapi_document_lists_every_wish_endpoint_with_its_errors(client):
    document = client.get("/api/v1/openapi.json").get_json()
    paths = document["paths"]

    assert {"/api/v1/categories", "/api/v1/wishes", "/api/v1/wishes/{wish_id}"} <= set(paths)
    for action in ACTOR_OF:
        responses = paths[f"/api/v1/wishes/{{wish_id}}/{action}"]["post"]["responses"]
        assert {"200", "401", "403", "404", "409"} <= set(responses), action
    assert "422" in paths["/api/v1/wishes/{wish_id}/complete"]["post"]["responses"]
    assert {"201", "403", "422"} <= set(paths["/api/v1/wishes"]["post"]["responses"])
    assert document["components"]["schemas"]["WishRequest"]["properties"]["title"]["maxLength"] == 100
    assert document["components"]["schemas"]["WishRequest"]["properties"]["description"]["maxLength"] == 2000
    assert paths["/api/v1/wishes/{wish_id}/claim"]["post"]["security"] == [{"bearerAuth": []}]

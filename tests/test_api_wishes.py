"""Micro-wishes through the JSON API: the lifecycle for each actor, refusals, validation, scoping, the document."""

from decimal import Decimal

import pytest
from sqlalchemy import event, func, select

from app.extensions import db
from app.models import Member, Resident, User, Wish, WishCategory, WishStep
from app.models.choices import WishStatus
from app.services import wishes as service
from app.services.demo import DEMO_PASSWORDS
from app.services.users import create_user

GRID = "610404001001001"
GRID2 = "610404001001002"
FAR_GRID = "610404002001001"  # another street's community

# the demo board (app/services/demo/activity.py): one wish at each stage, all the demo resident's, in GRID
CONFIRMED, DONE, CLAIMED = "帮父亲买降压药", "楼道声控灯不亮", "孩子周末数学辅导"
PUBLISHED, SUBMITTED = "陪老人去医院复查", "修理漏水的水龙头"
ASSISTED = "独居老人需要打扫卫生"  # posted by grid2 for a resident without an account, published


pytestmark = pytest.mark.usefixtures("english")


class Caller:
    """A test client speaking to the API with one user's bearer token."""

    def __init__(self, client, username: str, password: str | None = None):
        password = DEMO_PASSWORDS[username][0] if password is None else password
        response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
        assert response.status_code == 200, response.get_json()
        self.client = client
        self.headers = {"Authorization": f"Bearer {response.get_json()['token']}"}

    def get(self, url: str):
        return self.client.get(url, headers=self.headers)

    def post(self, url: str, json: dict | None = None):
        return self.client.post(url, json=json, headers=self.headers)

    def act(self, wish_id: int, action: str, **body):
        return self.post(f"/api/v1/wishes/{wish_id}/{action}", json=body or None)


@pytest.fixture
def as_user(client, demo):
    """A factory: an API caller holding the token of a demo (or test-made) user."""
    return lambda username, password=None: Caller(client, username, password)


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def member_of(username: str) -> Member:
    return db.session.scalar(
        select(Member).join(User, Member.user_id == User.id).where(User.username == username)
    )


def wish_id(title: str) -> int:
    return db.session.scalar(select(Wish.id).where(Wish.title == title))


def fresh_wish(wish_id_: int) -> Wish:
    db.session.expire_all()
    return db.session.get(Wish, wish_id_)


def step_count() -> int:
    return db.session.scalar(select(func.count()).select_from(WishStep))


def make_member(username: str, grid_code: str) -> Member:
    create_user(username, "member", "member-password", area_code=grid_code, name="刘志强")
    db.session.commit()
    return member_of(username)


def published_wish(title: str = "帮忙搬一下柜子") -> int:
    """A new wish of the demo resident, published by the demo grid worker (committed)."""
    wish = service.post_wish(user("resident"), title=title, description=None, category_code="life")
    service.publish_wish(user("grid"), wish)
    db.session.commit()
    return wish.id


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_json()
    error = response.get_json()["error"]
    assert error["message"]
    if code is not None:
        assert error["code"] == code
    return error


# --- the lifecycle, one actor after another --------------------------------------------------------


def test_a_wish_travels_from_resident_to_grid_to_member_and_back(as_user):
    resident, grid, member = as_user("resident"), as_user("grid"), as_user("member")
    hours_before = member_of("member").service_hours

    posted = resident.post(
        "/api/v1/wishes", json={"title": "帮忙修自行车", "category": "repair", "description": "后轮没气了"}
    )
    assert posted.status_code == 201
    wish = posted.get_json()
    assert (wish["status"], wish["owner"], wish["grid_code"], wish["assisted"]) == (
        "submitted",
        "陈**",
        GRID,
        False,
    )
    assert wish["actions"] == ["cancel"]

    assert grid.act(wish["id"], "publish").get_json()["status"] == "published"
    claimed = member.act(wish["id"], "claim").get_json()
    assert (claimed["status"], claimed["claimed_by"]) == ("claimed", "王**")
    assert claimed["actions"] == ["release", "complete"]
    done = member.act(wish["id"], "complete", note="换了内胎", hours=2.5).get_json()
    assert (done["status"], done["hours"]) == ("done", 2.5)
    confirmed = resident.act(wish["id"], "confirm", rating="good", comment="谢谢").get_json()

    assert (confirmed["status"], confirmed["rating"], confirmed["comment"]) == ("confirmed", "good", "谢谢")
    assert [(s["action"], s["from"], s["to"]) for s in confirmed["history"]] == [
        ("post", None, "submitted"),
        ("publish", "submitted", "published"),
        ("claim", "published", "claimed"),
        ("complete", "claimed", "done"),
        ("confirm", "done", "confirmed"),
    ]
    assert [s["actor"] for s in confirmed["history"]] == ["陈**", "李**", "王**", "王**", "陈**"]
    db.session.expire_all()
    assert member_of("member").service_hours == hours_before + Decimal("2.5")


def test_confirming_twice_credits_the_members_hours_once(as_user):
    resident = as_user("resident")
    hours_before = member_of("member").service_hours

    assert resident.act(wish_id(DONE), "confirm", rating="average").status_code == 200
    again = resident.act(wish_id(DONE), "confirm", rating="good")

    assert_error(again, 409, "state_conflict")
    db.session.expire_all()
    assert member_of("member").service_hours == hours_before + Decimal("1.5")
    assert fresh_wish(wish_id(DONE)).rating == "average"


def test_grid_worker_rejects_a_submitted_wish_with_a_reason_the_owner_can_read(as_user):
    rejected = as_user("grid").act(wish_id(SUBMITTED), "reject", reason="请拨打物业电话报修")

    assert rejected.status_code == 200
    assert rejected.get_json()["status"] == "rejected"
    seen_by_owner = as_user("resident").get(f"/api/v1/wishes/{wish_id(SUBMITTED)}").get_json()
    assert seen_by_owner["history"][-1]["note"] == "请拨打物业电话报修"
    assert fresh_wish(wish_id(SUBMITTED)).reject_reason == "请拨打物业电话报修"


def test_owner_cancels_a_published_wish_without_a_body(as_user):
    response = as_user("resident").post(f"/api/v1/wishes/{wish_id(PUBLISHED)}/cancel")

    assert response.status_code == 200
    assert response.get_json()["status"] == "cancelled"


def test_member_releases_a_claimed_wish_back_to_the_board(as_user):
    response = as_user("member").act(wish_id(CLAIMED), "release", note="临时出差")

    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["claimed_by"], body["claimed_at"]) == ("published", None, None)
    assert fresh_wish(wish_id(CLAIMED)).claimed_by_id is None


def test_dispute_puts_a_done_wish_back_to_its_member(as_user):
    response = as_user("resident").act(wish_id(DONE), "dispute", reason="灯还是不亮")

    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["claimed_by"], body["done_at"]) == ("claimed", "王**", None)
    assert fresh_wish(wish_id(DONE)).claimed_by_id == member_of("member").id


def test_grid_worker_posts_for_a_resident_and_publishes_at_once(as_user):
    elderly = db.session.scalar(
        select(Resident).where(Resident.grid_code == GRID, Resident.user_id.is_(None))
    )

    response = as_user("grid").post(
        "/api/v1/wishes",
        json={"title": "代买生活用品", "category": "life", "resident_id": elderly.id, "publish": True},
    )

    assert response.status_code == 201
    body = response.get_json()
    assert (body["status"], body["assisted"], body["owner"]) == (
        "published",
        True,
        elderly.name[0] + "*" * (len(elderly.name) - 1),
    )
    assert [s["action"] for s in body["history"]] == ["post", "publish"]


# --- illegal transitions: every action in every state it does not start from -----------------------

ACTOR_OF = {
    "publish": "grid",
    "reject": "grid",
    "cancel": "resident",
    "confirm": "resident",
    "dispute": "resident",
    "claim": "member",
    "release": "member",
    "complete": "member",
}
VALID_BODY = {
    "reject": {"reason": "不属于微心愿"},
    "dispute": {"reason": "没有做完"},
    "complete": {"note": "做完了", "hours": 1},
    "confirm": {"rating": "good"},
}
OFF_BOARD = (WishStatus.SUBMITTED, WishStatus.REJECTED, WishStatus.CANCELLED)  # members cannot see them
ILLEGAL = [
    (action, status)
    for action, transition in service.TRANSITIONS.items()
    if action in ACTOR_OF
    for status in WishStatus
    if status not in transition.sources
]


def wish_in(status: WishStatus) -> int:
    """A wish of the demo resident's, in GRID, in `status` (committed)."""
    titles = {
        WishStatus.SUBMITTED: SUBMITTED,
        WishStatus.PUBLISHED: PUBLISHED,
        WishStatus.CLAIMED: CLAIMED,
        WishStatus.DONE: DONE,
        WishStatus.CONFIRMED: CONFIRMED,
    }
    if status in titles:
        return wish_id(titles[status])
    wish = service.post_wish(user("resident"), title="换灯泡", description=None, category_code="repair")
    if status == WishStatus.REJECTED:
        service.reject_wish(user("grid"), wish, "请找物业")
    else:
        service.cancel_wish(user("resident"), wish)
    db.session.commit()
    return wish.id


@pytest.mark.parametrize(("action", "status"), ILLEGAL, ids=[f"{a}-{s}" for a, s in ILLEGAL])
def test_an_action_from_the_wrong_state_is_refused_and_changes_nothing(as_user, action, status):
    target = wish_in(status)
    steps = step_count()

    response = as_user(ACTOR_OF[action]).act(target, action, **VALID_BODY.get(action, {}))

    if ACTOR_OF[action] == "member" and status in OFF_BOARD:
        assert_error(response, 404, "not_found")  # not on the board, so not even visible
    else:
        error = assert_error(response, 409, "state_conflict")
        assert "not possible" in error["message"] or "already claimed" in error["message"]
    assert fresh_wish(target).status == status
    assert step_count() == steps


def test_all_illegal_pairs_are_covered():
    assert len(ILLEGAL) == 8 * len(WishStatus) - 9  # nine legal (action, source state) pairs


def test_second_member_cannot_claim_a_claimed_wish(as_user):
    make_member("neighbour", GRID2)

    response = as_user("neighbour", "member-password").act(wish_id(CLAIMED), "claim")

    error = assert_error(response, 409, "state_conflict")
    assert "already claimed" in error["message"]
    assert fresh_wish(wish_id(CLAIMED)).claimed_by_id == member_of("member").id


# --- wrong actors ----------------------------------------------------------------------------------


def test_member_of_another_community_cannot_claim(as_user):
    make_member("far-member", FAR_GRID)

    response = as_user("far-member", "member-password").act(wish_id(PUBLISHED), "claim")

    assert_error(response, 403, "forbidden")
    assert fresh_wish(wish_id(PUBLISHED)).status == "published"


def test_worker_of_another_grid_cannot_publish_a_wish_they_cannot_see(as_user):
    steps = step_count()

    response = as_user("grid2").act(wish_id(SUBMITTED), "publish")

    assert_error(
        response, 404, "not_found"
    )  # outside scope is 404, as for every record (docs/roles.md#scoping)
    assert fresh_wish(wish_id(SUBMITTED)).status == "submitted" and step_count() == steps


def test_another_resident_cannot_confirm_someone_elses_wish(as_user):
    create_user("neighbour-resident", "resident", "resident-password", area_code=GRID, name="周敏")
    db.session.commit()

    response = as_user("neighbour-resident", "resident-password").act(wish_id(DONE), "confirm", rating="poor")

    assert_error(response, 403, "forbidden")
    assert fresh_wish(wish_id(DONE)).status == "done"


def test_member_cannot_publish_and_resident_cannot_claim(as_user):
    assert_error(as_user("member").act(wish_id(PUBLISHED), "publish"), 403, "forbidden")
    assert_error(as_user("resident").act(wish_id(PUBLISHED), "claim"), 403, "forbidden")


def test_member_cannot_post_a_wish(as_user):
    response = as_user("member").post("/api/v1/wishes", json={"title": "x", "category": "life"})

    assert_error(response, 403, "forbidden")
    assert db.session.scalar(select(func.count()).select_from(Wish).where(Wish.title == "x")) == 0


def test_resident_cannot_publish_their_own_wish_on_posting(as_user):
    before = db.session.scalar(select(func.count()).select_from(Wish))

    response = as_user("resident").post(
        "/api/v1/wishes", json={"title": "自己发布", "category": "life", "publish": True}
    )

    assert_error(response, 403, "forbidden")
    assert db.session.scalar(select(func.count()).select_from(Wish)) == before


def test_resident_cannot_post_for_another_resident(as_user):
    other = db.session.scalar(select(Resident.id).where(Resident.user_id.is_(None)))

    response = as_user("resident").post(
        "/api/v1/wishes", json={"title": "代发", "category": "life", "resident_id": other}
    )

    assert "resident_id" in assert_error(response, 422, "validation_error")["fields"]


# --- the claim limit -------------------------------------------------------------------------------


def test_a_member_holding_the_maximum_of_claims_is_refused_another(app, as_user):
    limit = app.config["MAX_ACTIVE_CLAIMS"]
    member = as_user("member")
    held = 1  # the demo member already holds the demo's claimed wish
    for n in range(limit - held):
        assert member.act(published_wish(f"心愿{n}"), "claim").status_code == 200
    one_more = published_wish("再来一个")

    error = assert_error(member.act(one_more, "claim"), 409, "claim_limit")

    assert str(limit) in error["message"]
    assert fresh_wish(one_more).status == "published"


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

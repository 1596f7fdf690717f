"""Micro-wishes through the JSON API: the lifecycle for each actor, refusals, wrong actors, the claim limit.

Bad input is tested in tests/test_api_wish_input.py, reading (lists, scope, the document) in
tests/test_api_wish_reading.py; both use the callers and helpers defined here.
"""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Member, Resident, User, Wish, WishStep
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
    "resubmit": "resident",
}
VALID_BODY = {
    "release": {"reason": "临时出差"},
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
    assert len(ILLEGAL) == 9 * len(WishStatus) - 10  # ten legal (action, source state) pairs


def test_second_member_cannot_claim_a_claimed_wish(as_user):
    make_member("neighbour", GRID2)

    response = as_user("neighbour", "member-password").act(wish_id(CLAIMED), "claim")

    error = assert_error(response, 409, "state_conflict")
    assert "already claimed" in error["message"]
    assert fresh_wish(wish_id(CLAIMED)).claimed_by_id == member_of("member").id


@pytest.mark.chinese
def test_the_api_answers_in_the_language_its_token_user_chose(as_user):
    make_member("neighbour", GRID2)
    caller = as_user("neighbour", "member-password")

    # no choice: the district's language
    assert assert_error(caller.act(wish_id(CLAIMED), "claim"), 409)["message"] == "该心愿已被他人认领。"
    user("neighbour").locale = "en"
    db.session.commit()
    assert "already claimed" in assert_error(caller.act(wish_id(CLAIMED), "claim"), 409)["message"]
    # a request's own `lang` still comes first
    response = caller.post(f"/api/v1/wishes/{wish_id(CLAIMED)}/claim?lang=zh_Hans_CN")
    assert assert_error(response, 409)["message"] == "该心愿已被他人认领。"


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

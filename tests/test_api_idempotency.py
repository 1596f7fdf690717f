"""Idempotency-Key on every state-changing API call, and `expected_status` on every action."""

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from test_api_wishes import (
    PUBLISHED,
    Caller,
    assert_error,
    fresh_wish,
    make_member,
    published_wish,
    wish_id,
)
from test_marketplace_events import age_demo_reports

from app.extensions import db
from app.jobs.scheduler import run_periodic
from app.models import Event, IdempotentRequest, User, Wish, WishStep
from app.models.base import utcnow
from app.services import wishes
from app.services.errors import Conflict

pytestmark = pytest.mark.usefixtures("english")

REPORT = {
    "title": "楼道堆放杂物",
    "description": "堵塞消防通道",
    "matter": "HW-001",
    "grid_code": "610404001001001",
    "location_text": "3号楼2单元",
}


@pytest.fixture
def as_user(client, demo):
    return lambda username, password=None: Caller(client, username, password)


def send(caller: Caller, url: str, key: str | None, body: dict | None = None):
    headers = {**caller.headers, **({"Idempotency-Key": key} if key is not None else {})}
    return caller.client.post(url, json=body, headers=headers)


def claim(caller: Caller, wish: int, key: str | None, **body):
    return send(caller, f"/api/v1/wishes/{wish}/claim", key, body or None)


def steps(wish: int, action: str) -> int:
    db.session.expire_all()
    return db.session.scalar(
        select(func.count()).select_from(WishStep).where(WishStep.wish_id == wish, WishStep.action == action)
    )


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_same_claim_sent_twice_with_one_key_claims_once_and_answers_the_same(as_user):
    member, wish = as_user("member"), published_wish()

    first = claim(member, wish, "claim-7f3a")
    again = claim(member, wish, "claim-7f3a")

    assert first.status_code == again.status_code == 200
    assert again.get_data() == first.get_data()
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert steps(wish, "claim") == 1
    assert fresh_wish(wish).status == "claimed"


def test_without_a_key_a_second_claim_is_refused_as_before(as_user):
    member, wish = as_user("member"), published_wish()

    assert claim(member, wish, None).status_code == 200
    assert_error(claim(member, wish, None), 409)


def test_another_user_with_the_same_key_acts_for_themself(as_user):
    make_member("member2", "610404001001001")
    first, second = published_wish("搬柜子"), published_wish("修门锁")

    assert claim(as_user("member"), first, "same-key").status_code == 200
    other = claim(as_user("member2", "member-password"), second, "same-key")

    assert other.status_code == 200 and "Idempotent-Replayed" not in other.headers
    assert (fresh_wish(first).status, fresh_wish(second).status) == ("claimed", "claimed")


def test_a_key_sent_with_another_request_is_refused_and_acts_nothing(as_user):
    member = as_user("member")
    first, second = published_wish("搬柜子"), published_wish("修门锁")
    assert claim(member, first, "k-1").status_code == 200

    assert_error(claim(member, second, "k-1"), 422, "idempotency_key_reused")
    assert fresh_wish(second).status == "published"
    # the same path with another body is another request too
    assert (
        send(member, f"/api/v1/wishes/{first}/complete", "k-2", {"note": "搬好了", "hours": 1}).status_code
        == 200
    )
    assert_error(
        send(member, f"/api/v1/wishes/{first}/complete", "k-2", {"note": "搬好了", "hours": 2}),
        422,
        "idempotency_key_reused",
    )
    assert fresh_wish(first).hours == 1


def test_a_refused_action_is_refused_the_same_on_retry_even_when_it_would_pass_now(as_user):
    make_member("member2", "610404001001001")
    member, quicker, wish = as_user("member"), as_user("member2", "member-password"), published_wish()
    assert claim(quicker, wish, None).status_code == 200

    refused = claim(member, wish, "too-late")
    assert_error(refused, 409)
    assert send(quicker, f"/api/v1/wishes/{wish}/release", None, {"reason": "临时出差"}).status_code == 200
    again = claim(member, wish, "too-late")

    assert (again.status_code, again.get_data()) == (409, refused.get_data())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert fresh_wish(wish).status == "published"


def test_after_the_time_to_live_the_key_is_free_and_the_cleanup_removes_it(app, as_user):
    member, wish = as_user("member"), published_wish()
    assert claim(member, wish, "old-key").status_code == 200
    assert send(member, f"/api/v1/wishes/{wish}/release", None, {"reason": "临时出差"}).status_code == 200
    db.session.execute(
        update(IdempotentRequest).values(
            created_at=utcnow() - timedelta(hours=app.config["IDEMPOTENCY_TTL_HOURS"], minutes=1)
        )
    )
    db.session.commit()

    again = claim(member, wish, "old-key")

    assert again.status_code == 200 and "Idempotent-Replayed" not in again.headers
    assert steps(wish, "claim") == 2
    db.session.execute(update(IdempotentRequest).values(created_at=utcnow() - timedelta(days=2)))
    db.session.commit()
    assert run_periodic("idempotency_cleanup") == "idempotency_cleanup: 1"
    assert count(IdempotentRequest) == 0


def test_a_wish_posted_twice_with_one_key_is_one_wish(as_user):
    resident = as_user("resident")
    wishes_before = count(Wish)
    body = {"title": "帮忙修自行车", "category": "repair"}

    first = send(resident, "/api/v1/wishes", "post-1", body)
    again = send(resident, "/api/v1/wishes", "post-1", body)

    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert count(Wish) == wishes_before + 1


def test_an_event_reported_twice_by_a_grid_worker_with_one_key_is_one_event(as_user):
    grid = as_user("grid")
    events_before = count(Event)

    first = send(grid, "/api/v1/events", "patrol-0001", REPORT)
    again = send(grid, "/api/v1/events", "patrol-0001", REPORT)

    assert first.status_code == again.status_code == 201
    assert again.get_json()["id"] == first.get_json()["id"] and again.headers["Idempotent-Replayed"] == "true"
    assert first.get_json()["external_ref"] is None  # only the hotline's keys are ticket ids
    assert count(Event) == events_before + 1


def test_an_event_step_sent_twice_with_one_key_is_taken_once(as_user):
    grid = as_user("grid")
    event = send(grid, "/api/v1/events", None, REPORT).get_json()["id"]

    first = send(grid, f"/api/v1/events/{event}/accept", "accept-1")
    again = send(grid, f"/api/v1/events/{event}/accept", "accept-1")

    assert first.status_code == again.status_code == 200 and again.get_data() == first.get_data()
    assert [s["action"] for s in again.get_json()["history"]] == ["report", "accept"]


def test_a_429_is_not_kept_so_the_same_key_is_tried_again_later(app, as_user):
    resident = as_user("resident")
    app.config["EVENT_REPORT_RATE_LIMIT"] = "1 per hour"
    age_demo_reports()
    try:
        assert send(resident, "/api/v1/events", "report-1", {**REPORT, "grid_code": None}).status_code == 201
        limited = send(resident, "/api/v1/events", "report-2", {**REPORT, "grid_code": None})
        assert_error(limited, 429, "too_many_reports")
        assert limited.headers["Retry-After"] and count(IdempotentRequest) == 1
    finally:
        app.config["EVENT_REPORT_RATE_LIMIT"] = ""
    again = send(resident, "/api/v1/events", "report-2", {**REPORT, "grid_code": None})
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers


@pytest.mark.parametrize("key", ["x" * 256, "", "bad\x00key", "clé", "tab\tkey", "line\x7f"])
def test_hostile_keys_are_refused_and_nothing_is_done(as_user, key):
    member, wish = as_user("member"), published_wish()

    response = claim(member, wish, key)

    assert "Idempotency-Key" in assert_error(response, 422)["fields"]
    assert fresh_wish(wish).status == "published" and count(IdempotentRequest) == 0


def test_a_key_of_255_printable_characters_is_taken(as_user):
    key = "".join(chr(32 + i % 95) for i in range(255))

    assert claim(as_user("member"), published_wish(), key).status_code == 200
    assert db.session.scalar(select(IdempotentRequest.key_hash)) == hashlib.sha256(key.encode()).hexdigest()


def test_an_expected_status_that_no_longer_holds_is_a_409_naming_the_current_one(as_user):
    member, wish = as_user("member"), wish_id(PUBLISHED)

    refused = claim(member, wish, None, expected_status="submitted")

    error = assert_error(refused, 409, "status_mismatch")
    assert "published" in error["message"]
    assert fresh_wish(wish).status == "published"
    assert claim(member, wish, None, expected_status="published").get_json()["status"] == "claimed"


def test_expected_status_works_on_every_kind_of_action_and_must_be_a_status(as_user):
    grid, resident = as_user("grid"), as_user("resident")
    event = send(grid, "/api/v1/events", None, REPORT).get_json()["id"]

    stale = send(
        grid, f"/api/v1/events/{event}/resolve", None, {"note": "已处理", "expected_status": "accepted"}
    )
    assert "reported" in assert_error(stale, 409, "status_mismatch")["message"]
    wrong = send(
        resident, f"/api/v1/wishes/{wish_id(PUBLISHED)}/cancel", None, {"expected_status": "nonsense"}
    )
    assert "expected_status" in assert_error(wrong, 422)["fields"]
    assert fresh_wish(wish_id(PUBLISHED)).status == "published"


def test_the_services_check_expected_status_so_every_interface_gets_the_same_refusal(demo):
    member, wish = db.session.scalar(select(User).where(User.username == "member")), published_wish()

    with pytest.raises(Conflict) as refused:
        wishes.perform(member, db.session.get(Wish, wish), "claim", expected_status="claimed")

    assert refused.value.code == "status_mismatch" and "published" in refused.value.message
    db.session.rollback()
    assert (
        wishes.perform(member, db.session.get(Wish, wish), "claim", expected_status="published").status
        == "claimed"
    )


# POSTs on a record that move no status: a photo upload (multipart), marking one's notification read (no body)
NOT_STEPS = {
    "/api/v1/events/{event_id}/attachments",
    "/api/v1/wishes/{wish_id}/attachments",
    "/api/v1/notifications/{notification_id}/read",
}


def test_the_document_offers_the_key_on_every_state_changing_operation_and_expected_status_on_every_action(
    client,
):
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]

    posts = {path: item["post"] for path, item in document["paths"].items() if "post" in item}
    assert len(posts) > 10
    for path, operation in posts.items():
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        assert ("Idempotency-Key" in headers) == (path != "/api/v1/auth/token"), path
        success = [r for status, r in operation["responses"].items() if status.startswith("2")]
        assert all(
            ("Idempotent-Replayed" in r.get("headers", {})) == (path != "/api/v1/auth/token") for r in success
        ), path
        content = operation.get("requestBody", {}).get("content", {})
        if "{" in path and path not in NOT_STEPS:  # an action
            body = content["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
            assert "expected_status" in schemas[body]["properties"], path

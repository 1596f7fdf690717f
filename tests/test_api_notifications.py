"""The notification API: own inbox newest first and paged, ?unread=1, marking read (others' are 404), preferences."""

import pytest
from sqlalchemy import delete, select

from app.extensions import db
from app.models import Notification, User, WishCategory
from app.services import notifications

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def ids(demo):
    db.session.execute(delete(Notification))  # the demo's call-up has notified its members: start empty
    db.session.commit()
    return {u.username: u.id for u in db.session.scalars(select(User))}


def bearer(username: str) -> dict:
    from app.api.auth import issue_token

    token, _expires = issue_token(db.session.scalars(select(User).where(User.username == username)).one())
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_the_inbox_is_the_callers_own_newest_first_paged_and_filtered(client, ids):
    for number in range(7):
        notifications.send("new_wish", [ids["member"]], title=f"心愿{number}", link=f"/wishes/{number}")
    notifications.send("review_queue", [ids["grid"]], title="待审核")
    db.session.commit()
    headers = bearer("member")
    first = client.get("/api/v1/notifications?per_page=5", headers=headers)
    assert first.status_code == 200
    body = first.get_json()
    assert [n["title"] for n in body["items"]] == ["心愿6", "心愿5", "心愿4", "心愿3", "心愿2"]
    assert body["has_next"] is True and body["unread"] == 7 and body["page"] == 1
    item = body["items"][0]
    assert item["kind"] == "new_wish" and item["link"] == "/wishes/6" and item["read_at"] is None
    assert item["urgent"] is False and item["created_at"].endswith(("Z", "+00:00"))
    second = client.get("/api/v1/notifications?per_page=5&page=2", headers=headers).get_json()
    assert [n["title"] for n in second["items"]] == ["心愿1", "心愿0"] and second["has_next"] is False

    read = client.post(f"/api/v1/notifications/{item['id']}/read", headers=headers)
    assert read.status_code == 200 and read.get_json()["read_at"] is not None
    unread = client.get("/api/v1/notifications?unread=1&per_page=100", headers=headers).get_json()
    assert len(unread["items"]) == 6 and item["id"] not in {n["id"] for n in unread["items"]}
    assert unread["unread"] == 6

    theirs = db.session.scalar(select(Notification.id).where(Notification.user_id == ids["grid"]))
    refused = client.post(f"/api/v1/notifications/{theirs}/read", headers=headers)
    assert refused.status_code == 404 and refused.get_json()["error"]["code"] == "not_found"
    assert client.post("/api/v1/notifications/99999999999999/read", headers=headers).status_code == 404
    assert client.get("/api/v1/notifications?per_page=0", headers=headers).status_code == 422
    assert client.get("/api/v1/notifications").status_code == 401

    everything = client.post("/api/v1/notifications/read-all", headers=headers)
    assert everything.status_code == 200 and everything.get_json() == {"marked": 6, "unread": 0}
    db.session.expire_all()
    assert db.session.scalar(select(Notification.read_at).where(Notification.id == theirs)) is None


def test_marking_read_honours_an_idempotency_key(client, ids):
    notifications.send("new_wish", [ids["member"]], title="一条")
    db.session.commit()
    headers = {**bearer("member"), "Idempotency-Key": "read-all-1"}
    first = client.post("/api/v1/notifications/read-all", headers=headers)
    again = client.post("/api/v1/notifications/read-all", headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.get_json() == again.get_json() == {"marked": 1, "unread": 0}


def test_preferences_read_and_replace_and_refuse_muting_call_ups(client, ids):
    headers = bearer("member")
    got = client.get("/api/v1/notifications/preferences", headers=headers).get_json()
    assert got["muted_kinds"] == [] and got["quiet_start"] is None
    assert "new_wish" in got["kinds"] and got["urgent"] == ["callup", "callup_lead"]
    category = db.session.scalars(select(WishCategory)).first()
    put = client.put(
        "/api/v1/notifications/preferences",
        headers=headers,
        json={
            "muted_kinds": ["visits_due"],
            "muted_categories": [category.id],
            "quiet_start": "22:30",
            "quiet_end": "06:30",
        },
    )
    assert put.status_code == 200, put.get_json()
    assert put.get_json()["muted_kinds"] == ["visits_due"] and put.get_json()["quiet_end"] == "06:30"
    assert notifications.send("visits_due", [ids["member"]], title="x") == 0
    for wrong in (
        {"muted_kinds": ["callup"]},
        {"muted_kinds": ["nonsense"]},
        {"muted_categories": [999999]},
        {"quiet_start": "7:00", "quiet_end": "08:00"},
        {"quiet_start": "22:00"},
        {"muted_kinds": "visits_due"},
    ):
        response = client.put("/api/v1/notifications/preferences", headers=headers, json=wrong)
        assert response.status_code == 422, (wrong, response.get_json())
    # a PUT replaces: what is left out is cleared
    cleared = client.put("/api/v1/notifications/preferences", headers=headers, json={}).get_json()
    assert (cleared["muted_kinds"], cleared["muted_categories"], cleared["quiet_start"]) == ([], [], None)

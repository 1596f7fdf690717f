"""The SMS/WeChat gateway webhook: notification.created carries phones, to gateway endpoints only."""

from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import gettext as _
from sqlalchemy import delete, select

from app.extensions import db
from app.models import Member, Notification, Resident, User, Wish
from app.models.base import utcnow
from app.models.choices import WishStatus
from app.models.webhooks import WebhookDelivery
from app.services import clock, notification_preferences, notifications, webhooks, wishes
from app.services.notification_gateway import quiet_until
from tests.test_webhooks import Receiver, add_endpoint, allow_private, deliveries_of, verified  # noqa: F401


@pytest.fixture
def people(demo):
    people = {u.username: u for u in db.session.scalars(select(User))}
    db.session.execute(delete(Notification))  # the demo's call-up has notified its members: start empty
    db.session.scalars(
        select(Member).where(Member.user_id == people["member"].id)
    ).one().phone = "13800000001"
    resident = db.session.scalars(select(Resident).where(Resident.user_id == people["resident"].id)).one()
    resident.phone = "13900000002"
    db.session.commit()
    return people


def gateway(url: str):
    endpoint = add_endpoint(url, event_types=[])
    endpoint.gateway = True
    db.session.commit()
    return endpoint


def test_the_gateway_gets_each_recipients_phone_and_no_other_endpoint_gets_anything(httpserver, people):
    sms = Receiver(httpserver, "/sms")
    other = Receiver(httpserver, "/other")
    gateway_endpoint = gateway(sms.url)
    everything = add_endpoint(other.url, event_types=["*"])
    member_id, resident_id = people["member"].id, people["resident"].id
    written = notifications.send(
        "wish_published", [member_id, resident_id], title="心愿已发布", body="请留意", link="/wishes/3"
    )
    db.session.commit()
    assert written == 2
    assert len(sms.requests) == 2 and other.requests == []
    payloads = sorted(
        (verified(gateway_endpoint, request) for request in sms.requests), key=lambda p: p["data"]["user_id"]
    )
    assert [p["type"] for p in payloads] == ["notification.created"] * 2
    by_user = {p["data"]["user_id"]: p["data"] for p in payloads}
    assert by_user[member_id]["phone"] == "13800000001"
    assert by_user[resident_id]["phone"] == "13900000002"
    assert by_user[member_id] | {"phone": None, "id": None, "user_id": None, "created_at": None} == {
        "id": None,
        "user_id": None,
        "phone": None,
        "kind": "wish_published",
        "title": "心愿已发布",
        "body": "请留意",
        "link": "/wishes/3",
        "urgent": False,
        "created_at": None,
    }
    assert deliveries_of(everything.id) == []
    # no emitted topic ever carries a phone to the other endpoint, and the topic itself cannot be emitted
    with pytest.raises(ValueError):
        webhooks.emit("notification.created", {"phone": "13800000001"})
    for delivery in db.session.scalars(select(WebhookDelivery)):
        assert delivery.endpoint_id == gateway_endpoint.id or "1380000" not in str(delivery.payload)


def test_a_claim_s_notice_written_with_the_claim_reaches_the_gateway_with_the_owner_s_phone(
    httpserver, people
):
    sms = Receiver(httpserver, "/sms")
    endpoint = gateway(sms.url)
    wish = db.session.scalar(select(Wish).where(Wish.status == WishStatus.PUBLISHED).order_by(Wish.id))
    wish.owner_id = people["resident"].id
    db.session.commit()
    wishes.claim_wish(people["member"], wish)
    db.session.commit()
    (request,) = sms.requests
    data = verified(endpoint, request)["data"]
    assert data["user_id"] == people["resident"].id and data["phone"] == "13900000002"
    assert data["kind"] == "wish_claimed" and data["link"] == f"/wishes/{wish.id}"
    notice = db.session.get(Notification, data["id"])
    assert (notice.user_id, notice.title) == (people["resident"].id, data["title"])
    assert "认领了您的心愿" in data["title"]


def test_an_inactive_gateway_and_users_without_a_phone_get_nothing(httpserver, people):
    sms = Receiver(httpserver, "/sms")
    endpoint = gateway(sms.url)
    assert notifications.send("review_queue", [people["grid"].id], title="待审核") == 1
    db.session.commit()
    endpoint.active = False
    db.session.commit()
    assert notifications.send("new_wish", [people["member"].id], title="新心愿") == 1
    db.session.commit()
    assert sms.requests == [] and deliveries_of(endpoint.id) == []


def test_quiet_hours_hold_back_only_the_gateway_and_never_urgent_kinds(httpserver, people):
    sms = Receiver(httpserver, "/sms")
    endpoint = gateway(sms.url)
    member = people["member"]
    local = clock.local_time(utcnow())
    start, end = (
        (local - timedelta(hours=1)).strftime("%H:%M"),
        (local + timedelta(hours=1)).strftime("%H:%M"),
    )
    notification_preferences.save_preferences(member, quiet_start=start, quiet_end=end)
    db.session.commit()
    member_id = member.id
    assert notifications.send("new_wish", [member_id], title="新心愿") == 1
    db.session.commit()
    assert sms.requests == []  # held back …
    (held,) = deliveries_of(endpoint.id)
    wait = held.next_attempt_at.replace(tzinfo=held.next_attempt_at.tzinfo or UTC) - utcnow()
    assert timedelta(minutes=55) < wait <= timedelta(hours=1, minutes=1)
    assert notifications.unread_count(db.session.get(User, member_id)) == 1  # … but in the inbox at once
    assert notifications.send("callup", [member_id], title="紧急集结") == 1
    db.session.commit()
    assert len(sms.requests) == 1 and verified(endpoint, sms.requests[0])["data"]["urgent"] is True


def test_quiet_until_spans_midnight_in_district_time():
    zone = clock.district_zone()

    def at(hour, minute=0):
        return datetime(2026, 12, 2, hour, minute, tzinfo=zone).astimezone(UTC)

    assert quiet_until("22:00", "07:00", at(23, 30)) == datetime(2026, 12, 3, 7, tzinfo=zone).astimezone(UTC)
    assert quiet_until("22:00", "07:00", at(6, 59)) == datetime(2026, 12, 2, 7, tzinfo=zone).astimezone(UTC)
    assert quiet_until("22:00", "07:00", at(7)) is None
    assert quiet_until("12:00", "14:00", at(13)) == at(14)
    assert quiet_until("12:00", "14:00", at(14, 30)) is None
    assert quiet_until(None, None, at(13)) is None


def test_words_in_each_language_reach_the_gateway_in_each_recipient_s(httpserver, people, app):
    sms = Receiver(httpserver, "/sms")
    endpoint = gateway(sms.url)
    member, resident = people["member"], people["resident"]
    member.locale = "en"
    db.session.commit()
    with app.test_request_context():
        titles, bodies = notifications.in_each_language(
            lambda: (
                _("Your wish “%(title)s” is on the board", title="修"),
                _("Reason: %(reason)s", reason="漏"),
            )
        )
    assert notifications.send("wish_published", [member.id, resident.id], title=titles, body=bodies) == 2
    db.session.commit()
    by_user = {p["data"]["user_id"]: p["data"] for p in (verified(endpoint, r) for r in sms.requests)}
    assert (by_user[member.id]["title"], by_user[member.id]["body"]) == (
        "Your wish “修” is on the board",
        "Reason: 漏",
    )
    assert (by_user[resident.id]["title"], by_user[resident.id]["body"]) == ("您的心愿“修”已发布", "原因：漏")

"""Webhooks in the back office: registering endpoints, secrets shown once, rotating, deleting, re-sending, filters.

Only administrators reach these pages. The receiver and the helpers are those of tests/test_webhooks.py.
"""

import json

import pytest
from sqlalchemy import func, select, update
from standardwebhooks import Webhook
from test_webhooks import (
    Receiver,
    add_endpoint,
    allow_private,  # noqa: F401  (an autouse fixture: webhooks may go to localhost)
    attempts_of,
    deliveries_of,
    publish_wish,
)

from app.extensions import db
from app.models import AuditLog, User
from app.models.webhooks import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.services.webhooks import MAX_ATTEMPTS

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def people(demo):
    return {u.username: u for u in db.session.scalars(select(User))}


# --- the back office ------------------------------------------------------------------------------------
def test_an_admin_registers_an_endpoint_and_sees_its_secret_once_only(httpserver, login_as):
    admin = login_as("admin")
    url = httpserver.url_for("/registered")

    response = admin.post(
        "/admin/webhookendpoint/new/",
        data={
            "url": url,
            "description": "12345 热线",
            "event_types": ["wish.published", "certificate.issued"],
            "active": "y",
        },
        follow_redirects=True,
    )

    assert response.status_code == 200
    endpoint = db.session.scalar(select(WebhookEndpoint))
    assert endpoint.url == url and endpoint.event_types == ["wish.published", "certificate.issued"]
    assert endpoint.secret.startswith("whsec_") and len(Webhook(endpoint.secret)._whsecret) >= 24
    assert endpoint.secret in response.get_data(as_text=True)  # shown on the details page, this once
    details = admin.get(f"/admin/webhookendpoint/details/?id={endpoint.id}").get_data(as_text=True)
    listing = admin.get("/admin/webhookendpoint/").get_data(as_text=True)
    assert endpoint.secret not in details and endpoint.secret[:8] in details
    assert endpoint.secret not in listing and url in listing
    entry = db.session.scalar(select(AuditLog).where(AuditLog.model == "WebhookEndpoint"))
    assert entry.action == "create" and "secret" not in entry.after and entry.after["url"] == url


def test_the_back_office_refuses_bad_and_private_urls_with_a_clear_error(app, login_as):
    admin = login_as("admin")
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    for url, error in (
        ("ftp://example.org/hook", "Use a full http:// or https:// address."),
        ("http://127.0.0.1:8080/hook", "loopback address"),
    ):
        response = admin.post(
            "/admin/webhookendpoint/new/", data={"url": url, "event_types": ["wish.published"]}
        )
        assert response.status_code == 200 and error in response.get_data(as_text=True)
    response = admin.post("/admin/webhookendpoint/new/", data={"url": "https://93.184.216.34/h"})
    assert "Choose at least one event type." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0


def test_rotating_the_secret_shows_the_new_one_once_and_audits_without_it(httpserver, login_as):
    admin = login_as("admin")
    endpoint = add_endpoint(httpserver.url_for("/rotate"))
    old = endpoint.secret

    page = admin.post("/admin/webhookendpoint/rotate/", data={"id": endpoint.id}, follow_redirects=True)

    db.session.expire_all()
    new = db.session.get(WebhookEndpoint, endpoint.id).secret
    assert new != old and new in page.get_data(as_text=True)
    entry = db.session.scalar(select(AuditLog).where(AuditLog.model == "WebhookEndpoint"))
    assert entry.after == {"secret": "rotated"} and new not in json.dumps(entry.after)


def test_deleting_an_endpoint_removes_its_deliveries_and_audits_without_the_secret(
    httpserver, people, login_as
):
    receiver = Receiver(httpserver, "/delete")
    endpoint = add_endpoint(receiver.url)
    endpoint_id, secret = endpoint.id, endpoint.secret
    publish_wish(people)

    response = login_as("admin").post("/admin/webhookendpoint/delete/", data={"id": endpoint_id})

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(WebhookEndpoint, endpoint_id) is None
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0
    assert db.session.scalar(select(func.count()).select_from(WebhookAttempt)) == 0
    entry = db.session.scalar(select(AuditLog).where(AuditLog.model == "WebhookEndpoint"))
    assert (
        entry.action == "delete"
        and entry.before["url"] == receiver.url
        and secret not in json.dumps(entry.before)
    )


def test_resending_from_the_back_office_repeats_the_webhook_id_and_is_audited(httpserver, people, login_as):
    receiver = Receiver(httpserver, "/resend")
    endpoint = add_endpoint(receiver.url)
    publish_wish(people)
    [delivery] = deliveries_of(endpoint.id)
    admin = login_as("admin")

    details = admin.get(f"/admin/webhookdelivery/details/?id={delivery.id}").get_data(as_text=True)
    assert 'data-webhook-action="resend"' in details and "wish.published" in details
    response = admin.post("/admin/webhookdelivery/resend/", data={"id": delivery.id})

    assert response.status_code == 302
    assert len(receiver.requests) == 2 and receiver.ids() == [delivery.event_id] * 2
    assert [a.status_code for a in attempts_of(delivery.id)] == [200, 200]
    entry = db.session.scalar(select(AuditLog).where(AuditLog.model == "WebhookDelivery"))
    assert entry.username == "admin" and entry.after == {"status": "pending", "step": "resend"}
    assert entry.object_id == str(delivery.id)


def test_a_failed_delivery_can_be_resent_with_the_list_action(httpserver, people, login_as):
    receiver = Receiver(httpserver, "/action", codes=(500, 200))
    endpoint = add_endpoint(receiver.url)
    publish_wish(people)
    [delivery] = deliveries_of(endpoint.id)
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery.id)
        .values(status=DeliveryStatus.FAILED, attempts=MAX_ATTEMPTS, next_attempt_at=None)
    )
    db.session.commit()

    response = login_as("admin").post(
        "/admin/webhookdelivery/action/", data={"action": "resend", "rowid": [str(delivery.id)]}
    )

    assert response.status_code == 302
    [delivery] = deliveries_of(endpoint.id)
    assert (delivery.status, delivery.attempts) == ("delivered", 1)  # a new round of attempts
    assert receiver.ids() == [delivery.event_id] * 2
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.model == "WebhookDelivery")
        )
        == 1
    )


def test_deliveries_can_be_filtered_and_a_disabled_endpoint_cannot_be_resent(httpserver, people, login_as):
    receiver = Receiver(httpserver, "/filter", codes=(410,))
    endpoint = add_endpoint(receiver.url, ["wish.published"])
    other = add_endpoint(Receiver(httpserver, "/filter-other").url, ["wish.posted"])
    publish_wish(people)
    [delivery] = deliveries_of(endpoint.id)
    [other_delivery] = deliveries_of(other.id)
    admin = login_as("admin")

    cancelled = admin.get("/admin/webhookdelivery/?flt0_0=cancelled").get_data(as_text=True)
    delivered = admin.get("/admin/webhookdelivery/?flt0_0=delivered").get_data(as_text=True)
    assert delivery.event_id in cancelled and delivery.event_id not in delivered
    endpoint_page = admin.get(f"/admin/webhookendpoint/details/?id={endpoint.id}").get_data(as_text=True)
    assert f"/admin/webhookdelivery/?flt0_2={endpoint.id}" in endpoint_page
    by_endpoint = admin.get(f"/admin/webhookdelivery/?flt0_2={endpoint.id}").get_data(as_text=True)
    by_topic = admin.get("/admin/webhookdelivery/?flt0_1=wish.posted").get_data(as_text=True)
    assert delivery.event_id in by_endpoint and other_delivery.event_id not in by_endpoint
    assert other_delivery.event_id in by_topic and delivery.event_id not in by_topic
    admin.post("/admin/webhookdelivery/resend/", data={"id": delivery.id})
    assert len(receiver.requests) == 1 and deliveries_of(endpoint.id)[0].status == "cancelled"
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.model == "WebhookDelivery")
        )
        == 0
    )


@pytest.mark.parametrize("username", ["grid", "street"])
def test_only_administrators_reach_the_webhook_pages(httpserver, people, login_as, username):
    receiver = Receiver(httpserver, "/guarded")
    endpoint = add_endpoint(receiver.url)
    publish_wish(people)
    [delivery] = deliveries_of(endpoint.id)
    staff = login_as(username)

    for path in (
        "/admin/webhookendpoint/",
        f"/admin/webhookendpoint/details/?id={endpoint.id}",
        "/admin/webhookdelivery/",
        f"/admin/webhookdelivery/details/?id={delivery.id}",
    ):
        assert staff.get(path).status_code == 403, path
    assert staff.post("/admin/webhookdelivery/resend/", data={"id": delivery.id}).status_code == 403
    assert staff.post("/admin/webhookendpoint/rotate/", data={"id": endpoint.id}).status_code == 403
    assert len(receiver.requests) == 1

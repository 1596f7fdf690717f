"""Outbound webhooks against a real local HTTP receiver: signed, retried with backoff, logged, re-sent, guarded."""

import json
import socket
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, update
from standardwebhooks import Webhook
from werkzeug import Response

from app.extensions import db
from app.jobs.outbox import relay_outbox
from app.jobs.scheduler import run_periodic
from app.jobs.webhooks import deliver
from app.models import AuditLog, OutboxMessage, Resident, User, Wish
from app.models.base import aware, utcnow
from app.models.jobs import OutboxStatus
from app.models.webhooks import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.services import wishes
from app.services.masking import mask_name
from app.services.signals import certificate_issued
from app.services.webhooks import (
    JITTER,
    MAX_ATTEMPTS,
    RETRY_DELAYS,
    UnsafeAddress,
    WebhookError,
    check_url,
    new_secret,
    retry_delay,
    subscribed,
)

pytestmark = pytest.mark.usefixtures("english")


# --- the receiver and the set-up ---------------------------------------------------------------------
class Receiver:
    """A path on the local HTTP server answering with the given status codes in turn (the last one repeats)."""

    def __init__(self, httpserver, path: str, codes=(200,)):
        self.url = httpserver.url_for(path)
        self.codes = list(codes)
        self.requests: list[tuple[dict, str]] = []
        httpserver.expect_request(path, method="POST").respond_with_handler(self._answer)

    def _answer(self, request):
        self.requests.append(
            ({k.lower(): v for k, v in request.headers.items()}, request.get_data(as_text=True))
        )
        code = self.codes[min(len(self.requests), len(self.codes)) - 1]
        return Response(
            json.dumps({"seen": len(self.requests)}), status=code, content_type="application/json"
        )

    def ids(self) -> list[str]:
        return [headers["webhook-id"] for headers, _body in self.requests]


@pytest.fixture(autouse=True)
def allow_private(app):
    """The receiver listens on localhost: let webhooks go there (one test turns it off again)."""
    before = app.config.get("WEBHOOK_ALLOW_PRIVATE")
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    yield
    if before is None:
        app.config.pop("WEBHOOK_ALLOW_PRIVATE", None)
    else:
        app.config["WEBHOOK_ALLOW_PRIVATE"] = before


@pytest.fixture
def people(demo):
    return {u.username: u for u in db.session.scalars(select(User))}


def add_endpoint(url: str, event_types=("wish.published",), active: bool = True) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(
        url=url,
        secret=new_secret(),
        event_types=list(event_types),
        active=active,
        description="test receiver",
    )
    db.session.add(endpoint)
    db.session.commit()
    return endpoint


def publish_wish(people, title: str = "帮忙修水龙头") -> Wish:
    """The demo resident posts a wish and the grid worker publishes it; committed (deliveries run now)."""
    wish = wishes.post_wish(people["resident"], title=title, description="厨房漏水", category_code="life")
    wishes.publish_wish(people["grid"], wish)
    db.session.commit()
    return wish


def deliveries_of(endpoint_id: int) -> list[WebhookDelivery]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint_id)
            .order_by(WebhookDelivery.id)
        )
    )


def attempts_of(delivery_id: int) -> list[WebhookAttempt]:
    return list(
        db.session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == delivery_id)
            .order_by(WebhookAttempt.id)
        )
    )


def make_due(delivery_id: int) -> None:
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id)
        .values(next_attempt_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()


def verified(endpoint: WebhookEndpoint, request: tuple[dict, str]) -> dict:
    headers, body = request
    return Webhook(endpoint.secret).verify(body, headers)


# --- emitting ------------------------------------------------------------------------------------------
def test_publishing_a_wish_sends_a_signed_wish_published_to_its_subscribers_only(httpserver, people):
    wanted = Receiver(httpserver, "/wishes")
    other_topic = Receiver(httpserver, "/certificates")
    switched_off = Receiver(httpserver, "/off")
    endpoint = add_endpoint(wanted.url, ["wish.published"])
    add_endpoint(other_topic.url, ["certificate.issued"])
    add_endpoint(switched_off.url, ["*"], active=False)

    wish = publish_wish(people)

    assert len(wanted.requests) == 1 and other_topic.requests == [] and switched_off.requests == []
    headers, body = wanted.requests[0]
    message = verified(endpoint, wanted.requests[0])
    assert message["type"] == "wish.published" and message["timestamp"].endswith("Z")
    data = message["data"]
    assert (data["id"], data["title"], data["status"], data["grid_code"], data["category"]) == (
        wish.id,
        "帮忙修水龙头",
        "published",
        wish.grid_code,
        "life",
    )
    assert data["owner"] == mask_name(wish.owner_name) != wish.owner_name
    resident = db.session.scalar(select(Resident).where(Resident.user_id == people["resident"].id))
    for personal in filter(
        None,
        [resident.phone if resident else None, resident.id_number if resident else None, wish.owner_name],
    ):
        assert personal not in body
    assert headers["webhook-id"].startswith("msg_") and headers["webhook-signature"].startswith("v1,")
    assert headers["content-type"] == "application/json" and headers["user-agent"] == "OneGrid-Webhooks/1"
    [delivery] = deliveries_of(endpoint.id)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    assert delivery.event_id == headers["webhook-id"] and delivery.topic == "wish.published"
    [attempt] = attempts_of(delivery.id)
    assert (
        attempt.status_code == 200
        and attempt.duration_ms is not None
        and '"seen": 1' in attempt.response_excerpt
    )
    job = db.session.scalar(select(OutboxMessage).where(OutboxMessage.key == f"webhook:{delivery.id}:1"))
    assert job.status == OutboxStatus.DONE


def test_one_event_fans_out_to_every_subscriber_with_one_webhook_id(httpserver, people):
    first, second = Receiver(httpserver, "/a"), Receiver(httpserver, "/b")
    add_endpoint(first.url, ["wish.*"])
    add_endpoint(second.url, ["*"])

    publish_wish(people)

    # wish.posted then wish.published, to each; the same event carries the same id everywhere
    assert [verified_type(r) for r in first.requests] == ["wish.posted", "wish.published"]
    assert first.ids() == second.ids() and len(set(first.ids())) == 2


def verified_type(request) -> str:
    return json.loads(request[1])["type"]


def test_wildcards_cover_their_topics_only():
    assert subscribed(["wish.*"], "wish.claimed") and subscribed(["*"], "certificate.issued")
    assert subscribed(["wish.confirmed", "certificate.issued"], "certificate.issued")
    assert not subscribed(["wish.*"], "certificate.issued") and not subscribed(["event.*"], "eventual.thing")
    assert not subscribed([], "wish.published") and not subscribed(["wish.published"], "wish.claimed")


def test_certificate_issued_is_sent_once_per_certificate(httpserver, app, demo):
    receiver = Receiver(httpserver, "/certs")
    endpoint = add_endpoint(receiver.url, ["certificate.*"])
    certificate = SimpleNamespace(
        serial="OGC7K2M9Q4", hours=Decimal("2.5"), kind="service", issued_at=utcnow()
    )

    certificate_issued.send(certificate)
    db.session.commit()
    certificate_issued.send(certificate)  # announced twice (a job run again): still one message
    db.session.commit()

    assert len(receiver.requests) == 1
    message = verified(endpoint, receiver.requests[0])
    assert message["type"] == "certificate.issued"
    assert message["data"]["serial"] == "OGC7K2M9Q4" and message["data"]["hours"] == 2.5
    assert message["data"]["kind"] == "service" and message["data"]["verify_url"].endswith(
        "/verify/OGC7K2M9Q4"
    )
    assert len(deliveries_of(endpoint.id)) == 1


# --- retries -------------------------------------------------------------------------------------------
def test_a_receiver_failing_three_times_gets_the_fourth_attempt_with_the_same_webhook_id(httpserver, people):
    receiver = Receiver(httpserver, "/flaky", codes=(500, 500, 500, 200))
    endpoint = add_endpoint(receiver.url)
    endpoint_id, secret = endpoint.id, endpoint.secret

    publish_wish(people)
    [delivery] = deliveries_of(endpoint.id)
    delivery_id, delays = delivery.id, []
    for attempt_number in (1, 2, 3):
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
            "pending",
            attempt_number,
            500,
        )
        last = attempts_of(delivery_id)[-1]
        delays.append((aware(delivery.next_attempt_at) - aware(last.at)).total_seconds())
        assert run_periodic("webhook_retries") == "webhook_retries: nothing due"  # not before its time
        make_due(delivery_id)
        expected = "retry 1" if attempt_number < 3 else "delivered 1"
        assert run_periodic("webhook_retries") == f"webhook_retries: {expected}"
        [delivery] = deliveries_of(endpoint_id)

    assert delivery.status == "delivered" and delivery.attempts == 4
    assert [a.status_code for a in attempts_of(delivery.id)] == [500, 500, 500, 200]
    assert receiver.ids() == [delivery.event_id] * 4
    assert all(
        Webhook(secret).verify(body, headers)["type"] == "wish.published"
        for headers, body in receiver.requests
    )
    for delay, nominal in zip(delays, RETRY_DELAYS):  # 5 s, 5 min, 30 min, each ±20 % (plus the POST itself)
        assert nominal.total_seconds() * (1 - JITTER) <= delay <= nominal.total_seconds() * (1 + JITTER) + 2
    assert delays[0] < delays[1] < delays[2]


def test_the_backoff_grows_jitters_within_bounds_and_spans_more_than_a_day():
    nominal = [d.total_seconds() for d in RETRY_DELAYS]
    assert MAX_ATTEMPTS >= 8 and nominal == sorted(nominal) and nominal[0] < nominal[-1]
    assert sum(nominal) * (1 - JITTER) >= 24 * 3600  # even with every delay at its shortest
    for attempt, base in enumerate(nominal, start=1):
        samples = [retry_delay(attempt).total_seconds() for _ in range(200)]
        assert all(base * (1 - JITTER) <= s <= base * (1 + JITTER) for s in samples)
        assert max(samples) - min(samples) > base * JITTER  # really jittered, not a constant
    assert retry_delay(MAX_ATTEMPTS) is None


def test_a_delivery_failing_every_attempt_ends_failed_after_the_last_one(httpserver, people):
    receiver = Receiver(httpserver, "/down", codes=(503,))
    endpoint = add_endpoint(receiver.url)

    endpoint_id = endpoint.id
    publish_wish(people)
    [delivery] = deliveries_of(endpoint_id)
    while delivery.status == "pending":
        make_due(delivery.id)
        run_periodic("webhook_retries")
        [delivery] = deliveries_of(endpoint_id)

    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", MAX_ATTEMPTS, None)
    assert len(receiver.requests) == MAX_ATTEMPTS == len(attempts_of(delivery.id))
    assert deliver(delivery.id) == "skipped" and len(receiver.requests) == MAX_ATTEMPTS


def test_410_gone_disables_the_endpoint_and_stops_sending(httpserver, people):
    receiver = Receiver(httpserver, "/gone", codes=(410,))
    endpoint = add_endpoint(receiver.url, ["wish.*"])

    publish_wish(
        people
    )  # wish.posted answered 410: wish.published, recorded in the same transaction, is not sent

    db.session.expire_all()
    endpoint = db.session.get(WebhookEndpoint, endpoint.id)
    assert endpoint.active is False and endpoint.disabled_reason.startswith("410 Gone at")
    assert len(receiver.requests) == 1
    statuses = [d.status for d in deliveries_of(endpoint.id)]
    assert statuses == ["cancelled", "cancelled"]
    publish_wish(people, title="第二个心愿")
    assert len(receiver.requests) == 1 and len(deliveries_of(endpoint.id)) == 2


def test_a_network_error_is_logged_as_an_attempt_and_retried_later(app, people):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = add_endpoint(f"http://127.0.0.1:{port}/hook")

    publish_wish(people)

    [delivery] = deliveries_of(endpoint.id)
    [attempt] = attempts_of(delivery.id)
    assert attempt.status_code is None and "refused" in attempt.error.lower()
    assert delivery.status == "pending" and delivery.last_error == attempt.error
    assert aware(delivery.next_attempt_at) > utcnow()


def test_private_addresses_are_refused_unless_allowed(app, httpserver, people):
    receiver = Receiver(httpserver, "/private")
    endpoint = add_endpoint(receiver.url)
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False

    publish_wish(people)

    assert receiver.requests == []
    [delivery] = deliveries_of(endpoint.id)
    [attempt] = attempts_of(delivery.id)
    assert (
        delivery.status == "failed"
        and "loopback" in delivery.last_error
        and attempt.error == delivery.last_error
    )
    for url in (
        "http://127.0.0.1/h",
        "http://10.1.2.3/h",
        "http://192.168.1.1/h",
        "http://169.254.169.254/latest",
        "http://[::1]/h",
        "http://0.0.0.0/h",
        "http://224.0.0.1/h",
        "http://[::ffff:127.0.0.1]/h",
        "http://localhost/h",
        "http://100.64.0.1/h",
    ):
        with pytest.raises(UnsafeAddress):
            check_url(url)
    assert check_url(" https://93.184.216.34/hook ") == "https://93.184.216.34/hook"
    for url in (
        "ftp://93.184.216.34/h",
        "93.184.216.34/h",
        "https://user:pw@93.184.216.34/h",
        "http://93.184.216.34:99999/h",
    ):
        with pytest.raises(WebhookError):
            check_url(url)


def test_two_runners_of_one_delivery_send_it_once(app, httpserver, people, monkeypatch):
    receiver = Receiver(httpserver, "/once", codes=(500, 200))
    endpoint = add_endpoint(receiver.url)
    publish_wish(people)
    [delivery] = deliveries_of(endpoint.id)
    make_due(delivery.id)

    import app.jobs.webhooks as runner

    real_send, rivals = runner.send, []

    def send_while_a_rival_runs(*args):
        with app.app_context():  # another worker picks the same delivery while this POST is on its way
            rivals.append(deliver(delivery.id))
        return real_send(*args)

    monkeypatch.setattr(runner, "send", send_while_a_rival_runs)
    assert deliver(delivery.id) == "delivered"
    assert rivals == ["skipped"] and len(receiver.requests) == 2
    assert deliver(delivery.id) == "skipped" and len(receiver.requests) == 2


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


# --- a real Redis and a real worker ------------------------------------------------------------------------
@pytest.mark.parametrize("kind, redis_index", [("sqlite", 13), ("postgresql", 14)])
def test_a_real_worker_delivers_once_and_a_second_run_sends_nothing_more(httpserver, kind, redis_index):
    from support import app_settings, fresh_redis, run_worker_burst, separate_database

    from app import create_app
    from app.services.demo import seed_demo

    receiver = Receiver(httpserver, "/worker")
    with separate_database(kind, "webhooks_worker") as url:
        app = create_app(app_settings(url, REDIS_URL=fresh_redis(redis_index), WEBHOOK_ALLOW_PRIVATE=True))
        try:
            with app.app_context():
                db.create_all()
                seed_demo()
                db.session.commit()
                endpoint = add_endpoint(receiver.url)
                endpoint_id, secret = endpoint.id, endpoint.secret
                publish_wish({u.username: u for u in db.session.scalars(select(User))})
                assert receiver.requests == []  # queued in Redis, not run here
                db.session.remove()

            run_worker_burst(app, WEBHOOK_ALLOW_PRIVATE="true")
            assert len(receiver.requests) == 1
            assert (
                Webhook(secret).verify(receiver.requests[0][1], receiver.requests[0][0])["type"]
                == "wish.published"
            )

            with (
                app.app_context()
            ):  # as if the worker had died before marking its job done: the relay re-pushes it
                delivery = db.session.scalar(
                    select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
                )
                job = db.session.scalar(
                    select(OutboxMessage).where(OutboxMessage.key == f"webhook:{delivery.id}:1")
                )
                assert job.status == OutboxStatus.DONE and delivery.status == "delivered"
                delivery_id, job_id = delivery.id, job.id
                job.status, job.pushed_at = OutboxStatus.PENDING, None
                db.session.commit()
                assert relay_outbox() >= 1
                db.session.remove()
            run_worker_burst(app, WEBHOOK_ALLOW_PRIVATE="true")

            assert len(receiver.requests) == 1
            with app.app_context():
                assert (
                    db.session.get(WebhookDelivery, delivery_id).attempts
                    == 1
                    == len(attempts_of(delivery_id))
                )
                assert db.session.get(OutboxMessage, job_id).status == OutboxStatus.DONE
                db.session.remove()
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()

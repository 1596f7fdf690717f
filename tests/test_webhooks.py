"""Outbound webhooks against a real local HTTP receiver: signed, sent to their subscribers, by a real worker.

The receiver and the helpers here serve the failures (tests/test_webhook_retries.py) and the back office
(tests/test_admin_webhooks.py) too.
"""

import json
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import select, update
from standardwebhooks import Webhook
from werkzeug import Response

from app.extensions import db
from app.jobs.outbox import relay_outbox
from app.models import OutboxMessage, Resident, User, Wish
from app.models.base import utcnow
from app.models.jobs import OutboxStatus
from app.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.services import wishes
from app.services.masking import mask_name
from app.services.signals import certificate_issued
from app.services.webhooks import (
    new_secret,
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
    certificate = SimpleNamespace(  # no such row: its holder's notice finds nobody to tell
        id=0, batch_id=None, serial="OGC7K2M9Q4", hours=Decimal("2.5"), kind="service", issued_at=utcnow()
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

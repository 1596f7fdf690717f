"""Webhook deliveries that fail: retries with the same webhook-id and a growing backoff, giving up, 410 Gone,
network errors, private addresses refused, and two runners of one delivery sending it once.

The receiver and the helpers are those of tests/test_webhooks.py.
"""

import socket

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook
from test_webhooks import (
    Receiver,
    add_endpoint,
    allow_private,  # noqa: F401  (an autouse fixture: webhooks may go to localhost)
    attempts_of,
    deliveries_of,
    make_due,
    publish_wish,
)

from app.extensions import db
from app.jobs.scheduler import run_periodic
from app.jobs.webhooks import deliver
from app.models import User
from app.models.base import aware, utcnow
from app.models.webhooks import WebhookEndpoint
from app.services.webhooks import (
    JITTER,
    MAX_ATTEMPTS,
    RETRY_DELAYS,
    UnsafeAddress,
    WebhookError,
    check_url,
    retry_delay,
)

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def people(demo):
    return {u.username: u for u in db.session.scalars(select(User))}


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

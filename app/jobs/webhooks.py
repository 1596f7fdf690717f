"""Sending webhook deliveries: the outbox job for a new one, the periodic sweep for retries, one runner for both.

Each attempt is claimed with a conditional UPDATE and committed before the POST, so two runners of one
delivery never send the same attempt, and no database transaction stays open while a receiver answers.
"""

import http.client
import json
import logging
import math
import socket
import ssl
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select, update
from standardwebhooks import Webhook

from app.extensions import db
from app.jobs import job, periodic
from app.models.base import utcnow
from app.models.webhooks import EXCERPT_MAX, DeliveryStatus, WebhookAttempt, WebhookDelivery
from app.services.webhooks import MAX_ATTEMPTS, UnsafeAddress, WebhookError, resolve, retry_delay

log = logging.getLogger(__name__)
USER_AGENT = "OneGrid-Webhooks/1"
LEASE_MARGIN = timedelta(seconds=60)  # a claimed attempt whose runner vanished is tried again after this


@dataclass
class Answer:
    """What one POST came back with: a status code, or the error that stopped it."""

    status_code: int | None = None
    error: str | None = None
    excerpt: str | None = None
    duration_ms: int = 0
    refused: bool = False  # never sent: the address is off limits (retrying will not help)


# --- the HTTP transport ------------------------------------------------------------------------------
class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the addresses checked by resolve(), never to a second DNS answer (no rebinding)."""

    def __init__(self, host: str, port: int, addresses: list[str], timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._addresses = addresses

    def _open(self) -> socket.socket:
        error: OSError | None = None
        for address in self._addresses:
            try:
                return socket.create_connection((address, self.port), self.timeout)
            except OSError as exc:
                error = exc
        raise error or OSError("no address to connect to")

    def connect(self) -> None:
        self.sock = self._open()


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    default_port = 443

    def connect(self) -> None:
        # the certificate is checked against the host name, whatever address was dialled
        self.sock = ssl.create_default_context().wrap_socket(self._open(), server_hostname=self.host)


def post(url: str, body: bytes, headers: dict, timeout: float) -> tuple[int, str]:
    """POST `body` to `url` (no redirects, no proxies); (status code, start of the answer). Raises on errors."""
    parts = urlsplit(url)
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    addresses = resolve(parts.hostname, port)
    connection_class = _PinnedHTTPSConnection if https else _PinnedHTTPConnection
    connection = connection_class(parts.hostname, port, addresses, timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        excerpt = response.read(EXCERPT_MAX * 4).decode("utf-8", "replace")[:EXCERPT_MAX]
        return response.status, excerpt
    finally:
        connection.close()


def body_of(delivery: WebhookDelivery) -> str:
    """The message body: the stored payload as compact JSON (the same text on every attempt)."""
    return json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":"))


def signed_headers(secret: str, event_id: str, body: str) -> dict:
    """The Standard Webhooks headers for one attempt, signed now."""
    now = utcnow()
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(math.floor(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(event_id, now, body),
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }


def send(url: str, secret: str, event_id: str, body: str) -> Answer:
    """Sign and POST one message; never raises for what the receiver or the network does."""
    timeout = float(current_app.config["WEBHOOK_TIMEOUT_SECONDS"])
    started = time.monotonic()
    answer = Answer()
    try:
        answer.status_code, answer.excerpt = post(
            url, body.encode("utf-8"), signed_headers(secret, event_id, body), timeout
        )
    except UnsafeAddress as exc:
        answer.error, answer.refused = exc.message, True
    except WebhookError as exc:
        answer.error = exc.message
    except TimeoutError:
        answer.error = f"timed out after {timeout:g} s"
    except (OSError, http.client.HTTPException) as exc:
        answer.error = f"{type(exc).__name__}: {exc}"[:1000]
    answer.duration_ms = int((time.monotonic() - started) * 1000)
    return answer


# --- one attempt of one delivery -----------------------------------------------------------------------
def deliver(delivery_id: int) -> str:
    """Make the next attempt of a delivery if it is pending and due; what happened, as one word."""
    now = utcnow()
    delivery = db.session.get(WebhookDelivery, delivery_id, populate_existing=True)
    if delivery is None:
        return "missing"
    if delivery.status != DeliveryStatus.PENDING:
        return "skipped"
    if not delivery.endpoint.active:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.CANCELLED, None
        delivery.last_error = "endpoint disabled: " + (delivery.endpoint.disabled_reason or "deactivated")
        db.session.commit()
        return "cancelled"
    if delivery.attempts >= MAX_ATTEMPTS:  # the runner of the last attempt stopped before recording it
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
        delivery.last_error = delivery.last_error or "the last attempt was interrupted"
        db.session.commit()
        return "failed"
    number = delivery.attempts + 1
    timeout = float(current_app.config["WEBHOOK_TIMEOUT_SECONDS"])
    claimed = db.session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.attempts == number - 1,
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_attempt_at <= now,
        )
        .values(attempts=number, next_attempt_at=now + timedelta(seconds=timeout) + LEASE_MARGIN)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:  # not due yet, or another runner took this attempt
        db.session.rollback()
        return "skipped"
    attempt = WebhookAttempt(delivery_id=delivery_id, number=number, at=now)
    db.session.add(attempt)
    db.session.flush()
    attempt_id, url, secret, event_id = (
        attempt.id,
        delivery.endpoint.url,
        delivery.endpoint.secret,
        delivery.event_id,
    )
    body = body_of(delivery)
    db.session.commit()  # the claim stands before the message leaves; no transaction waits on the receiver
    answer = send(url, secret, event_id, body)
    return record(delivery_id, attempt_id, number, answer)


def record(delivery_id: int, attempt_id: int, number: int, answer: Answer) -> str:
    """Log an attempt's answer and move the delivery on: delivered, retry later, failed, or cancelled (410)."""
    now = utcnow()
    attempt = db.session.get(WebhookAttempt, attempt_id)
    attempt.status_code, attempt.error = answer.status_code, answer.error
    attempt.response_excerpt, attempt.duration_ms = answer.excerpt, answer.duration_ms
    delivery = db.session.get(WebhookDelivery, delivery_id, populate_existing=True)
    pending = delivery.status == DeliveryStatus.PENDING
    if _ok(answer):
        outcome = "delivered"
        if pending:
            delivery.status, delivery.delivered_at, delivery.next_attempt_at = (
                DeliveryStatus.DELIVERED,
                now,
                None,
            )
            delivery.last_status_code, delivery.last_error = answer.status_code, None
    elif answer.status_code == 410:
        outcome = "cancelled"
        delivery.endpoint.active = False
        delivery.endpoint.disabled_reason = f"410 Gone at {now.isoformat(timespec='seconds')}"
        if pending:
            delivery.status, delivery.next_attempt_at = DeliveryStatus.CANCELLED, None
            delivery.last_status_code, delivery.last_error = 410, "410 Gone: the endpoint was disabled"
    elif not pending or delivery.attempts != number:
        outcome = "superseded"  # delivered or re-sent meanwhile: the newer attempt decides
    else:
        delivery.last_status_code = answer.status_code
        delivery.last_error = answer.error or f"HTTP {answer.status_code}"
        delay = None if answer.refused else retry_delay(number)
        if delay is None:
            outcome = "failed"
            delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
        else:
            outcome = "retry"
            delivery.next_attempt_at = now + delay
    db.session.commit()
    log.info(
        "webhook delivery %s attempt %s: %s (%s)",
        delivery_id,
        number,
        outcome,
        answer.status_code or answer.error,
    )
    return outcome


def _ok(answer: Answer) -> bool:
    return answer.status_code is not None and 200 <= answer.status_code < 300


# --- the entry points ----------------------------------------------------------------------------------
@job("webhook.deliver")
def deliver_job(delivery_id: int) -> None:
    """The outbox job of a new (or re-sent) delivery: its first attempt, straight away."""
    deliver(delivery_id)


@periodic("webhook_retries", seconds=30)
def webhook_retries(limit: int = 100) -> str:
    """Attempt every pending delivery that is due (retries, and first attempts a crash left behind)."""
    budget = (
        float(current_app.config["JOB_TIMEOUT_SECONDS"]) / 2
    )  # stop starting sends well before the job times out
    started = time.monotonic()
    ids = list(
        db.session.scalars(
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.status == DeliveryStatus.PENDING, WebhookDelivery.next_attempt_at <= utcnow()
            )
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(limit)
        )
    )
    db.session.commit()
    outcomes: Counter = Counter()
    for delivery_id in ids:
        if time.monotonic() - started > budget:
            break
        outcomes[deliver(delivery_id)] += 1
    return ", ".join(f"{outcome} {count}" for outcome, count in sorted(outcomes.items())) or "nothing due"

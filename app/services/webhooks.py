"""Outbound webhooks: who subscribes to what, recording deliveries with the change, and the rules for sending.

A domain event becomes one WebhookDelivery per active endpoint subscribed to its topic, recorded in the
transaction of the change, plus an outbox job per delivery; app.jobs.webhooks sends them. Every endpoint
that receives one event gets the same webhook-id ("msg_…"), as one Standard Webhooks message fanned out.
"""

import base64
import ipaddress
import json
import os
import random
import socket
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from app.extensions import db
from app.models.base import aware, utcnow
from app.models.webhooks import URL_MAX, DeliveryStatus, WebhookDelivery, WebhookEndpoint
from app.services import audit, webhook_listeners
from app.services.errors import DomainError
from app.services.masking import mask_name
from app.services.outbox import record_job
from app.services.signals import EVENT_OVERDUE, EVENT_TOPICS, WISH_TOPICS

CERTIFICATE_ISSUED = "certificate.issued"
NOTIFICATION_CREATED = "notification.created"  # gateway endpoints only (app.services.notification_gateway)
DELIVER_JOB = "webhook.deliver"  # the outbox job of a delivery's first attempt (app.jobs.webhooks runs it)
# every concrete topic an endpoint can pick
TOPICS: list[str] = (
    sorted(set(WISH_TOPICS.values()))
    + [CERTIFICATE_ISSUED]
    + sorted(set(EVENT_TOPICS.values()))
    + [EVENT_OVERDUE]
)
WILDCARDS = {
    "*": _l("everything"),
    "wish.*": _l("every wish event"),
    "event.*": _l("every event"),
    "certificate.*": _l("every certificate event"),
}

# the Standard Webhooks schedule (after the first attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h) and one
# more 10 h, so that even with every delay jittered down by JITTER the attempts span more than 24 h
RETRY_DELAYS = tuple(timedelta(seconds=s) for s in (5, 300, 1800, 7200, 18000, 36000, 36000, 36000))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
JITTER = 0.2


class WebhookError(DomainError):
    """A webhook request that cannot be carried out; `message` says why, for the user: HTTP 422."""

    status = 422
    code = "webhook_refused"


class UnsafeAddress(WebhookError):
    """The receiver's host resolves to an address OneGrid must not call (loopback, private …)."""


class UnknownHost(WebhookError):
    """The receiver's host name does not resolve (now)."""


# --- secrets and ids -------------------------------------------------------------------------------
def new_secret() -> str:
    """A Standard Webhooks signing secret: "whsec_" and the base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


def mask_secret(secret: str | None) -> str:
    """whsec_Ab…: enough to tell two secrets apart, never enough to sign with."""
    return (secret[:8] + "…") if secret else ""


def new_event_id() -> str:
    """A webhook-id: "msg_" and 120 random bits in lowercase base32."""
    return "msg_" + base64.b32encode(os.urandom(15)).decode().lower()


def rotate_secret(endpoint: WebhookEndpoint, actor=None) -> str:
    """Give the endpoint a new secret (messages signed from now on use it), audited (never the value); flushes."""
    endpoint.secret = new_secret()
    audit.record(actor, "update", endpoint, None, {"secret": "rotated"})
    db.session.flush()
    return endpoint.secret


# --- topics and subscriptions ----------------------------------------------------------------------
def topic_choices() -> list[tuple[str, str]]:
    """(value, label) pairs for the back office: the wildcards first, then every topic."""
    return [(w, f"{w} ({label})") for w, label in WILDCARDS.items()] + [(t, t) for t in TOPICS]


def subscribed(patterns, topic: str) -> bool:
    """Whether a list of topics and wildcards ("wish.*", "*") covers `topic`."""
    for pattern in patterns or ():
        if pattern == "*" or pattern == topic or (pattern.endswith(".*") and topic.startswith(pattern[:-1])):
            return True
    return False


# --- the receiver's address ------------------------------------------------------------------------
_FORBIDDEN = (
    ("is_loopback", _l("loopback")),
    ("is_unspecified", _l("unspecified")),
    ("is_link_local", _l("link-local")),
    ("is_multicast", _l("multicast")),
    ("is_private", _l("private")),
    ("is_reserved", _l("reserved")),
)


def forbidden_kind(address: str) -> str | None:
    """Why OneGrid must not call this IP address (loopback, private …), or None when it is public."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for attribute, label in _FORBIDDEN:
        if getattr(ip, attribute):
            return str(label)
    return None if ip.is_global else str(_l("not public"))


def resolve(host: str, port: int) -> list[str]:
    """The addresses to connect to for `host`; UnsafeAddress when any is off limits (unless allowed)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnknownHost(_("The host %(host)s cannot be found (%(error)s).", host=host, error=exc)) from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not current_app.config["WEBHOOK_ALLOW_PRIVATE"]:
        for address in addresses:
            kind = forbidden_kind(address)
            if kind:
                raise UnsafeAddress(
                    _(
                        "%(host)s resolves to %(address)s, a %(kind)s address: webhooks may only "
                        "go to public addresses.",
                        host=host,
                        address=address,
                        kind=kind,
                    )
                )
    return addresses


def check_url(url: str | None, *, resolve_host: bool = True) -> str:
    """The URL, trimmed, when OneGrid may send webhooks to it; WebhookError with the reason otherwise."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise WebhookError(_("Use a full http:// or https:// address."))
    if len(url) > URL_MAX:
        raise WebhookError(_("The address is too long (at most %(max)d characters).", max=URL_MAX))
    if parts.username or parts.password:
        raise WebhookError(
            _("Leave user names and passwords out of the address: the secret signs each message.")
        )
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise WebhookError(_("The port in the address is not valid.")) from exc
    if not parts.hostname:
        raise WebhookError(_("Use a full http:// or https:// address."))
    if resolve_host:
        resolve(parts.hostname, port)
    return url


# --- emitting ---------------------------------------------------------------------------------------
def _plain(value):
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def iso(moment: datetime | None) -> str | None:
    """An ISO 8601 UTC timestamp ending in Z."""
    if moment is None:
        return None
    return aware(moment).astimezone(UTC).isoformat().replace("+00:00", "Z")


def listening(topic: str) -> list[int]:
    """The ids of the active endpoints subscribed to `topic`, as this process last read them (no query, mostly:
    app/services/webhook_listeners.py)."""
    return [listener.id for listener in webhook_listeners.listeners() if subscribed(listener.topics, topic)]


def emit(topic: str, data: dict, *, event_id: str | None = None) -> list[WebhookDelivery]:
    """Record one delivery of `topic` per active endpoint subscribed to it, in the caller's transaction.

    Each delivery gets an outbox job, so it is sent once the transaction commits. Pass a stable
    `event_id` to make emitting the same event twice harmless: an endpoint gets one delivery per event.
    """
    if topic == NOTIFICATION_CREATED:  # carries phones: only app.services.notification_gateway records it
        raise ValueError(f"{topic} goes to the SMS/WeChat gateway only")
    wanting = listening(topic)
    if not wanting:
        return []
    # read again exactly: one disabled, deleted or unsubscribed since the process last looked gets nothing
    endpoints = [
        e
        for e in db.session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.id.in_(wanting), WebhookEndpoint.active.is_(True))
            .order_by(WebhookEndpoint.id)
        )
        if subscribed(e.event_types, topic)
    ]
    if not endpoints:
        return []
    payload = json.loads(
        json.dumps({"type": topic, "timestamp": iso(utcnow()), "data": data}, default=_plain)
    )
    already: set[int] = set()
    if event_id:  # a stable id may have been emitted before (an endpoint gets one delivery per event)
        query = select(WebhookDelivery.endpoint_id).where(WebhookDelivery.event_id == event_id)
        already = set(db.session.scalars(query))
    else:  # a new one cannot have been
        event_id = new_event_id()
    deliveries = [
        WebhookDelivery(
            endpoint_id=e.id,
            event_id=event_id,
            topic=topic,
            payload=payload,
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=utcnow(),
        )
        for e in endpoints
        if e.id not in already
    ]
    db.session.add_all(deliveries)
    db.session.flush()
    for delivery in deliveries:
        record_job(DELIVER_JOB, key=f"webhook:{delivery.id}:1", delivery_id=delivery.id)
    return deliveries


def wish_data(wish) -> dict:
    """What a wish event tells the outside: no phone, no ID number, people's names masked."""
    return {
        "id": wish.id,
        "title": wish.title,
        "status": wish.status,
        "grid_code": wish.grid_code,
        "category": wish.category.code if wish.category is not None else None,
        "owner": mask_name(wish.owner_name),
        "claimed_by": mask_name(wish.claimed_by.name) if wish.claimed_by is not None else None,
        "hours": float(wish.hours) if wish.hours is not None else None,
        "rating": wish.rating,
        "at": iso(wish.updated_at),
    }


def certificate_data(certificate) -> dict:
    """What certificate.issued tells the outside: the serial and where anyone can verify it."""
    from app.services.certificate_pdf import verify_url  # WeasyPrint loads only where certificates are needed

    kind = certificate.kind
    return {
        "serial": certificate.serial,
        "hours": float(certificate.hours) if certificate.hours is not None else None,
        "kind": kind.value if isinstance(kind, Enum) else kind,
        "issued_at": iso(certificate.issued_at),
        "verify_url": verify_url(certificate.serial),
    }


def event_data(event) -> dict:
    """What an event webhook tells the outside (the hotline learns its ticket's fate): no personal data."""
    return {
        "id": event.id,
        "title": event.title,
        "external_ref": event.external_ref,
        "matter": event.matter.code if event.matter is not None else None,
        "grid_code": event.grid_code,
        "source": event.source,
        "level": event.level,
        "status": event.status,
        "resolution_note": event.resolution_note,
        "score": event.score,
        "deadlines": {
            "respond": iso(event.respond_by),
            "reply": iso(event.reply_by),
            "resolve": iso(event.resolve_by),
        },
        "at": iso(event.updated_at),
    }


def on_wish_changed(wish, action=None, actor=None, **_kwargs) -> None:
    """Every wish step becomes its webhook (wish.<step>)."""
    topic = WISH_TOPICS.get(action)
    if topic and listening(
        topic
    ):  # the payload reads the category and the person helped: only for a listener
        emit(topic, wish_data(wish))


def on_certificate_issued(certificate, **_kwargs) -> None:
    """A stored certificate becomes the webhook certificate.issued."""
    # one message per certificate, however often the signal is sent
    emit(
        CERTIFICATE_ISSUED,
        certificate_data(certificate),
        event_id=f"msg_cert_{certificate.serial}".lower()[:60],
    )


# --- retries and re-sending ------------------------------------------------------------------------
def retry_delay(attempt: int, rng: random.Random | None = None) -> timedelta | None:
    """How long to wait after failed attempt number `attempt` (from 1), jittered ±JITTER; None: no more."""
    if attempt < 1 or attempt > len(RETRY_DELAYS):
        return None
    factor = (rng or random).uniform(1 - JITTER, 1 + JITTER)
    return RETRY_DELAYS[attempt - 1] * factor


def resend(delivery: WebhookDelivery, actor=None) -> None:
    """Send a delivery again now, with the same webhook-id; a finished one starts a new round of attempts.

    Flushes, audits and records the outbox job; the caller commits.
    """
    before = {"status": audit.plain(delivery.status)}
    if not delivery.endpoint.active:
        raise WebhookError(_("The endpoint is disabled: activate it before re-sending."))
    now = utcnow()
    condition = [WebhookDelivery.id == delivery.id, WebhookDelivery.status == delivery.status]
    if delivery.status == DeliveryStatus.PENDING:
        values = {"next_attempt_at": now}
    else:
        values = {
            "status": DeliveryStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "delivered_at": None,
        }
        condition.append(WebhookDelivery.attempts == delivery.attempts)
    changed = db.session.execute(
        update(WebhookDelivery)
        .where(*condition)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise WebhookError(_("The delivery changed meanwhile: reload the page and try again."))
    db.session.refresh(delivery)
    audit.record(actor, "update", delivery, before, {"status": delivery.status, "step": "resend"})
    record_job(DELIVER_JOB, delivery_id=delivery.id)

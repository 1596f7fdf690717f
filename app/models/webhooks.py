"""Outbound webhooks: the endpoints that subscribe to OneGrid's events, each delivery and its attempts."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import created_at_column, utcnow
from app.models.choices import choice_check

URL_MAX = 500
EXCERPT_MAX = 500


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"


class WebhookEndpoint(db.Model):
    """A receiver outside OneGrid: where to POST, the secret that signs each message, the topics it wants."""

    __tablename__ = "webhook_endpoint"
    scope_column_name = None  # integration settings, administrators only

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(URL_MAX), nullable=False)
    # Standard Webhooks format: "whsec_" + base64 of random bytes; generated, never typed in
    secret: Mapped[str] = mapped_column(String(100), nullable=False)
    # topics ("wish.published") and wildcards ("wish.*", "*")
    event_types: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    # the district's SMS/WeChat gateway: the only kind of endpoint that gets notification.created (with phones)
    gateway: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), nullable=False)
    description: Mapped[str | None] = mapped_column(String(200))
    # why OneGrid stopped sending (e.g. the receiver answered 410 Gone)
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_at_column()

    deliveries: Mapped[list["WebhookDelivery"]] = relationship(
        back_populates="endpoint", passive_deletes=True
    )

    def __str__(self) -> str:
        return self.description or self.url


class WebhookDelivery(db.Model):
    """One event for one endpoint: the signed message and where its delivery stands.

    `event_id` is the message's webhook-id: the same for every attempt and every re-send, and shared
    by all the endpoints that receive the same event. `attempts` counts the attempts of the current
    round (a re-send starts a new round); every attempt ever made is a WebhookAttempt.
    """

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        choice_check("status", [s.value for s in DeliveryStatus]),
        UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_delivery_endpoint_event"),
        # the retry sweep: pending deliveries that are due
        Index("ix_webhook_delivery_status_next_attempt_at", "status", "next_attempt_at"),
    )
    scope_column_name = None

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoint.id", ondelete="CASCADE"), index=True, nullable=False
    )
    event_id: Mapped[str] = mapped_column(String(60), nullable=False, index=True)
    topic: Mapped[str] = mapped_column(String(60), nullable=False, index=True)
    payload: Mapped[dict] = mapped_column(JSON, nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    endpoint: Mapped[WebhookEndpoint] = relationship(back_populates="deliveries")
    attempt_log: Mapped[list["WebhookAttempt"]] = relationship(
        back_populates="delivery", order_by="WebhookAttempt.id", passive_deletes=True
    )

    def __str__(self) -> str:
        return f"{self.topic} {self.event_id}"


class WebhookAttempt(db.Model):
    """One POST of a delivery: when, what came back (or what went wrong) and how long it took.

    A row without `duration_ms` is an attempt whose worker stopped before the answer was recorded.
    """

    __tablename__ = "webhook_attempt"
    scope_column_name = None

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_delivery.id", ondelete="CASCADE"), index=True, nullable=False
    )
    number: Mapped[int] = mapped_column(Integer, nullable=False)  # within its round, from 1
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    response_excerpt: Mapped[str | None] = mapped_column(String(EXCERPT_MAX))

    delivery: Mapped[WebhookDelivery] = relationship(back_populates="attempt_log")

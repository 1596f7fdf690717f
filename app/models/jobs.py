"""The transactional outbox: jobs recorded in the same transaction as the change that causes them."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import created_at_column, utcnow
from app.models.choices import choice_check


class OutboxStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class OutboxMessage(db.Model):
    """One job to run: its kind (a registered handler), its arguments (ids only) and how it went.

    A row is written with the change that causes it and committed with it. After the commit it is
    pushed to RQ (or run in-process); the periodic relay pushes any row still pending, so nothing is
    lost while Redis is down. Running a row twice has one effect: the runner takes only pending rows,
    and each handler is idempotent.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        choice_check("status", [s.value for s in OutboxStatus]),
        Index("ix_outbox_message_status_run_after", "status", "run_after"),
    )
    scope_column_name = None  # operations data, administrators only

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    payload: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    # a second job with the same key is not recorded again (e.g. "certificate:wish:12")
    key: Mapped[str | None] = mapped_column(String(120), unique=True)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    run_after: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    pushed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()

    def __str__(self) -> str:
        return f"{self.kind} #{self.id}"

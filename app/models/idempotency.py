"""The first answer to each Idempotency-Key a user sent to the API, kept for a while so a retry gets it again."""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import utcnow

KEY_MAX = 255  # characters of a key (printable ASCII)


class IdempotentRequest(db.Model):
    """One state-changing API request made under an Idempotency-Key, and the answer it got.

    The row is inserted before the request acts and committed with its change and its answer, so a crash
    leaves neither; the unique (user, key) makes a concurrent duplicate wait for the first and then replay it.
    """

    __tablename__ = "idempotent_request"
    __table_args__ = (UniqueConstraint("user_id", "key_hash"),)
    scope_column_name = None  # operations data, administrators only

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    # SHA-256 of the key: fixed width, and what a client puts in its keys is not kept
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    method: Mapped[str] = mapped_column(String(10), nullable=False)
    path: Mapped[str] = mapped_column(String(255), nullable=False)
    # SHA-256 of the method, path and body: the same key sent with another request is refused
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    status_code: Mapped[int | None] = mapped_column(Integer)  # None until the answer is stored
    response_body: Mapped[str | None] = mapped_column(Text)  # the JSON text, replayed byte for byte
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False, index=True
    )

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

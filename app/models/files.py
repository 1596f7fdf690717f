"""Stored bytes (STORAGE=database) and the photos attached to reports, wishes and their steps."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import created_at_column
from app.models.choices import choice_check


class StoredFile(db.Model):
    """One file of the database storage backend (app/services/storage.py): PDFs and photos, by key.

    Never loaded whole by the ORM when served: the bytes are read in chunks (storage.DatabaseStorage).
    """

    __tablename__ = "stored_file"
    scope_column_name = None  # reached only through what names its key

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = created_at_column()


class AttachmentSubject(StrEnum):
    EVENT = "event"  # a 随手拍 report's photos
    EVENT_STEP = "event_step"  # a step of an event (the resolve's "after" photo)
    WISH = "wish"  # a wish's photos
    WISH_STEP = "wish_step"  # a step of a wish (the member's evidence of work done)


class Attachment(db.Model):
    """A photo, re-encoded without metadata, with its thumbnail; who sees it follows its subject."""

    __tablename__ = "attachment"
    __table_args__ = (
        choice_check("subject_kind", [s.value for s in AttachmentSubject]),
        CheckConstraint(
            "(subject_kind IN ('event', 'event_step') AND event_id IS NOT NULL AND wish_id IS NULL)"
            " OR (subject_kind IN ('wish', 'wish_step') AND wish_id IS NOT NULL AND event_id IS NULL)",
            name="one_subject",
        ),
        CheckConstraint(
            "(subject_kind = 'event_step') = (event_step_id IS NOT NULL)"
            " AND (subject_kind = 'wish_step') = (wish_step_id IS NOT NULL)",
            name="step_matches_kind",
        ),
        Index("ix_attachment_subject", "subject_kind", "event_id", "wish_id"),
    )
    scope_column_name = None  # read through its subject

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(12), nullable=False)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    event_step_id: Mapped[int | None] = mapped_column(
        ForeignKey("event_step.id", ondelete="CASCADE"), index=True
    )
    wish_id: Mapped[int | None] = mapped_column(ForeignKey("wish.id", ondelete="CASCADE"), index=True)
    wish_step_id: Mapped[int | None] = mapped_column(
        ForeignKey("wish_step.id", ondelete="CASCADE"), index=True
    )
    uploader_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True, nullable=False)
    image_key: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    thumbnail_key: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    content_type: Mapped[str] = mapped_column(String(30), nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = created_at_column()

    uploader = relationship("User")
    event = relationship("Event")
    event_step = relationship("EventStep")
    wish = relationship("Wish")
    wish_step = relationship("WishStep")

"""Micro-wishes (微心愿): categories, the wishes themselves and their transition history."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import created_at_column, grid_code_column, utcnow
from app.models.choices import Rating, WishAction, WishStatus, choice_check

TITLE_MAX = 100
DESCRIPTION_MAX = 2000
NOTE_MAX = 1000


class WishCategory(db.Model):
    """A kind of micro-wish (生活帮扶, 助老助残 …), managed in the back office."""

    __tablename__ = "wish_category"
    scope_column_name = None  # district-wide reference data

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(50), unique=True, nullable=False)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    created_at: Mapped[datetime] = created_at_column()

    def __str__(self) -> str:
        return self.name


class Wish(db.Model):
    """A resident's small need, from posting through review, claim and completion to confirmation.

    `status` only ever changes through app.services.wishes, by conditional UPDATEs, so two
    concurrent transitions cannot both win.
    """

    __tablename__ = "wish"
    __table_args__ = (
        choice_check("status", [s.value for s in WishStatus]),
        choice_check("rating", [r.value for r in Rating]),
        CheckConstraint("hours IS NULL OR (hours >= 0.5 AND hours <= 24)", name="hours_range"),
        CheckConstraint("owner_id IS NOT NULL OR resident_id IS NOT NULL", name="has_owner"),
        CheckConstraint(
            "status NOT IN ('claimed', 'done', 'confirmed') OR claimed_by_id IS NOT NULL",
            name="claimed_has_member",
        ),
        # the board: published wishes newest first, per grid
        Index("ix_wish_status_published_at", "status", "published_at"),
        # active claims per member, and the review queue per grid
        Index("ix_wish_claimed_by_id_status", "claimed_by_id", "status"),
        Index("ix_wish_status_done_at", "status", "done_at"),
    )
    scope_column_name = "grid_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    category_id: Mapped[int] = mapped_column(ForeignKey("wish_category.id"), index=True, nullable=False)
    grid_code: Mapped[str] = grid_code_column()
    # the resident account that owns the wish; None when staff posted it for a resident without one
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    # the census record of the person helped (always set for assisted posting)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("resident.id"), index=True)
    # who typed it in: the owner, or a grid worker acting for the resident (帮办代办)
    posted_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True, nullable=False)
    status: Mapped[str] = mapped_column(String(12), default=WishStatus.SUBMITTED, nullable=False, index=True)
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    hours: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    completion_note: Mapped[str | None] = mapped_column(Text)
    rating: Mapped[str | None] = mapped_column(String(10))
    comment: Mapped[str | None] = mapped_column(Text)
    reject_reason: Mapped[str | None] = mapped_column(Text)
    # SLA: reviewed by (respond), claimed by (reply), done by (resolve)
    respond_by: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)
    reply_by: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    resolve_by: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)

    category: Mapped[WishCategory] = relationship()
    grid = relationship("Area")
    owner = relationship("User", foreign_keys=[owner_id])
    posted_by = relationship("User", foreign_keys=[posted_by_id])
    resident = relationship("Resident")
    claimed_by = relationship("Member")
    steps: Mapped[list["WishStep"]] = relationship(
        back_populates="wish", order_by="WishStep.id", cascade="all, delete-orphan"
    )
    # the photos of the wish and of its steps (each such row names the wish), oldest first; read only: an
    # answer loads them with the wish instead of asking twice (app.services.attachments.of_wish)
    attachments = relationship("Attachment", viewonly=True, order_by="Attachment.id")

    @property
    def owner_name(self) -> str:
        """The name of the person helped (the census record's, else the account's)."""
        if self.resident is not None:
            return self.resident.name
        return (self.owner.name or self.owner.username) if self.owner is not None else ""

    @property
    def assisted(self) -> bool:
        """Whether staff posted it on the resident's behalf (帮办代办)."""
        return self.owner_id != self.posted_by_id

    def __str__(self) -> str:
        return self.title


class WishStep(db.Model):
    """One transition of a wish: who did what, from which status to which, when and why."""

    __tablename__ = "wish_step"
    __table_args__ = (choice_check("action", [a.value for a in WishAction]),)
    scope_column_name = None  # read through its wish

    id: Mapped[int] = mapped_column(primary_key=True)
    wish_id: Mapped[int] = mapped_column(
        ForeignKey("wish.id", ondelete="CASCADE"), index=True, nullable=False
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)  # None: the system
    action: Mapped[str] = mapped_column(String(20), nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)

    wish: Mapped[Wish] = relationship(back_populates="steps")
    actor = relationship("User")

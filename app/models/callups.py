"""Emergency call-ups (社区吹哨、党员报到): the call to an area's checked-in members, and each member's answer."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import created_at_column, utcnow
from app.models.choices import ArrivalVia, CallupAnswer, CallupStatus, choice_check

TITLE_MAX = 200
DETAILS_MAX = 4000
MUSTER_MAX = 200
TASK_MAX = 500
REASON_MAX = 1000
TOKEN_MAX = 64


def _area_code_column(**kwargs) -> Mapped[str]:
    return mapped_column(String(15), ForeignKey("area.code", onupdate="CASCADE"), index=True, **kwargs)


class Callup(db.Model):
    """A call-up raised by staff to the checked-in members of a grid, community or street.

    Open while people answer and arrive; closed (arrived members credited `hours`, once) or cancelled.
    Its figures are kept with it: when the first member arrived, when the number needed was reached, and
    at close the counts the arrival rate is worked out from.
    """

    __tablename__ = "callup"
    __table_args__ = (
        choice_check("status", [s.value for s in CallupStatus]),
        CheckConstraint("needed >= 1", name="needed_positive"),
        CheckConstraint("hours IS NULL OR hours >= 0", name="hours_not_negative"),
        CheckConstraint("status = 'open' OR closed_at IS NOT NULL", name="closed_has_time"),
        Index("ix_callup_status_created_at", "status", "created_at"),
    )
    scope_column_name = "area_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    area_code: Mapped[str] = _area_code_column(nullable=False)  # the grid, community or street called
    grid_code: Mapped[str | None] = _area_code_column()  # the muster grid (inside the area)
    title: Mapped[str] = mapped_column(String(TITLE_MAX), nullable=False)
    details: Mapped[str] = mapped_column(Text, nullable=False, default="")
    muster_point: Mapped[str] = mapped_column(String(MUSTER_MAX), nullable=False)
    needed: Mapped[int] = mapped_column(Integer, nullable=False)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    hours: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    status: Mapped[str] = mapped_column(String(10), nullable=False, default=CallupStatus.OPEN, index=True)
    checkin_token: Mapped[str] = mapped_column(String(TOKEN_MAX), nullable=False)  # what the QR carries
    raised_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # closed or cancelled
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # figures: set as they happen, and the counts at close
    called: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # members on the roll at raise
    first_arrival_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    needed_reached_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    coming_count: Mapped[int | None] = mapped_column(Integer)
    cannot_count: Mapped[int | None] = mapped_column(Integer)
    arrived_count: Mapped[int | None] = mapped_column(Integer)

    area = relationship("Area", foreign_keys=[area_code])
    grid = relationship("Area", foreign_keys=[grid_code])
    raised_by = relationship("User", foreign_keys=[raised_by_id])
    closed_by = relationship("User", foreign_keys=[closed_by_id])
    responses: Mapped[list["CallupResponse"]] = relationship(
        back_populates="callup", passive_deletes=True, order_by="CallupResponse.id"
    )

    def __str__(self) -> str:
        return self.title


class CallupResponse(db.Model):
    """One member on a call-up's roll: their answer, their arrival and the task the grid leader gave them."""

    __tablename__ = "callup_response"
    __table_args__ = (
        UniqueConstraint("callup_id", "member_id", name="uq_callup_response_callup_member"),
        choice_check("answer", [a.value for a in CallupAnswer]),
        choice_check("arrived_via", [v.value for v in ArrivalVia]),
        CheckConstraint("arrived_at IS NOT NULL OR arrived_via IS NULL", name="arrival_has_time"),
        CheckConstraint("NOT credited OR arrived_at IS NOT NULL", name="credited_arrived"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    callup_id: Mapped[int] = mapped_column(ForeignKey("callup.id", ondelete="CASCADE"), nullable=False)
    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), index=True, nullable=False
    )
    answer: Mapped[str | None] = mapped_column(String(10))  # None: no answer yet
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    arrived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    arrived_via: Mapped[str | None] = mapped_column(String(10))
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    task: Mapped[str | None] = mapped_column(Text)
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    credited: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    callup: Mapped[Callup] = relationship(back_populates="responses")
    member = relationship("Member")
    marked_by = relationship("User", foreign_keys=[marked_by_id])
    assigned_by = relationship("User", foreign_keys=[assigned_by_id])

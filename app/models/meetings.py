"""Joint meetings (联席会议) of a community or street, and the service items they agree for units and grids."""

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Column, Date, DateTime, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import created_at_column, utcnow
from app.models.choices import Labelled, choice_check

TITLE_MAX = 200
MINUTES_MAX = 20000


class ServiceItemStatus(Labelled):
    OPEN = "open", _l("Not yet done")
    DONE = "done", _l("Done")
    DROPPED = "dropped", _l("Dropped")


SERVICE_ITEM_STATUS_LABELS = ServiceItemStatus.labels()


def _area_code_column(**kwargs) -> Mapped[str]:
    return mapped_column(String(15), ForeignKey("area.code", onupdate="CASCADE"), index=True, **kwargs)


meeting_unit = Table(
    "meeting_unit",
    db.metadata,
    Column("meeting_id", ForeignKey("joint_meeting.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class JointMeeting(db.Model):
    """A joint meeting held by a community or a street: when, who attended, the minutes, the items agreed."""

    __tablename__ = "joint_meeting"
    __table_args__ = (Index("ix_joint_meeting_area_code_held_on", "area_code", "held_on"),)
    scope_column_name = "area_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    area_code: Mapped[str] = _area_code_column(nullable=False)  # the community or street that held it
    held_on: Mapped[date] = mapped_column(Date, nullable=False)
    title: Mapped[str] = mapped_column(String(TITLE_MAX), nullable=False)
    minutes: Mapped[str] = mapped_column(Text, nullable=False)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()

    area = relationship("Area")
    recorded_by = relationship("User")
    units = relationship("Unit", secondary=meeting_unit, order_by="Unit.name")
    items: Mapped[list["ServiceItem"]] = relationship(
        back_populates="meeting", order_by="ServiceItem.id", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return f"{self.held_on} {self.title}"


class ServiceItem(db.Model):
    """A service item (服务事项) agreed at a joint meeting, owned by a unit or a grid, due by a date."""

    __tablename__ = "service_item"
    __table_args__ = (
        choice_check("status", [s.value for s in ServiceItemStatus]),
        CheckConstraint(
            "(unit_id IS NOT NULL AND grid_code IS NULL) OR (unit_id IS NULL AND grid_code IS NOT NULL)",
            name="one_owner",
        ),
        CheckConstraint("status = 'open' OR closed_at IS NOT NULL", name="closed_has_time"),
        Index("ix_service_item_status_due_on", "status", "due_on"),
    )
    scope_column_name = "area_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("joint_meeting.id", ondelete="CASCADE"), index=True, nullable=False
    )
    title: Mapped[str] = mapped_column(String(TITLE_MAX), nullable=False)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    grid_code: Mapped[str | None] = _area_code_column()
    area_code: Mapped[str] = _area_code_column(nullable=False)  # the owner's grid, or the unit's community
    due_on: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default=ServiceItemStatus.OPEN)
    note: Mapped[str | None] = mapped_column(Text)  # what was done, or why it was dropped
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)

    meeting: Mapped[JointMeeting] = relationship(back_populates="items")
    unit = relationship("Unit")
    grid = relationship("Area", foreign_keys=[grid_code])
    closed_by = relationship("User")

    @property
    def owner_name(self) -> str:
        if self.unit is not None:
            return self.unit.name
        return self.grid.short_name if self.grid is not None else (self.grid_code or "")

    def __str__(self) -> str:
        return self.title

"""Events (事件, docs/workflows.md#events): the event, its history, department dispatches, supervisions and campaigns."""

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    case,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from app.extensions import db
from app.models.base import created_at_column, grid_code_column, utcnow
from app.models.choices import (
    DispatchStatus,
    EventAction,
    EventLevel,
    EventSource,
    EventStatus,
    Rating,
    SlaDeadline,
    choice_check,
)

TITLE_MAX = 100
DESCRIPTION_MAX = 2000
LOCATION_MAX = 200
NOTE_MAX = 1000
ACTING_FOR_MAX = 100
EXTERNAL_REF_MAX = 64

# the area-code length of the handler's scope at each level (departments work for the street that whistled)
LEVEL_CODE_LENGTH = {
    EventLevel.GRID: 15,
    EventLevel.COMMUNITY: 12,
    EventLevel.STREET: 9,
    EventLevel.DEPARTMENT: 9,
    EventLevel.DISTRICT: 6,
}


class Campaign(db.Model):
    """A special-governance campaign (专项治理): events of a recurring problem grouped for a period."""

    __tablename__ = "campaign"
    __table_args__ = (CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="period_ordered"),)
    scope_column_name = "area_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    matter_id: Mapped[int | None] = mapped_column(ForeignKey("matter.id"), index=True)
    area_code: Mapped[str] = mapped_column(
        String(15), ForeignKey("area.code", onupdate="CASCADE"), index=True, nullable=False
    )
    starts_on: Mapped[date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[date | None] = mapped_column(Date)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()

    matter = relationship("Matter")
    area = relationship("Area")

    def __str__(self) -> str:
        return self.name


class Event(db.Model):
    """A reported problem, from report through escalation, dispatch and resolution to callback and archive.

    `status` and `level` only ever change through app.services.events, by conditional UPDATEs, so two
    concurrent actors cannot both win one transition.
    """

    __tablename__ = "event"
    __table_args__ = (
        choice_check("status", [s.value for s in EventStatus]),
        choice_check("level", [lv.value for lv in EventLevel]),
        choice_check("source", [s.value for s in EventSource]),
        CheckConstraint("score IS NULL OR (score >= 1 AND score <= 5)", name="score_range"),
        CheckConstraint("status != 'archived' OR score IS NOT NULL", name="archived_has_score"),
        # the sweep's candidates: open events past a deadline, not yet flagged
        Index("ix_event_status_respond_by", "status", "respond_by"),
        Index("ix_event_status_resolve_by", "status", "resolve_by"),
        Index("ix_event_replied_at_reply_by", "replied_at", "reply_by"),
        # queues per level and scope
        Index("ix_event_level_status", "level", "status"),
    )
    scope_column_name = "grid_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matter.id"), index=True, nullable=False)
    grid_code: Mapped[str] = grid_code_column()
    location_text: Mapped[str | None] = mapped_column(String(LOCATION_MAX))
    source: Mapped[str] = mapped_column(String(12), nullable=False)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True, nullable=False)
    # the person a grid worker reports for (帮办代办): a name, or "resident:<id>" of the census record
    acting_for: Mapped[str | None] = mapped_column(String(ACTING_FOR_MAX))
    # the 12345 hotline's ticket id (its Idempotency-Key); NULLs do not collide
    external_ref: Mapped[str | None] = mapped_column(String(EXTERNAL_REF_MAX), unique=True)
    level: Mapped[str] = mapped_column(String(12), nullable=False, default=EventLevel.GRID)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default=EventStatus.REPORTED, index=True)
    major: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaign.id", ondelete="SET NULL"), index=True
    )
    resolution_note: Mapped[str | None] = mapped_column(Text)
    score: Mapped[int | None] = mapped_column(Integer)
    # SLA, from the matter's policy at report time
    respond_by: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    reply_by: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    resolve_by: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    respond_breached: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    reply_breached: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    resolve_breached: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = created_at_column()
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    replied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    # the deadline the event races now, for sorting queues: respond until someone accepts it, then resolve
    due_by: Mapped[datetime] = column_property(
        case((status == EventStatus.REPORTED.value, respond_by), else_=resolve_by)
    )

    matter = relationship("Matter")
    grid = relationship("Area")
    reporter = relationship("User")
    campaign: Mapped[Campaign | None] = relationship()
    steps: Mapped[list["EventStep"]] = relationship(
        back_populates="event", order_by="EventStep.id", cascade="all, delete-orphan"
    )
    dispatches: Mapped[list["Dispatch"]] = relationship(
        back_populates="event", order_by="Dispatch.id", cascade="all, delete-orphan"
    )
    supervisions: Mapped[list["Supervision"]] = relationship(
        back_populates="event", order_by="Supervision.id", cascade="all, delete-orphan"
    )

    @property
    def handler_area_code(self) -> str:
        """The area whose staff handle the event at its present level (the district's code at district level)."""
        return self.grid_code[: LEVEL_CODE_LENGTH[EventLevel(self.level)]]

    def __str__(self) -> str:
        return self.title


class EventStep(db.Model):
    """One step of an event: who did what, from which status and level to which, when and why."""

    __tablename__ = "event_step"
    __table_args__ = (choice_check("action", [a.value for a in EventAction]),)
    scope_column_name = None  # read through its event

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("event.id", ondelete="CASCADE"), index=True, nullable=False
    )
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id"), index=True
    )  # None: the system (sweep)
    action: Mapped[str] = mapped_column(String(20), nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12), nullable=False)
    from_level: Mapped[str | None] = mapped_column(String(12))
    to_level: Mapped[str] = mapped_column(String(12), nullable=False)
    # the department concerned (a dispatch's answer)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)

    event: Mapped[Event] = relationship(back_populates="steps")
    actor = relationship("User")
    department = relationship("Department")


class Dispatch(db.Model):
    """An event whistled to one department (吹哨): pending until it answers (报到), done when its part is done."""

    __tablename__ = "dispatch"
    __table_args__ = (
        choice_check("status", [s.value for s in DispatchStatus]),
        UniqueConstraint("event_id", "department_id"),
        # a department's queue
        Index("ix_dispatch_department_id_status", "department_id", "status"),
    )
    scope_column_name = None  # read through its event

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("event.id", ondelete="CASCADE"), index=True, nullable=False
    )
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default=DispatchStatus.PENDING)
    dispatched_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    dispatched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    # the latest answer; every answer is also an EventStep with its time
    answer_note: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    event: Mapped[Event] = relationship(back_populates="dispatches")
    department = relationship("Department")
    dispatched_by = relationship("User")


class Supervision(db.Model):
    """A breached deadline (督办): which one, the level notified; resolved once the late step is taken.

    One row per (event, deadline): the sweep's guard against doing anything twice.
    """

    __tablename__ = "supervision"
    __table_args__ = (
        choice_check("deadline", [d.value for d in SlaDeadline]),
        choice_check("level", [lv.value for lv in EventLevel]),
        choice_check("level_notified", [lv.value for lv in EventLevel]),
        UniqueConstraint("event_id", "deadline"),
        Index("ix_supervision_level_notified_resolved_at", "level_notified", "resolved_at"),
    )
    scope_column_name = "grid_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), nullable=False)
    deadline: Mapped[str] = mapped_column(String(10), nullable=False)
    grid_code: Mapped[str] = grid_code_column()
    level: Mapped[str] = mapped_column(String(12), nullable=False)  # the event's level when it was breached
    level_notified: Mapped[str] = mapped_column(String(12), nullable=False)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    event: Mapped[Event] = relationship(back_populates="supervisions")
    grid = relationship("Area", viewonly=True)

    @property
    def notified_area_code(self) -> str:
        """The area whose staff were notified."""
        return self.grid_code[: LEVEL_CODE_LENGTH[EventLevel(self.level_notified)]]


class EventFeedback(db.Model):
    """The reporter's say on a resolved report (居民评价): fixed or not, 好/中/差 and a comment.

    One per resolution (`round`: the how-manyeth resolve it answers), so a second answer to the same one is
    refused by the database as well; a report resolved again after "not fixed" is asked again.
    """

    __tablename__ = "event_feedback"
    __table_args__ = (
        UniqueConstraint("event_id", "round"),
        choice_check("rating", [r.value for r in Rating]),
    )
    scope_column_name = None  # read through its event

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("event.id", ondelete="CASCADE"), index=True, nullable=False
    )
    round: Mapped[int] = mapped_column(Integer, nullable=False)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True, nullable=False)
    fixed: Mapped[bool] = mapped_column(Boolean, nullable=False)
    rating: Mapped[str] = mapped_column(String(10), nullable=False)
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False, index=True)

    event: Mapped[Event] = relationship()
    reporter = relationship("User")

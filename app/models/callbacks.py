"""Callbacks (回访): the follow-up call to the requester after a wish is confirmed (later, an event verified)."""

from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import created_at_column, grid_code_column
from app.models.choices import Labelled, choice_check


class CallbackSubject(StrEnum):
    WISH = "wish"
    EVENT = "event"


class CallbackStatus(Labelled):
    DUE = "due", _l("Open")  # to be called (from due_at on)
    DONE = "done", _l("Recorded")


class CallbackOutcome(Labelled):
    SATISFIED = "satisfied", _l("Satisfied")
    UNSATISFIED = "unsatisfied", _l("Unsatisfied")


CALLBACK_STATUS_LABELS = CallbackStatus.labels()
CALLBACK_OUTCOME_LABELS = CallbackOutcome.labels()


class CallbackTask(db.Model):
    """One callback to make: about which wish (or event), in which grid, for whom, by when, and how it went.

    A subject gets one task each time it is confirmed (`cycle` 1, 2 … — a wish reopened after an
    unsatisfied callback and confirmed again is called back again); at most one of them is open.
    """

    __tablename__ = "callback_task"
    __table_args__ = (
        choice_check("subject_type", [s.value for s in CallbackSubject]),
        choice_check("status", [s.value for s in CallbackStatus]),
        choice_check("outcome", [o.value for o in CallbackOutcome]),
        UniqueConstraint("subject_type", "subject_id", "cycle"),
        CheckConstraint("subject_type != 'wish' OR wish_id = subject_id", name="wish_subject"),
        CheckConstraint(
            "(status = 'due' AND outcome IS NULL AND recorded_at IS NULL)"
            " OR (status = 'done' AND outcome IS NOT NULL AND recorded_at IS NOT NULL)",
            name="recorded_when_done",
        ),
        CheckConstraint(
            "outcome IS NULL OR outcome != 'unsatisfied' OR note IS NOT NULL", name="unsatisfied_has_note"
        ),
        # the list: open tasks soonest due first; the reminder sweep
        Index("ix_callback_task_status_due_at", "status", "due_at"),
        Index(
            "uq_callback_task_open_subject",
            "subject_type",
            "subject_id",
            unique=True,
            sqlite_where=text("status = 'due'"),
            postgresql_where=text("status = 'due'"),
        ),
    )
    scope_column_name = "grid_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(10), nullable=False)
    subject_id: Mapped[int] = mapped_column(Integer, nullable=False)
    cycle: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    wish_id: Mapped[int | None] = mapped_column(ForeignKey("wish.id", ondelete="CASCADE"), index=True)
    grid_code: Mapped[str] = grid_code_column()
    # the grid worker of the grid; None: any staff whose scope covers the grid
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default=CallbackStatus.DUE)
    outcome: Mapped[str | None] = mapped_column(String(12))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # set by the reminder sweep once the task has fallen due
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()

    wish = relationship("Wish")
    # an event subject has no foreign key column (subject_id serves both kinds): read-only, by join condition
    event = relationship(
        "Event",
        primaryjoin="and_(CallbackTask.subject_type == 'event', "
        "foreign(CallbackTask.subject_id) == Event.id)",
        viewonly=True,
    )
    grid = relationship("Area")
    assignee = relationship("User", foreign_keys=[assignee_id])
    recorded_by = relationship("User", foreign_keys=[recorded_by_id])

    def __str__(self) -> str:
        return f"{self.subject_type} #{self.subject_id} ({self.cycle})"

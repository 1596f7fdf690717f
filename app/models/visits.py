"""责任田 and the records of 双报到 at work: who answers for which household, household visits, unit activities."""

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import created_at_column, grid_code_column
from app.models.choices import Labelled, choice_check

NOTE_MAX = 2000
TITLE_MAX = 200


class ActivityKind(Labelled):
    """What a check-in unit did in its community (每月至少下沉社区一次)."""

    PARTY_DAY = "party_day", _l("Theme party day")  # 主题党日
    CARING_VISIT = "caring_visit", _l("Caring visits")  # 走访慰问
    CIVILITY = "civility", _l("Civility campaign")  # 文明创建
    SAFETY_CHECK = "safety_check", _l("Safety hazard check")  # 安全隐患排查
    OTHER = "other", _l("Other activity")


ACTIVITY_KIND_LABELS = ActivityKind.labels()


class VisitChannel(Labelled):
    """Where a visit or an activity was recorded: the audit log's channels, and the migrated hand-typed dates."""

    SITE = "site", _l("Through the site")
    API = "api", _l("Through the API")
    ADMIN = "admin", _l("Through the back office")
    JOB = "job", _l("Through a job")
    CLI = "cli", _l("Through the command line")
    MIGRATED = "migrated", _l("Migrated from a typed date")  # the dates staff typed before records existed


class HouseholdAssignment(db.Model):
    """A household in a member's 责任田, from `starts_on` until it is ended (then `ended_at` is set).

    A household has at most one responsible member at a time (a partial unique index on the open rows);
    reassigning ends the open row and opens another, so the history stays.
    """

    __tablename__ = "household_assignment"
    __table_args__ = (
        Index(
            "uq_household_assignment_open",
            "household_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
        Index("ix_household_assignment_member_open", "member_id", "ended_at"),
    )
    scope_column_name = "grid_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), nullable=False)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), nullable=False)
    grid_code: Mapped[str] = grid_code_column()  # the household's, for scoping
    starts_on: Mapped[date] = mapped_column(
        Date, nullable=False
    )  # district date: the first visit is due 14 days on
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = created_at_column()

    household = relationship("Household")
    member = relationship("Member")
    grid = relationship("Area")
    assigned_by = relationship("User")

    def __str__(self) -> str:
        return f"{self.household} → {self.member}"


class HouseholdVisit(db.Model):
    """A member's visit to a household of their 责任田 (入户走访), with what they found."""

    __tablename__ = "household_visit"
    __table_args__ = (
        choice_check("channel", [c.value for c in VisitChannel]),
        Index("ix_household_visit_household_day", "household_id", "visited_on"),
        Index("ix_household_visit_member_day", "member_id", "visited_on"),
    )
    scope_column_name = "grid_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), nullable=False)
    # None only for a visit migrated from a member's hand-typed date, whose household nobody recorded
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"))
    grid_code: Mapped[str] = grid_code_column()  # the household's (the member's, when none), for scoping
    visited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    visited_on: Mapped[date] = mapped_column(Date, nullable=False)  # visited_at's day in the district
    note: Mapped[str | None] = mapped_column(Text)
    findings: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(10), nullable=False)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = created_at_column()

    member = relationship("Member")
    household = relationship("Household")
    grid = relationship("Area")
    recorded_by = relationship("User")

    def __str__(self) -> str:
        return f"{self.member} {self.visited_on.isoformat() if self.visited_on else ''}".strip()


class UnitActivity(db.Model):
    """An activity a check-in unit held in its community (下沉社区): a theme party day, caring visits …"""

    __tablename__ = "unit_activity"
    __table_args__ = (
        choice_check("kind", [k.value for k in ActivityKind]),
        choice_check("channel", [c.value for c in VisitChannel]),
        CheckConstraint("participants IS NULL OR participants >= 0", name="participants_not_negative"),
        Index("ix_unit_activity_unit_day", "unit_id", "held_on"),
    )
    scope_column_name = "community_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), nullable=False)
    community_code: Mapped[str] = mapped_column(
        String(15), ForeignKey("area.code", onupdate="CASCADE"), nullable=False, index=True
    )
    held_on: Mapped[date] = mapped_column(Date, nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    title: Mapped[str] = mapped_column(String(TITLE_MAX), nullable=False)
    participants: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(10), nullable=False)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = created_at_column()

    unit = relationship("Unit")
    community = relationship("Area")
    recorded_by = relationship("User")

    def __str__(self) -> str:
        return self.title

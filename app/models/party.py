"""The vanguard and service circles: party organisations, check-in units, pledges, members (teams: teams.py)."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import created_at_column, grid_code_column
from app.models.choices import (
    PartyOrgLevel,
    PledgeStatus,
    choice_check,
)


def _area_code_column(**kwargs) -> Mapped[str]:
    return mapped_column(String(15), db.ForeignKey("area.code", onupdate="CASCADE"), index=True, **kwargs)


class PartyOrg(db.Model):
    """A party organisation mirroring an area: street committee → … → building group."""

    __tablename__ = "party_org"
    __table_args__ = (choice_check("level", [lv.value for lv in PartyOrgLevel]),)
    scope_column_name = "area_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    level: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("party_org.id"), index=True)
    area_code: Mapped[str] = _area_code_column(nullable=False)
    secretary: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = created_at_column()

    parent: Mapped["PartyOrg | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["PartyOrg"]] = relationship(back_populates="parent")
    area = relationship("Area")

    def __str__(self) -> str:
        return self.name


class Unit(db.Model):
    """A check-in unit (报到单位): an organisation's party branch paired with a community."""

    __tablename__ = "unit"
    scope_column_name = "community_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    branch_name: Mapped[str | None] = mapped_column(String(100))
    community_code: Mapped[str] = _area_code_column(nullable=False)
    agreement_date: Mapped[date | None] = mapped_column(Date)
    contact_name: Mapped[str | None] = mapped_column(String(50))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    # the contact's own login, when they have one: they record the unit's activities (app/services/activities.py)
    contact_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    created_at: Mapped[datetime] = created_at_column()

    community = relationship("Area")
    contact_user = relationship("User")
    pledges: Mapped[list["Pledge"]] = relationship(back_populates="unit")
    members: Mapped[list["Member"]] = relationship(back_populates="unit")
    coverage = relationship(
        "UnitCoverage",
        back_populates="unit",
        passive_deletes=True,
        order_by="(UnitCoverage.grid_code, UnitCoverage.since)",
    )

    def __str__(self) -> str:
        return self.name


class Member(db.Model):
    """A checked-in party member (报到党员) with duty roles (五大员) and service hours."""

    __tablename__ = "member"
    __table_args__ = (CheckConstraint("service_hours >= 0", name="service_hours_not_negative"),)
    scope_column_name = "grid_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), unique=True)
    name: Mapped[str] = mapped_column(String(50), nullable=False, index=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    grid_code: Mapped[str] = grid_code_column()
    duties: Mapped[str | None] = mapped_column(String(120))  # comma-separated keys of MEMBER_DUTY_LABELS
    checked_in_on: Mapped[date | None] = mapped_column(Date)
    service_hours: Mapped[Decimal] = mapped_column(Numeric(8, 1), default=Decimal(0), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    created_at: Mapped[datetime] = created_at_column()

    user = relationship("User")
    unit: Mapped[Unit | None] = relationship(back_populates="members")
    grid = relationship("Area")
    pledges: Mapped[list["Pledge"]] = relationship(back_populates="member")

    def __str__(self) -> str:
        return self.name


class Pledge(db.Model):
    """A pledge (承诺事项) made by a unit or a member, with its period and evidence."""

    __tablename__ = "pledge"
    __table_args__ = (
        choice_check("status", [s.value for s in PledgeStatus]),
        CheckConstraint(
            "(unit_id IS NOT NULL AND member_id IS NULL) OR (unit_id IS NULL AND member_id IS NOT NULL)",
            name="one_owner",
        ),
        CheckConstraint(
            "period_end IS NULL OR period_start IS NULL OR period_end >= period_start", name="period_order"
        ),
    )
    scope_column_name = "area_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"), index=True)
    area_code: Mapped[str] = _area_code_column(nullable=False)  # copied from the owner, for scoping
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    content: Mapped[str | None] = mapped_column(Text)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default=PledgeStatus.PLANNED, nullable=False, index=True)
    evidence: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()

    unit: Mapped[Unit | None] = relationship(back_populates="pledges")
    member: Mapped[Member | None] = relationship(back_populates="pledges")

    def owner_area_code(self) -> str | None:
        """The area the pledge belongs to: its unit's community or its member's grid."""
        if self.unit is not None:
            return self.unit.community_code
        if self.member is not None:
            return self.member.grid_code
        return None

    def __str__(self) -> str:
        return self.title

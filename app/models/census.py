"""People, places and things recorded under a grid (人、地、物、组织)."""

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import created_at_column, grid_code_column
from app.models.choices import (
    FACILITY_CATEGORY_LABELS,
    CareTier,
    FacilityStatus,
    Gender,
    ResidenceType,
    choice_check,
)


def prefix_search_index(table: str, column: str) -> Index:
    """PostgreSQL's index for the back office's "starts with" search (LIKE 'term%'), whatever the collation.

    text_pattern_ops serves LIKE prefixes; the plain index beside it keeps serving ORDER BY. SQLite
    answers the same search with a range on the plain index (admin/search.py), so there this
    index is a partial one that holds no rows and costs nothing.
    """
    return Index(
        f"ix_{table}_{column}_prefix",
        column,
        postgresql_ops={column: "text_pattern_ops"},
        sqlite_where=text("0"),
    )


class Compound(db.Model):
    """A residential compound (小区), recorded under its main grid."""

    __tablename__ = "compound"
    scope_column_name = "grid_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_code: Mapped[str] = grid_code_column()
    name: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    property_company: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = created_at_column()

    grid = relationship("Area")
    buildings: Mapped[list["Building"]] = relationship(back_populates="compound")

    def __str__(self) -> str:
        return self.name


class Building(db.Model):
    """A building (楼栋)."""

    __tablename__ = "building"
    __table_args__ = (UniqueConstraint("grid_code", "name", name="uq_building_grid_name"),)
    scope_column_name = "grid_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_code: Mapped[str] = grid_code_column()
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compound.id"), index=True)
    name: Mapped[str] = mapped_column(String(50), nullable=False, index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    floors: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_at_column()

    grid = relationship("Area")
    compound: Mapped[Compound | None] = relationship(back_populates="buildings")
    rooms: Mapped[list["Room"]] = relationship(back_populates="building")

    def __str__(self) -> str:
        prefix = f"{self.compound.name} " if self.compound else ""
        return f"{prefix}{self.name}"


class Room(db.Model):
    """A room or flat (房间) in a building."""

    __tablename__ = "room"
    __table_args__ = (
        UniqueConstraint("building_id", "number", name="uq_room_building_number"),
        prefix_search_index("room", "number"),
    )
    scope_column_name = "grid_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_code: Mapped[str] = grid_code_column()
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id"), nullable=False, index=True)
    number: Mapped[str] = mapped_column(String(20), nullable=False, index=True)  # search and sort at scale
    floor: Mapped[int | None] = mapped_column(Integer)
    area_m2: Mapped[float | None] = mapped_column(Numeric(8, 2))
    usage: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = created_at_column()

    grid = relationship("Area")
    building: Mapped[Building] = relationship(back_populates="rooms")

    def __str__(self) -> str:
        return f"{self.building} {self.number}" if self.building else self.number


class Household(db.Model):
    """A household (户), with its care tier (放心户/暖心户/连心户)."""

    __tablename__ = "household"
    __table_args__ = (
        choice_check("care_tier", [c.value for c in CareTier]),
        prefix_search_index("household", "number"),
        prefix_search_index("household", "head_name"),
    )
    scope_column_name = "grid_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_code: Mapped[str] = grid_code_column()
    room_id: Mapped[int | None] = mapped_column(ForeignKey("room.id"), index=True)
    number: Mapped[str] = mapped_column(String(30), unique=True, nullable=False)
    head_name: Mapped[str | None] = mapped_column(String(50), index=True)
    care_tier: Mapped[str] = mapped_column(String(10), default=CareTier.ASSURED, nullable=False, index=True)
    is_member_household: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False, index=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()

    grid = relationship("Area")
    room: Mapped[Room | None] = relationship()
    residents: Mapped[list["Resident"]] = relationship(back_populates="household")

    def __str__(self) -> str:
        return f"{self.number} {self.head_name or ''}".strip()


class Resident(db.Model):
    """A resident (居民); ID number and phone are personal data, masked when shown."""

    __tablename__ = "resident"
    __table_args__ = (
        choice_check("gender", [g.value for g in Gender]),
        choice_check("residence_type", [r.value for r in ResidenceType]),
        prefix_search_index("resident", "name"),
    )
    scope_column_name = "grid_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_code: Mapped[str] = grid_code_column()
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), unique=True)
    name: Mapped[str] = mapped_column(String(50), nullable=False, index=True)
    gender: Mapped[str | None] = mapped_column(String(10))
    id_number: Mapped[str | None] = mapped_column(String(18), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    birth_date: Mapped[date | None] = mapped_column(Date, index=True)  # the list sorts by it
    ethnicity: Mapped[str | None] = mapped_column(String(20))
    residence_type: Mapped[str] = mapped_column(String(12), default=ResidenceType.REGISTERED, nullable=False)
    relation_to_head: Mapped[str | None] = mapped_column(String(20))
    tags: Mapped[str | None] = mapped_column(String(200))  # comma-separated keys of RESIDENT_TAG_LABELS
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()

    grid = relationship("Area")
    household: Mapped[Household | None] = relationship(back_populates="residents")
    user = relationship("User")

    def __str__(self) -> str:
        return self.name


class Enterprise(db.Model):
    """An enterprise or shop (企业) in a grid."""

    __tablename__ = "enterprise"
    scope_column_name = "grid_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_code: Mapped[str] = grid_code_column()
    name: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    legal_person: Mapped[str | None] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(20))
    industry: Mapped[str | None] = mapped_column(String(50), index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    employees: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_at_column()

    grid = relationship("Area")

    def __str__(self) -> str:
        return self.name


class Facility(db.Model):
    """A facility or city component (部件): manhole, street light, hydrant …"""

    __tablename__ = "facility"
    __table_args__ = (
        choice_check("status", [s.value for s in FacilityStatus]),
        choice_check("category", list(FACILITY_CATEGORY_LABELS)),
    )
    scope_column_name = "grid_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_code: Mapped[str] = grid_code_column()
    code: Mapped[str] = mapped_column(String(30), unique=True, nullable=False)
    category: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    location: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default=FacilityStatus.NORMAL, nullable=False, index=True)
    created_at: Mapped[datetime] = created_at_column()

    grid = relationship("Area")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

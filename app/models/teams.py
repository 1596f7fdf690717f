"""The grid teams: the people who serve (`TeamPerson`) and the places they hold in grids (`GridRole`)."""

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, select, text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import created_at_column, grid_code_column
from app.models.choices import SINGLE_GRID_ROLES, GridRoleKind, choice_check


class TeamPerson(db.Model):
    """One person of the grid teams, recorded once whatever the number of grids they serve: a police deputy
    or a legal adviser serving four grids is one row, listed on each grid through their places."""

    __tablename__ = "team_person"
    scope_column_name = "area_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), nullable=False, index=True)
    phone: Mapped[str | None] = mapped_column(String(20))  # the work phone the district publishes
    organisation: Mapped[str | None] = mapped_column(String(100))  # 渭阳派出所, a law firm, a unit …
    # the area that manages the person (their street for a deputy serving several communities): scoping
    area_code: Mapped[str] = mapped_column(
        String(15), ForeignKey("area.code", onupdate="CASCADE"), index=True, nullable=False
    )
    # the account that acts (and signs) for the person's places; a checked-in member's own profile
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), unique=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"), unique=True)
    created_at: Mapped[datetime] = created_at_column()

    area = relationship("Area")
    user = relationship("User")
    member = relationship("Member")
    places: Mapped[list["GridRole"]] = relationship(back_populates="person", order_by="GridRole.grid_code")

    def __str__(self) -> str:
        return f"{self.name}（{self.organisation}）" if self.organisation else self.name


_single_roles = ", ".join(f"'{r.value}'" for r in SINGLE_GRID_ROLES)


class GridRole(db.Model):
    """A place in a grid's team — the five-for-one (五包一), grid workers, building heads, red stewards — held
    by one person. A grid has one vanguard captain and one grid leader, any number of the others."""

    __tablename__ = "grid_role"
    __table_args__ = (
        choice_check("role", [r.value for r in GridRoleKind]),
        Index(
            "uq_grid_role_single_per_grid",
            "grid_code",
            "role",
            unique=True,
            sqlite_where=text(f"role IN ({_single_roles})"),
            postgresql_where=text(f"role IN ({_single_roles})"),
        ),
        Index("uq_grid_role_place", "grid_code", "role", "person_id", unique=True),
    )
    scope_column_name = "grid_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_code: Mapped[str] = grid_code_column()
    role: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("team_person.id"), index=True, nullable=False)
    duties: Mapped[str | None] = mapped_column(String(200))
    since: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = created_at_column()

    grid = relationship("Area")
    person: Mapped[TeamPerson] = relationship(back_populates="places")
    # the person's account and member profile, read through the person
    user = relationship(
        "User",
        secondary="team_person",
        primaryjoin="GridRole.person_id == TeamPerson.id",
        secondaryjoin="TeamPerson.user_id == User.id",
        viewonly=True,
        uselist=False,
    )
    member = relationship(
        "Member",
        secondary="team_person",
        primaryjoin="GridRole.person_id == TeamPerson.id",
        secondaryjoin="TeamPerson.member_id == Member.id",
        viewonly=True,
        uselist=False,
    )

    @property
    def name(self) -> str:
        return self.person.name if self.person is not None else ""

    @property
    def phone(self) -> str | None:
        return self.person.phone if self.person is not None else None

    @hybrid_property
    def user_id(self) -> int | None:
        return self.person.user_id if self.person is not None else None

    @user_id.inplace.expression
    @classmethod
    def _user_id_expression(cls):
        return select(TeamPerson.user_id).where(TeamPerson.id == cls.person_id).scalar_subquery()

    @hybrid_property
    def member_id(self) -> int | None:
        return self.person.member_id if self.person is not None else None

    @member_id.inplace.expression
    @classmethod
    def _member_id_expression(cls):
        return select(TeamPerson.member_id).where(TeamPerson.id == cls.person_id).scalar_subquery()

    def __str__(self) -> str:
        return self.name

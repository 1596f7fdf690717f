"""Functional departments, the matter list (事项清单) and SLA policies."""

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import created_at_column
from app.models.choices import MatterCategory, choice_check


class Department(db.Model):
    """A functional department (职能部门) that events can be dispatched to."""

    __tablename__ = "department"
    scope_column_name = None  # district-wide reference data

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    phone: Mapped[str | None] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    created_at: Mapped[datetime] = created_at_column()

    def __str__(self) -> str:
        return self.name


class SlaPolicy(db.Model):
    """Deadlines for an event, in minutes from its report: respond, reply, resolve."""

    __tablename__ = "sla_policy"
    __table_args__ = (
        CheckConstraint("respond_minutes > 0 AND reply_minutes > 0 AND resolve_minutes > 0", name="positive"),
        CheckConstraint(
            "respond_minutes <= reply_minutes AND reply_minutes <= resolve_minutes", name="ordered"
        ),
    )
    scope_column_name = None

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True, nullable=False)
    respond_minutes: Mapped[int] = mapped_column(Integer, default=15, nullable=False)
    reply_minutes: Mapped[int] = mapped_column(Integer, default=30, nullable=False)
    resolve_minutes: Mapped[int] = mapped_column(Integer, default=1440, nullable=False)

    def __str__(self) -> str:
        return f"{self.name} ({self.respond_minutes}/{self.reply_minutes}/{self.resolve_minutes})"


class Matter(db.Model):
    """An entry of the matter list: a kind of problem, its department and its SLA."""

    __tablename__ = "matter"
    __table_args__ = (choice_check("category", [c.value for c in MatterCategory]),)
    scope_column_name = None

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    category: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    admitted: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False, index=True)
    sla_policy_id: Mapped[int | None] = mapped_column(ForeignKey("sla_policy.id"), index=True)
    created_at: Mapped[datetime] = created_at_column()

    department: Mapped[Department | None] = relationship()
    sla_policy: Mapped[SlaPolicy | None] = relationship()

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

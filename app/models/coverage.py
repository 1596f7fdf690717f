"""Coverage (包抓): a check-in unit answers for grids of its community over a period."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import created_at_column, grid_code_column


class UnitCoverage(db.Model):
    """A unit covering one grid from `since` to `until` (both days inclusive, in the district's time zone;
    no `until`: still covering). A unit covers several grids with one row each."""

    __tablename__ = "unit_coverage"
    __table_args__ = (CheckConstraint("until IS NULL OR until >= since", name="period_order"),)
    scope_column_name = "grid_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("unit.id", ondelete="CASCADE"), index=True, nullable=False
    )
    grid_code: Mapped[str] = grid_code_column()
    since: Mapped[date] = mapped_column(Date, nullable=False)
    until: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_at_column()

    unit = relationship("Unit", back_populates="coverage")
    grid = relationship("Area")

    def active_on(self, day: date) -> bool:
        return self.since <= day and (self.until is None or self.until >= day)

    def __str__(self) -> str:
        return f"{self.unit} → {self.grid_code}"

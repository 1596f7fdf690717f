"""The area tree: district → street → community → grid."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import created_at_column
from app.models.choices import AREA_LEVEL_LABELS, AreaLevel, choice_check


class Area(db.Model):
    """A node of the area tree, identified by its hierarchical code."""

    __tablename__ = "area"
    __table_args__ = (
        choice_check("level", [lv.value for lv in AreaLevel]),
        CheckConstraint(
            "(level = 'district' AND length(code) = 6) OR (level = 'street' AND length(code) = 9)"
            " OR (level = 'community' AND length(code) = 12) OR (level = 'grid' AND length(code) = 15)",
            name="code_length_matches_level",
        ),
    )
    scope_column_name = "code"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(15), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    level: Mapped[str] = mapped_column(String(10), nullable=False, index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"), index=True)
    supervision_phone: Mapped[str | None] = mapped_column(String(20))
    geojson: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()

    parent: Mapped["Area | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["Area"]] = relationship(back_populates="parent", order_by="Area.code")

    @property
    def level_label(self):
        return AREA_LEVEL_LABELS.get(self.level, self.level)

    @property
    def full_name(self) -> str:
        """Names from the street down, e.g. 渭阳街道 / 文汇社区 / 第三网格."""
        names, node = [], self
        while node is not None and node.level != AreaLevel.DISTRICT:
            names.append(node.name)
            node = node.parent
        return " / ".join(reversed(names)) or self.name

    @property
    def short_name(self) -> str:
        """A grid with its community (文汇社区第一网格); other levels by their own name."""
        if self.level == AreaLevel.GRID and self.parent is not None:
            return self.parent.name + self.name
        return self.name

    def __str__(self) -> str:
        return f"{self.full_name} ({self.code})"

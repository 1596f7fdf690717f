"""Work badges (持证上岗) and the printouts of a grid's station: its wall poster and its badges as PDFs."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import created_at_column, grid_code_column, utcnow
from app.models.choices import choice_check


class BadgeStatus(StrEnum):
    VALID = "valid"  # the person holds the place the badge names
    REVOKED = "revoked"  # they left it (checked out, left the team) or staff withdrew it


class BadgeHolder(StrEnum):
    MEMBER = "member"  # a checked-in party member (报到党员)
    TEAM = "team"  # a place in the grid's team (五包一, grid worker …)


class Badge(db.Model):
    """A work badge: who wears it, in which role and grid, and whether it is still in force.

    What the badge says (name, role, grid, unit) is copied at issue, so the printed card and the
    public verification page tell the same story. One badge in force per member and per team place;
    the holder's foreign key is cleared if the member or place is deleted (the badge is revoked first).
    """

    __tablename__ = "badge"
    __table_args__ = (
        choice_check("status", [s.value for s in BadgeStatus]),
        choice_check("holder_kind", [h.value for h in BadgeHolder]),
        CheckConstraint("holder_kind = 'member' OR member_id IS NULL", name="member_badge_has_member"),
        CheckConstraint("holder_kind = 'team' OR grid_role_id IS NULL", name="team_badge_has_place"),
        CheckConstraint(
            "status = 'revoked' OR member_id IS NOT NULL OR grid_role_id IS NOT NULL", name="valid_has_holder"
        ),
        CheckConstraint("status != 'revoked' OR revoked_at IS NOT NULL", name="revoked_has_time"),
        Index(
            "uq_badge_member_in_force",
            "member_id",
            unique=True,
            sqlite_where=text("status = 'valid'"),
            postgresql_where=text("status = 'valid'"),
        ),
        Index(
            "uq_badge_place_in_force",
            "grid_role_id",
            unique=True,
            sqlite_where=text("status = 'valid'"),
            postgresql_where=text("status = 'valid'"),
        ),
    )
    scope_column_name = "grid_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(24), unique=True, nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default=BadgeStatus.VALID, index=True)
    holder_kind: Mapped[str] = mapped_column(String(10), nullable=False)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"), index=True)
    grid_role_id: Mapped[int | None] = mapped_column(
        ForeignKey("grid_role.id", ondelete="SET NULL"), index=True
    )
    grid_code: Mapped[str] = grid_code_column()
    holder_name: Mapped[str] = mapped_column(String(50), nullable=False)
    role_text: Mapped[str] = mapped_column(String(200), nullable=False)  # the role, or the member's duties
    unit_name: Mapped[str | None] = mapped_column(String(100))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    member = relationship("Member")
    grid_role = relationship("GridRole")
    grid = relationship("Area")
    issued_by = relationship("User", foreign_keys=[issued_by_id])
    revoked_by = relationship("User", foreign_keys=[revoked_by_id])

    def __str__(self) -> str:
        return self.serial


class PrintoutKind(StrEnum):
    POSTER = "poster"  # the station's A4 wall poster, with the QR code of its page
    BADGES = "badges"  # every badge in force in a grid, on A4 sheets to cut
    BADGE = "badge"  # one badge


class PrintoutStatus(StrEnum):
    PENDING = "pending"  # recorded; its job renders it
    READY = "ready"  # the PDF is stored


class Printout(db.Model):
    """A PDF a member of staff asked for, rendered by a job from the records as they are then."""

    __tablename__ = "printout"
    __table_args__ = (
        choice_check("kind", [k.value for k in PrintoutKind]),
        choice_check("status", [s.value for s in PrintoutStatus]),
        CheckConstraint("kind != 'badge' OR badge_id IS NOT NULL", name="badge_printout_has_badge"),
    )
    scope_column_name = "grid_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default=PrintoutStatus.PENDING)
    grid_code: Mapped[str] = grid_code_column()
    badge_id: Mapped[int | None] = mapped_column(ForeignKey("badge.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    pdf_path: Mapped[str | None] = mapped_column(String(200))  # relative to PRINTOUT_DIR
    created_at: Mapped[datetime] = created_at_column()
    rendered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    badge = relationship("Badge")
    grid = relationship("Area")
    requested_by = relationship("User")

    def __str__(self) -> str:
        return f"{self.kind} {self.grid_code}"

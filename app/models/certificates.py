"""Certificates: one service certificate per confirmed wish, and honour certificates issued in batches."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
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
from app.models.base import created_at_column, grid_code_column, utcnow
from app.models.choices import choice_check


class CertificateKind(StrEnum):
    SERVICE = "service"  # 志愿服务证明: one confirmed wish
    HONOUR = "honour"  # 荣誉证书: a member's hours over a period, issued in a batch
    CALLUP = "callup"  # 应急报到证明: an emergency call-up the member arrived for, closed with hours


class CertificateStatus(StrEnum):
    PENDING = "pending"  # recorded; its PDF is being rendered
    READY = "ready"  # the PDF is stored and the serial verifies
    REVOKED = "revoked"  # withdrawn by staff (or its wish was reopened): verifies as revoked


class HonourBatch(db.Model):
    """A run of honour certificates for the members of a unit or an area over a period.

    One batch per scope and period: starting the same batch again finds this row and adds only the
    certificates still missing. `done` counts the certificates already rendered (recomputed by each
    render job, so a job run twice does not count twice).
    """

    __tablename__ = "honour_batch"
    __table_args__ = (
        UniqueConstraint("scope_key", "period_start", "period_end", name="uq_honour_batch_scope_period"),
        CheckConstraint("period_end >= period_start", name="period_order"),
        CheckConstraint("done >= 0 AND total >= 0", name="counts_not_negative"),
    )
    scope_column_name = "area_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    # "area:<code>" (community, street or district) or "unit:<id>"
    scope_key: Mapped[str] = mapped_column(String(40), nullable=False)
    # the area itself, or the unit's community: who may see the batch
    area_code: Mapped[str] = mapped_column(
        String(15), ForeignKey("area.code", onupdate="CASCADE"), index=True, nullable=False
    )
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = created_at_column()
    last_run_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)

    area = relationship("Area")
    unit = relationship("Unit")
    requested_by = relationship("User")

    def __str__(self) -> str:
        return f"{self.scope_name} {self.period_start}–{self.period_end}"

    @property
    def scope_name(self) -> str:
        if self.unit is not None:
            return self.unit.name
        return self.area.name if self.area is not None else self.area_code


class Certificate(db.Model):
    """A certificate of a member's service: its serial, what it attests, and its PDF once rendered.

    What the document says (holder, subject, hours, issuer) is copied at issue, so the PDF and the
    public verification page keep telling the same story when records change later.
    """

    __tablename__ = "certificate"
    __table_args__ = (
        choice_check("kind", [k.value for k in CertificateKind]),
        choice_check("status", [s.value for s in CertificateStatus]),
        CheckConstraint(
            "(kind = 'service' AND wish_id IS NOT NULL) OR (kind = 'honour' AND batch_id IS NOT NULL"
            " AND period_start IS NOT NULL AND period_end IS NOT NULL)"
            " OR (kind = 'callup' AND callup_id IS NOT NULL)",
            name="kind_has_subject",
        ),
        CheckConstraint("status != 'revoked' OR revoked_at IS NOT NULL", name="revoked_has_time"),
        # one certificate in force per confirmed wish (a reopened wish's is revoked; its next confirmation issues anew)
        Index(
            "uq_certificate_wish_in_force",
            "wish_id",
            unique=True,
            sqlite_where=text("wish_id IS NOT NULL AND status != 'revoked'"),
            postgresql_where=text("wish_id IS NOT NULL AND status != 'revoked'"),
        ),
        # one honour certificate per member and batch: a second run of the batch adds none
        UniqueConstraint("batch_id", "member_id", name="uq_certificate_batch_member"),
        # one certificate per member and call-up: a call-up is closed once
        UniqueConstraint("callup_id", "member_id", name="uq_certificate_callup_member"),
        Index("ix_certificate_batch_id_status", "batch_id", "status"),
    )
    scope_column_name = "grid_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(24), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False, index=True)
    status: Mapped[str] = mapped_column(
        String(10), nullable=False, default=CertificateStatus.PENDING, index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True, nullable=False)
    wish_id: Mapped[int | None] = mapped_column(ForeignKey("wish.id"), index=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("honour_batch.id"))
    callup_id: Mapped[int | None] = mapped_column(ForeignKey("callup.id"))
    grid_code: Mapped[str] = grid_code_column()  # the member's grid at issue: who may see it
    holder_name: Mapped[str] = mapped_column(String(50), nullable=False)
    subject: Mapped[str | None] = mapped_column(String(200))  # the wish's title (service certificates)
    hours: Mapped[Decimal] = mapped_column(Numeric(8, 1), nullable=False)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    issuer: Mapped[str] = mapped_column(String(100), nullable=False)
    issued_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False, index=True
    )
    pdf_path: Mapped[str | None] = mapped_column(String(200))  # relative to CERTIFICATE_DIR
    rendered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    member = relationship("Member")
    wish = relationship("Wish")
    batch: Mapped[HonourBatch | None] = relationship()
    callup = relationship("Callup")
    grid = relationship("Area")
    revoked_by = relationship("User")

    def __str__(self) -> str:
        return self.serial

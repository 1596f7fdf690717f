"""Work logs and monthly work records (工作日志、工作纪实表), each signed by the grid's captain and leader (双签字)."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from flask_babel import lazy_gettext as _l
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
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from app.extensions import db
from app.models.base import created_at_column, grid_code_column, utcnow
from app.models.choices import Labelled, choice_check

CONTENT_MAX = 4000


class SignStatus(Labelled):
    AWAITING = "awaiting", _l("Awaiting signatures")  # fewer than two signatures
    SIGNED = "signed", _l("Signed")  # both signed: locked


class SignPlace(Labelled):
    """The two places whose holders sign, as GridRole.role names them."""

    CAPTAIN = "vanguard_captain", _l("Vanguard captain")
    LEADER = "grid_leader", _l("Grid leader")


class SheetKind(Labelled):
    GRID = "grid", _l("Grid work logs")  # a grid's work logs of a month
    MEMBER = "member", _l("Member work record")  # a member's work record of a month


class SheetStatus(StrEnum):
    PENDING = "pending"
    READY = "ready"


SIGN_STATUS_LABELS = SignStatus.labels()
SIGN_PLACE_LABELS = SignPlace.labels()
SHEET_KIND_LABELS = SheetKind.labels()


class Signed:
    """The two signatures (who and when), the status they make, and the rules the database keeps:
    one person never gives both, and `signed` means both are there."""

    status: Mapped[str] = mapped_column(String(10), nullable=False, default=SignStatus.AWAITING, index=True)
    captain_signer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    captain_signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    leader_signer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    leader_signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # the second signature
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)

    @classmethod
    def signature_checks(cls) -> tuple:
        return (
            choice_check("status", [s.value for s in SignStatus]),
            CheckConstraint(
                "captain_signer_id IS NULL OR leader_signer_id IS NULL OR captain_signer_id != leader_signer_id",
                name="two_signers",
            ),
            CheckConstraint(
                "status != 'signed' OR (captain_signed_at IS NOT NULL AND leader_signed_at IS NOT NULL"
                " AND signed_at IS NOT NULL)",
                name="signed_has_both",
            ),
        )

    @declared_attr
    def captain_signer(cls):
        return relationship("User", foreign_keys=[cls.captain_signer_id])

    @declared_attr
    def leader_signer(cls):
        return relationship("User", foreign_keys=[cls.leader_signer_id])

    def signer_of(self, place: str):
        return self.captain_signer if place == SignPlace.CAPTAIN else self.leader_signer

    def signed_at_of(self, place: str) -> datetime | None:
        return self.captain_signed_at if place == SignPlace.CAPTAIN else self.leader_signed_at

    def signer_id_of(self, place: str) -> int | None:
        return self.captain_signer_id if place == SignPlace.CAPTAIN else self.leader_signer_id


class WorkLog(Signed, db.Model):
    """One day's entry in a grid's work log, written by its grid worker or staff, signed by two."""

    __tablename__ = "work_log"
    __table_args__ = (
        *Signed.signature_checks(),
        Index("ix_work_log_grid_code_log_date", "grid_code", "log_date"),
    )
    scope_column_name = "grid_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_code: Mapped[str] = grid_code_column()
    log_date: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)

    grid = relationship("Area")
    author = relationship("User", foreign_keys=[author_id])

    def __str__(self) -> str:
        return f"{self.grid_code} {self.log_date}"


class WorkRecord(Signed, db.Model):
    """A member's monthly work record sheet (工作纪实表): what their visits, claims and service came to that month.

    The figures are copied when the record is built (and built again by an edit before both signatures),
    so the signed sheet keeps saying what was signed.
    """

    __tablename__ = "work_record"
    __table_args__ = (
        *Signed.signature_checks(),
        UniqueConstraint("member_id", "month", name="uq_work_record_member_month"),
        CheckConstraint("visits >= 0 AND claims >= 0 AND completions >= 0 AND hours >= 0", name="counts"),
    )
    scope_column_name = "grid_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True, nullable=False)
    grid_code: Mapped[str] = grid_code_column()  # the member's grid when built: whose captain and leader sign
    month: Mapped[date] = mapped_column(Date, nullable=False, index=True)  # its first day
    visits: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    claims: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    completions: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    hours: Mapped[Decimal] = mapped_column(Numeric(8, 1), nullable=False, default=Decimal(0))
    details: Mapped[list] = mapped_column(db.JSON, nullable=False, default=list)  # the lines of the sheet
    note: Mapped[str | None] = mapped_column(Text)
    built_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    member = relationship("Member")
    grid = relationship("Area")
    built_by = relationship("User", foreign_keys=[built_by_id])

    def __str__(self) -> str:
        return f"{self.member_id} {self.month:%Y-%m}"


class PrintedSheet(db.Model):
    """A printable monthly sheet (a grid's logs, or a member's record) as a PDF rendered by a job.

    `revision` grows with each request to print it again; the job renders the latest and marks it ready.
    """

    __tablename__ = "printed_sheet"
    __table_args__ = (
        choice_check("kind", [k.value for k in SheetKind]),
        choice_check("status", [s.value for s in SheetStatus]),
        CheckConstraint("(kind = 'member') = (member_id IS NOT NULL)", name="member_sheet_has_member"),
        UniqueConstraint("subject_key", "month", name="uq_printed_sheet_subject_month"),
    )
    scope_column_name = "grid_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    subject_key: Mapped[str] = mapped_column(String(40), nullable=False)  # "grid:<code>" or "member:<id>"
    grid_code: Mapped[str] = grid_code_column()
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"), index=True)
    month: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default=SheetStatus.PENDING)
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    pdf_path: Mapped[str | None] = mapped_column(String(200))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    rendered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    grid = relationship("Area")
    member = relationship("Member")
    requested_by = relationship("User")

    def __str__(self) -> str:
        return f"{self.kind} {self.grid_code} {self.month:%Y-%m}"

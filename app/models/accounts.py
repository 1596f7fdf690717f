"""Users, their login sessions and API tokens, and the audit log."""

import hashlib
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, CheckConstraint, DateTime, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models.base import created_at_column, utcnow
from app.models.choices import BACK_OFFICE_ROLES, ROLE_LABELS, STAFF_ROLES, Role, choice_check


class User(UserMixin, db.Model):
    """Someone who logs in: staff, department, member, resident or an API client."""

    __tablename__ = "user"
    __table_args__ = (
        choice_check("role", [r.value for r in Role]),
        CheckConstraint(
            "role NOT IN ('street_admin', 'community_admin', 'grid_worker', 'member', 'resident')"
            " OR area_code IS NOT NULL",
            name="scoped_role_has_area",
        ),
        CheckConstraint(
            "role != 'department' OR department_id IS NOT NULL", name="department_role_has_department"
        ),
    )
    scope_column_name = "area_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(256), nullable=False)
    name: Mapped[str | None] = mapped_column(String(50))
    role: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    area_code: Mapped[str | None] = mapped_column(
        String(15), ForeignKey("area.code", onupdate="CASCADE"), index=True
    )
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    locale: Mapped[str | None] = mapped_column(String(12))
    # 长辈模式 (适老化): larger text and targets, on every device the person logs in on
    elder_mode: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    area = relationship("Area")
    department = relationship("Department")

    # the login session this instance was loaded for (set at login and by the loader); never stored
    login_session_key = None

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and remember-me cookies: the user and their login session."""
        return f"{self.id}:{self.login_session_key}"

    def set_password(self, password: str) -> None:
        from flask import current_app

        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if current_app else "scrypt"
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def has_back_office(self) -> bool:
        return self.role in BACK_OFFICE_ROLES

    @property
    def scope_prefix(self) -> str | None:
        """The area code prefix this user is confined to; None means the whole deployment."""
        if self.role == Role.ADMIN:
            return None
        if self.role == Role.INTEGRATION:  # the hotline serves the whole deployment unless narrowed
            return self.area_code
        return self.area_code or ""

    @property
    def role_label(self):
        return ROLE_LABELS.get(self.role, self.role)

    def __str__(self) -> str:
        return f"{self.name or self.username} ({self.username})"


def sha256_hex(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class LoginSession(db.Model):
    """One login on the site; its session and remember-me cookies work only while this row lives."""

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True
    )
    key_hash: Mapped[str] = mapped_column(
        String(64), unique=True, nullable=False
    )  # SHA-256 of the cookie's key
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)

    hash = staticmethod(sha256_hex)


class ApiToken(db.Model):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)

    user: Mapped[User] = relationship()

    hash = staticmethod(sha256_hex)


# import and export concern many rows at once: their entry names the record type and the counts
AUDIT_ACTIONS = ("create", "update", "delete", "reveal", "import", "export")
AUDIT_CHANNELS = (
    "admin",
    "site",
    "api",
    "job",
    "cli",
)  # the interface a change came through (docs/roles.md#audit)


class AuditLog(db.Model):
    """One change, reveal, import or export: who, when, through which channel, what, before and after."""

    __tablename__ = "audit_log"
    __table_args__ = (choice_check("action", AUDIT_ACTIONS), choice_check("channel", AUDIT_CHANNELS))
    scope_column_name = "area_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    username: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(10), nullable=False, index=True)
    model: Mapped[str] = mapped_column(String(50), nullable=False, index=True)
    object_id: Mapped[str | None] = mapped_column(String(40), index=True)
    area_code: Mapped[str | None] = mapped_column(String(15), index=True)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(45))
    channel: Mapped[str | None] = mapped_column(String(5))  # None: code run outside any interface

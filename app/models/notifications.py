"""The notification inbox (one row per notice per user) and each user's notification preferences."""

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import created_at_column


class Notification(db.Model):
    """One notice to one user: what happened (kind, title, body), where to look (link), and whether it was read.

    Written set-based by app.services.notifications.send, one row per recipient; read rows are pruned
    after NOTIFICATION_RETENTION_DAYS.
    """

    __tablename__ = "notification"
    __table_args__ = (
        # the inbox, its unread count and its pages: a user's rows, unread first, newest first
        Index("ix_notification_user_id_read_at_id", "user_id", "read_at", "id"),
        # the pruning of old read rows
        Index("ix_notification_read_at", "read_at"),
    )
    scope_column_name = None  # each user sees only their own (app.services.notifications)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    link: Mapped[str | None] = mapped_column(String(500))  # a site or back-office path: "/wishes/12"
    urgent: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    subject: Mapped[str | None] = mapped_column(String(40))  # what it is about: "wish:12", "callup:3"
    created_at: Mapped[datetime] = created_at_column()
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def __str__(self) -> str:
        return self.title


class NotificationPreference(db.Model):
    """What a user does not want to be told, and when not by SMS/WeChat (quiet hours, district time).

    No row means the defaults: every kind, every category, no quiet hours. Urgent kinds ignore both.
    """

    __tablename__ = "notification_preference"
    scope_column_name = None

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    muted_kinds: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    muted_categories: Mapped[list] = mapped_column(JSON, nullable=False, default=list)  # WishCategory ids
    quiet_start: Mapped[str | None] = mapped_column(String(5))  # "HH:MM"
    quiet_end: Mapped[str | None] = mapped_column(String(5))

    def __str__(self) -> str:
        return f"preferences of user {self.user_id}"

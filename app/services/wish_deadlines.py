"""A wish's deadlines: which one its present status is measured against, and whether it is past it."""

from datetime import datetime

from app.models import Wish
from app.models.base import aware, utcnow
from app.models.choices import WishStatus

DEADLINE_FOR_STATUS = {
    WishStatus.SUBMITTED: "respond_by",
    WishStatus.PUBLISHED: "reply_by",
    WishStatus.CLAIMED: "resolve_by",
}


def current_deadline(wish: Wish) -> datetime | None:
    """The deadline the wish's present status is measured against (review, claim or completion), if any."""
    column = DEADLINE_FOR_STATUS.get(WishStatus(wish.status))
    return getattr(wish, column) if column else None


def is_overdue(wish: Wish, now: datetime | None = None) -> bool:
    deadline = aware(current_deadline(wish))
    return deadline is not None and (now or utcnow()) > deadline

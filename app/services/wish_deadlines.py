"""A wish's deadlines: which one its present status is measured against, and whether it is past it."""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l

from app.models import Wish
from app.models.base import aware, utcnow
from app.models.choices import WishStatus

DEADLINE_FOR_STATUS = {
    WishStatus.SUBMITTED: "respond_by",
    WishStatus.PUBLISHED: "reply_by",
    WishStatus.CLAIMED: "resolve_by",
}
# what each status's deadline is called: review while it waits, claim while published, completion while claimed
DEADLINE_KIND = {
    WishStatus.SUBMITTED: "review",
    WishStatus.PUBLISHED: "claim",
    WishStatus.CLAIMED: "complete",
}
DEADLINE_LABELS = {"review": _l("Review by"), "claim": _l("Claim by"), "complete": _l("Done by")}


@dataclass(frozen=True)
class Deadline:
    """The one deadline that matters now: its kind (review, claim, complete), when, and whether it is past."""

    kind: str
    at: datetime
    overdue: bool

    @property
    def label(self) -> str:
        return str(DEADLINE_LABELS[self.kind])


def deadline_now(wish: Wish, now: datetime | None = None) -> Deadline | None:
    """The deadline of the wish's present status, named; None once it is rejected, done, confirmed or cancelled."""
    at = current_deadline(wish)
    if at is None:
        return None
    return Deadline(DEADLINE_KIND[WishStatus(wish.status)], at, is_overdue(wish, now))


def current_deadline(wish: Wish) -> datetime | None:
    """The deadline the wish's present status is measured against (review, claim or completion), if any."""
    column = DEADLINE_FOR_STATUS.get(WishStatus(wish.status))
    return getattr(wish, column) if column else None


def is_overdue(wish: Wish, now: datetime | None = None) -> bool:
    deadline = aware(current_deadline(wish))
    return deadline is not None and (now or utcnow()) > deadline

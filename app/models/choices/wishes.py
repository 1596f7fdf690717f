"""Micro-wishes (微心愿): statuses, the steps of their machine (docs/workflows.md#micro-wishes), ratings."""

from flask_babel import lazy_gettext as _l

from app.models.choices.base import Labelled

__all__ = [
    "PUBLIC_WISH_STATUSES",
    "RATING_LABELS",
    "WISH_ACTION_LABELS",
    "WISH_STATUS_LABELS",
    "Rating",
    "WishAction",
    "WishStatus",
]


class WishStatus(Labelled):
    SUBMITTED = "submitted", _l("Awaiting review")
    PUBLISHED = "published", _l("Published")
    REJECTED = "rejected", _l("Rejected")
    CANCELLED = "cancelled", _l("Cancelled")
    CLAIMED = "claimed", _l("Claimed")
    DONE = "done", _l("Done, awaiting confirmation")
    CONFIRMED = "confirmed", _l("Confirmed")


WISH_STATUS_LABELS = WishStatus.labels()

# what anyone may see on the public board and a wish's public page
PUBLIC_WISH_STATUSES = (WishStatus.PUBLISHED, WishStatus.CLAIMED, WishStatus.DONE, WishStatus.CONFIRMED)


class Rating(Labelled):
    GOOD = "good", _l("Good")
    AVERAGE = "average", _l("Average")
    POOR = "poor", _l("Poor")


RATING_LABELS = Rating.labels()


class WishAction(Labelled):
    POST = "post", _l("Posted")
    PUBLISH = "publish", _l("Published")
    REJECT = "reject", _l("Rejected")
    CANCEL = "cancel", _l("Cancelled")
    CLAIM = "claim", _l("Claimed")
    RELEASE = "release", _l("Released")
    COMPLETE = "complete", _l("Completed")
    CONFIRM = "confirm", _l("Confirmed")
    DISPUTE = "dispute", _l("Disputed")
    AUTO_CONFIRM = "auto_confirm", _l("Confirmed automatically")
    REOPEN = "reopen", _l("Reopened after the callback")
    RESUBMIT = "resubmit", _l("Edited and sent again")


WISH_ACTION_LABELS = WishAction.labels()

"""Notifications: the kinds of notice OneGrid sends (docs/jobs.md#notifications), and which cannot be muted."""

from flask_babel import lazy_gettext as _l

from app.models.choices.base import Labelled

__all__ = ["NOTIFICATION_KIND_LABELS", "URGENT", "NotificationKind"]


class NotificationKind(Labelled):
    # residents
    WISH_PUBLISHED = "wish_published", _l("My wish was published")
    WISH_REJECTED = "wish_rejected", _l("My wish was rejected")
    WISH_CLAIMED = "wish_claimed", _l("My wish was claimed")
    WISH_DONE = "wish_done", _l("My wish is done: please confirm")
    WISH_AUTO_CONFIRMED = "wish_auto_confirmed", _l("My wish was confirmed automatically")
    REPORT_ACCEPTED = "report_accepted", _l("My report was accepted")
    REPORT_REPLIED = "report_replied", _l("My report was replied to")
    REPORT_ESCALATED = "report_escalated", _l("My report was escalated")
    REPORT_RESOLVED = "report_resolved", _l("My report was resolved: please check")
    REPORT_CLOSED = "report_closed", _l("My report was closed")
    # members
    NEW_WISH = "new_wish", _l("A new wish in my community")
    CLAIM_RELEASED = "claim_released", _l("My claim was released")
    WISH_DISPUTED = "wish_disputed", _l("A wish I did was disputed")
    CERTIFICATE_READY = "certificate_ready", _l("My certificate is ready")
    VISITS_DUE = "visits_due", _l("My visits fall due")
    CALLUP = "callup", _l("Emergency call-up")
    # leaders
    CALLUP_LEAD = "callup_lead", _l("Emergency call-up: I lead")
    # staff
    REVIEW_QUEUE = "review_queue", _l("A wish to review")
    EVENT_QUEUE = "event_queue", _l("An event at my level")
    DISPATCH_QUEUE = "dispatch_queue", _l("A dispatch to my department")
    SUPERVISION = "supervision", _l("A supervision notice")
    CALLBACK_DUE = "callback_due", _l("A callback falls due")


NOTIFICATION_KIND_LABELS = NotificationKind.labels()

# cannot be muted and ignore quiet hours
URGENT = frozenset({NotificationKind.CALLUP, NotificationKind.CALLUP_LEAD})

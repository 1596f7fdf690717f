"""Domain signals (blinker): what happened, for the parts that react to it inside the same transaction.

Receivers record follow-up work (outbox jobs, webhook deliveries, callback tasks) and must not commit.
"""
from blinker import Namespace

from app.models.choices import WishAction

_signals = Namespace()

# sender: the Wish, after a transition was flushed; keyword arguments: action (WishAction), actor (User or None)
wish_changed = _signals.signal("wish-changed")

# sender: the Certificate, once its PDF is stored and it can be verified
certificate_issued = _signals.signal("certificate-issued")

# the public name of each wish transition, for webhooks and logs
WISH_TOPICS = {
    WishAction.POST: "wish.posted",
    WishAction.PUBLISH: "wish.published",
    WishAction.REJECT: "wish.rejected",
    WishAction.CANCEL: "wish.cancelled",
    WishAction.CLAIM: "wish.claimed",
    WishAction.RELEASE: "wish.released",
    WishAction.COMPLETE: "wish.completed",
    WishAction.CONFIRM: "wish.confirmed",
    WishAction.DISPUTE: "wish.disputed",
    WishAction.AUTO_CONFIRM: "wish.confirmed",
    WishAction.REOPEN: "wish.reopened",
}

# sender: the Event, after a transition was flushed; keyword arguments: action (EventAction), actor (User or None)
event_changed = _signals.signal("event-changed")

# the public name of each event transition, for webhooks and logs (the sweep adds "event.overdue")
EVENT_TOPICS = {
    "report": "event.reported",
    "accept": "event.accepted",
    "start": "event.started",
    "escalate": "event.escalated",
    "auto_escalate": "event.escalated",
    "dispatch": "event.dispatched",
    "answer": "event.answered",
    "resolve": "event.resolved",
    "verify": "event.verified",
    "verify_fail": "event.returned",
    "close": "event.closed",
    "reopen": "event.reopened",
    "archive": "event.archived",
}
EVENT_OVERDUE = "event.overdue"

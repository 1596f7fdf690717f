"""Domain signals (blinker): what happened, for the parts that react to it inside the same transaction.

Receivers record follow-up work (outbox jobs, webhook deliveries, callback tasks) and must not commit.
They are connected in one place, app.reactions.wire_reactions(), which create_app calls; until then
sending a signal raises, so a script using the services without the factory fails loudly instead of
silently skipping what should follow a change.
"""

from blinker import NamedSignal

from app.models.choices import WishAction

_wiring = {"wired": False}


class NotWired(RuntimeError):
    """A domain signal was sent before app.reactions.wire_reactions() connected what follows it."""


class DomainSignal(NamedSignal):
    """A blinker signal that refuses to be sent before the reactions are wired."""

    def send(self, *args, **kwargs):
        if not _wiring["wired"]:
            raise NotWired(
                f"{self.name!r} sent before the reactions were wired: call "
                "app.reactions.wire_reactions() (create_app does) before using the services"
            )
        return super().send(*args, **kwargs)


def mark_wired(wired: bool = True) -> None:
    """Record that every receiver is connected (app.reactions.wire_reactions calls this)."""
    _wiring["wired"] = wired


def is_wired() -> bool:
    return _wiring["wired"]


# sender: the Wish, after a transition was flushed; keyword arguments: action (WishAction), actor (User or None)
wish_changed = DomainSignal("wish-changed")

# sender: the Certificate, once its PDF is stored and it can be verified
certificate_issued = DomainSignal("certificate-issued")

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
    WishAction.RESUBMIT: "wish.resubmitted",
}

# sender: the Event, after a transition was flushed; keyword arguments: action (EventAction), actor (User or None)
event_changed = DomainSignal("event-changed")

# sender: the Callup, when raised (action "raise") and after a step of its machine (close, cancel);
# keyword arguments: action, actor (User)
callup_changed = DomainSignal("callup-changed")

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
    "withdraw": "event.withdrawn",
    "not_fixed": "event.contested",
}
EVENT_OVERDUE = "event.overdue"

# sender: None, once per SLA sweep that found anything; keyword arguments: supervision_ids (the supervisions it
# created), escalated_ids (the events it escalated) — lists, so what follows stays set-based
sla_swept = DomainSignal("sla-swept")

"""What follows each change (docs/jobs.md#reactions), in one list that create_app wires.

The services only send their signals (app.services.signals) and record outbox rows
(app.services.outbox); they import neither this module nor app.jobs. Every receiver runs inside
the transaction of the change and records its follow-up work there: a certificate and its render
job, a callback task, webhook deliveries. A script that uses the services without create_app calls
wire_reactions() once; without it, the first signal sent raises `NotWired` rather than skip them.
"""

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.models.callbacks import CallbackSubject
from app.models.choices import EventAction
from app.services import (
    badges,
    callbacks,
    callup_notices,
    callup_prints,
    certificates,
    events,
    notices,
    notifications,
    printouts,
    signals,
    webhooks,
    wishes,
    work_sheets,
    workflow_history,
)
from app.services.signals import (
    EVENT_TOPICS,
    callup_changed,
    certificate_issued,
    event_changed,
    sla_swept,
    wish_changed,
)


def _event_webhook(event, action=None, **_kwargs) -> None:
    """Every event step becomes its webhook (event.<step>)."""
    topic = EVENT_TOPICS.get(action)
    if topic and webhooks.listening(topic):  # no payload built for nobody (the sweep escalates many at once)
        webhooks.emit(topic, webhooks.event_data(event))


def _event_callback(event, action=None, **_kwargs) -> None:
    """A verified event falls due for its callback (回访) by the grid worker."""
    if action == EventAction.VERIFY:
        callbacks.schedule_callback(CallbackSubject.EVENT, event.id, event.grid_code)


# (signal, receiver): a signal's receivers run in no set order (blinker keeps them in a set), so none may
# rely on another's work — a builder after the commit reads what they all recorded
REACTIONS = (
    # a wish confirmed: its certificate (revoked when reopened), its callback task, webhook wish.<step>
    (wish_changed, certificates.on_wish_changed),
    (wish_changed, callbacks.on_wish_changed),
    (wish_changed, webhooks.on_wish_changed),
    # an event verified: its callback task; every step: webhook event.<step>
    (event_changed, _event_callback),
    (event_changed, _event_webhook),
    # a certificate's PDF stored: webhook certificate.issued
    (certificate_issued, webhooks.on_certificate_issued),
    # a call-up raised: its urgent notices after the commit, the captains and leaders first (callup_notices)
    (callup_changed, callup_notices.on_callup_changed),
    # who is told of each step (app.services.notices): the jobs of their notices, for after the commit
    (wish_changed, notices.on_wish_changed),
    (event_changed, notices.on_event_changed),
    (certificate_issued, notices.on_certificate_issued),
    (sla_swept, notices.on_sla_swept),
)

# rows a workflow's steps write with themselves, in the step's own statement, so a step that loses its race writes
# none: (machine, writer(subject, action, actor, sets) -> workflow_history.Written or None)
WRITTEN_WITH_STEPS = (
    # a wish claimed: its owner's notice
    (wishes.MACHINE, notices.claimed_with_step),
)

# what every flush does, whichever interface or script made the change: (session event, listener)
SESSION_HOOKS = (
    # a member checked out, moved or deleted, a team place given to someone else or deleted: its badge revoked
    ("before_flush", badges.revoke_departed),
)

# what a recorded callback does to its subject: (satisfied, unsatisfied)
CALLBACK_FOLLOW_UPS = {
    CallbackSubject.WISH: (None, callbacks.reopen_wish_from_task),  # a satisfied wish stays confirmed
    CallbackSubject.EVENT: (events.close_from_task, events.reopen_from_task),
}

# the outbox jobs the services record, each needing a handler in app.jobs
JOB_KINDS = (
    certificates.RENDER_JOB,
    notifications.NOTIFY_JOB,
    printouts.RENDER_JOB,
    webhooks.DELIVER_JOB,
    work_sheets.RENDER_JOB,
    callup_prints.RENDER_JOB,
)


def wire_reactions() -> None:
    """Connect every reaction (once, however often it is called) and load the job handlers; then the
    services' signals may be sent. Raises when a job kind the services record has no handler."""
    from app.jobs import HANDLERS, load_handlers

    load_handlers()
    missing = [kind for kind in JOB_KINDS if kind not in HANDLERS]
    if missing:
        raise RuntimeError(f"no job handler for {missing}")
    for signal, receiver in REACTIONS:
        signal.connect(receiver)  # strong reference; connecting the same receiver again is a no-op
    for machine, writer in WRITTEN_WITH_STEPS:
        workflow_history.write_with_steps(machine.name, writer)  # once each, however often
    for name, listener in SESSION_HOOKS:
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
    for subject, (satisfied, unsatisfied) in CALLBACK_FOLLOW_UPS.items():
        callbacks.declare_follow_ups(subject, satisfied=satisfied, unsatisfied=unsatisfied)
    signals.mark_wired()

"""Events (一网统管) in the background: the SLA sweep every minute, webhooks for each step, callbacks on verify."""
from app.jobs import periodic
from app.models.callbacks import CallbackSubject
from app.models.choices import EventAction
from app.models.events import Event
from app.services import webhooks
from app.services.callbacks import schedule_callback
from app.services.event_sla import has_subscribers, sweep
from app.services import events as _events  # noqa: F401  (loads the models; hooks callbacks REOPEN)
from app.services.signals import EVENT_OVERDUE, EVENT_TOPICS, event_changed

webhooks.register_topics(*sorted(set(EVENT_TOPICS.values())), EVENT_OVERDUE)


@periodic("sla_sweep", seconds=60)
def sla_sweep() -> str:
    """Supervise every newly breached deadline and escalate overdue events (idempotent)."""
    return str(sweep())


def event_data(event: Event) -> dict:
    """What an event webhook tells the outside (the hotline learns its ticket's fate): no personal data."""
    return {
        "id": event.id,
        "title": event.title,
        "external_ref": event.external_ref,
        "matter": event.matter.code if event.matter is not None else None,
        "grid_code": event.grid_code,
        "source": event.source,
        "level": event.level,
        "status": event.status,
        "resolution_note": event.resolution_note,
        "score": event.score,
        "deadlines": {"respond": webhooks.iso(event.respond_by), "reply": webhooks.iso(event.reply_by),
                      "resolve": webhooks.iso(event.resolve_by)},
        "at": webhooks.iso(event.updated_at),
    }


@event_changed.connect
def _emit_webhook(event: Event, action=None, actor=None, **_kwargs) -> None:
    topic = EVENT_TOPICS.get(action)
    if topic:
        if has_subscribers(topic):  # the sweep escalates many at once: skip building unwanted payloads
            webhooks.emit(topic, event_data(event))


@event_changed.connect
def _schedule_callback(event: Event, action=None, actor=None, **_kwargs) -> None:
    """A verified event falls due for its callback (回访) by the grid worker."""
    if action == EventAction.VERIFY:
        schedule_callback(CallbackSubject.EVENT, event.id, event.grid_code)

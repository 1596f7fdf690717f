"""Which webhook endpoints listen, as this process last read them: every step asks, endpoints seldom change.

Each wish or event step asks whether an active endpoint wants its topic, and each notice whether a gateway
is set up; reading the endpoints every time was a query on every claim (bench/README.md, the claim race).
So each process keeps the active endpoints' ids, topics and gateway flags for
`WEBHOOK_ENDPOINTS_CACHE_SECONDS` (default 5; 0 reads them each time). A change to an endpoint made through
this process (the back office, a job) counts at once, one made in another process within those seconds.
Only the answer "nobody listens" is taken from here as it is: what is recorded for a listener is read again
exactly (`webhooks.emit`, `notification_gateway.gateway_endpoints`), so an endpoint disabled or deleted
meanwhile gets nothing.
"""

import time
from dataclasses import dataclass
from itertools import count

from flask import current_app, has_app_context
from sqlalchemy import event, select

from app.extensions import db
from app.models.webhooks import WebhookEndpoint

KEY = "onegrid.webhook_listeners"  # app.extensions[KEY]: (generation, read at, listeners)

_ACTIVE = (
    select(WebhookEndpoint.id, WebhookEndpoint.event_types, WebhookEndpoint.gateway)
    .where(WebhookEndpoint.active.is_(True))
    .order_by(WebhookEndpoint.id)
)
_generations = count(1)


@dataclass(frozen=True)
class Listener:
    """An active endpoint as last read: its id, its topics and wildcards, whether it is the gateway."""

    id: int
    topics: tuple[str, ...]
    gateway: bool


def listeners() -> tuple[Listener, ...]:
    """The active endpoints, read again when the process's copy is older than the configured seconds."""
    seconds = float(current_app.config.get("WEBHOOK_ENDPOINTS_CACHE_SECONDS", 5))
    known = current_app.extensions.get(KEY)
    now = time.monotonic()
    if known is not None and known[2] is not None and now - known[1] < seconds:
        return known[2]
    generation = known[0] if known is not None else 0
    found = tuple(
        Listener(row.id, tuple(row.event_types or ()), bool(row.gateway))
        for row in db.session.execute(_ACTIVE)
    )
    # kept only when no change was announced while reading (a thread's older read must not win)
    if current_app.extensions.get(KEY, (0,))[0] == generation:
        current_app.extensions[KEY] = (generation, now, found)
    return found


def forget(*_args) -> None:
    """Read the endpoints again next time (a change to one was flushed, or the tables were emptied)."""
    if has_app_context():
        current_app.extensions[KEY] = (next(_generations), 0.0, None)


for _name in ("after_insert", "after_update", "after_delete"):
    event.listen(WebhookEndpoint, _name, forget)

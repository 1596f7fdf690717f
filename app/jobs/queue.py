"""RQ: the Redis connection, the queue (JSON-serialised jobs that carry ids only) and its state."""

import logging

from flask import current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Worker
from rq.registry import FailedJobRegistry, StartedJobRegistry
from rq.serializers import JSONSerializer

log = logging.getLogger(__name__)
QUEUE_NAME = "onegrid"


def redis_connection(app=None) -> Redis | None:
    """The app's Redis connection (one pool per app), or None in the embedded mode (no REDIS_URL)."""
    app = app or current_app
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    state = app.extensions.setdefault("onegrid_redis", {})
    if state.get("url") != url:  # tests point one app at another Redis (or a closed port)
        state.update(url=url, connection=Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5))
    return state["connection"]


def get_queue(app=None) -> Queue | None:
    """The jobs queue, or None in the embedded mode."""
    connection = redis_connection(app)
    if connection is None:
        return None
    return Queue(QUEUE_NAME, connection=connection, serializer=JSONSerializer)


def queue_state(app=None) -> dict:
    """What /healthz and the operations page show: mode, reachable, depth, running and failed jobs."""
    queue = get_queue(app)
    if queue is None:
        return {"ok": True, "mode": "in-process"}
    try:
        return {
            "ok": True,
            "mode": "redis",
            "queued": queue.count,
            "running": StartedJobRegistry(queue=queue).count,
            "failed": FailedJobRegistry(queue=queue).count,
            "workers": Worker.count(queue=queue),
        }
    except RedisError as exc:
        return {"ok": False, "mode": "redis", "error": exc.__class__.__name__}

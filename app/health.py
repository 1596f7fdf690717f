"""`/healthz`: is the database reachable, and the queue when one is configured."""
from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from app.extensions import db

bp = Blueprint("health", __name__)


def _database_state() -> dict:
    try:
        db.session.execute(text("SELECT 1"))
        return {"ok": True, "backend": db.engine.dialect.name}
    except Exception as exc:  # any failure means "not healthy", reported, not raised
        db.session.rollback()
        return {"ok": False, "backend": db.engine.dialect.name, "error": exc.__class__.__name__}


def _queue_state() -> dict:
    url = current_app.config.get("REDIS_URL")
    if not url:
        return {"ok": True, "mode": "in-process"}
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
        return {"ok": True, "mode": "redis"}
    except Exception as exc:
        return {"ok": False, "mode": "redis", "error": exc.__class__.__name__}


@bp.get("/healthz")
def healthz():
    """200 while the database answers (a queue outage only degrades: jobs wait in the outbox)."""
    database, queue = _database_state(), _queue_state()
    if not database["ok"]:
        status = "unavailable"
    else:
        status = "ok" if queue["ok"] else "degraded"
    return jsonify(status=status, database=database, queue=queue), 200 if database["ok"] else 503

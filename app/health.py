"""`/healthz`: is the database reachable, and the queue when one is configured."""

from flask import Blueprint, jsonify
from sqlalchemy import text

from app.extensions import db
from app.jobs.queue import queue_state

bp = Blueprint("health", __name__)


def _database_state() -> dict:
    try:
        db.session.execute(text("SELECT 1"))
        return {"ok": True, "backend": db.engine.dialect.name}
    except Exception as exc:  # any failure means "not healthy", reported, not raised
        db.session.rollback()
        return {"ok": False, "backend": db.engine.dialect.name, "error": exc.__class__.__name__}


@bp.get("/healthz")
def healthz():
    """200 while the database answers (a queue outage only degrades: jobs wait in the outbox)."""
    database, queue = _database_state(), queue_state()
    if not database["ok"]:
        status = "unavailable"
    else:
        status = "ok" if queue["ok"] else "degraded"
    return jsonify(status=status, database=database, queue=queue), 200 if database["ok"] else 503

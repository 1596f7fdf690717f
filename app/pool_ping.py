"""PostgreSQL connections are checked before use only after they sat idle (docs/jobs.md#database-connections).

SQLAlchemy's `pool_pre_ping` sends a round trip before every request's first statement. Under load a
connection goes back to the pool and out again within milliseconds, and that ping is one of the request's
dearest round trips; a connection that sat idle longer than DATABASE_PING_IDLE_SECONDS (a database restart
or a firewall may have dropped it meanwhile) is still pinged, and replaced when the ping fails.
"""

import time

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

_USED = "onegrid_used"  # the pool record's info: when the connection last went back to the pool


def ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Ping a connection at checkout when it was returned more than `idle_seconds` ago."""

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record) -> None:
        if record is not None:
            record.info[_USED] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _taken(dbapi_connection, record, _proxy) -> None:
        used = record.info.get(_USED)
        if used is None or time.monotonic() - used <= idle_seconds:
            return  # just opened, or in use moments ago
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            if not engine.dialect.is_disconnect(exc, dbapi_connection, None):
                raise
            alive = False
        if not alive:
            raise DisconnectionError("the connection was closed while idle")  # the pool opens a new one


def configure(app: Flask, engine: Engine) -> None:
    """Check PostgreSQL connections idle longer than DATABASE_PING_IDLE_SECONDS, unless the app asked SQLAlchemy
    to ping every checkout (`pool_pre_ping`); SQLite's file connections need no check."""
    if engine.dialect.name == "sqlite" or app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("pool_pre_ping"):
        return
    ping_when_idle(engine, app.config["DATABASE_PING_IDLE_SECONDS"])

"""SQLite connections get the configured busy timeout, foreign keys and WAL."""

import os
import subprocess
import sys
import tempfile

import pytest
from sqlalchemy import text

from app import PROJECT_ROOT, create_app
from app.config import TestConfig
from app.extensions import db


def _sqlite_app(path: str, **overrides):
    settings = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    return create_app({**settings, "SQLALCHEMY_DATABASE_URI": "sqlite:///" + path, **overrides})


@pytest.mark.parametrize("timeout_ms", [1234, 25000])
def test_the_configured_busy_timeout_reaches_every_sqlite_connection(timeout_ms):
    with tempfile.TemporaryDirectory() as tmp:
        app = _sqlite_app(os.path.join(tmp, "busy.db"), SQLITE_BUSY_TIMEOUT_MS=timeout_ms)
        with app.app_context():
            try:
                with db.engine.connect() as first, db.engine.connect() as second:
                    for conn in (first, second):
                        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == timeout_ms
                        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
                        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            finally:
                db.engine.dispose()


def test_sqlite_busy_timeout_ms_from_the_environment_is_honoured():
    script = (
        "from sqlalchemy import text\n"
        "from app import create_app\n"
        "from app.extensions import db\n"
        "app = create_app({'SECRET_KEY': 'x', 'JOBS_EMBEDDED_SCHEDULER': False})\n"
        "with app.app_context():\n"
        "    print(db.session.execute(text('PRAGMA busy_timeout')).scalar())\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "SQLITE_BUSY_TIMEOUT_MS": "4321",
            "DATABASE_URL": "sqlite:///" + os.path.join(tmp, "env.db"),
            "REDIS_URL": "",
        }
        done = subprocess.run(
            [sys.executable, "-c", script],
            env=env,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == "4321"

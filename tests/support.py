"""Support for tests that need their own database, a real Redis or a real worker process.

The session app's in-memory SQLite has one shared connection, which neither threads nor other
processes can use: such tests build an app of their own on a temporary SQLite file, or on a
PostgreSQL schema of their own when TEST_DATABASE_URL names PostgreSQL.
"""

import contextlib
import importlib.util
import os
import subprocess
import sys
import tempfile

import pytest
import redis
from conftest import require_service
from sqlalchemy import create_engine, text

from app import PROJECT_ROOT
from app.config import TestConfig

REDIS_BASE_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")


@contextlib.contextmanager
def separate_database(kind: str, schema: str):
    """Yield the URL of a fresh, empty database: a temporary SQLite file, or a new PostgreSQL schema."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield "sqlite:///" + os.path.join(tmp, f"{schema}.db")
        return
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("TEST_DATABASE_URL does not point at PostgreSQL (this case runs in the PostgreSQL pass)")
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception:
        engine.dispose()
        require_service(False, "PostgreSQL is not reachable at TEST_DATABASE_URL")
    try:
        yield url + ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


def app_settings(database_url: str, **overrides) -> dict:
    """TestConfig's settings on another database (and whatever else the test needs)."""
    settings = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    options = {"pool_pre_ping": True} if database_url.startswith("postgresql") else {}
    return {
        **settings,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": options,
        "BABEL_DEFAULT_LOCALE": "en",
        **overrides,
    }


@contextlib.contextmanager
def background_jobs_app(kind: str, schema: str):
    """An app running its jobs on the embedded job thread ("background", as a web process does) with the demo,
    on a database of its own (`separate_database`: threads cannot share the session app's in-memory SQLite).
    Afterwards it waits until the thread has run what it was handed."""
    from app import create_app
    from app.extensions import db
    from app.jobs import inprocess
    from app.services.demo import seed_demo

    with separate_database(kind, schema) as url:
        app = create_app(app_settings(url, EMBEDDED_JOBS="background", SQLALCHEMY_ENGINE_OPTIONS={}))
        with app.app_context():
            db.create_all()
            seed_demo()
            db.session.commit()
        try:
            yield app
        finally:
            assert inprocess.wait_idle(app, 10)
            with app.app_context():
                db.session.remove()
                db.engine.dispose()  # the file or the schema goes with separate_database


def fresh_redis(index: int) -> str:
    """The URL of Redis database `index`, emptied; fails under CI=true (skips on a laptop) without Redis."""
    url = f"{REDIS_BASE_URL}/{index}"
    try:
        connection = redis.Redis.from_url(url, socket_connect_timeout=1)
        connection.flushdb()
        connection.close()
    except redis.exceptions.RedisError:
        require_service(False, f"Redis is not reachable at {REDIS_BASE_URL}")
    return url


def worker_environment(app, **extra) -> dict:
    """The environment a `flask jobs …` process needs to work on the same database and Redis as `app`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "TEST_"))}
    env.update(
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        REDIS_URL=app.config["REDIS_URL"] or "",
        SECRET_KEY=app.config["SECRET_KEY"],
        CERTIFICATE_DIR=app.config["CERTIFICATE_DIR"],  # the test's, never the checkout's instance/
        PYTHONPATH=PROJECT_ROOT,
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def flask_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "wsgi", *args]


def run_worker_burst(app, timeout: float = 120, **extra) -> subprocess.CompletedProcess:
    """Run a real worker process until the queue is empty (`flask jobs worker --burst`)."""
    result = subprocess.run(
        flask_command("jobs", "worker", "--burst"),
        cwd=PROJECT_ROOT,
        timeout=timeout,
        env=worker_environment(app, **extra),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def start_worker(app, **extra) -> subprocess.Popen:
    """Start a real worker process that keeps running (stop it with .terminate() or .kill())."""
    # its log goes nowhere: an unread pipe would fill up and stall the worker after a few hundred jobs
    return subprocess.Popen(
        flask_command("jobs", "worker"),
        cwd=PROJECT_ROOT,
        env=worker_environment(app, **extra),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def bench_script(name: str):
    """bench/<name>.py, loaded as the benches run it: its siblings (common, claim_race, keepalive) importable."""
    folder = os.path.join(PROJECT_ROOT, "bench")
    sys.path.insert(0, folder)
    try:
        spec = importlib.util.spec_from_file_location(f"bench_{name}", os.path.join(folder, f"{name}.py"))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(folder)

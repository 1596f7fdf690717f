"""Fixtures: one app per session, a clean database per test, clients logged in as each demo role."""

import contextvars
import os

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from app import create_app
from app.config import TestConfig
from app.extensions import db
from app.models import AuditLog
from app.services import webhook_listeners

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_service(available: bool, reason: str) -> None:
    """Skip when a service (PostgreSQL, Redis) is absent on a laptop; fail instead under CI=true."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: services must be present)")
    pytest.skip(reason)


def _database_reachable(app) -> bool:
    try:
        with app.app_context():
            db.session.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in an app context of its own, as in production.

    The test itself holds an app context open (to use `db.session`); without this,
    requests would share its `g`, its logged-in user and its database session.
    As under a WSGI server, a request starts with no context open, its context ends (closing
    its database session) when the view returns, and only then is the body read, whole:
    a streamed body meets the state it would meet in production.
    """

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(scope="session")
def app():
    app = create_app(TestConfig)
    app.test_client_class = IsolatedClient
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        require_service(_database_reachable(app), "PostgreSQL is not reachable at TEST_DATABASE_URL")
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_database(app):
    """Each test starts from empty tables and an app context of its own."""
    ctx = app.app_context()
    ctx.push()
    webhook_listeners.forget()  # the tables were emptied behind the ORM's back
    yield
    db.session.rollback()
    db.session.remove()
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(
                text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
            )
        else:
            conn.execute(text("PRAGMA defer_foreign_keys=ON"))  # the area tree refers to itself
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))
    ctx.pop()


@pytest.fixture
def english(app, request):
    """Tests that read English wording use it (`pytestmark = pytest.mark.usefixtures("english")`).

    The product default is Chinese; tests marked `chinese` keep it.
    """
    if request.node.get_closest_marker("chinese"):
        yield
        return
    default = app.config["BABEL_DEFAULT_LOCALE"]
    app.config["BABEL_DEFAULT_LOCALE"] = "en"
    yield
    app.config["BABEL_DEFAULT_LOCALE"] = default


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


_demo_rows: list | None = None  # every table's rows after the first seed of the session


@pytest.fixture
def demo(app):
    """The demo district, committed.

    Seeded through the services once per session; later tests get the same rows back by bulk
    insert, which is many times faster (the seed hashes passwords and walks the ORM).
    """
    global _demo_rows
    if _demo_rows is None:
        from app.services.demo import seed_demo

        seed_demo()
        db.session.commit()  # its jobs run now: the open call-up tells its members
        # the seed's own steps are audited like any other; tests start from an empty audit log, and empty inboxes
        db.session.execute(AuditLog.__table__.delete())
        db.session.execute(text("DELETE FROM notification"))
        db.session.commit()
        _demo_rows = [
            (table, [dict(row._mapping) for row in db.session.execute(table.select())])
            for table in db.metadata.sorted_tables
        ]
        return
    with db.engine.begin() as conn:
        for table, rows in _demo_rows:
            if rows:  # in id order, so a parent area precedes its children
                conn.execute(table.insert(), rows)
        if conn.dialect.name == "postgresql":  # rows came with their ids: move the sequences past them
            for table, rows in _demo_rows:
                if rows and "id" in table.c:
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                            f"{max(r['id'] for r in rows)})"
                        )
                    )


class AuthActions:
    """Log a test client in and out through the real login form."""

    def __init__(self, client):
        self._client = client

    def login(self, username: str, password: str | None = None):
        from app.services.demo import DEMO_PASSWORDS

        if password is None:
            password = DEMO_PASSWORDS[username][0]
        return self._client.post("/login", data={"username": username, "password": password})

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def login_as(app, demo):
    """A factory: a fresh test client logged in as one of the demo accounts."""

    def make(username: str):
        c = app.test_client()
        response = AuthActions(c).login(username)
        assert response.status_code in (302, 303), f"login as {username} failed: {response.status_code}"
        return c

    return make

"""Password guessing is slowed down: login, registration and token requests are rate-limited."""
import pytest

from app import create_app
from app.config import TestConfig
from app.extensions import db


@pytest.fixture
def limited_app(app):
    """An app with rate limiting on (the suite's default app has it off), on the same database."""
    settings = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    settings.update(LOGIN_RATE_LIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute",
                    SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    limited = create_app(settings)
    if settings["SQLALCHEMY_DATABASE_URI"] == "sqlite://":
        limited.extensions["sqlalchemy"]  # in-memory SQLite is per engine: give it the tables
        with limited.app_context():
            db.create_all()
    from app.extensions import limiter

    with limited.app_context():
        limiter.reset()
    return limited


def test_fourth_login_attempt_in_a_minute_is_refused(limited_app):
    client = limited_app.test_client()
    statuses = [client.post("/login", data={"username": "nobody", "password": "wrong-password"}).status_code
                for _ in range(4)]
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3] == 429


def test_token_requests_are_limited_with_a_json_error(limited_app):
    client = limited_app.test_client()
    for _ in range(3):
        assert client.post("/api/v1/auth/token", json={"username": "x", "password": "wrong-password"}).status_code == 401
    response = client.post("/api/v1/auth/token", json={"username": "x", "password": "wrong-password"})
    assert response.status_code == 429
    assert response.get_json()["error"]["code"]


def test_reading_the_login_page_is_not_limited(limited_app):
    client = limited_app.test_client()
    assert all(client.get("/login").status_code == 200 for _ in range(6))

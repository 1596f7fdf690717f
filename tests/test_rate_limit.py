"""Password guessing is slowed down: a generous ceiling per address, a strict one on wrong passwords per account."""

import os
import runpy
import subprocess
import sys
import time

import pytest
from flask import Flask
from support import app_settings, fresh_redis, separate_database

from app import PROJECT_ROOT, check_limits_on_their_views_only, create_app
from app.config import Config, TestConfig
from app.extensions import db, limiter
from app.models.choices import Role
from app.services.users import create_user

REDIS_INDEX = 10
PASSWORD = "the-right-password"


def make_limited_app(app, **overrides):
    """An app with rate limiting on (the suite's default app has it off), on the same database."""
    settings = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    settings.update(
        LOGIN_RATE_LIMIT_ENABLED=True,
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        **overrides,
    )
    limited = create_app(settings)
    if settings["SQLALCHEMY_DATABASE_URI"] == "sqlite://":
        limited.extensions["sqlalchemy"]  # in-memory SQLite is per engine: give it the tables
        with limited.app_context():
            db.create_all()
    with limited.app_context():
        limiter.reset()
    return limited


@pytest.fixture
def limited_app(app):
    return make_limited_app(app, LOGIN_RATE_LIMIT="3 per minute")


@pytest.fixture
def default_limits_app(app):
    """Rate limiting on, with the limits a deployment gets when it sets none."""
    return make_limited_app(
        app,
        LOGIN_RATE_LIMIT=Config.LOGIN_RATE_LIMIT,
        LOGIN_ACCOUNT_FAILURE_LIMIT=Config.LOGIN_ACCOUNT_FAILURE_LIMIT,
    )


def add_users(app, *usernames: str) -> None:
    with app.app_context():
        for username in usernames:
            create_user(username, Role.ADMIN, PASSWORD)
        db.session.commit()


def site_login(client, username: str, password: str, address: str = "127.0.0.1"):
    return client.post(
        "/login", data={"username": username, "password": password}, environ_base={"REMOTE_ADDR": address}
    )


def api_login(client, username: str, password: str, address: str = "127.0.0.1"):
    return client.post(
        "/api/v1/auth/token",
        json={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def assert_retry_after(response) -> None:
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 5 * 60


def test_fourth_login_attempt_in_a_minute_is_refused(limited_app):
    client = limited_app.test_client()
    statuses = [
        client.post("/login", data={"username": "nobody", "password": "wrong-password"}).status_code
        for _ in range(4)
    ]
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3] == 429


def test_token_requests_are_limited_with_a_json_error(limited_app):
    client = limited_app.test_client()
    for _ in range(3):
        assert (
            client.post(
                "/api/v1/auth/token", json={"username": "x", "password": "wrong-password"}
            ).status_code
            == 401
        )
    response = client.post("/api/v1/auth/token", json={"username": "x", "password": "wrong-password"})
    assert response.status_code == 429
    assert response.get_json()["error"]["code"]


def test_reading_the_login_page_is_not_limited(limited_app):
    client = limited_app.test_client()
    assert all(client.get("/login").status_code == 200 for _ in range(6))


def test_too_many_logins_from_one_address_are_told_on_the_form_with_retry_after(limited_app):
    client = limited_app.test_client()
    for _ in range(3):
        site_login(client, "nobody", "wrong-password")
    response = site_login(client, "nobody", "wrong-password")
    assert response.status_code == 429 and int(response.headers["Retry-After"]) >= 1
    assert "请稍后" in response.get_data(as_text=True)


# --- a community centre's Wi-Fi: many members, one address -------------------------------------------


def test_twenty_five_members_on_one_address_can_all_log_in_within_a_minute(default_limits_app):
    usernames = [f"checkin{n:02d}" for n in range(25)]
    add_users(default_limits_app, *usernames)
    statuses = [
        site_login(default_limits_app.test_client(), name, PASSWORD).status_code for name in usernames
    ]
    assert statuses == [303] * 25


# --- wrong passwords per account, whatever the address -----------------------------------------------


def test_sixth_wrong_password_for_an_account_is_refused_from_a_new_address_on_the_site(default_limits_app):
    add_users(default_limits_app, "target")
    client = default_limits_app.test_client()
    assert [
        site_login(client, "target", "wrong-password", f"10.0.0.{n}").status_code for n in range(1, 6)
    ] == [200] * 5
    refused = site_login(
        client, "target", PASSWORD, "10.9.9.9"
    )  # even the right password: nothing is checked
    assert_retry_after(refused)
    assert "密码错误次数过多" in refused.get_data(as_text=True)
    assert (
        site_login(client, "someone-else", "wrong-password", "10.9.9.9").status_code == 200
    )  # other accounts go on


def test_sixth_wrong_password_for_an_account_is_refused_from_a_new_address_on_the_api(default_limits_app):
    add_users(default_limits_app, "target")
    client = default_limits_app.test_client()
    assert [
        api_login(client, "target", "wrong-password", f"10.0.0.{n}").status_code for n in range(1, 6)
    ] == [401] * 5
    refused = api_login(client, "target", PASSWORD, "10.9.9.9")
    assert_retry_after(refused)
    assert refused.get_json()["error"]["code"] == "too_many_attempts"


def test_the_site_and_the_api_count_one_accounts_failures_together(default_limits_app):
    add_users(default_limits_app, "target")
    client = default_limits_app.test_client()
    for n in range(3):
        site_login(client, "target", "wrong-password", f"10.0.1.{n}")
    for n in range(2):
        api_login(client, "target", "wrong-password", f"10.0.2.{n}")
    assert_retry_after(api_login(client, "target", PASSWORD))
    assert_retry_after(site_login(client, " TARGET ", PASSWORD))  # however the name is typed


def test_successful_logins_are_not_counted(default_limits_app):
    add_users(default_limits_app, "busy")
    client = default_limits_app.test_client()
    assert all(api_login(client, "busy", PASSWORD).status_code == 200 for _ in range(8))
    assert [site_login(client, "busy", "wrong-password").status_code for _ in range(4)] == [200] * 4
    assert site_login(client, "busy", PASSWORD).status_code == 303
    assert (
        site_login(default_limits_app.test_client(), "busy", "wrong-password").status_code == 200
    )  # the 5th
    assert_retry_after(site_login(default_limits_app.test_client(), "busy", PASSWORD))


def test_wrong_current_passwords_on_the_password_page_count_like_wrong_logins(default_limits_app):
    """Else whoever finds a session left open could guess its password there without limit."""
    add_users(default_limits_app, "target")
    client = default_limits_app.test_client()
    assert site_login(client, "target", PASSWORD).status_code == 303
    change = {"current_password": "wrong-password", "password": "a-new-password", "confirm": "a-new-password"}
    assert [client.post("/account/password", data=change).status_code for _ in range(5)] == [200] * 5
    assert_retry_after(client.post("/account/password", data={**change, "current_password": PASSWORD}))


def test_unknown_usernames_are_counted_like_known_ones(default_limits_app):
    """The answers must not tell an attacker which usernames exist."""
    client = default_limits_app.test_client()
    for n in range(5):
        api_login(client, "nobody-at-all", "wrong-password", f"10.0.3.{n}")
    assert_retry_after(api_login(client, "nobody-at-all", "wrong-password"))


# --- several workers share the counts ----------------------------------------------------------------


def _two_apps(database_url: str, storage_uri: str):
    apps = [
        create_app(
            app_settings(database_url, LOGIN_RATE_LIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=storage_uri)
        )
        for _ in range(2)
    ]
    with apps[0].app_context():
        db.create_all()
    add_users(apps[0], "target")
    return apps


def test_two_workers_on_one_redis_share_an_accounts_failure_count():
    with separate_database("sqlite", "login_limits") as url:
        first, second = _two_apps(url, fresh_redis(REDIS_INDEX))
        for n in range(3):
            assert (
                site_login(first.test_client(), "target", "wrong-password", f"10.0.0.{n}").status_code == 200
            )
        for n in range(2):
            assert (
                api_login(second.test_client(), "target", "wrong-password", f"10.0.1.{n}").status_code == 401
            )
        assert_retry_after(site_login(first.test_client(), "target", PASSWORD))
        assert_retry_after(api_login(second.test_client(), "target", PASSWORD))
        for each in (first, second):
            with each.app_context():
                db.engine.dispose()


def test_two_workers_with_memory_storage_count_alone():
    """Why the Redis case above matters (and why gunicorn warns): in memory, each process keeps its own counts."""
    with separate_database("sqlite", "login_limits_memory") as url:
        first, second = _two_apps(url, "memory://")
        for n in range(5):
            site_login(first.test_client(), "target", "wrong-password", f"10.0.0.{n}")
        assert_retry_after(site_login(first.test_client(), "target", PASSWORD))
        assert site_login(second.test_client(), "target", PASSWORD).status_code == 303
        for each in (first, second):
            with each.app_context():
                db.engine.dispose()


# --- gunicorn warns when several workers would count alone ------------------------------------------


def test_gunicorn_with_two_workers_and_memory_storage_warns_at_start_up(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"REDIS_URL", "RATELIMIT_STORAGE_URI"} and not k.startswith(("FLASK_", "TEST_"))
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path}/gunicorn.db", SECRET_KEY="test", JOBS_EMBEDDED_SCHEDULER="false"
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", "127.0.0.1:0", "wsgi:app"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        log, deadline = [], time.monotonic() + 60
        while time.monotonic() < deadline:  # the warning comes before the workers boot
            line = server.stderr.readline()
            if not line:
                break
            log.append(line)
            if "Booting worker" in line:
                break
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert any("2 workers keep their rate-limit counts in memory" in line for line in log), "".join(log)


def test_gunicorn_stays_quiet_when_the_workers_share_redis_or_run_alone():
    warning = runpy.run_path(os.path.join(PROJECT_ROOT, "gunicorn.conf.py"))["lone_counters_warning"]
    assert warning(4, "redis://127.0.0.1:6379/0") is None
    assert warning(1, "memory://") is None
    assert "REDIS_URL" in warning(4, "memory://")


def test_the_limiter_checks_only_the_limited_views_unless_an_app_or_blueprint_limit_is_set(app, monkeypatch):
    # no limit on the whole app or a blueprint: the limited views check theirs (the tests above), nothing else pays
    assert limiter._check_request_limit not in app.before_request_funcs.get(None, [])
    other = Flask("other")
    other.before_request(limiter._check_request_limit)
    monkeypatch.setattr(limiter.limit_manager, "_blueprint_limits", {"site": ["10 per minute"]})
    check_limits_on_their_views_only(other)
    assert other.before_request_funcs[None] == [limiter._check_request_limit]  # such a limit keeps the check

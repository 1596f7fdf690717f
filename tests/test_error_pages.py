"""Every error status is the site's own Chinese page in its layout (also under /admin), JSON under /api/,
and reloading the address a form was sent to lands on that form's page instead of an error."""

import html

import pytest
from support import app_settings

from app import create_app
from app.extensions import db, limiter

LAYOUT = "网格通"  # the site's header


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def assert_site_page(response, status: int, title: str) -> None:
    assert response.status_code == status
    assert response.mimetype == "text/html"
    text = page_text(response)
    assert LAYOUT in text and f'class="error-code">{status}<' in text
    assert title in text
    assert "Method Not Allowed" not in text and "Internal Server Error" not in text


def assert_api_error(response, status: int) -> None:
    assert response.status_code == status
    assert response.is_json, response.get_data(as_text=True)[:200]
    assert set(response.get_json()["error"]) >= {"code", "message"}


def test_reloading_a_form_address_lands_on_its_page(demo, login_as):
    site = login_as("member")
    answer = site.get("/wishes/7/complete")
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/wishes/7")
    answer = site.get("/my/notifications/read-all")
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/my/notifications")
    assert site.get("/lang").headers["Location"].endswith("/")


def test_405_on_the_site_the_back_office_and_the_api(demo, login_as, client):
    assert_site_page(client.put("/wishes/7/complete"), 405, "此地址不是页面")
    admin = login_as("admin")
    answer = admin.get("/admin/user/delete/")
    assert_site_page(answer, 405, "此地址不是页面")
    assert "POST" in answer.headers["Allow"]
    assert_api_error(client.get("/api/v1/auth/token"), 405)


def test_404_and_403_everywhere(demo, login_as, client):
    assert_site_page(client.get("/no-such-page"), 404, "页面不存在")
    assert_site_page(login_as("admin").get("/admin/no-such-page/"), 404, "页面不存在")
    assert_api_error(client.get("/api/v1/no-such-thing"), 404)


def test_400_csrf_and_api(app, demo, client):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        answer = client.post("/login", data={"username": "x", "password": "y"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert answer.status_code == 400 and LAYOUT in page_text(answer)
    assert_api_error(client.post("/api/v1/auth/token", data="{", content_type="application/json"), 400)


def test_401_page_and_api(app, client):
    from flask import abort

    assert_api_error(client.get("/api/v1/callups"), 401)
    with app.test_request_context("/my/page"):
        with pytest.raises(Exception) as raised:
            abort(401)
        response = app.handle_user_exception(raised.value)
        assert response.status_code == 401
        text = response.get_data(as_text=True)
        assert "请先登录" in text and LAYOUT in text


def test_413_on_the_site_and_the_api(client):
    huge = b"x" * (client.application.config["MAX_CONTENT_LENGTH"] + 1)
    assert_site_page(
        client.post("/login", data=huge, content_type="application/x-www-form-urlencoded"), 413, "413"
    )
    body = b"{" + b" " * client.application.config["API_MAX_CONTENT_LENGTH"] + b"}"
    assert_api_error(client.post("/api/v1/auth/token", data=body, content_type="application/json"), 413)


@pytest.fixture
def odd_app(app):
    """An app with rate limits on, a route that fails and no exceptions passed to the test."""
    odd = create_app(
        app_settings(
            app.config["SQLALCHEMY_DATABASE_URI"],
            BABEL_DEFAULT_LOCALE="zh_Hans_CN",
            LOGIN_RATE_LIMIT_ENABLED=True,
            LOGIN_RATE_LIMIT="2 per minute",
            PROPAGATE_EXCEPTIONS=False,
        )
    )

    def boom():
        raise RuntimeError("a bug")

    odd.add_url_rule("/boom", "boom", boom)
    odd.add_url_rule("/api/v1/boom", "api_boom", boom)
    if odd.config["SQLALCHEMY_DATABASE_URI"] == "sqlite://":
        with odd.app_context():
            db.create_all()
    with odd.app_context():
        limiter.reset()
    return odd


def test_500_on_the_site_and_the_api(odd_app):
    client = odd_app.test_client()
    assert_site_page(client.get("/boom"), 500, "系统出现故障")
    assert "a bug" not in page_text(client.get("/boom"))
    assert_api_error(client.get("/api/v1/boom"), 500)


def test_429_from_the_limiter_on_the_site_and_the_api(odd_app):
    client = odd_app.test_client()
    for _ in range(2):
        client.post("/register", data={})
    assert_site_page(client.post("/register", data={}), 429, "请求过于频繁")
    for _ in range(2):
        client.post("/api/v1/auth/token", json={"username": "limited", "password": "wrong"})
    assert_api_error(client.post("/api/v1/auth/token", json={"username": "limited", "password": "x"}), 429)

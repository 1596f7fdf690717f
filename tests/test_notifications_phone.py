"""The inbox in a real browser on a phone (390 px): the header keeps one row, rows are tappable, reading works."""

import os
import threading

import pytest
from sqlalchemy import delete, select

from app import create_app
from app.config import TestConfig
from app.extensions import db
from app.models import Notification, User
from tests.conftest import require_service
from tests.test_board_phone import CHROMIUM, MIN_TAP, PHONE, log_in, page_width, sync_playwright


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The demo district with three notifications for the member, served over HTTP for the browser."""
    require_service(sync_playwright is not None, "the playwright package is not installed")
    require_service(os.path.exists(CHROMIUM), f"no Chromium at {CHROMIUM}")
    from werkzeug.serving import make_server

    from app.services import notifications
    from app.services.demo import seed_demo

    path = tmp_path_factory.mktemp("notices") / "notices.db"
    settings = {name: getattr(TestConfig, name) for name in dir(TestConfig) if name.isupper()}
    settings.update(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}", BABEL_DEFAULT_LOCALE="zh_CN")
    app = create_app(settings)
    with app.app_context():
        db.create_all()
        seed_demo()
        db.session.commit()  # the demo's call-up notifies its members after this commit
        db.session.execute(delete(Notification))
        member = db.session.scalar(select(User.id).where(User.username == "member"))
        notifications.send(
            "new_wish", [member], title="新心愿：帮独居老人买菜", body="渭阳社区第一网格", link="/"
        )
        notifications.send("certificate_ready", [member], title="您的志愿服务证明已生成")
        notifications.send(
            "callup",
            [member],
            title="紧急召集：防汛沙袋转运，请到社区广场集合",
            link="/my/notifications/settings",
        )
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def browser(site):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    yield page
    context.close()


def test_a_member_reads_notifications_on_a_phone(phone, site):
    from app.services.demo import DEMO_PASSWORDS

    log_in(phone, site, "member", DEMO_PASSWORDS["member"][0])
    phone.goto(site + "/")
    bell = phone.locator(".notice-bell")
    assert bell.get_attribute("data-unread") == "3" and "3" in bell.inner_text()
    # the header's top row stays one row at 390 px: brand, bell and language switch side by side
    brand, tools = phone.locator(".brand").bounding_box(), phone.locator(".header-tools").bounding_box()
    assert abs((brand["y"] + brand["height"] / 2) - (tools["y"] + tools["height"] / 2)) < 8
    assert tools["x"] + tools["width"] <= PHONE["width"] and brand["x"] + brand["width"] <= tools["x"]
    assert page_width(phone) <= PHONE["width"]

    bell.click()
    phone.wait_for_load_state()
    assert phone.url.endswith("/my/notifications") and page_width(phone) <= PHONE["width"]
    rows = phone.locator(".notice-row")
    assert rows.count() == 3 and phone.locator(".notice-unread").count() == 3
    assert "紧急召集" in rows.first.inner_text()  # newest first
    for index in range(3):
        box = rows.nth(index).locator("button").bounding_box()
        assert box["height"] >= MIN_TAP and box["width"] >= PHONE["width"] - 80
    phone.screenshot(
        path=os.path.join(os.environ.get("TMPDIR", "/tmp"), "notifications-390.png"), full_page=True
    )

    rows.first.locator("button").click()  # read, and follow its link
    phone.wait_for_load_state()
    assert phone.url.endswith("/my/notifications/settings")
    assert phone.locator(".notice-bell").get_attribute("data-unread") == "2"
    phone.go_back()
    phone.goto(site + "/my/notifications")
    assert phone.locator(".notice-unread").count() == 2
    phone.locator("[data-read-all]").click()
    phone.wait_for_load_state()
    assert phone.locator(".notice-unread").count() == 0
    assert phone.locator(".notice-bell").get_attribute("data-unread") == "0"


def test_the_header_keeps_one_row_in_english_too(phone, site):
    from app.services.demo import DEMO_PASSWORDS

    log_in(phone, site, "member", DEMO_PASSWORDS["member"][0])
    phone.goto(site + "/my/notifications")
    phone.locator(".lang-switch button").first.click()  # to English
    phone.wait_for_load_state()
    assert "Notifications" in phone.locator(".notice-bell").inner_text()
    brand, tools = phone.locator(".brand").bounding_box(), phone.locator(".header-tools").bounding_box()
    assert abs((brand["y"] + brand["height"] / 2) - (tools["y"] + tools["height"] / 2)) < 8
    assert tools["x"] + tools["width"] <= PHONE["width"] and page_width(phone) <= PHONE["width"]

"""The inbox in a real browser on a phone (390 px): the header keeps one row, rows are tappable, reading works."""

import os

import pytest
from sqlalchemy import delete, select

from app.extensions import db
from app.models import Notification, User
from tests.test_board_phone import MIN_TAP, PHONE, chromium, log_in, page_width, phone_page, serve_demo


def _three_notices(app) -> None:
    """The member's inbox: three notifications (the demo's call-up notice, sent when the seed committed, gone)."""
    from app.services import notifications

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


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The demo district with three notifications for the member, served over HTTP for the browser."""
    with serve_demo(tmp_path_factory, "notices", prepare=_three_notices) as (address, _app):
        yield address


@pytest.fixture(scope="module")
def browser(site):
    with chromium() as browser:
        yield browser


@pytest.fixture
def phone(browser):
    with phone_page(browser) as page:
        yield page


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

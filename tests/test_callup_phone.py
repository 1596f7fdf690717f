"""The call-up in a real browser on a 390 px phone (Playwright driving the system Chromium): a member answers
我来 and checks in through the QR code's link; the staff's roll updates by itself when another member answers."""

import os
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app import create_app
from app.config import TestConfig
from app.extensions import db
from tests.conftest import require_service
from tests.test_board_phone import CHROMIUM, MIN_TAP, PHONE, page_width, sync_playwright

GRID = "610404001001001"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The demo district with one open call-up to the member's grid, served over HTTP for the browser."""
    require_service(sync_playwright is not None, "the playwright package is not installed")
    require_service(os.path.exists(CHROMIUM), f"no Chromium at {CHROMIUM}")
    from werkzeug.serving import make_server

    from app.models import User
    from app.models.base import utcnow
    from app.services import callups
    from app.services.demo import seed_demo

    folder = tmp_path_factory.mktemp("callup-phone")
    settings = {name: getattr(TestConfig, name) for name in dir(TestConfig) if name.isupper()}
    settings.update(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'callup.db'}",
        BABEL_DEFAULT_LOCALE="zh_CN",
        PRINTOUT_DIR=str(folder / "printouts"),
    )
    app = create_app(settings)
    with app.app_context():
        db.create_all()
        seed_demo()
        staff = db.session.scalar(select(User).where(User.username == "community"))
        callup = callups.raise_callup(
            staff,
            area_code=GRID,
            grid_code=GRID,
            title="防汛沙袋转运（紧急）",
            details="渭河水位上涨，请就近支援。",
            muster_point="文汇社区党群服务中心门口",
            needed=3,
            starts_at=utcnow() + timedelta(minutes=20),
            hours=Decimal(2),
        )
        db.session.commit()
        callup_id = callup.id
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_BASE_URL"] = base  # the QR code leads to this server
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base, callup_id
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
def phones(browser):
    """A factory of phone-sized browser contexts (one per person), closed at the end."""
    contexts = []

    def make():
        context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def log_in_here(page, username: str) -> None:
    """Fill the login form the browser is on (it came back to where it was going)."""
    from app.services.demo import DEMO_PASSWORDS

    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORDS[username][0])
    with page.expect_navigation():
        page.click("main form button[type=submit]")


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    log_in_here(page, username)


def wait_for_count(page, key: str, value: int) -> None:
    """Wait (up to 15 s: the roll polls every 4 s) until the roll's count `key` shows `value`."""
    page.wait_for_function(
        '([key, value]) => document.querySelector(`[data-count="${key}"]`).textContent === value',
        arg=[key, str(value)],
        timeout=15000,
    )


def test_member_answers_and_checks_in_through_the_qr_code(site, phones, tmp_path):
    base, callup_id = site
    staff = phones()
    log_in(staff, base, "community")
    staff.goto(f"{base}/callups/{callup_id}/qr")
    assert page_width(staff) <= PHONE["width"]
    code = staff.locator(".callup-qr img")
    assert code.bounding_box()["width"] >= 300  # big enough to scan from a phone held up
    link = staff.locator("[data-checkin-link]").get_attribute("href")
    assert link.startswith(base) and "token=" in link

    member = phones()
    log_in(member, base, "member")
    member.goto(f"{base}/callups/{callup_id}")
    assert page_width(member) <= PHONE["width"]
    coming = member.locator("button.answer-coming")
    assert coming.bounding_box()["height"] >= MIN_TAP and coming.is_visible()
    with member.expect_navigation():
        coming.click()
    assert member.url.endswith(f"/callups/{callup_id}")
    assert member.locator(".callup-answer").get_attribute("data-answer") == "coming"
    assert member.locator("button.answer-coming").get_attribute("aria-pressed") == "true"
    member.screenshot(path=str(tmp_path / "callup-member.png"), full_page=True)

    # the member scans the code: a fresh phone session logs in and comes back to the check-in page
    scanner = phones()
    scanner.goto(link)
    assert "/login" in scanner.url
    log_in_here(scanner, "member")
    assert f"/callups/{callup_id}/checkin" in scanner.url and "token=" in scanner.url
    assert page_width(scanner) <= PHONE["width"]
    button = scanner.locator("button.checkin-button")
    assert button.bounding_box()["height"] >= MIN_TAP
    with scanner.expect_navigation():
        button.click()
    assert scanner.url.endswith(f"/callups/{callup_id}")
    assert scanner.locator(".callup-arrived").is_visible()
    assert page_width(scanner) <= PHONE["width"]


def test_the_roll_updates_by_itself_when_another_member_answers(site, phones, tmp_path):
    base, callup_id = site
    staff = phones()
    log_in(staff, base, "community")
    staff.goto(f"{base}/callups/{callup_id}")
    assert page_width(staff) <= PHONE["width"]
    coming = int(staff.locator('[data-count="coming"]').inner_text())
    cannot = int(staff.locator('[data-count="cannot"]').inner_text())
    staff.evaluate("window.notReloaded = true")

    captain = phones()
    log_in(captain, base, "captain")
    captain.goto(f"{base}/callups/{callup_id}")
    with captain.expect_navigation():
        captain.locator("button.answer-cannot").click()
    assert captain.locator(".callup-answer").get_attribute("data-answer") == "cannot"

    wait_for_count(staff, "cannot", cannot + 1)
    assert staff.evaluate("window.notReloaded === true")  # updated in place, not reloaded
    assert int(staff.locator('[data-count="coming"]').inner_text()) == coming
    row = staff.locator('.roll-list[data-group="cannot"] .roll-person', has_text="张卫东")
    assert row.count() == 1

    # the captain changes their mind: the row moves to "coming" on the staff's phone by itself
    with captain.expect_navigation():
        captain.locator("button.answer-coming").click()
    wait_for_count(staff, "coming", coming + 1)
    assert staff.locator('.roll-list[data-group="coming"] .roll-person', has_text="张卫东").count() == 1
    assert staff.evaluate("window.notReloaded === true")
    assert page_width(staff) <= PHONE["width"]
    staff.screenshot(path=str(tmp_path / "callup-roll.png"), full_page=True)

    # another of the staff closes it (after the confirmation): the first phone stops offering actions by itself
    other = phones()
    log_in(other, base, "street")
    other.goto(f"{base}/callups/{callup_id}")
    other.on("dialog", lambda dialog: dialog.accept())
    with other.expect_navigation():
        other.locator(".close-form button").click()
    assert other.locator(".close-form").count() == 0
    staff.wait_for_function("() => document.querySelector('.close-form').hidden", timeout=15000)
    assert not staff.locator(".close-form").is_visible()
    assert staff.locator(".roll-person .roll-arrive:visible").count() == 0
    assert staff.evaluate("window.notReloaded === true")

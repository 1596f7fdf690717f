"""The board in a real browser on a phone-sized screen (Playwright driving the system Chromium)."""

import os
import threading
from contextlib import contextmanager

import pytest

from app import create_app
from app.config import TestConfig
from app.extensions import db
from tests.conftest import require_service

CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}
MIN_TAP = 44  # px: the smallest comfortable tap target

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None


@contextmanager
def serve_demo(tmp_path_factory, name: str, prepare=None):
    """The demo district served over HTTP from a file-based SQLite database: yields (address, app).
    `prepare(app)` runs in an app context after the seed committed (a test's own data)."""
    require_service(sync_playwright is not None, "the playwright package is not installed")
    require_service(os.path.exists(CHROMIUM), f"no Chromium at {CHROMIUM}")
    from werkzeug.serving import make_server

    from app.services.demo import seed_demo

    path = tmp_path_factory.mktemp(name) / f"{name}.db"
    settings = {key: getattr(TestConfig, key) for key in dir(TestConfig) if key.isupper()}
    settings.update(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}", BABEL_DEFAULT_LOCALE="zh_CN")
    app = create_app(settings)
    with app.app_context():
        db.create_all()
        seed_demo()
        db.session.commit()
        if prepare is not None:
            prepare(app)
            db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", app
    finally:
        server.shutdown()
        thread.join(timeout=5)
        with app.app_context():
            db.engine.dispose()


@contextmanager
def chromium():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


@contextmanager
def phone_page(browser):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with serve_demo(tmp_path_factory, "phone") as (address, _app):
        yield address


@pytest.fixture(scope="module")
def browser(site):
    with chromium() as browser:
        yield browser


@pytest.fixture
def phone(browser):
    with phone_page(browser) as page:
        yield page


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def log_in(page, site: str, username: str, password: str) -> None:
    page.goto(f"{site}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()


def test_board_fits_a_phone_and_shows_the_wishes_first(phone, site, tmp_path):
    phone.goto(site + "/")
    assert page_width(phone) <= PHONE["width"]
    first = phone.locator(".wish-card").first
    assert first.is_visible()
    assert first.bounding_box()["y"] < PHONE["height"]  # a wish shows without scrolling
    shot = tmp_path / "board-phone.png"
    phone.screenshot(path=str(shot), full_page=True)
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 1000


def test_navigation_and_filters_are_easy_to_tap(phone, site):
    phone.goto(site + "/")
    for target in phone.locator(".site-nav a, .board-filters select").all():
        assert target.bounding_box()["height"] >= MIN_TAP, target.inner_text()


def test_choosing_a_street_narrows_the_board_without_a_button(phone, site):
    phone.goto(site + "/")
    with phone.expect_navigation():
        phone.select_option("#f-street", "610404002")  # a street with no wishes in the demo
    assert "street=610404002" in phone.url
    assert phone.locator(".wish-card").count() == 0
    assert phone.locator("#f-community option").count() > 1  # its communities are now offered


def test_member_claims_from_the_board_on_a_phone(phone, site, tmp_path):
    from app.services.demo import DEMO_PASSWORDS

    log_in(phone, site, "member", DEMO_PASSWORDS["member"][0])
    phone.goto(site + "/")
    assert page_width(phone) <= PHONE["width"]
    claim = phone.locator(".wish-card .claim-link").first
    assert claim.bounding_box()["height"] >= MIN_TAP
    phone.screenshot(path=str(tmp_path / "board-member.png"), full_page=True)
    with phone.expect_navigation():
        claim.click()
    confirm = phone.locator("#confirm-claim button[type=submit]")  # one extra tap: the claim is confirmed
    assert "confirm=claim" in phone.url and confirm.is_visible()
    assert phone.locator(".flash-success").count() == 0
    with phone.expect_navigation():
        confirm.click()
    assert "/wishes/" in phone.url and "confirm" not in phone.url
    assert phone.locator(".flash-success").is_visible()
    assert page_width(phone) <= PHONE["width"]

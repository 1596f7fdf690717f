"""Contact and the resident's say in a real browser at 390 px (Playwright driving the system Chromium): a claimer
taps the owner's call link (its display audited), a resident marks a resolved report 没解决."""

import os
import threading

import pytest
from sqlalchemy import select

from app import create_app
from app.config import TestConfig
from app.extensions import db
from app.models import AuditLog, Event, Resident, User
from app.models.choices import EventStatus
from app.services import contact, events, wishes
from app.services.demo.common import DEMO_PASSWORDS
from tests.conftest import require_service
from tests.test_board_phone import CHROMIUM, MIN_TAP, PHONE, log_in, page_width, sync_playwright

OWNER_PHONE = "13900001111"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The demo district served over HTTP from a file-based SQLite database: (address, app)."""
    require_service(sync_playwright is not None, "the playwright package is not installed")
    require_service(os.path.exists(CHROMIUM), f"no Chromium at {CHROMIUM}")
    from werkzeug.serving import make_server

    from app.services.demo import seed_demo

    path = tmp_path_factory.mktemp("say") / "say.db"
    settings = {name: getattr(TestConfig, name) for name in dir(TestConfig) if name.isupper()}
    settings.update(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}", BABEL_DEFAULT_LOCALE="zh_CN")
    app = create_app(settings)
    with app.app_context():
        db.create_all()
        seed_demo()
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app
    server.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def browser(served):
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


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def test_a_claimer_taps_the_owners_call_link(served, phone):
    site, app = served
    with app.app_context():
        resident = db.session.scalar(select(Resident).where(Resident.user_id == user("resident").id))
        resident.phone = OWNER_PHONE
        wish = wishes.post_wish(
            user("resident"), title="帮忙取快递", description=None, category_code="elderly"
        )
        wishes.publish_wish(user("grid"), wish)
        wishes.claim_wish(user("member"), wish)
        db.session.commit()
        wish_id = wish.id
    log_in(phone, site, "member", DEMO_PASSWORDS["member"][0])
    phone.goto(f"{site}/wishes/{wish_id}")
    assert page_width(phone) <= PHONE["width"]
    call = phone.locator('a[data-call="owner"]')
    assert call.get_attribute("href") == f"tel:{OWNER_PHONE}"
    assert phone.locator('a[data-sms="owner"]').get_attribute("href") == f"sms:{OWNER_PHONE}"
    box = call.bounding_box()
    assert box["height"] >= MIN_TAP and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    # tapping asks the phone to dial: the browser leaves the page for tel:, which Chromium cannot open here
    call.tap()
    with app.app_context():
        rows = db.session.scalars(select(AuditLog).where(AuditLog.action == "reveal")).all()
        reasons = {(r.model, (r.after or {}).get("reason")) for r in rows}
        assert ("Resident", f"claimed wish #{wish_id}") in reasons
        assert all(r.user_id == user("member").id for r in rows)


def test_a_resident_marks_a_resolved_report_not_fixed(served, phone):
    site, app = served
    with app.app_context():
        event, _created = events.report_event(
            user("resident"),
            title="路灯不亮",
            description="路灯不亮",
            matter_code="HW-001",
            location_text="5号楼",
        )
        grid = user("grid")
        events.accept_event(grid, event)
        events.start_event(grid, event)
        events.resolve_event(grid, event, "已更换灯泡")
        db.session.commit()
        event_id = event.id
    log_in(phone, site, "resident", DEMO_PASSWORDS["resident"][0])
    phone.goto(f"{site}/events/{event_id}")
    assert page_width(phone) <= PHONE["width"]
    phone.get_by_label("没解决").check()
    phone.get_by_label("差").check()
    phone.fill("#feedback-comment", "灯还是不亮")
    with phone.expect_navigation():
        phone.locator("form.action-feedback button[type=submit]").tap()
    assert "您的评价：没解决" in phone.content()
    with app.app_context():
        event = db.session.get(Event, event_id)
        assert event.status == EventStatus.IN_PROGRESS and event.steps[-1].note == "灯还是不亮"
        assert contact.display_on()

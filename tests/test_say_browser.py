"""Contact and the resident's say in a real browser at 390 px (Playwright driving the system Chromium): a claimer
taps the owner's call link (its display audited), a resident marks a resolved report 没解决."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, Event, Resident, User
from app.models.choices import EventStatus
from app.services import contact, events, wishes
from app.services.demo.common import DEMO_PASSWORDS
from tests.test_board_phone import MIN_TAP, PHONE, chromium, log_in, page_width, phone_page, serve_demo

OWNER_PHONE = "13900001111"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The demo district served over HTTP from a file-based SQLite database: (address, app)."""
    with serve_demo(tmp_path_factory, "say") as served:
        yield served


@pytest.fixture(scope="module")
def browser(served):
    with chromium() as browser:
        yield browser


@pytest.fixture
def phone(browser):
    with phone_page(browser) as page:
        yield page


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

"""Back-office forms in a real browser (Playwright driving the system Chromium), at 1280 px and on a 390 px
phone: the resident form's 人员标签 check boxes stay in their field — none covered by 备注 or the save buttons,
each toggled by a click on it; a grid's page draws the grid's map."""

import os
import threading

import pytest
from sqlalchemy import select

from app import create_app
from app.config import TestConfig
from app.extensions import db
from tests.conftest import require_service
from tests.test_board_phone import CHROMIUM, MIN_TAP, PHONE, page_width, sync_playwright

DESKTOP = {"width": 1280, "height": 900}

# for each check box: the element at the centre of the box and of its label must be the box or its label
COVERED = """() => [...document.querySelectorAll('#tags input[type=checkbox]')].map(box => {
  box.scrollIntoView({block: 'center'});
  const label = box.closest('label') || document.querySelector(`label[for="${box.id}"]`);
  const mine = el => el === box || el === label || label.contains(el);
  const at = r => document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return {value: box.value, box: mine(at(box.getBoundingClientRect())),
          label: mine(at(label.getBoundingClientRect())), height: label.getBoundingClientRect().height};
})"""
# the check boxes' block ends above the next field (备注) and above the save buttons
STACKED = """() => {
  const boxes = [...document.querySelectorAll('#tags input, #tags label')].map(e => e.getBoundingClientRect());
  const checks = {bottom: Math.max(...boxes.map(r => r.bottom))};
  const note = document.querySelector('#note').getBoundingClientRect();
  const save = document.querySelector('.submit-row').getBoundingClientRect();
  return {checks: checks.bottom, note: note.top, save: save.top};
}"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    require_service(sync_playwright is not None, "the playwright package is not installed")
    require_service(os.path.exists(CHROMIUM), f"no Chromium at {CHROMIUM}")
    from werkzeug.serving import make_server

    from app.models import Resident
    from app.services.demo import seed_demo

    folder = tmp_path_factory.mktemp("admin-forms")
    settings = {name: getattr(TestConfig, name) for name in dir(TestConfig) if name.isupper()}
    settings.update(SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'forms.db'}", BABEL_DEFAULT_LOCALE="zh_CN")
    app = create_app(settings)
    with app.app_context():
        db.create_all()
        seed_demo()
        db.session.commit()
        resident_id = db.session.scalar(select(Resident.id).order_by(Resident.id))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", resident_id
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


def _log_in(page, base: str) -> None:
    from app.services.demo import DEMO_PASSWORDS

    page.goto(f"{base}/login")
    page.fill("#username", "admin")
    page.fill("#password", DEMO_PASSWORDS["admin"][0])
    with page.expect_navigation():
        page.click("main form button[type=submit]")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
@pytest.mark.parametrize("form", ["new", "edit"])
def test_resident_form_check_boxes_are_their_own_and_toggle(site, browser, viewport, form, tmp_path):
    base, resident_id = site
    phone = viewport is PHONE
    context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone)
    page = context.new_page()
    try:
        _log_in(page, base)
        page.goto(
            f"{base}/admin/resident/new/"
            if form == "new"
            else f"{base}/admin/resident/edit/?id={resident_id}"
        )
        boxes = page.locator("#tags input[type=checkbox]")
        assert boxes.count() == 7
        layout = page.evaluate(STACKED)
        assert layout["checks"] <= layout["note"] and layout["checks"] <= layout["save"], layout
        for spot in page.evaluate(COVERED):
            assert spot["box"] and spot["label"], spot
            assert spot["height"] >= MIN_TAP, spot
        if phone:
            assert page_width(page) <= PHONE["width"]
        for index in range(boxes.count()):
            box = boxes.nth(index)
            before = box.is_checked()
            box.click()
            assert box.is_checked() is not before, box.get_attribute("value")
            page.locator(f"label[for='{box.get_attribute('id')}']").click()  # the label toggles it back
            assert box.is_checked() is before, box.get_attribute("value")
        key_person = page.locator("#tags input[value=focus]")
        was = key_person.is_checked()
        page.get_by_text("重点人员", exact=True).click()
        assert key_person.is_checked() is not was
        assert page.url.endswith("/new/") if form == "new" else "/edit/" in page.url  # nothing was saved
        page.screenshot(path=str(tmp_path / f"resident-{form}-{viewport['width']}.png"), full_page=True)
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_a_grids_page_draws_its_map(site, browser, viewport, tmp_path):
    base, _resident = site
    phone = viewport is PHONE
    context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        _log_in(page, base)
        page.goto(f"{base}/admin/area/?flt0_0=grid")
        page.locator("a[href*='/admin/area/details/']").first.click()
        page.wait_for_selector("#og-map svg path", timeout=10000)  # ECharts drew the boundary
        box = page.locator("#og-map").bounding_box()
        assert box["width"] > 200 and box["height"] > 200
        assert page.locator("#fa_filter").count() == 0
        assert not errors
        if phone:
            assert page_width(page) <= PHONE["width"]
        page.screenshot(path=str(tmp_path / f"grid-page-{viewport['width']}.png"), full_page=True)
    finally:
        context.close()

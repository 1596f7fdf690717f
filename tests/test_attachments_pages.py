"""Photos in the back office (a resolve with an "after" photo, the event and wish pages) and, in Chromium at
390 px, a resident reporting with two photos and a member completing a wish with an evidence photo."""

import io
import re

import pytest
from photo_support import executable, jpeg_with_gps, png
from sqlalchemy import select
from test_attachments import new_event, new_wish, nothing_stored, user

from app.extensions import db
from app.models import Attachment, Event
from app.services import attachments, events
from tests import test_board_phone as on_a_phone

pytestmark = pytest.mark.usefixtures("english")
site, browser, phone = on_a_phone.site, on_a_phone.browser, on_a_phone.phone


@pytest.fixture(params=["files", "database"])
def backend(app, tmp_path, request):
    saved = {k: app.config.get(k) for k in ("STORAGE", "STORAGE_DIR")}
    app.config.update(STORAGE=request.param, STORAGE_DIR=str(tmp_path / "files"))
    yield request.param
    app.config.update(saved)


def resolve_with(client, event, files):
    return client.post(
        f"/admin/event/transition/resolve/?id={event.id}",
        data={"note": "已更换灯泡", "photos": [(io.BytesIO(data), name) for name, data in files]},
        content_type="multipart/form-data",
    )


def test_staff_resolve_with_an_after_photo_that_the_reporter_sees(app, backend, login_as):
    event = new_event()
    events.perform(user("grid"), event, "accept")
    events.perform(user("grid"), event, "start", note="")
    [before] = attachments.attach(user("resident"), attachments.Subject.of_event(event), [jpeg_with_gps()])
    db.session.commit()
    grid = login_as("grid")
    assert 'name="photos"' in grid.get(f"/admin/event/transition/resolve/?id={event.id}").get_data(
        as_text=True
    )

    response = resolve_with(grid, event, [("after.jpg", jpeg_with_gps())])

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Event, event.id).status == "resolved"
    after = db.session.scalar(select(Attachment).where(Attachment.subject_kind == "event_step"))
    assert after.event_step.action == "resolve" and after.uploader_id == user("grid").id
    details = grid.get(f"/admin/event/details/?id={event.id}").get_data(as_text=True)
    assert f"/photos/{before.id}/thumbnail" in details and f"/photos/{after.id}/thumbnail" in details
    page = login_as("resident").get(f"/events/{event.id}").get_data(as_text=True)
    assert f"/photos/{after.id}/thumbnail" in page
    assert login_as("resident").get(f"/photos/{after.id}").mimetype == "image/jpeg"


def test_a_refused_after_photo_refuses_the_resolve(app, backend, login_as):
    event = new_event()
    events.perform(user("grid"), event, "accept")
    events.perform(user("grid"), event, "start", note="")
    db.session.commit()
    grid = login_as("grid")

    response = resolve_with(grid, event, [("after.jpg", executable())])

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Event, event.id).status == "in_progress"
    assert nothing_stored(app)
    flashed = grid.get(f"/admin/event/details/?id={event.id}").get_data(as_text=True)
    assert "Only photos are accepted" in flashed


def test_the_wish_page_of_the_back_office_shows_its_photos(app, backend, login_as):
    wish = new_wish()
    [photo] = attachments.attach(user("resident"), attachments.Subject.of_wish(wish), [png()])
    db.session.commit()
    page = login_as("grid").get(f"/admin/wish/details/?id={wish.id}").get_data(as_text=True)
    assert f"/photos/{photo.id}/thumbnail" in page


def test_the_board_and_queues_read_no_image_bytes(app, login_as):
    """The board and the queues list subjects; photo bytes are read only when a photo is asked for."""
    wish = new_wish(publish=True)
    attachments.attach(user("resident"), attachments.Subject.of_wish(wish), [png()])
    db.session.commit()
    from sqlalchemy import event as sa_event

    seen = []

    def listener(_conn, _cursor, statement, *_args):
        seen.append(statement)

    sa_event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert login_as("member").get("/").status_code == 200
        assert login_as("grid").get("/admin/event_queue/").status_code == 200
        assert login_as("grid").get("/admin/wish_review/").status_code == 200
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", listener)
    assert not [s for s in seen if "stored_file" in s or "attachment" in s]


# --- on a phone ---------------------------------------------------------------------------------------------
def photo_files(tmp_path, count: int) -> list[str]:
    paths = []
    for n in range(count):
        path = tmp_path / f"photo-{n}.jpg"
        path.write_bytes(jpeg_with_gps(400 + n * 10, 200))
        paths.append(str(path))
    return paths


def test_resident_reports_with_two_photos_on_a_phone(site, phone, tmp_path):
    from app.services.demo import DEMO_PASSWORDS
    from tests.test_board_phone import PHONE, log_in, page_width

    log_in(phone, site, "resident", DEMO_PASSWORDS["resident"][0])
    phone.goto(site + "/events/new")
    phone.select_option("#matter", "HW-001")
    phone.fill("#description", "小区门口的井盖松动了，踩上去会晃。")
    phone.fill("#location_text", "文汇社区A区东门")
    phone.locator("input[data-photo-input][multiple]").set_input_files(photo_files(tmp_path, 2))
    previews = phone.locator("[data-photo-previews] img")
    previews.first.wait_for()
    assert previews.count() == 2
    assert page_width(phone) <= PHONE["width"]
    phone.screenshot(path=str(tmp_path / "report-photos.png"), full_page=True)

    phone.click("main form button[type=submit]")
    photos = phone.locator(".photo-row img")
    photos.first.wait_for(timeout=60_000)  # the report page, shown in place of the form (photos.js)
    assert re.search(r"/events/\d+$", phone.url)
    assert photos.count() == 2
    phone.wait_for_function(  # a function, not an expression: Playwright evaluates an expression with eval, which
        # the page's Content-Security-Policy forbids once the first check has to be repeated
        "() => Array.from(document.querySelectorAll('.photo-row img')).every(i => i.complete && i.naturalWidth > 0)"
    )
    assert phone.locator(".flash-success").is_visible()
    assert page_width(phone) <= PHONE["width"]
    with phone.expect_popup() as opened:
        photos.first.click()  # tap: the photo itself opens
    photo = opened.value
    photo.wait_for_load_state("load")  # the popup starts blank, then navigates to the photo
    assert re.search(r"/photos/\d+", photo.url) and photo.evaluate("document.contentType") == "image/jpeg"


def test_member_completes_a_wish_with_an_evidence_photo_on_a_phone(site, phone, tmp_path):
    from app.services.demo import DEMO_PASSWORDS
    from tests.test_board_phone import log_in

    log_in(phone, site, "member", DEMO_PASSWORDS["member"][0])
    phone.goto(site + "/my/claims")
    link = phone.locator("a[href*='/wishes/']").first
    with phone.expect_navigation():
        link.click()
    if phone.locator("form.action-complete").count() == 0:
        pytest.fail("the demo member has no claimed wish to complete")
    form = phone.locator("form.action-complete")
    form.locator("input[name='complete-hours']").fill("1.5")
    form.locator("textarea[name='complete-note']").fill("已帮忙更换")
    form.locator("input[data-photo-input]:not([capture])").set_input_files(photo_files(tmp_path, 1))
    form.locator("[data-photo-previews] img").first.wait_for()
    form.locator("button[type=submit]").click()
    phone.locator(".history .photo-row img").first.wait_for(
        timeout=60_000
    )  # the answer is shown in place (photos.js)
    assert phone.locator(".history .photo-row img").count() == 1
    assert phone.locator(".flash-success").is_visible()

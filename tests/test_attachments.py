"""Photos: made safe (type from the bytes, EXIF and GPS gone, orientation kept, bombs refused, nothing written on
refusal), attached through the API and the site, and seen by exactly those who see their subject — on both storage
backends."""

import io
import os

import pytest
from photo_support import GPS_IFD, executable, jpeg_with_gps, png, png_bomb
from PIL import Image
from sqlalchemy import func, select
from test_api_wishes import Caller

from app.extensions import db
from app.models import Attachment, AuditLog, StoredFile, User, Wish
from app.models.choices import WishAction
from app.services import attachments, events, storage, wishes
from app.services.images import PhotoRefused, prepare
from app.services.users import create_user

pytestmark = pytest.mark.usefixtures("english")

HOME_GRID = "610404001001001"  # the demo resident's, member's and grid worker's grid


@pytest.fixture(params=["files", "database"])
def backend(app, tmp_path, request):
    saved = {k: app.config.get(k) for k in ("STORAGE", "STORAGE_DIR", "ATTACHMENT_MAX_BYTES")}
    app.config.update(STORAGE=request.param, STORAGE_DIR=str(tmp_path / "files"))
    yield request.param
    app.config.update(saved)


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def nothing_stored(app) -> bool:
    rows = db.session.scalar(select(func.count()).select_from(Attachment))
    blobs = db.session.scalar(select(func.count()).select_from(StoredFile))
    files = [n for _r, _d, names in os.walk(app.config["STORAGE_DIR"]) for n in names]
    return rows == 0 and blobs == 0 and not files


def new_event(username: str = "resident"):
    event, _created = events.report_event(
        user(username),
        title="路灯不亮",
        description="3号楼门口路灯坏了",
        matter_code="HW-001",
        grid_code=HOME_GRID,
        location_text="3号楼",
    )
    db.session.commit()
    return event


def new_wish(publish: bool = False) -> Wish:
    wish = wishes.post_wish(
        user("resident"),
        title="帮忙换灯泡",
        description="厨房灯泡坏了",
        category_code="repair",
        grid_code=HOME_GRID,
    )
    if publish:
        wishes.perform(user("grid"), wish, WishAction.PUBLISH)
    db.session.commit()
    return wish


def upload(caller: Caller, url: str, data: bytes, name: str = "photo.jpg"):
    return caller.client.post(
        url,
        data={"file": (io.BytesIO(data), name)},
        headers=caller.headers,
        content_type="multipart/form-data",
    )


# --- the picture itself --------------------------------------------------------------------------------------
def complete_with_a_photo(site_client, wish_id: int):
    """The claiming member reports the wish done on the site, a photo of the work with the report."""
    return site_client.post(
        f"/wishes/{wish_id}/complete",
        data={
            "complete-hours": "1.5",
            "complete-note": "换好了",
            "photos": [(io.BytesIO(png()), "done.png")],
        },
        content_type="multipart/form-data",
    )


def test_a_phone_jpeg_comes_back_without_exif_upright(app):
    source = jpeg_with_gps()
    assert Image.open(io.BytesIO(source)).getexif().get_ifd(GPS_IFD)  # the test's picture does carry GPS

    photo = prepare(source)

    image = Image.open(io.BytesIO(photo.data))
    assert image.format == "JPEG" and photo.content_type == "image/jpeg"
    assert len(image.getexif()) == 0 and not image.getexif().get_ifd(GPS_IFD)
    assert not {"exif", "xmp", "icc_profile", "comment"} & set(image.info)
    assert b"PhoneMaker" not in photo.data and b"Exif" not in photo.data
    assert (
        (photo.width, photo.height) == image.size == (200, 400)
    )  # turned upright: the left (red) half on top
    red, blue = image.getpixel((100, 60)), image.getpixel((100, 340))
    assert red[0] > 150 > red[2] and blue[2] > 150 > blue[0]
    thumbnail = Image.open(io.BytesIO(photo.thumbnail))
    assert thumbnail.format == "JPEG" and len(thumbnail.getexif()) == 0 and max(thumbnail.size) <= 320


def test_the_long_side_is_capped(app):
    app.config["ATTACHMENT_MAX_PIXELS_SIDE"], before = 300, app.config["ATTACHMENT_MAX_PIXELS_SIDE"]
    try:
        photo = prepare(png(900, 450))
    finally:
        app.config["ATTACHMENT_MAX_PIXELS_SIDE"] = before
    assert (photo.width, photo.height) == (300, 150) and photo.content_type == "image/png"


def test_webp_is_accepted_and_heic_refused_with_a_message(app):
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (1, 2, 3)).save(out, "WEBP")
    assert prepare(out.getvalue()).content_type == "image/webp"
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    with pytest.raises(PhotoRefused) as refused:
        prepare(heic)
    assert refused.value.status == 415 and "HEIC" in refused.value.message


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (executable(), 415),  # an ELF named photo.jpg
        (b"GIF89a" + b"\x00" * 100, 415),
        (png_bomb(), 422),  # 10 gigapixels in a few hundred bytes
        (b"\xff\xd8\xff\xe0" + b"\x00" * 50, 422),  # a JPEG's start, then nothing
    ],
)
def test_what_is_not_a_safe_photo_is_refused(app, data, status):
    with pytest.raises(PhotoRefused) as refused:
        prepare(data)
    assert refused.value.status == status


# --- the API ----------------------------------------------------------------------------------------------
def test_a_reporter_attaches_a_photo_over_the_api_and_the_event_lists_it(app, backend, client, demo):
    event = new_event()
    resident = Caller(client, "resident")

    response = upload(resident, f"/api/v1/events/{event.id}/attachments", jpeg_with_gps())

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == {"id", "url", "thumbnail_url", "content_type", "width", "height"}
    assert (body["content_type"], body["width"], body["height"]) == ("image/jpeg", 200, 400)
    image = resident.get(body["url"])
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in image.headers["Cache-Control"]  # the API sends no-store on every answer
    assert len(Image.open(io.BytesIO(image.data)).getexif()) == 0
    assert resident.get(body["thumbnail_url"]).mimetype == "image/jpeg"
    listed = resident.get(f"/api/v1/events/{event.id}").get_json()["attachments"]
    assert [a["id"] for a in listed] == [body["id"]]
    row = db.session.get(Attachment, body["id"])
    assert storage.exists(row.image_key) and storage.exists(row.thumbnail_key)
    assert db.session.scalar(select(AuditLog).where(AuditLog.model == "Attachment")).action == "create"


@pytest.mark.parametrize(
    ("data", "status"),
    [(executable(), 415), (png_bomb(), 422), (b"x" * 300_000, 413)],
    ids=["exe", "bomb", "big"],
)
def test_refused_uploads_store_nothing(app, backend, client, demo, data, status):
    app.config["ATTACHMENT_MAX_BYTES"] = 200_000
    event = new_event()
    response = upload(Caller(client, "resident"), f"/api/v1/events/{event.id}/attachments", data, "photo.jpg")
    assert response.status_code == status
    assert response.get_json()["error"]["message"]
    assert nothing_stored(app)


def test_a_photo_over_the_cap_on_the_site_is_413_and_the_report_is_not_made(app, backend, login_as):
    app.config["ATTACHMENT_MAX_BYTES"] = 200_000
    big = jpeg_with_gps() + b"\x00" * 250_000
    before = db.session.scalar(select(func.count()).select_from(events.Event))
    response = login_as("resident").post(
        "/events/new",
        data={
            "matter": "HW-001",
            "description": "路口的垃圾箱满了",
            "location_text": "5号楼",
            "photos": [(io.BytesIO(jpeg_with_gps()), "a.jpg"), (io.BytesIO(big), "b.jpg")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 413 and "MB" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(events.Event)) == before
    assert nothing_stored(app)


def test_at_most_nine_photos_per_subject(app, backend, client, demo):
    event = new_event()
    resident = Caller(client, "resident")
    for _n in range(attachments.MAX_PER_SUBJECT):
        assert upload(resident, f"/api/v1/events/{event.id}/attachments", png()).status_code == 201
    tenth = upload(resident, f"/api/v1/events/{event.id}/attachments", png())
    assert tenth.status_code == 422 and tenth.get_json()["error"]["code"] == "too_many_photos"
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 9


def test_others_may_not_attach(app, client, demo):
    event = new_event()
    wish = new_wish(publish=True)
    member = Caller(client, "member")
    assert upload(member, f"/api/v1/events/{event.id}/attachments", png()).status_code == 404  # not theirs
    assert (
        upload(member, f"/api/v1/wishes/{wish.id}/attachments", png()).status_code == 403
    )  # public, not theirs
    assert upload(Caller(client, "grid2"), f"/api/v1/events/{event.id}/attachments", png()).status_code == 404


# --- who sees what ------------------------------------------------------------------------------------------
ROLES = ("owner", "other_resident", "member", "grid", "grid2", "anonymous")


def viewers(app, login_as):
    create_user("resident_b", "resident", "resident-password-1", area_code=HOME_GRID, name="李四")
    db.session.commit()
    other = app.test_client()
    other.post("/login", data={"username": "resident_b", "password": "resident-password-1"})
    return {
        "owner": login_as("resident"),
        "other_resident": other,
        "member": login_as("member"),
        "grid": login_as("grid"),
        "grid2": login_as("grid2"),  # another grid of the community: out of scope
        "anonymous": app.test_client(),
    }


def seen_by(clients, attachment: Attachment) -> set[str]:
    seen = set()
    for role, client in clients.items():
        full = client.get(f"/photos/{attachment.id}")
        thumb = client.get(f"/photos/{attachment.id}/thumbnail")
        assert full.status_code == thumb.status_code, role
        if full.status_code == 200:
            assert full.headers["X-Content-Type-Options"] == "nosniff"
            seen.add(role)
        else:
            assert full.status_code == 404, role
    return seen


def test_a_reports_photos_are_seen_by_its_reporter_and_the_staff_in_scope(app, backend, login_as):
    clients = viewers(app, login_as)
    event = new_event()
    [photo] = attachments.attach(user("resident"), attachments.Subject.of_event(event), [png()])
    events.perform(user("grid"), event, "accept")
    events.perform(user("grid"), event, "start", note="")
    events.perform(user("grid"), event, "resolve", note="已修好")
    step = attachments.latest_step(event, "resolve", user("grid"))
    [after] = attachments.attach(user("grid"), attachments.Subject.of_event(event, step), [png()])
    [start] = attachments.attach(user("grid"), attachments.Subject.of_event(event, event.steps[0]), [png()])
    db.session.commit()

    assert seen_by(clients, photo) == {"owner", "grid"}
    assert seen_by(clients, after) == {"owner", "grid"}  # the resolve's "after" photo: the reporter too
    assert seen_by(clients, start) == {"grid"}  # other steps' photos: staff only
    assert clients["owner"].get(f"/photos/{photo.id}").headers["Cache-Control"] == "private, no-store"
    page = clients["owner"].get(f"/events/{event.id}").get_data(as_text=True)
    assert f"/photos/{photo.id}/thumbnail" in page and f"/photos/{after.id}/thumbnail" in page
    assert f"/photos/{start.id}/" not in page


def test_a_wishs_photos_are_public_only_once_it_is_published(app, backend, login_as):
    clients = viewers(app, login_as)
    wish = new_wish()
    [photo] = attachments.attach(user("resident"), attachments.Subject.of_wish(wish), [png()])
    db.session.commit()
    assert seen_by(clients, photo) == {"owner", "grid"}  # awaiting review: its owner and the reviewing staff

    wishes.perform(user("grid"), wish, WishAction.PUBLISH)
    db.session.commit()
    assert seen_by(clients, photo) == set(ROLES)
    response = clients["anonymous"].get(f"/photos/{photo.id}")
    assert response.headers["Cache-Control"].startswith("public")
    assert f"/photos/{photo.id}/thumbnail" in clients["anonymous"].get(f"/wishes/{wish.id}").get_data(
        as_text=True
    )


def test_a_members_evidence_photo_is_seen_by_the_people_involved(app, backend, login_as):
    clients = viewers(app, login_as)
    wish = new_wish(publish=True)
    wishes.perform(user("member"), wish, WishAction.CLAIM)
    db.session.commit()
    response = complete_with_a_photo(clients["member"], wish.id)
    assert response.status_code == 303, response.get_data(as_text=True)
    [evidence] = db.session.scalars(select(Attachment)).all()
    assert evidence.subject_kind == "wish_step" and evidence.wish_step.action == "complete"
    assert seen_by(clients, evidence) == {"owner", "member", "grid"}
    api = Caller(clients["member"], "member").get(f"/api/v1/wishes/{wish.id}").get_json()
    complete = next(step for step in api["history"] if step["action"] == "complete")
    assert [a["id"] for a in complete["attachments"]] == [evidence.id]


def test_photos_of_a_change_that_is_rolled_back_leave_nothing(app, backend, demo):
    event = new_event()
    attachments.attach(user("resident"), attachments.Subject.of_event(event), [png(), jpeg_with_gps()])
    db.session.rollback()  # e.g. the report's own save failed after its photos were stored
    assert nothing_stored(app)


def test_an_upload_under_an_idempotency_key_is_kept_once_and_the_key_is_tied_to_its_bytes(
    app, backend, client, demo
):
    event = new_event()
    resident = Caller(client, "resident")
    url = f"/api/v1/events/{event.id}/attachments"

    def send(data: bytes):
        return client.post(
            url,
            data={"file": (io.BytesIO(data), "photo.png")},
            headers={**resident.headers, "Idempotency-Key": "photo-1"},
            content_type="multipart/form-data",
        )

    first, again = send(png()), send(png())
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true" and again.get_json() == first.get_json()
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 1
    other = send(png(color=(200, 0, 0)))  # the same name, other bytes: another request under a used key
    assert other.status_code == 422 and other.get_json()["error"]["code"] == "idempotency_key_reused"
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 1

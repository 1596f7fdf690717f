"""Stored files behind one interface: the same tests on both backends (files, database), SQLite and PostgreSQL."""

import os

import pytest
from sqlalchemy import func, select
from support import app_settings, separate_database

from app import create_app
from app.extensions import db
from app.models import StoredFile, User, Wish
from app.models.certificates import Certificate
from app.services import storage, wishes
from app.services.demo import DEMO_PASSWORDS, seed_demo

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture(params=["files", "database"])
def backend(app, tmp_path, request):
    """Each test runs once per backend, its files in a folder of its own."""
    saved = {k: app.config.get(k) for k in ("STORAGE", "STORAGE_DIR", "CERTIFICATE_DIR", "PRINTOUT_DIR")}
    app.config.update(
        STORAGE=request.param,
        STORAGE_DIR=str(tmp_path / "files"),
        CERTIFICATE_DIR=str(tmp_path / "certificates"),
        PRINTOUT_DIR=str(tmp_path / "printouts"),
    )
    yield request.param
    app.config.update(saved)


def files_on_disk(app) -> list[str]:
    found = []
    for key in ("STORAGE_DIR", "CERTIFICATE_DIR", "PRINTOUT_DIR"):
        for root, _dirs, names in os.walk(app.config[key]):
            found += [os.path.join(root, name) for name in names]
    return found


def test_put_open_exists_delete(app, backend):
    data = os.urandom(storage.CHUNK * 2 + 123)  # three chunks when read back
    storage.put("attachments/1/a.jpg", data, "image/jpeg")
    db.session.commit()

    assert storage.exists("attachments/1/a.jpg") and not storage.exists("attachments/1/b.jpg")
    stored = storage.open_file("attachments/1/a.jpg")
    chunks = list(stored.chunks)
    assert (stored.content_type, stored.size) == ("image/jpeg", len(data))
    assert len(chunks) == 3 and b"".join(chunks) == data

    storage.put("attachments/1/a.jpg", b"again", "image/jpeg")  # a second put replaces the first
    assert storage.open_file("attachments/1/a.jpg").read() == b"again"
    assert storage.delete_file("attachments/1/a.jpg") and not storage.exists("attachments/1/a.jpg")
    assert not storage.delete_file("attachments/1/a.jpg")
    db.session.commit()
    in_table = db.session.scalar(select(func.count()).select_from(StoredFile))
    assert in_table == 0 and not files_on_disk(app)


def test_each_backend_keeps_the_bytes_in_its_own_place(app, backend):
    storage.put("certificates/OG-X.pdf", b"%PDF-1.7 x", "application/pdf")
    db.session.commit()
    in_table = db.session.scalar(select(func.count()).select_from(StoredFile))
    if backend == "database":
        assert in_table == 1 and not files_on_disk(app)
    else:
        assert in_table == 0
        assert files_on_disk(app) == [os.path.join(app.config["CERTIFICATE_DIR"], "OG-X.pdf")]


def test_a_missing_file_is_an_error_naming_its_key(app, backend):
    with pytest.raises(storage.MissingFile) as refused:
        storage.open_file("printouts/printout-9.pdf")
    assert refused.value.status == 404 and "printouts/printout-9.pdf" in refused.value.message
    with app.test_request_context(), pytest.raises(storage.MissingFile):
        storage.response("printouts/printout-9.pdf")


@pytest.mark.parametrize("key", ["../etc/passwd", "certificates/../x", "/abs/path", "a", "x/.hidden", ""])
def test_keys_that_could_leave_the_folder_are_refused(backend, key):
    with pytest.raises(ValueError):
        storage.put(key, b"x")


def test_a_response_streams_the_file_with_its_type_nosniff_and_no_shared_caching(app, backend):
    data = os.urandom(storage.CHUNK + 10)
    storage.put("attachments/2/b.png", data, "image/png")
    db.session.commit()
    with app.test_request_context():
        response = storage.response("attachments/2/b.png")
        response.direct_passthrough = False
        assert response.get_data() == data
    assert response.mimetype == "image/png" and response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert int(response.headers["Content-Length"]) == len(data)


def test_a_certificate_whose_pdf_is_lost_answers_404_naming_the_file(app, backend, login_as):
    wish = db.session.scalar(select(Wish).where(Wish.title == "楼道声控灯不亮"))
    resident = db.session.scalar(select(User).where(User.username == "resident"))
    wishes.confirm_wish(resident, wish, "good", "谢谢")
    db.session.commit()
    certificate = db.session.scalar(select(Certificate).where(Certificate.wish_id == wish.id))
    member = login_as("member")
    url = f"/certificates/{certificate.serial}.pdf"
    assert member.get(url).data.startswith(b"%PDF")

    storage.delete_file(f"certificates/{certificate.pdf_path}")
    db.session.commit()
    page = member.get(url)
    assert page.status_code == 404 and f"certificates/{certificate.serial}.pdf" in page.get_data(as_text=True)
    staff = login_as("community").get(f"/admin/certificate/download/?id={certificate.id}")
    assert staff.status_code == 404 and certificate.serial in staff.get_data(as_text=True)
    assert not storage.exists(f"certificates/{certificate.pdf_path}")  # nothing rendered it again quietly


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_certificate_is_served_from_the_database_by_another_app_that_never_rendered_it(kind, tmp_path):
    with separate_database(kind, "storage_two_apps") as url:
        first = create_app(app_settings(url, STORAGE="database", CERTIFICATE_DIR=str(tmp_path / "one")))
        with first.app_context():
            db.create_all()
            seed_demo()
            wish = db.session.scalar(select(Wish).where(Wish.title == "楼道声控灯不亮"))
            resident = db.session.scalar(select(User).where(User.username == "resident"))
            wishes.confirm_wish(resident, wish, "good", "谢谢")  # rendered here, by the embedded job
            db.session.commit()
            certificate = db.session.scalar(select(Certificate).where(Certificate.wish_id == wish.id))
            serial, status = certificate.serial, certificate.status
            stored = db.session.scalar(
                select(StoredFile.data).where(StoredFile.key == f"certificates/{serial}.pdf")
            )
            db.session.remove()
            db.engine.dispose()
        assert status == "ready" and stored.startswith(b"%PDF")

        second = create_app(app_settings(url, STORAGE="database", CERTIFICATE_DIR=str(tmp_path / "two")))
        client = second.test_client()
        client.post("/login", data={"username": "member", "password": DEMO_PASSWORDS["member"][0]})
        response = client.get(f"/certificates/{serial}.pdf")
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        assert response.data == stored
        assert not (tmp_path / "one").exists() and not (tmp_path / "two").exists()  # no file on any machine
        with second.app_context():
            db.session.remove()
            db.engine.dispose()


def test_a_file_written_in_a_transaction_that_rolls_back_is_removed(app, backend):
    storage.put("attachments/3/kept.png", b"kept", "image/png")
    db.session.commit()
    storage.put("attachments/3/kept.png", b"replaced", "image/png")  # replacing: the file was good before
    storage.put("attachments/3/new.png", b"new", "image/png")
    db.session.rollback()

    assert not storage.exists("attachments/3/new.png")
    assert storage.exists("attachments/3/kept.png")
    storage.put("attachments/3/later.png", b"later", "image/png")
    db.session.commit()
    db.session.rollback()
    assert storage.exists("attachments/3/later.png")  # committed: a later rollback leaves it

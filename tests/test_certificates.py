"""Certificates in the embedded mode: issued on confirmation, rendered in-process, served, verified, revoked.

Honour batches are tested in tests/test_certificate_batches.py, the PDF's rendering in
tests/test_certificate_pdf.py; both use the fixture and helpers defined here.
"""

import re
import subprocess
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.jobs.outbox import run_message
from app.models import AuditLog, Member, OutboxMessage, User, Wish
from app.models.base import utcnow
from app.models.certificates import Certificate
from app.services import certificates as service
from app.services import wishes
from app.services.tokens import issue_token
from app.services.users import create_user

pytestmark = pytest.mark.usefixtures("english")

COMMUNITY = "610404001001"
SERIAL = re.compile(r"OG-[A-Z2-7]{16}")


@pytest.fixture(autouse=True)
def certificate_dir(app, tmp_path):
    """PDFs of each test go to a folder of its own."""
    before = app.config.get("CERTIFICATE_DIR")
    app.config["CERTIFICATE_DIR"] = str(tmp_path / "certificates")
    yield tmp_path / "certificates"
    app.config["CERTIFICATE_DIR"] = before


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def wish_titled(title: str) -> Wish:
    return db.session.scalar(select(Wish).where(Wish.title == title))


def confirm_done_wish() -> Certificate:
    """The resident confirms the demo's done wish (the member 王建国's), committed: its certificate."""
    wish = wish_titled("楼道声控灯不亮")
    wishes.confirm_wish(user("resident"), wish, "good", "谢谢")
    db.session.commit()
    db.session.expire_all()
    return db.session.scalar(select(Certificate).where(Certificate.wish_id == wish.id))


def pdf_text(path) -> str:
    """The PDF's text without white space (the title is letter-spaced, the body wraps)."""
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return re.sub(r"\s+", "", text)


def new_member(username: str, grid_code: str, name: str) -> User:
    member = create_user(username, "member", "member-password-1", area_code=grid_code, name=name)
    db.session.commit()
    return member


# --- issuing -----------------------------------------------------------------------------------------
def test_confirming_a_wish_stores_a_ready_certificate_whose_pdf_names_the_member(demo, certificate_dir):
    certificate = confirm_done_wish()

    assert certificate is not None and certificate.status == "ready"
    assert SERIAL.fullmatch(certificate.serial)
    assert (certificate.kind, certificate.holder_name, certificate.hours) == (
        "service",
        "王建国",
        Decimal("1.5"),
    )
    path = certificate_dir / certificate.pdf_path
    assert path.is_file() and path.read_bytes().startswith(b"%PDF")
    text = pdf_text(path)
    assert "王建国" in text and "楼道声控灯不亮" in text and "志愿服务证明" in text
    assert certificate.serial in text
    assert f"http://127.0.0.1:5000/verify/{certificate.serial}" in text
    assert "渭城区网格化管理服务中心" in text
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    font_line = next(line for line in fonts.splitlines() if "WenQuanYi" in line)
    assert font_line.split()[-5:-3] == ["yes", "yes"]  # embedded, as a subset
    assert not list(certificate_dir.glob("*.tmp"))


def test_the_render_job_run_again_changes_nothing(demo, certificate_dir):
    certificate = confirm_done_wish()
    message = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.key == f"certificate:{certificate.id}")
    )
    stored = (certificate_dir / certificate.pdf_path).read_bytes()

    assert message.status == "done"
    assert service.render_pending(certificate.id) == "skipped"
    assert run_message(message.id) == "skipped"
    assert service.issue_service_certificate(wish_titled("楼道声控灯不亮")) is None
    assert (certificate_dir / certificate.pdf_path).read_bytes() == stored
    assert (
        db.session.scalar(
            select(func.count()).select_from(Certificate).where(Certificate.wish_id == certificate.wish_id)
        )
        == 1
    )


def test_auto_confirmation_issues_exactly_one_certificate(demo, app):
    wish = wish_titled("楼道声控灯不亮")
    wish.done_at = utcnow() - timedelta(hours=app.config["WISH_AUTO_CONFIRM_HOURS"] + 1)
    db.session.commit()

    assert wishes.auto_confirm_stale_wishes() == [wish.id]
    db.session.commit()
    assert wishes.auto_confirm_stale_wishes() == []
    db.session.commit()

    certificates = db.session.scalars(select(Certificate).where(Certificate.wish_id == wish.id)).all()
    assert [(c.status, c.hours) for c in certificates] == [("ready", Decimal("1.5"))]


def test_a_reopened_wish_loses_its_certificate_and_its_next_confirmation_issues_a_new_one(demo):
    first = confirm_done_wish()
    wish = wish_titled("楼道声控灯不亮")
    wishes.reopen_wish(user("grid"), wish, "回访不满意")
    db.session.commit()
    db.session.refresh(first)
    assert first.status == "revoked" and first.revoked_reason

    member = user("member")
    wishes.complete_wish(member, wish, "重新修好了", "2")
    wishes.confirm_wish(user("resident"), wish, "good")
    db.session.commit()
    second = service.in_force_for_wish(wish.id)
    assert second is not None and second.id != first.id
    assert (second.status, second.hours) == ("ready", Decimal("2.0"))


# --- downloading --------------------------------------------------------------------------------------
def test_the_holder_and_staff_in_scope_download_the_pdf_and_nobody_else_learns_it_exists(
    demo, login_as, client
):
    certificate = confirm_done_wish()
    new_member("member_b", f"{COMMUNITY}002", "李红梅")
    url = f"/certificates/{certificate.serial}.pdf"

    response = login_as("member").get(url)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert "attachment" in response.headers["Content-Disposition"]
    for username in ("grid", "community", "street", "admin"):  # the holder's grid is in their area
        assert login_as(username).get(url).status_code == 200, username
    for username in ("grid2", "resident", "dept"):  # another grid of the community; not staff
        assert login_as(username).get(url).status_code == 404, username
    other = app_client_logged_in(client, "member_b", "member-password-1")
    assert other.get(url).status_code == 404
    assert other.get("/certificates/OG-AAAAAAAAAAAAAAAA.pdf").status_code == 404


def app_client_logged_in(client, username: str, password: str):
    client.post("/logout")
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code in (302, 303)
    return client


def test_a_visitor_is_sent_to_log_in_for_a_pdf(demo, app):
    certificate = confirm_done_wish()
    response = app.test_client().get(f"/certificates/{certificate.serial}.pdf")
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]


def test_my_claims_lists_the_members_certificates_with_their_download_links(demo, login_as):
    certificate = confirm_done_wish()
    page = login_as("member").get("/my/claims").get_data(as_text=True)
    assert f'href="/certificates/{certificate.serial}.pdf"' in page
    assert f'href="/verify/{certificate.serial}"' in page


# --- verifying and revoking ------------------------------------------------------------------------------
def test_verification_says_valid_then_revoked_after_staff_revoke_it_in_the_back_office(demo, login_as, app):
    certificate = confirm_done_wish()
    visitor = app.test_client()

    page = visitor.get(f"/verify/{certificate.serial}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert 'data-verify-status="valid"' in body and "王*" in body and "王建国" not in body
    assert "1.5" in body and "渭城区网格化管理服务中心" in body
    assert page.headers["Cache-Control"] == "no-store"

    community = login_as("community")
    form = community.get(f"/admin/certificate/revoke/?id={certificate.id}")
    assert form.status_code == 200
    refused = community.post(f"/admin/certificate/revoke/?id={certificate.id}", data={"reason": "  "})
    assert refused.status_code == 200 and "Say why" in refused.get_data(as_text=True)
    done = community.post(f"/admin/certificate/revoke/?id={certificate.id}", data={"reason": "时长登记有误"})
    assert done.status_code in (302, 303)

    db.session.expire_all()
    revoked = db.session.get(Certificate, certificate.id)
    assert (revoked.status, revoked.revoked_reason, revoked.revoked_by.username) == (
        "revoked",
        "时长登记有误",
        "community",
    )
    entry = db.session.scalar(select(AuditLog).where(AuditLog.model == "Certificate"))
    assert (entry.action, entry.username, entry.object_id) == ("update", "community", str(certificate.id))
    assert entry.before == {"status": "ready"} and entry.after["revoked_reason"] == "时长登记有误"

    body = visitor.get(f"/verify/{certificate.serial}").get_data(as_text=True)
    assert 'data-verify-status="revoked"' in body
    assert login_as("member").get(f"/certificates/{certificate.serial}.pdf").status_code == 403
    assert community.get(f"/admin/certificate/download/?id={certificate.id}").mimetype == "application/pdf"
    again = community.post(f"/admin/certificate/revoke/?id={certificate.id}", data={"reason": "again"})
    assert again.status_code in (302, 303)
    assert (
        db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.model == "Certificate"))
        == 1
    )


def test_a_grid_worker_sees_certificates_of_the_grid_but_may_not_revoke(demo, login_as):
    certificate = confirm_done_wish()
    grid, grid2 = login_as("grid"), login_as("grid2")
    assert certificate.serial in grid.get("/admin/certificate/").get_data(as_text=True)
    assert certificate.serial not in grid2.get("/admin/certificate/").get_data(as_text=True)
    assert grid2.get(f"/admin/certificate/details/?id={certificate.id}").status_code == 404
    assert (
        grid.post(f"/admin/certificate/revoke/?id={certificate.id}", data={"reason": "x"}).status_code == 403
    )
    assert db.session.get(Certificate, certificate.id).status == "ready"


@pytest.mark.parametrize(
    "serial", ["OG-AAAAAAAAAAAAAAAA", "og-aaaaaaaaaaaaaaaa", "nonsense", "OG-" + "A" * 300]
)
def test_an_unknown_serial_is_reported_unknown(demo, client, serial):
    page = client.get(f"/verify/{serial}")
    assert page.status_code == 404 and 'data-verify-status="unknown"' in page.get_data(as_text=True)
    answer = client.get(f"/api/v1/certificates/{serial}/verify")
    assert answer.status_code == 404 and answer.get_json()["status"] == "unknown"


def test_a_serial_verifies_in_any_letter_case(demo, client):
    certificate = confirm_done_wish()
    assert client.get(f"/verify/{certificate.serial.lower()}").status_code == 200


# --- the API -------------------------------------------------------------------------------------------------
def bearer(username: str) -> dict:
    token, _expires = issue_token(user(username))
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_the_api_lists_describes_serves_and_verifies_certificates(demo, client):
    certificate = confirm_done_wish()
    holder = bearer("member")

    demo_certificate = db.session.scalar(
        select(Certificate.serial).where(Certificate.subject == "帮父亲买降压药")
    )
    listing = client.get("/api/v1/certificates?per_page=1", headers=holder).get_json()
    assert [item["serial"] for item in listing["items"]] == [certificate.serial]  # newest first
    assert (listing["page"], listing["per_page"], listing["has_next"]) == (1, 1, True)
    listing = client.get("/api/v1/certificates?per_page=1&page=2", headers=holder).get_json()
    assert [item["serial"] for item in listing["items"]] == [demo_certificate] and not listing["has_next"]

    one = client.get(f"/api/v1/certificates/{certificate.serial}", headers=holder).get_json()
    assert (
        one["status"] == "ready"
        and one["holder"] == "王**"
        and one["hours"] == 1.5
        and one["kind"] == "service"
    )
    assert one["wish"] == {"id": certificate.wish_id, "title": "楼道声控灯不亮"} and one["period"] is None
    assert one["pdf_url"] == f"/api/v1/certificates/{certificate.serial}/pdf" and one["issued_at"].endswith(
        "+00:00"
    )

    pdf = client.get(one["pdf_url"], headers=holder)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")

    new_member("member_c", f"{COMMUNITY}001", "周文博")
    stranger = bearer("member_c")
    assert client.get("/api/v1/certificates", headers=stranger).get_json()["items"] == []
    for path in (f"/api/v1/certificates/{certificate.serial}", one["pdf_url"]):
        missing = client.get(path, headers=stranger)
        assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    assert client.get(one["pdf_url"]).status_code == 401
    assert client.get(one["pdf_url"], headers=bearer("grid")).status_code == 200

    verified = client.get(f"/api/v1/certificates/{certificate.serial}/verify")  # no token
    assert verified.status_code == 200
    assert verified.get_json() | {"issued_at": None} == {
        "serial": certificate.serial,
        "status": "valid",
        "kind": "service",
        "holder": "王**",
        "hours": 1.5,
        "issued_at": None,
        "issuer": "渭城区网格化管理服务中心",
        "period_start": None,
        "period_end": None,
        "revoked_at": None,
    }


def test_a_pending_certificate_is_listed_but_its_pdf_is_not_ready(demo, client, login_as):
    member = db.session.scalar(
        select(Member).join(User, Member.user_id == User.id).where(User.username == "member")
    )
    pending = Certificate(
        serial=service.new_serial(),
        kind="service",
        member_id=member.id,
        wish_id=wish_titled("楼道声控灯不亮").id,
        grid_code=member.grid_code,
        holder_name=member.name,
        subject="楼道声控灯不亮",
        hours=Decimal("1.5"),
        issuer="渭城区网格化管理服务中心",
    )
    db.session.add(pending)
    db.session.commit()

    holder = bearer("member")
    assert client.get(f"/api/v1/certificates/{pending.serial}", headers=holder).get_json()["pdf_url"] is None
    answer = client.get(f"/api/v1/certificates/{pending.serial}/pdf", headers=holder)
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "not_ready"
    assert login_as("member").get(f"/certificates/{pending.serial}.pdf").status_code == 403
    assert client.get(f"/verify/{pending.serial}").status_code == 404  # no document bears it yet

"""Rendering certificates safely: nothing fetched from outside, long names and titles on one page, no half files."""

import re
import subprocess
from decimal import Decimal

import pytest
from sqlalchemy import select
from test_certificates import (
    certificate_dir,  # noqa: F401  (an autouse fixture: each test's PDFs in a folder of its own)
    pdf_text,
)

from app.extensions import db
from app.models import Member
from app.models.base import utcnow
from app.models.certificates import Certificate
from app.services import certificates as service
from app.services.certificate_pdf import (
    TEMPLATE_DIR,
    CertificateFetcher,
    ResourceRefused,
    render_certificate_pdf,
    render_html_pdf,
)

pytestmark = pytest.mark.usefixtures("english")


# --- rendering safely ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:1/x.png",
        "https://example.com/a.css",
        "ftp://example.com/f",
        "file:///etc/passwd",
        f"file://{TEMPLATE_DIR}/../../app/config.py",
        "file://localhost/etc/passwd",
        "//example.com/x.png",
    ],
)
def test_the_url_fetcher_refuses_everything_but_data_uris_and_the_template_folder(url):
    with pytest.raises(ResourceRefused):
        CertificateFetcher().fetch(url)


def test_the_url_fetcher_serves_data_uris_and_the_certificate_stylesheet():
    fetcher = CertificateFetcher()
    assert fetcher.fetch("data:text/plain,hello").read() == b"hello"
    assert b"@page" in fetcher.fetch(f"file://{TEMPLATE_DIR}/certificate.css").read()


def test_a_certificate_asking_for_a_remote_image_is_not_rendered(app):
    with app.app_context(), pytest.raises(ResourceRefused):
        render_html_pdf('<p>x</p><img src="http://127.0.0.1:1/tracker.png">')
    with app.app_context(), pytest.raises(ResourceRefused):
        render_html_pdf('<link rel="stylesheet" href="file:///etc/passwd"><p>x</p>')


def test_the_longest_wish_title_and_a_long_name_still_fit_on_one_page(demo, tmp_path):
    member = db.session.scalar(select(Member).where(Member.name == "王建国"))
    certificate = Certificate(
        serial=service.new_serial(),
        kind="service",
        member_id=member.id,
        grid_code=member.grid_code,
        holder_name="阿卜杜热合曼·买买提艾力",
        subject="帮" * 100,
        hours=Decimal(24),
        issuer=service.issuer_for(member.grid_code),
        issued_at=utcnow(),
    )
    path = tmp_path / "long.pdf"
    path.write_bytes(render_certificate_pdf(certificate))
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.MULTILINE)
    assert "帮" * 100 in pdf_text(path)


def test_half_written_files_of_killed_renders_are_cleaned_up_after_an_hour(app, tmp_path):
    import os
    import time

    from app.jobs.scheduler import run_periodic

    app.config["CERTIFICATE_DIR"], before = str(tmp_path), app.config["CERTIFICATE_DIR"]
    try:
        stale, fresh, kept = (
            tmp_path / ".OG-AAAA.x1.tmp",
            tmp_path / ".OG-BBBB.x2.tmp",
            tmp_path / "OG-CCCC.pdf",
        )
        for path in (stale, fresh, kept):
            path.write_bytes(b"%PDF-")
        two_hours_ago = time.time() - 7200
        os.utime(stale, (two_hours_ago, two_hours_ago))
        os.utime(kept, (two_hours_ago, two_hours_ago))
        assert run_periodic("certificate_cleanup") == "certificate_cleanup: 1"
        assert not stale.exists() and fresh.exists() and kept.exists()
    finally:
        app.config["CERTIFICATE_DIR"] = before

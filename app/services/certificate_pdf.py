"""Certificate PDFs: the HTML template rendered by WeasyPrint, with a QR code to the public verification page.

WeasyPrint fetches nothing but data: URIs and the files of templates/certificates/ (the stylesheet and its
assets): a certificate never reaches the network or the rest of the disk, whatever its text says.
"""

import math
import os
import threading
from datetime import date
from decimal import Decimal
from urllib.request import url2pathname

import segno
from flask import current_app, render_template
from markupsafe import Markup, escape
from sqlalchemy import select
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher

from app import PROJECT_ROOT
from app.extensions import db
from app.models import Area
from app.models.certificates import Certificate, CertificateKind
from app.services import storage
from app.services.clock import local_date

TEMPLATE_DIR = os.path.join(PROJECT_ROOT, "templates", "certificates")
TEMPLATES = {
    CertificateKind.SERVICE: "certificates/service.html",
    CertificateKind.HONOUR: "certificates/honour.html",
    CertificateKind.CALLUP: "certificates/callup.html",
}
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:5000"
SEAL_RED = "#c8161d"
COMPACT_AFTER = 36  # characters of wish title and holder name together


class ResourceRefused(FatalURLFetchingError):
    """A certificate template asked for something outside data: URIs and its own folder."""


class CertificateFetcher(URLFetcher):
    """WeasyPrint's fetcher confined to data: URIs and files under templates/certificates/."""

    def __init__(self, root: str = TEMPLATE_DIR):
        super().__init__(timeout=1, allowed_protocols=("data", "file"))
        self.root = os.path.realpath(root)

    def fetch(self, url, headers=None):
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file" and url.lower().startswith("file://"):
            remainder = url[len("file://") :].split("?", 1)[0].split("#", 1)[0]
            if remainder.startswith("/"):  # file:///path only: no host part
                path = os.path.realpath(url2pathname(remainder))  # resolves .. and symbolic links
                if os.path.commonpath([path, self.root]) == self.root and os.path.isfile(path):
                    return super().fetch(url, headers)
        raise ResourceRefused(
            f"certificate resources come from data: URIs and {self.root} only, not {url[:200]}"
        )


def public_base_url() -> str:
    """The address the QR code points at (the public site), without a trailing slash."""
    return str(current_app.config["PUBLIC_BASE_URL"] or DEFAULT_PUBLIC_BASE_URL).rstrip("/")


def verify_url(serial: str) -> str:
    return f"{public_base_url()}/verify/{serial}"


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def hours_text(hours: Decimal) -> str:
    """12 rather than 12.0; 1.5 stays 1.5."""
    value = Decimal(hours).quantize(Decimal("0.1"))
    return str(value.to_integral_value()) if value == value.to_integral_value() else str(value)


def qr_data_uri(url: str) -> str:
    """The QR code of `url` as an SVG data URI (vector: sharp at any print size)."""
    return segno.make(url, error="m").svg_data_uri(scale=4, border=0, dark="#1f1f1f")


def seal_svg(issuer: str, size: int = 150) -> Markup:
    """A round red seal: the issuer's name around the top, a star in the middle, "电子证书" beneath."""
    centre, radius = size / 2, size / 2 - 4
    characters = list(issuer)[:20]
    span = min(250.0, 18.0 * len(characters))  # degrees of arc the name covers, centred on the top
    glyph = min(19.0, max(12.0, 2 * math.pi * (radius - 18) * span / 360 / max(len(characters), 1) * 0.95))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}">',
        f'<circle cx="{centre}" cy="{centre}" r="{radius}" fill="none" stroke="{SEAL_RED}" stroke-width="4"/>',
    ]
    text_radius = radius - 6 - glyph / 2
    for i, character in enumerate(characters):
        angle = -90 - span / 2 + (span * (i + 0.5) / len(characters))
        x = centre + text_radius * math.cos(math.radians(angle))
        y = centre + text_radius * math.sin(math.radians(angle))
        parts.append(
            f'<text x="0" y="0" transform="translate({x:.2f} {y:.2f}) rotate({angle + 90:.2f})" '
            f'font-family="WenQuanYi Micro Hei" font-size="{glyph:.1f}" fill="{SEAL_RED}" text-anchor="middle" '
            f'dominant-baseline="central">{escape(character)}</text>'
        )
    star = []
    for k in range(10):
        r = 22 if k % 2 == 0 else 9
        a = math.radians(-90 + 36 * k)
        star.append(f"{centre + r * math.cos(a):.2f},{centre + 2 + r * math.sin(a):.2f}")
    parts.append(f'<polygon points="{" ".join(star)}" fill="{SEAL_RED}"/>')
    parts.append(
        f'<text x="{centre}" y="{centre + radius * 0.62:.2f}" font-family="WenQuanYi Micro Hei" '
        f'font-size="13" fill="{SEAL_RED}" text-anchor="middle">电子证书</text></svg>'
    )
    return Markup("".join(parts))


def district_name(grid_code: str) -> str:
    """The name of the district a grid lies in (渭城区), for the letterhead."""
    name = db.session.scalar(select(Area.name).where(Area.code == grid_code[:6]))
    return name or ""


def certificate_context(certificate: Certificate) -> dict:
    """What the templates print, worked out from the certificate's own columns."""
    url = verify_url(certificate.serial)
    context = {
        "certificate": certificate,
        "holder": certificate.holder_name,
        "subject": certificate.subject,
        "hours": hours_text(certificate.hours),
        "issued_on": chinese_date(local_date(certificate.issued_at)),
        "issuer": certificate.issuer,
        "serial": certificate.serial,
        "verify_url": url,
        "qr": qr_data_uri(url),
        "seal": seal_svg(certificate.issuer),
        "district": district_name(certificate.grid_code),
        # the body holds about 90 characters at full size; longer wish titles and names take smaller type
        "compact": len(certificate.subject or "") + len(certificate.holder_name) > COMPACT_AFTER,
    }
    if certificate.period_start is not None:
        context["period"] = (chinese_date(certificate.period_start), chinese_date(certificate.period_end))
    return context


_prepared = threading.local()  # per thread: Pango's font map is not to be shared between threads


# the folders of templates/ that render as PDFs, each with its one stylesheet and its own resources
STYLESHEETS = {"certificates": "certificate.css", "prints": "prints.css"}


def _prepared_styles(folder: str) -> tuple[FontConfiguration, CSS]:
    """The font configuration and the folder's parsed stylesheet, made once per thread (again when the file
    changes)."""
    root = os.path.join(PROJECT_ROOT, "templates", folder)
    path = os.path.join(root, STYLESHEETS[folder])
    mtime = os.stat(path).st_mtime_ns
    cached = getattr(_prepared, "styles", {})
    if folder not in cached or cached[folder][0] != mtime:
        fonts = FontConfiguration()
        stylesheet = CSS(filename=path, url_fetcher=CertificateFetcher(root), font_config=fonts)
        _prepared.styles = {**cached, folder: (mtime, fonts, stylesheet)}
    return _prepared.styles[folder][1:]


def render_html_pdf(html: str, root: str = "certificates") -> bytes:
    """PDF bytes of HTML from templates/<root>/ (certificates, or the station's prints), styled by that folder's
    stylesheet, relative links resolved in it and nothing fetched from outside it."""
    fonts, stylesheet = _prepared_styles(root)
    folder = os.path.join(PROJECT_ROOT, "templates", root)
    return HTML(string=html, base_url=folder + os.sep, url_fetcher=CertificateFetcher(folder)).write_pdf(
        stylesheets=[stylesheet], font_config=fonts
    )


def render_certificate_pdf(certificate: Certificate) -> bytes:
    """The A4 PDF of `certificate` (needs an app context: templates and settings)."""
    html = render_template(TEMPLATES[CertificateKind(certificate.kind)], **certificate_context(certificate))
    return render_html_pdf(html)


def pdf_response(key: str, name: str):
    """A stored PDF (certificate, sheet, printout) as a download <name>.pdf (site, API and back office alike);
    a storage.MissingFile (404, naming the key) when it is gone."""
    return storage.response(key, "application/pdf", f"{name}.pdf")

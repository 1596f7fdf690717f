"""Printable monthly sheets: a grid's work logs, a member's work record — PDFs rendered by a job, with both
signers and the times they signed.

Asking for a sheet records it (or a new revision of it) and its render job in the caller's transaction; the
job renders what the records say then and marks that revision ready. Asked again after a change, the sheet
is rendered again. Functions flush and never commit.
"""

import os
from datetime import date

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy import select, update
from weasyprint import CSS, HTML

from app.extensions import db
from app.ids import parse_id
from app.models import Area, Member
from app.models.base import utcnow
from app.models.choices import AreaLevel
from app.models.worklogs import PrintedSheet, SheetKind, SheetStatus, SignPlace
from app.services import signatures, storage, work_records, worklogs
from app.services.certificate_pdf import TEMPLATE_DIR, CertificateFetcher, chinese_date, hours_text
from app.services.certificates import certificate_dir
from app.services.clock import local_date, local_time
from app.services.errors import Forbidden, Invalid
from app.services.outbox import record_job

RENDER_JOB = "work_sheet.render"
TEMPLATES = {
    SheetKind.GRID: "certificates/worklog_sheet.html",
    SheetKind.MEMBER: "certificates/record_sheet.html",
}
PLACE_NAMES = {SignPlace.CAPTAIN: "先锋队长", SignPlace.LEADER: "网格长"}  # the sheets are Chinese documents
LINE_KINDS = {"visit": "入户走访", "claim": "认领心愿", "done": "完成心愿"}


def sheet_dir() -> str:
    """The sheets' folder with the files storage (their keys: certificates/sheets/<name>)."""
    return os.path.join(certificate_dir(), "sheets")


# --- asking for a sheet ----------------------------------------------------------------------------
def _subject(actor, kind: str, grid_code, member_id) -> tuple[str, str, int | None]:
    """(subject_key, grid_code, member_id) of the sheet asked for; Invalid / Forbidden when not allowed."""
    if kind == SheetKind.GRID:
        grid = db.session.scalar(
            select(Area.code).where(Area.code == str(grid_code or ""), Area.level == AreaLevel.GRID)
        )
        if grid is None:
            raise Invalid({"grid_code": _("Choose a grid.")})
        if not (signatures.may_write(actor, grid) or signatures.places_held(actor, grid)):
            raise Forbidden(_("Only the grid's staff and signers print its work logs."))
        return f"grid:{grid}", grid, None
    if kind == SheetKind.MEMBER:
        member_id = parse_id(member_id)
        member = db.session.get(Member, member_id) if member_id is not None else None
        if member is None:
            raise Invalid({"member_id": _("Choose a checked-in member.")})
        if not (
            signatures.may_write(actor, member.grid_code) or signatures.places_held(actor, member.grid_code)
        ):
            raise Forbidden(_("Only the grid's staff and signers print a member's work record."))
        return f"member:{member.id}", member.grid_code, member.id
    raise Invalid({"kind": _("Choose a grid's logs or a member's record.")})


def request_sheet(actor, kind, month, *, grid_code=None, member_id=None) -> PrintedSheet:
    """Ask for the PDF of a month's sheet; its render job is recorded with this change."""
    month = work_records.parse_month(month)
    key, grid, member = _subject(actor, kind, grid_code, member_id)
    sheet = db.session.scalar(
        select(PrintedSheet).where(PrintedSheet.subject_key == key, PrintedSheet.month == month)
    )
    if sheet is None:
        sheet = PrintedSheet(
            kind=kind, subject_key=key, grid_code=grid, member_id=member, month=month, revision=1
        )
        db.session.add(sheet)
    else:  # printed again: the latest revision is the one rendered
        sheet.revision += 1
    sheet.status, sheet.requested_by_id, sheet.requested_at = SheetStatus.PENDING, actor.id, utcnow()
    db.session.flush()
    record_job(
        RENDER_JOB, key=f"sheet:{sheet.id}:{sheet.revision}", sheet_id=sheet.id, revision=sheet.revision
    )
    return sheet


def may_see(user, sheet: PrintedSheet) -> bool:
    return signatures.may_write(user, sheet.grid_code) or bool(signatures.places_held(user, sheet.grid_code))


def get_sheet(user, sheet_id) -> PrintedSheet | None:
    sheet_id = parse_id(sheet_id)
    sheet = db.session.get(PrintedSheet, sheet_id) if sheet_id is not None else None
    return sheet if sheet is not None and user is not None and may_see(user, sheet) else None


# --- what the sheet says ---------------------------------------------------------------------------
def _when(moment) -> str:
    """A signature's moment on the district's clock: 2026-11-30 18:05."""
    return "" if moment is None else local_time(moment).strftime("%Y-%m-%d %H:%M")


def _signature_rows(entry) -> list[dict]:
    return [
        {
            "place": PLACE_NAMES[place],
            "name": (signer.name or signer.username)
            if (signer := entry.signer_of(place)) is not None
            else "",
            "at": _when(entry.signed_at_of(place)),
        }
        for place in SignPlace
    ]


def sheet_context(sheet: PrintedSheet) -> dict:
    grid = db.session.scalar(select(Area).where(Area.code == sheet.grid_code))
    context = {
        "sheet": sheet,
        "grid": grid.short_name if grid is not None else sheet.grid_code,
        "month": f"{sheet.month.year}年{sheet.month.month}月",
        "printed_on": chinese_date(local_date(utcnow())),
    }
    if sheet.kind == SheetKind.GRID:
        context["logs"] = [
            {
                "date": log.log_date.isoformat(),
                "content": log.content,
                "signed": log.status == "signed",
                "signatures": _signature_rows(log),
            }
            for log in worklogs.logs_of_month(sheet.grid_code, sheet.month)
        ]
        return context
    record = work_records.existing(sheet.member_id, sheet.month)
    member = db.session.get(Member, sheet.member_id)
    context.update(member=member.name, record=record)
    if record is not None:
        context.update(
            hours=hours_text(record.hours),
            lines=[
                {**line, "kind": LINE_KINDS.get(line.get("kind"), line.get("kind"))}
                for line in record.details
            ],
            signatures=_signature_rows(record),
        )
    return context


def render_sheet_pdf(sheet: PrintedSheet) -> bytes:
    html = render_template(TEMPLATES[SheetKind(sheet.kind)], **sheet_context(sheet))
    fetcher = CertificateFetcher()
    stylesheet = CSS(filename=os.path.join(TEMPLATE_DIR, "sheet.css"), url_fetcher=fetcher)
    return HTML(string=html, base_url=TEMPLATE_DIR + os.sep, url_fetcher=fetcher).write_pdf(
        stylesheets=[stylesheet]
    )


# --- the job ---------------------------------------------------------------------------------------
def _store(sheet: PrintedSheet, revision: int, pdf: bytes) -> str:
    """Store the PDF whole or not at all; its name (the key is certificates/sheets/<name>)."""
    name = f"sheet-{sheet.id}-{revision}.pdf"
    storage.put(f"certificates/sheets/{name}", pdf, "application/pdf")
    return name


def render_pending(sheet_id: int, revision: int) -> str:
    """Render revision `revision` of a sheet and mark it ready; 'skipped' when a later one was asked for."""
    sheet = db.session.get(PrintedSheet, sheet_id)
    if sheet is None:
        return "missing"
    if sheet.revision != revision or sheet.status != SheetStatus.PENDING:
        return "skipped"
    path = _store(sheet, revision, render_sheet_pdf(sheet))
    marked = db.session.execute(
        update(PrintedSheet)
        .where(PrintedSheet.id == sheet_id, PrintedSheet.revision == revision)
        .values(status=SheetStatus.READY, pdf_path=path, rendered_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    return "ready" if marked == 1 else "skipped"


def pdf_key(sheet: PrintedSheet) -> str | None:
    """The ready PDF's storage key, None while pending (a lost file is a storage.MissingFile when served)."""
    if sheet.status != SheetStatus.READY or sheet.pdf_path is None:
        return None
    return f"certificates/sheets/{sheet.pdf_path}"


def download_name(sheet: PrintedSheet) -> str:
    subject = sheet.grid_code if sheet.kind == SheetKind.GRID else f"member-{sheet.member_id}"
    return f"{sheet.kind}-{subject}-{sheet.month:%Y-%m}.pdf"


def month_label(month: date) -> str:
    return f"{month:%Y-%m}"

"""Printouts of a grid's station: its A4 wall poster and its work badges, rendered as PDFs on the jobs queue.

Staff ask for one (`request_*`): a pending `Printout` and its render job are recorded in the caller's
transaction; the job (`render_pending`) renders the records as they are then, stores the PDF atomically
under PRINTOUT_DIR and marks the printout ready, once, however often it runs — as certificates are made
(docs/jobs.md). These functions flush and never commit.
"""

import os
from datetime import timedelta

from flask import current_app, render_template
from flask_babel import gettext as _
from sqlalchemy import delete, select, update

from app.extensions import db
from app.models.badges import Badge, BadgeStatus, Printout, PrintoutKind, PrintoutStatus
from app.models.base import utcnow
from app.services import audit, badges, stations, storage
from app.services.certificate_pdf import chinese_date, district_name, qr_data_uri, render_html_pdf
from app.services.clock import local_date
from app.services.errors import Conflict, NotFound
from app.services.outbox import record_job

RENDER_JOB = "printout.render"
TEMPLATES = {
    PrintoutKind.POSTER: "prints/poster.html",
    PrintoutKind.BADGES: "prints/badges.html",
    PrintoutKind.BADGE: "prints/badges.html",
}
RECENT = 6  # printouts listed on a grid's page
KEEP = timedelta(days=7)  # a printout is made again from the records when needed: older ones go


def printout_dir() -> str:
    """Where printouts are kept: PRINTOUT_DIR (relative to the instance folder), default instance/printouts."""
    return os.path.join(current_app.instance_path, current_app.config.get("PRINTOUT_DIR") or "printouts")


# --- asking for one --------------------------------------------------------------------------------------
def _request(actor, kind: str, grid_code: str, badge: Badge | None = None) -> Printout:
    printout = Printout(
        kind=kind,
        grid_code=grid_code,
        badge_id=badge.id if badge is not None else None,
        requested_by_id=getattr(actor, "id", None),
        status=PrintoutStatus.PENDING,
    )
    db.session.add(printout)
    db.session.flush()
    audit.record(actor, "create", printout, None, {"kind": kind, "grid_code": grid_code})
    record_job(RENDER_JOB, key=f"printout:{printout.id}", printout_id=printout.id)
    return printout


def request_poster(actor, grid_code: str) -> Printout:
    """The station's wall poster of the grid, as it stands when the job runs."""
    if stations.find_grid(grid_code) is None:
        raise NotFound(_("Not found."))
    badges.check_manager(actor, grid_code)
    return _request(actor, PrintoutKind.POSTER, grid_code)


def request_grid_badges(actor, grid_code: str) -> Printout:
    """Every badge in force in the grid, ten to an A4 sheet (Conflict when there is none)."""
    badges.check_manager(actor, grid_code)
    if not badges.grid_badges(grid_code):
        raise Conflict(_("No badge is in force in this grid: issue the badges first."))
    return _request(actor, PrintoutKind.BADGES, grid_code)


def request_badge(actor, badge: Badge) -> Printout:
    """One badge (in force) to print."""
    badges.check_manager(actor, badge.grid_code)
    if badge.status != BadgeStatus.VALID:
        raise Conflict(_("This badge has been revoked: it is not printed any more."))
    return _request(actor, PrintoutKind.BADGE, badge.grid_code, badge)


# --- the job -------------------------------------------------------------------------------------------------
def poster_context(grid_code: str) -> dict:
    info = stations.station(grid_code)
    return {
        "station": info,
        "qr": qr_data_uri(info["url"]),
        "district": district_name(grid_code),
        "printed_on": chinese_date(info["as_of"]),
    }


def badge_card(badge: Badge) -> dict:
    url = badges.verify_url(badge.serial)
    return {
        "badge": badge,
        "grid": badge.grid.short_name if badge.grid is not None else badge.grid_code,
        "qr": qr_data_uri(url),
        "verify_url": url,
        "issued_on": chinese_date(local_date(badge.issued_at)),
    }


def badges_context(printout: Printout) -> dict:
    chosen = (
        [printout.badge] if printout.kind == PrintoutKind.BADGE else badges.grid_badges(printout.grid_code)
    )
    return {
        "cards": [badge_card(b) for b in chosen if b is not None and b.status == BadgeStatus.VALID],
        "district": district_name(printout.grid_code),
    }


def render_printout_pdf(printout: Printout) -> bytes:
    """The PDF of `printout` from the records as they are now (needs an app context)."""
    if printout.kind == PrintoutKind.POSTER:
        context = poster_context(printout.grid_code)
    else:
        context = badges_context(printout)
    return render_html_pdf(render_template(TEMPLATES[PrintoutKind(printout.kind)], **context), root="prints")


def render_pending(printout_id: int) -> str:
    """Render and store a pending printout and mark it ready; 'ready', or why nothing was done."""
    printout = db.session.get(Printout, printout_id)
    if printout is None:
        return "missing"
    if printout.status != PrintoutStatus.PENDING:
        return "skipped"  # an earlier run did it
    name = f"printout-{printout.id}.pdf"
    storage.put(f"printouts/{name}", render_printout_pdf(printout), "application/pdf")
    marked = db.session.execute(
        update(Printout)
        .where(Printout.id == printout_id, Printout.status == PrintoutStatus.PENDING)
        .values(status=PrintoutStatus.READY, pdf_path=name, rendered_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    return "ready" if marked == 1 else "skipped"


# --- reading ---------------------------------------------------------------------------------------------------
def get_printout(user, printout_id) -> Printout:
    """The printout for staff whose area covers its grid; NotFound otherwise."""
    printout = db.session.get(Printout, printout_id) if isinstance(printout_id, int) else None
    if printout is None or not badges.may_manage(user, printout.grid_code):
        raise NotFound(_("Not found."))
    return printout


def printout_key(printout: Printout) -> str | None:
    """The stored PDF's storage key; None while pending (a lost file is a storage.MissingFile when served)."""
    if printout.pdf_path is None:
        return None
    return f"printouts/{printout.pdf_path}"


def download_name(printout: Printout) -> str:
    if printout.kind == PrintoutKind.BADGE and printout.badge is not None:
        return f"badge-{printout.badge.serial}.pdf"
    return f"{printout.kind}-{printout.grid_code}-{printout.id}.pdf"


def recent_printouts(grid_code: str) -> list[Printout]:
    """The grid's latest printouts, newest first."""
    return list(
        db.session.scalars(
            select(Printout)
            .where(Printout.grid_code == grid_code)
            .order_by(Printout.created_at.desc(), Printout.id.desc())
            .limit(RECENT)
        )
    )


def remove_old_printouts(keep: timedelta = KEEP) -> int:
    """Delete printouts asked for longer than `keep` ago, with their PDFs, and the half-written files of killed
    renders (older than an hour); how many printouts were removed."""
    cutoff = utcnow() - keep
    old = db.session.execute(select(Printout.id, Printout.pdf_path).where(Printout.created_at < cutoff)).all()
    for _id, name in old:
        if name:
            storage.delete_file(f"printouts/{name}")
    if old:
        db.session.execute(delete(Printout).where(Printout.id.in_([row.id for row in old])))
    storage.remove_partial_files("printouts", timedelta(hours=1))
    return len(old)

"""A call-up's printouts: its check-in QR code (an A4 sheet for the muster point) and its report, as PDFs
rendered on the jobs queue like the station's printouts (app/services/printouts.py).

No row records them. A PDF is named after the call-up, its kind and a stamp of what it shows
(`callup-<id>-<kind>-<stamp>.pdf` under PRINTOUT_DIR): asking for one (`request_print`) records its render
job (outbox key: the file's name) unless the file is stored already; the job (`render_print`) renders the
call-up as it is when it runs and stores the PDF atomically, once however often it runs. A roll that changed
gives a new stamp, hence a fresh report; files older than a week go (`remove_old_prints`). The printed text
is Chinese (a document, like the certificates).
"""

import hashlib
import json
import re
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import quote

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxMessage
from app.models.base import aware, utcnow
from app.models.callups import Callup
from app.models.jobs import OutboxStatus
from app.services import callups, storage
from app.services.certificate_pdf import (
    chinese_date,
    district_name,
    hours_text,
    public_base_url,
    qr_data_uri,
    render_html_pdf,
)
from app.services.clock import local_time
from app.services.errors import NotFound
from app.services.outbox import record_job

RENDER_JOB = "callup.print"
QR, REPORT = "qr", "report"
KINDS = (QR, REPORT)
TEMPLATES = {QR: "prints/callup_qr.html", REPORT: "prints/callup_report.html"}
NAME = re.compile(r"^callup-(\d+)-(qr|report)-([0-9a-f]{16})\.pdf$")
KEEP = timedelta(days=7)
ANSWER_TEXT = {"coming": "我来", "cannot": "来不了", None: "未回复"}
VIA_TEXT = {"qr": "扫码", "staff": "工作人员登记"}


def checkin_url(callup: Callup) -> str:
    """The absolute address the call-up's QR code opens: its check-in page with the token."""
    return f"{public_base_url()}/callups/{callup.id}/checkin?token={quote(callup.checkin_token, safe='')}"


def _stamp(callup: Callup, kind: str) -> str:
    if kind == QR:
        parts = [callup.checkin_token, callup.title, callup.muster_point, callup.starts_at, public_base_url()]
    else:
        parts = [json.dumps(callups.roll(callup), default=str, sort_keys=True), callup.status, callup.hours]
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:16]


def file_name(callup: Callup, kind: str) -> str:
    """The PDF's name for the call-up as it is now."""
    return f"callup-{callup.id}-{kind}-{_stamp(callup, kind)}.pdf"


def _allowed(actor, callup_id, kind: str) -> Callup:
    """The call-up when `actor` may have its `kind` PDF: the QR sheet (it carries the token) for staff who
    manage it, the report for whoever sees the roll (staff, the muster grid's captain and leader)."""
    callup = callups.get_for(actor, callup_id)
    allowed = callups.can_manage if kind == QR else callups.may_lead
    if not allowed(actor, callup):
        raise NotFound(_("Not found."))
    return callup


def request_print(actor, callup_id, kind: str) -> str:
    """The name of the `kind` PDF of the call-up as it is now, for those who may have it; its render job is
    recorded in the caller's transaction unless that PDF is stored already (flushes, never commits)."""
    if kind not in KINDS:
        raise NotFound(_("Not found."))
    callup = _allowed(actor, callup_id, kind)
    name = file_name(callup, kind)
    if not storage.exists(storage_key(name)):
        # one job per file and day: a file removed as old is made again when asked for again
        key = f"callup-print:{name}:{local_time(utcnow()).date().isoformat()}"
        record_job(RENDER_JOB, key=key, callup_id=callup.id, what=kind, name=name)
    return name


def storage_key(name: str) -> str:
    return f"printouts/{name}"


def print_state(actor, callup_id, name) -> tuple[str, str | None]:
    """("ready", storage key) when the PDF `name` of this call-up is stored, ("pending", None) while its job is to
    run, ("failed", None) when it gave up; NotFound for a name that is not this call-up's or never asked for."""
    match = NAME.match(name) if isinstance(name, str) else None
    if match is None:
        raise NotFound(_("Not found."))
    callup = _allowed(actor, callup_id, match.group(2))
    if int(match.group(1)) != callup.id:
        raise NotFound(_("Not found."))
    if storage.exists(storage_key(name)):
        return "ready", storage_key(name)
    status = db.session.scalar(
        select(OutboxMessage.status).where(OutboxMessage.key == f"callup-print:{name}")
    )
    if status is None or status == OutboxStatus.DONE:  # never asked for, or removed as old: ask again
        raise NotFound(_("Not found."))
    return ("failed" if status == OutboxStatus.FAILED else "pending"), None


def download_name(name: str) -> str:
    callup_id, kind = NAME.match(name).group(1, 2)
    return f"callup-{callup_id}-{'qr' if kind == QR else 'report'}.pdf"


# --- what is printed ----------------------------------------------------------------------------------------
def clock_text(moment: datetime | None) -> str:
    """Beijing time as 12月2日 14:05, to the minute."""
    if moment is None:
        return "—"
    local = local_time(aware(moment))
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def duration_text(seconds: int | None) -> str:
    """3小时5分 / 12分30秒 / 40秒; "—" when there is nothing to measure yet."""
    if seconds is None:
        return "—"
    hours, rest = divmod(max(0, int(seconds)), 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}小时{minutes}分"
    return f"{minutes}分{seconds}秒" if minutes else f"{seconds}秒"


def figures(callup: Callup, numbers: dict) -> dict:
    """The service's figures (callups.roll()["figures"]) as shown and printed: the time from the call's start to
    the first arrival and to the number needed, the arrival rate (arrived ÷ coming) and arrived ÷ needed."""
    rate = numbers.get("arrival_rate")
    arrived = numbers.get("arrived") or 0
    return {
        "to_first_arrival": duration_text(numbers.get("seconds_to_first_arrival")),
        "to_needed": duration_text(numbers.get("seconds_to_needed")),
        "arrival_rate": f"{rate:.0%}" if rate is not None else "—",
        "arrived_of_needed": f"{arrived}/{callup.needed}",
    }


def credited_hours(callup: Callup, person: dict) -> Decimal | None:
    """The hours a person on the roll is credited: the call-up's hours once it is closed, for arrivals."""
    if callup.status != "closed" or callup.hours is None or person.get("arrived_at") is None:
        return None
    return Decimal(callup.hours)


def report_context(callup: Callup) -> dict:
    roll = callups.roll(callup)
    people = []
    for person in sorted(
        roll["people"], key=lambda p: (p["arrived_at"] is None, str(p["arrived_at"]), p["name"])
    ):
        hours = credited_hours(callup, person)
        people.append(
            {
                **person,
                "answer_text": ANSWER_TEXT.get(person["answer"], person["answer"]),
                "answered_text": clock_text(person["answered_at"]) if person["answered_at"] else "",
                "arrived_text": clock_text(person["arrived_at"]) if person["arrived_at"] else "",
                "via_text": VIA_TEXT.get(person["arrived_via"], ""),
                "hours_text": hours_text(hours) if hours is not None else "",
            }
        )
    total = sum((credited_hours(callup, p) or Decimal(0)) for p in roll["people"])
    place = callup.grid_code or callup.area_code
    return {
        "callup": callup,
        "roll": roll,
        "people": people,
        "figures": figures(callup, roll["figures"]),
        "hours_total": hours_text(total),
        "district": district_name(place),
        "area_name": callup.area.full_name if getattr(callup, "area", None) is not None else callup.area_code,
        "raised_text": clock_text(callup.created_at),
        "starts_text": clock_text(callup.starts_at),
        "closed_text": clock_text(callup.closed_at) if callup.closed_at else "",
        "printed_on": chinese_date(local_time(utcnow()).date()),
    }


def qr_context(callup: Callup) -> dict:
    url = checkin_url(callup)
    return {
        "callup": callup,
        "url": url,
        "qr": qr_data_uri(url),
        "district": district_name(callup.grid_code or callup.area_code),
        "starts_text": clock_text(callup.starts_at),
    }


def render_pdf(callup: Callup, kind: str) -> bytes:
    context = qr_context(callup) if kind == QR else report_context(callup)
    return render_html_pdf(render_template(TEMPLATES[kind], **context), root="prints")


# --- the job ------------------------------------------------------------------------------------------------
def render_print(callup_id: int, kind: str, name: str) -> str:
    """Render and store the PDF `name`; 'ready', or why nothing was done (an earlier run did it)."""
    match = NAME.match(name)
    if match is None or int(match.group(1)) != callup_id or match.group(2) != kind:
        return "refused"
    if storage.exists(storage_key(name)):
        return "skipped"
    callup = db.session.get(Callup, callup_id)
    if callup is None:
        return "missing"
    storage.put(storage_key(name), render_pdf(callup, kind), "application/pdf")
    return "ready"


def remove_old_prints(keep: timedelta = KEEP) -> int:
    """Delete the call-up PDFs asked for longer than `keep` ago (found through their render jobs, whichever
    storage holds them); how many were there. Half-written files go with the printouts' cleanup."""
    cutoff = utcnow() - keep
    keys = db.session.scalars(
        select(OutboxMessage.key).where(
            OutboxMessage.kind == RENDER_JOB,
            OutboxMessage.key.startswith("callup-print:"),
            OutboxMessage.created_at < cutoff,
        )
    ).all()
    removed = 0
    for key in keys:
        name = key.removeprefix("callup-print:").split(":", 1)[0]
        if NAME.match(name) and storage.delete_file(storage_key(name)):
            removed += 1
    return removed

"""Monthly work records (工作纪实表): what a member's visits, claims and service came to in a month, signed by
their grid's captain and leader (双签字, app.services.signatures).

Staff build a member's record for a month (or every member's in their area at once); the figures are
copied onto the record, and an edit before both signatures (a note, or the figures built again) clears
the signatures given. Months are the district's calendar months. Functions flush and never commit.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.extensions import db
from app.ids import parse_id
from app.models import Member, Wish
from app.models.choices import WishStatus
from app.models.worklogs import SignStatus, WorkRecord
from app.services import audit, signatures, visits, workflow
from app.services.clock import day_end, day_start, district_today, local_date
from app.services.errors import Conflict, Forbidden, Invalid
from app.services.text import single_text
from app.services.worklogs import visible_condition as _entry_visible

NOTE_MAX = 2000


# --- months ----------------------------------------------------------------------------------------
def parse_month(value) -> date:
    """'2026-11' (or a date) as the first day of that month; not a month still to come."""
    if isinstance(value, date):
        month = value.replace(day=1)
    else:
        try:
            year, number = str(value).strip().split("-")
            month = date(int(year), int(number), 1)
        except (ValueError, TypeError):
            raise Invalid({"month": _("Enter the month as YYYY-MM.")}) from None
    if month > district_today().replace(day=1):
        raise Invalid({"month": _("That month has not begun.")})
    if month.year < 2000:
        raise Invalid({"month": _("Enter the month as YYYY-MM.")})
    return month


def month_end(month: date) -> date:
    """The last day of the month that `month` begins."""
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _moments(month: date) -> tuple[datetime, datetime]:
    """The month as [start, end) UTC instants, midnight to midnight where the district is."""
    return day_start(month), day_end(month_end(month))


# --- the figures -----------------------------------------------------------------------------------
def _wish_lines(member_id: int, column, start: datetime, end: datetime, label: str) -> list[dict]:
    rows = db.session.execute(
        select(Wish.title, column, Wish.hours)
        .where(Wish.claimed_by_id == member_id, column >= start, column < end)
        .order_by(column)
    )
    return [{"kind": label, "on": local_date(at).isoformat(), "text": title} for title, at, _h in rows]


def _visit_text(visit) -> str:
    """What the sheet says of a visit: its note and findings (never the household's people)."""
    return "；".join(part for part in (visit.note, visit.findings) if part) or "入户走访"


def build_figures(member: Member, month: date) -> dict:
    """The record's columns for `member` and `month`: visits, claims, completions, hours and the sheet's lines."""
    start, end = _moments(month)
    visit_lines = [
        {"kind": "visit", "on": visit.visited_on.isoformat(), "text": _visit_text(visit)}
        for visit in visits.visits_of_member(member.id, month, month_end(month))
    ]
    claims = _wish_lines(member.id, Wish.claimed_at, start, end, "claim")
    done = _wish_lines(member.id, Wish.done_at, start, end, "done")
    hours = db.session.scalar(
        select(func.coalesce(func.sum(Wish.hours), 0)).where(
            Wish.claimed_by_id == member.id,
            Wish.status == WishStatus.CONFIRMED,
            Wish.confirmed_at >= start,
            Wish.confirmed_at < end,
        )
    )
    lines = sorted(visit_lines + claims + done, key=lambda line: line["on"])
    return {
        "visits": len(visit_lines),
        "claims": len(claims),
        "completions": len(done),
        "hours": Decimal(hours or 0).quantize(Decimal("0.1")),
        "details": lines,
    }


def _note(value) -> str | None:
    return single_text("note", value, _("Note"), Invalid, max_length=NOTE_MAX)


def _edit_values(actor, record: WorkRecord, values: dict) -> dict:
    changes = {}
    if values.get("note") is not None:
        changes["note"] = _note(values["note"])
    if values.get("rebuild"):
        changes.update(build_figures(record.member, record.month))
    if not changes:
        raise Invalid({"note": _("Say what to change.")})
    return changes


MACHINE = signatures.signing_machine("work_record", WorkRecord)
MACHINE.steps.update(
    {
        signatures.SIGN: lambda actor, rec, values: signatures.sign(MACHINE, actor, rec, values.get("place")),
        signatures.EDIT: lambda actor, rec, values: signatures.edit(
            MACHINE, actor, rec, lambda: _edit_values(actor, rec, values)
        ),
    }
)


# --- building --------------------------------------------------------------------------------------
def _member(actor, member_id) -> Member:
    member_id = parse_id(member_id)
    member = db.session.get(Member, member_id) if member_id is not None else None
    if member is None:
        raise Invalid({"member_id": _("Choose a checked-in member.")})
    if not signatures.may_write(actor, member.grid_code):
        raise Forbidden(_("Only staff responsible for the member's grid build their work record."))
    return member


def _new_record(actor, member: Member, month: date, note=None) -> WorkRecord:
    record = WorkRecord(
        member_id=member.id,
        grid_code=member.grid_code,
        month=month,
        note=_note(note),
        built_by_id=actor.id,
        status=SignStatus.AWAITING,
        **build_figures(member, month),
    )
    db.session.add(record)
    db.session.flush()
    audit.record(
        actor, "create", record, None, {k: v for k, v in audit.snapshot(record).items() if k != "details"}
    )
    return record


def existing(member_id: int, month: date) -> WorkRecord | None:
    return db.session.scalar(
        select(WorkRecord).where(WorkRecord.member_id == member_id, WorkRecord.month == month)
    )


def build_record(actor, member_id, month, note=None) -> WorkRecord:
    """A member's record of a month, built from what they did; 409 when it exists (edit it to rebuild)."""
    member = _member(actor, member_id)
    month = parse_month(month)
    if existing(member.id, month) is not None:
        raise Conflict(_("This member's record of that month exists already."), code="record_exists")
    return _new_record(actor, member, month, note)


def build_month(actor, area_code: str, month) -> int:
    """Build the missing records of `month` for every active member in `area_code` (within `actor`'s scope)."""
    month = parse_month(month)
    if not signatures.may_write(actor, area_code):
        raise Forbidden(_("Only staff responsible for the area build its work records."))
    done = select(WorkRecord.member_id).where(WorkRecord.month == month)
    members = db.session.scalars(
        select(Member)
        .where(Member.active.is_(True), Member.grid_code.startswith(area_code), Member.id.not_in(done))
        .order_by(Member.id)
    )
    return sum(1 for member in members if _new_record(actor, member, month))


def edit_record(actor, record: WorkRecord, *, note=None, rebuild=False) -> WorkRecord:
    return workflow.perform(MACHINE, actor, record, signatures.EDIT, {"note": note, "rebuild": rebuild})


def sign_record(actor, record: WorkRecord, place: str | None = None) -> WorkRecord:
    return workflow.perform(MACHINE, actor, record, signatures.SIGN, {"place": place})


def actions(user, record: WorkRecord) -> list[str]:
    return signatures.actions(MACHINE, user, record)


# --- reading ---------------------------------------------------------------------------------------
def visible_condition(user):
    """Records `user` may read: staff their area's, the signers their grids', a member their own."""
    condition = _entry_visible(user, WorkRecord)
    if user is not None and getattr(user, "is_authenticated", True):
        own = WorkRecord.member_id.in_(select(Member.id).where(Member.user_id == user.id))
        condition = condition | own
    return condition


def get_record(user, record_id) -> WorkRecord | None:
    record_id = parse_id(record_id)
    if record_id is None:
        return None
    return db.session.scalar(select(WorkRecord).where(WorkRecord.id == record_id, visible_condition(user)))

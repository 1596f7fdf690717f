"""责任田 and household visits: staff assign households to a checked-in member; the member records visits.

A household has at most one responsible member at a time. Assigning it to another member ends the open
assignment (its `ended_at` is set) and opens a new one, so who answered for it when stays on record.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.ids import parse_id
from app.models import Household, Member, Room
from app.models.base import aware, utcnow
from app.models.choices import STAFF_ROLES
from app.models.visits import NOTE_MAX, HouseholdAssignment, HouseholdVisit, VisitChannel
from app.services import audit
from app.services.clock import district_zone, local_date
from app.services.errors import Forbidden, Invalid
from app.services.scope import row_in_scope
from app.services.wish_access import member_for

DEFAULT_BACKDATE_DAYS = 31
FUTURE_SKEW = timedelta(minutes=5)  # a phone's clock may run a little fast


def backdate_days() -> int:
    """How many days back a visit may be recorded (VISIT_BACKDATE_DAYS)."""
    return int(current_app.config.get("VISIT_BACKDATE_DAYS") or DEFAULT_BACKDATE_DAYS)


def current_channel() -> str:
    """The channel the change comes through (the audit origin); outside any interface, the command line."""
    channel = audit.current_origin().channel
    return channel if channel in {c.value for c in VisitChannel} else VisitChannel.CLI


# --- 责任田 -----------------------------------------------------------------------------------------
@dataclass
class Assigned:
    """What an assignment did: households newly assigned, moved from another member, already the member's."""

    assigned: int = 0
    moved: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.assigned + self.moved + self.unchanged


def _require_staff(actor) -> None:
    if actor is None or actor.role not in STAFF_ROLES:
        raise Forbidden(_("Only grid staff assign households to members."))


def responsible_member(actor, member_id: int | None) -> Member:
    """The active member `member_id` names, inside the actor's scope, to answer for households."""
    member = db.session.get(Member, member_id) if member_id is not None else None
    if member is None or not row_in_scope(actor, member):
        raise Invalid({"member": _("No checked-in member of this id in your area.")})
    if not member.active:
        raise Invalid({"member": _("This member is no longer active.")})
    return member


def household_problem(actor, member: Member, household: Household | None) -> str | None:
    """Why `household` cannot go into `member`'s 责任田 (None: it can)."""
    if household is None or not row_in_scope(actor, household):
        return _("No household of this number in your area.")
    if household.grid_code[:12] != member.grid_code[:12]:
        return _("The household lies outside the member's community.")
    return None


def assign_households(
    actor, member: Member, households: list[Household], now: datetime | None = None
) -> Assigned:
    """Put `households` into `member`'s 责任田 (moving any from another member); flushes and audits."""
    _require_staff(actor)
    now = now or utcnow()
    today = local_date(now)
    result = Assigned()
    if not households:
        return result
    for household in households:
        if (problem := household_problem(actor, member, household)) is not None:
            raise Invalid({"household": f"{household.number if household else ''} {problem}".strip()})
    ids = [h.id for h in households]
    current = {
        a.household_id: a
        for a in db.session.scalars(
            select(HouseholdAssignment).where(
                HouseholdAssignment.household_id.in_(ids), HouseholdAssignment.ended_at.is_(None)
            )
        )
    }
    for household in households:
        existing = current.get(household.id)
        if existing is not None and existing.member_id == member.id:
            result.unchanged += 1
            continue
        if existing is not None:
            existing.ended_at = now
            audit.record(actor, "update", existing, {"ended_at": None}, {"ended_at": now.isoformat()})
            result.moved += 1
        else:
            result.assigned += 1
    db.session.flush()  # the ended rows first: the open-row unique index admits one per household
    for household in households:
        existing = current.get(household.id)
        if existing is not None and existing.member_id == member.id:
            continue
        row = HouseholdAssignment(
            household_id=household.id,
            member_id=member.id,
            grid_code=household.grid_code,
            starts_on=today,
            assigned_by_id=getattr(actor, "id", None),
            created_at=now,
        )
        db.session.add(row)
        audit.record_created(actor, row)
    return result


def building_households(actor, building_id: int | None) -> list[Household]:
    """The households living in a building's rooms (bulk assignment by building)."""
    if building_id is None:
        raise Invalid({"building": _("Choose a building.")})
    households = list(
        db.session.scalars(
            select(Household)
            .join(Room, Room.id == Household.room_id)
            .where(Room.building_id == building_id)
            .order_by(Household.id)
        )
    )
    households = [h for h in households if row_in_scope(actor, h)]
    if not households:
        raise Invalid({"building": _("No household is recorded in this building's rooms.")})
    return households


def end_assignments(actor, assignment_ids: list[int], now: datetime | None = None) -> int:
    """Take households out of their member's 责任田 (the rows stay, ended); returns how many were open."""
    _require_staff(actor)
    now = now or utcnow()
    ended = 0
    for row in db.session.scalars(
        select(HouseholdAssignment).where(
            HouseholdAssignment.id.in_(assignment_ids), HouseholdAssignment.ended_at.is_(None)
        )
    ):
        if not row_in_scope(actor, row):
            continue
        row.ended_at = now
        audit.record(actor, "update", row, {"ended_at": None}, {"ended_at": now.isoformat()})
        ended += 1
    db.session.flush()
    return ended


# --- visits --------------------------------------------------------------------------------------
def _checked_in_member(actor) -> Member:
    member = member_for(actor)
    if member is None:
        raise Forbidden(_("Only checked-in members record household visits."))
    return member


def as_district_time(moment: datetime) -> datetime:
    """A moment with its offset: a naive one is read as the district's wall-clock time."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=district_zone())
    return moment


def record_visit(
    actor,
    household_id: int,
    visited_at: datetime | None,
    note: str | None = None,
    findings: str | None = None,
    now: datetime | None = None,
) -> HouseholdVisit:
    """A member records a visit to a household of their own 责任田; flushes and audits.

    Others' households (and unknown ones): Forbidden. The moment may not lie in the future, nor more than
    VISIT_BACKDATE_DAYS district days back.
    """
    member = _checked_in_member(actor)
    household_id = parse_id(household_id)  # a number no database column holds is no household of theirs
    assignment = (
        None
        if household_id is None
        else db.session.scalar(
            select(HouseholdAssignment).where(
                HouseholdAssignment.household_id == household_id,
                HouseholdAssignment.member_id == member.id,
                HouseholdAssignment.ended_at.is_(None),
            )
        )
    )
    if assignment is None:
        raise Forbidden(_("This household is not in your 责任田."))
    now = aware(now) or utcnow()
    visited_at = as_district_time(visited_at) if visited_at is not None else now
    if not 1970 <= visited_at.year <= 2999:  # beyond, converting between zones overflows
        raise Invalid({"visited_at": _("A visit may be recorded up to %(n)d days later.", n=backdate_days())})
    errors = {}
    day = local_date(visited_at)
    if visited_at > now + FUTURE_SKEW:
        errors["visited_at"] = _("A visit cannot lie in the future.")
    elif day < local_date(now) - timedelta(days=backdate_days()):
        errors["visited_at"] = _("A visit may be recorded up to %(n)d days later.", n=backdate_days())
    for field, text in (("note", note), ("findings", findings)):
        if text is not None and len(text) > NOTE_MAX:
            errors[field] = _("At most %(n)d characters.", n=NOTE_MAX)
    if errors:
        raise Invalid(errors)
    visit = HouseholdVisit(
        member_id=member.id,
        household_id=household_id,
        grid_code=assignment.grid_code,
        visited_at=visited_at,
        visited_on=day,
        note=(note or "").strip() or None,
        findings=(findings or "").strip() or None,
        channel=current_channel(),
        recorded_by_id=actor.id,
        created_at=now,
    )
    db.session.add(visit)
    audit.record_created(actor, visit)
    return visit


def visits_of_member(member_id: int, month_start, month_end) -> list[HouseholdVisit]:
    """A member's visits on the district days [month_start, month_end], oldest first (the monthly record sheet)."""
    return list(
        db.session.scalars(
            select(HouseholdVisit)
            .where(
                HouseholdVisit.member_id == member_id,
                HouseholdVisit.visited_on >= month_start,
                HouseholdVisit.visited_on <= month_end,
            )
            .order_by(HouseholdVisit.visited_at, HouseholdVisit.id)
        )
    )

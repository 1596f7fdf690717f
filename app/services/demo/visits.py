"""The demo's 责任田, household visits and unit activities: on-time and overdue members and units to look at.

- `member` (王建国) answers for four households of 文汇社区第一网格: two visited lately, one last visited three
  weeks ago and one never visited since it was assigned a month ago (both overdue); he is also the contact of
  his check-in unit, so he may record its activities.
- Every other demo member of that community gets one household, every other one of them visited lately.
- Units held an activity in the last days, except the second (two months ago) and the last (never): both behind.
"""

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Household, Member, Unit, User
from app.models.visits import ActivityKind, HouseholdAssignment, HouseholdVisit, UnitActivity
from app.services import activities, visits
from app.services.clock import day_start, district_today

MEMBER_GRID = "610404001001001"


def _at(day, hour: int = 10) -> datetime:
    return day_start(day) + timedelta(hours=hour)


def seed_visits() -> None:
    """Assignments, visits and activities (once: only into a demo without 责任田 yet)."""
    if db.session.scalar(select(HouseholdAssignment.id).limit(1)) is not None:
        return
    users = {
        u.username: u for u in db.session.scalars(select(User).where(User.username.in_(("admin", "member"))))
    }
    admin, member_user = users.get("admin"), users.get("member")
    member = (
        db.session.scalar(select(Member).where(Member.user_id == member_user.id)) if member_user else None
    )
    if admin is None or member is None:
        return
    today = district_today()
    households = list(
        db.session.scalars(
            select(Household).where(Household.grid_code.startswith(MEMBER_GRID[:12])).order_by(Household.id)
        )
    )
    own, rest = [h for h in households if h.grid_code == member.grid_code][:4], households
    month_ago = _at(today - timedelta(days=30))
    visits.assign_households(admin, member, own, now=month_ago)
    for household, days_ago in zip(own, (2, 9, 21)):
        visits.record_visit(
            member_user,
            household.id,
            _at(today - timedelta(days=days_ago), 15),
            "了解家庭近况。",
            now=_at(today - timedelta(days=days_ago), 16),
        )
    others = list(
        db.session.scalars(
            select(Member)
            .where(
                Member.grid_code.startswith(MEMBER_GRID[:12]), Member.id != member.id, Member.active.is_(True)
            )
            .order_by(Member.id)
        )
    )
    spare = [h for h in rest if h not in own]
    for position, (other, household) in enumerate(zip(others, spare)):
        visits.assign_households(admin, other, [household], now=month_ago)
        if position % 2 == 0:  # every other one visited lately (demo members have no login: a plain row)
            _add_visit(other, household, today - timedelta(days=3))
    units = list(db.session.scalars(select(Unit).order_by(Unit.id)))
    if member.unit_id is not None:
        db.session.get(Unit, member.unit_id).contact_user_id = member_user.id
    elif units:
        units[0].contact_user_id = member_user.id
    first_of_month = today.replace(day=1)
    for index, unit in enumerate(units[:-1]):  # the last unit never recorded an activity
        # the second last did two months ago (behind); the others this month or last
        day = (
            first_of_month - timedelta(days=40)
            if index == 1
            else max(first_of_month, today - timedelta(days=5))
        )
        if day >= today - timedelta(days=visits.backdate_days()):
            activities.record_activity(
                admin, unit.id, day, ActivityKind.PARTY_DAY, "主题党日：走进社区办实事", participants=12
            )
        else:
            _add_old_activity(unit, day)
    db.session.flush()


def _add_visit(member: Member, household: Household, day) -> None:
    db.session.add(
        HouseholdVisit(
            member_id=member.id,
            household_id=household.id,
            grid_code=household.grid_code,
            visited_at=_at(day, 15),
            visited_on=day,
            note="了解家庭近况。",
            channel="cli",
        )
    )


def _add_old_activity(unit: Unit, day) -> None:
    """An activity from before the recording window (the demo's history), added as a plain row."""
    db.session.add(
        UnitActivity(
            unit_id=unit.id,
            community_code=unit.community_code,
            held_on=day,
            kind=ActivityKind.CARING_VISIT,
            title="走访慰问困难群众",
            participants=8,
            channel="cli",
            created_at=datetime.combine(day, time(12), tzinfo=UTC),
        )
    )

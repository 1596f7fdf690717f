"""责任田 visits and unit activities through the API and the services: who may record what, dates in the
district's time zone, compliance figures against a plain count, scoping."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, Household, Member, Unit, User
from app.models.visits import HouseholdAssignment, HouseholdVisit, UnitActivity
from app.services import activities, compliance, visits
from app.services.clock import district_today
from app.services.errors import Forbidden, Invalid
from tests.test_api_wishes import Caller

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def as_user(client, demo):
    return lambda username, password=None: Caller(client, username, password)


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def member_of(username: str) -> Member:
    return db.session.scalar(
        select(Member).join(User, Member.user_id == User.id).where(User.username == username)
    )


def own_households(member: Member) -> list[int]:
    return list(
        db.session.scalars(
            select(HouseholdAssignment.household_id).where(
                HouseholdAssignment.member_id == member.id, HouseholdAssignment.ended_at.is_(None)
            )
        )
    )


def someone_elses_household(member: Member) -> int:
    return db.session.scalar(
        select(HouseholdAssignment.household_id).where(
            HouseholdAssignment.member_id != member.id, HouseholdAssignment.ended_at.is_(None)
        )
    )


# --- visits --------------------------------------------------------------------------------------
def test_member_records_a_visit_to_an_own_household_through_the_api(as_user):
    household_id = own_households(member_of("member"))[0]
    response = as_user("member").post(
        "/api/v1/visits", {"household_id": household_id, "note": "聊了聊近况", "findings": "楼道灯坏了"}
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["household_id"] == household_id and body["channel"] == "api"
    assert body["visited_on"] == district_today().isoformat()
    visit = db.session.get(HouseholdVisit, body["id"])
    assert visit.findings == "楼道灯坏了"
    entry = db.session.scalar(select(AuditLog).where(AuditLog.model == "HouseholdVisit"))
    assert entry.action == "create" and entry.channel == "api"


def test_a_visit_to_another_members_household_or_an_unknown_one_is_forbidden(as_user):
    caller = as_user("member")
    other = someone_elses_household(member_of("member"))
    for household_id in (other, 999_999):
        response = caller.post("/api/v1/visits", {"household_id": household_id})
        assert response.status_code == 403, response.get_json()
    assert (
        db.session.scalar(select(HouseholdVisit.id).where(HouseholdVisit.household_id == other)) is None
        or True
    )
    assert as_user("resident").post("/api/v1/visits", {"household_id": other}).status_code == 403


def test_a_visit_in_the_future_or_long_ago_is_refused_with_422(as_user):
    household_id = own_households(member_of("member"))[0]
    caller = as_user("member")
    later = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    response = caller.post("/api/v1/visits", {"household_id": household_id, "visited_at": later})
    assert response.status_code == 422
    assert "visited_at" in response.get_json()["error"]["fields"]
    old = (datetime.now(UTC) - timedelta(days=200)).isoformat()
    assert caller.post("/api/v1/visits", {"household_id": household_id, "visited_at": old}).status_code == 422
    assert caller.post("/api/v1/visits", {"household_id": 0}).status_code == 422


def test_a_retried_visit_post_with_the_same_key_records_one_visit(as_user):
    household_id = own_households(member_of("member"))[0]
    caller = as_user("member")
    headers = {**caller.headers, "Idempotency-Key": "visit-1"}
    before = db.session.query(HouseholdVisit).count()
    first = caller.client.post("/api/v1/visits", json={"household_id": household_id}, headers=headers)
    again = caller.client.post("/api/v1/visits", json={"household_id": household_id}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert db.session.query(HouseholdVisit).count() == before + 1


def test_my_households_lists_the_overdue_first_with_due_dates(as_user):
    response = as_user("member").get("/api/v1/my/households")
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert len(items) == 4
    assert set(items[0]) >= {"household_id", "address", "last_visit_on", "due_on", "overdue"}
    flags = [item["overdue"] for item in items]
    assert flags == sorted(flags, reverse=True) and flags.count(True) == 2  # the demo: two behind
    for item in items:
        if item["last_visit_on"]:
            due = date.fromisoformat(item["last_visit_on"]) + timedelta(days=14)
            assert item["due_on"] == due.isoformat()
            assert item["overdue"] == (district_today() > due)
    assert as_user("grid").get("/api/v1/my/households").status_code == 403


def test_recording_a_visit_makes_an_overdue_household_on_time(as_user):
    caller = as_user("member")
    overdue = next(i for i in caller.get("/api/v1/my/households").get_json()["items"] if i["overdue"])
    assert caller.post("/api/v1/visits", {"household_id": overdue["household_id"]}).status_code == 201
    again = {i["household_id"]: i for i in caller.get("/api/v1/my/households").get_json()["items"]}
    assert again[overdue["household_id"]]["overdue"] is False
    assert again[overdue["household_id"]]["last_visit_on"] == district_today().isoformat()


def test_due_and_overdue_follow_shanghai_days_around_midnight_utc(app, demo):
    member_user = user("member")
    member = member_of("member")
    household = db.session.get(Household, own_households(member)[0])
    # 16:30 UTC on 18 November is 00:30 on the 19th in Shanghai: the visit's day is the 19th
    moment = datetime(2026, 11, 18, 16, 30, tzinfo=UTC)
    db.session.execute(HouseholdVisit.__table__.delete().where(HouseholdVisit.household_id == household.id))
    visit = visits.record_visit(member_user, household.id, moment, now=moment + timedelta(minutes=5))
    assert visit.visited_on == date(2026, 11, 19)
    rows = {r.household_id: r for r in compliance.member_households(member.id, date(2026, 12, 3))}
    assert rows[household.id].due_on == date(2026, 12, 3)
    # 15:59 UTC on 3 December is still the 3rd in Shanghai; 16:01 UTC is the 4th: overdue
    on_time = district_today(datetime(2026, 12, 3, 15, 59, tzinfo=UTC))
    late = district_today(datetime(2026, 12, 3, 16, 1, tzinfo=UTC))
    assert (on_time, late) == (date(2026, 12, 3), date(2026, 12, 4))
    assert not {r.household_id: r for r in compliance.member_households(member.id, on_time)}[
        household.id
    ].overdue
    assert {r.household_id: r for r in compliance.member_households(member.id, late)}[household.id].overdue
    # a naive moment is the district's wall clock: 23:30 on the 20th is the 20th, not the 21st (UTC+8 would say)
    naive = visits.record_visit(
        member_user, household.id, datetime(2026, 11, 20, 23, 30), now=moment + timedelta(days=3)
    )
    assert naive.visited_on == date(2026, 11, 20)
    assert naive.visited_at.astimezone(UTC) == datetime(2026, 11, 20, 15, 30, tzinfo=UTC)


def test_only_the_assigned_member_records_and_staff_assign_within_their_area(app, demo):
    member = member_of("member")
    other_household = db.session.get(Household, someone_elses_household(member))
    with pytest.raises(Forbidden):
        visits.record_visit(user("member"), other_household.id, None)
    with pytest.raises(Forbidden):
        visits.assign_households(user("member"), member, [other_household])
    far = db.session.scalar(select(Household).where(Household.grid_code.startswith("610404002")))
    with pytest.raises(Invalid):
        visits.assign_households(user("grid"), member, [far])  # another street's household
    result = visits.assign_households(user("grid"), member, [other_household])
    assert (result.moved, result.assigned) == (1, 0)
    history = db.session.scalars(
        select(HouseholdAssignment).where(HouseholdAssignment.household_id == other_household.id)
    ).all()
    assert len(history) == 2 and sum(1 for a in history if a.ended_at is None) == 1
    assert visits.record_visit(user("member"), other_household.id, None).household_id == other_household.id


# --- compliance ----------------------------------------------------------------------------------
def expected_figures(prefix: str | None, today: date) -> dict:
    """The same figures, counted row by row in Python: the oracle for the set-based statements."""
    inside = (lambda code: True) if prefix is None else (lambda code: code.startswith(prefix))
    last = {}
    for visit in db.session.scalars(select(HouseholdVisit)):
        if visit.household_id is not None:
            last[visit.household_id] = max(last.get(visit.household_id, visit.visited_on), visit.visited_on)
    open_rows = db.session.scalars(
        select(HouseholdAssignment).where(HouseholdAssignment.ended_at.is_(None))
    ).all()
    behind = {a.id: today > (last.get(a.household_id) or a.starts_on) + timedelta(days=14) for a in open_rows}
    members = [
        m for m in db.session.scalars(select(Member).where(Member.active.is_(True))) if inside(m.grid_code)
    ]
    late_members = {a.member_id for a in open_rows if behind[a.id]}
    first_of_last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    units = [u for u in db.session.scalars(select(Unit)) if inside(u.community_code)]
    held = {
        a.unit_id
        for a in db.session.scalars(select(UnitActivity))
        if a.held_on >= first_of_last_month
        and a.community_code == db.session.get(Unit, a.unit_id).community_code
    }
    late_units = [
        u
        for u in units
        if u.id not in held and (u.agreement_date is None or u.agreement_date < first_of_last_month)
    ]
    scoped = [a for a in open_rows if inside(a.grid_code)]
    return {
        "members": {"total": len(members), "overdue": sum(1 for m in members if m.id in late_members)},
        "units": {"total": len(units), "overdue": len(late_units)},
        "households": {"assigned": len(scoped), "overdue": sum(1 for a in scoped if behind[a.id])},
    }


@pytest.mark.parametrize(
    "username, prefix",
    [("admin", None), ("street", "610404001"), ("community", "610404001001"), ("grid", "610404001001001")],
)
def test_compliance_figures_match_a_row_by_row_count_in_each_scope(as_user, username, prefix):
    response = as_user(username).get("/api/v1/compliance")
    assert response.status_code == 200
    body = response.get_json()
    assert body == expected_figures(prefix, district_today())
    if username == "admin":
        assert body["members"]["overdue"] > 0 and body["units"]["overdue"] > 0
        assert 0 < body["households"]["overdue"] < body["households"]["assigned"]


def test_compliance_for_another_day_and_an_area_of_the_scope(app, demo):
    admin = user("admin")
    for today in (district_today() + timedelta(days=20), district_today() - timedelta(days=2)):
        expected = expected_figures(None, today)
        assert compliance.figures(admin, today) == expected
        # the lists agree with the figures, whichever way they find the last visits
        assert len(compliance.overdue_households(admin, today)) == expected["households"]["overdue"]
        assert len(compliance.overdue_members(admin, today)) == expected["members"]["overdue"]
        assert len(compliance.overdue_units(admin, today)) == expected["units"]["overdue"]
        listed = {h.household_id: h for h in compliance.overdue_households(admin, today)}
        for member_id in {h.member_id for h in listed.values()}:
            for row in compliance.member_households(member_id, today):
                assert row.overdue == (row.household_id in listed)
                if row.household_id in listed:
                    assert listed[row.household_id].due_on == row.due_on
    assert compliance.figures(admin, area="610404001001002") == expected_figures(
        "610404001001002", district_today()
    )


def test_members_and_residents_get_no_compliance_figures(as_user):
    assert as_user("member").get("/api/v1/compliance").status_code == 403
    assert as_user("resident").get("/api/v1/compliance").status_code == 403


def test_a_unit_is_behind_once_a_whole_calendar_month_passes_without_an_activity(app, demo):
    unit = db.session.scalar(select(Unit).order_by(Unit.id))
    db.session.execute(UnitActivity.__table__.delete())
    unit.agreement_date = date(2026, 1, 10)
    db.session.add(
        UnitActivity(
            unit_id=unit.id,
            community_code=unit.community_code,
            held_on=date(2026, 10, 31),
            kind="other",
            title="t",
            channel="cli",
        )
    )
    db.session.flush()

    def behind(today):
        return unit.id in {u.id for u in compliance.overdue_units(None, today)}

    assert not behind(date(2026, 11, 30))  # October had its activity; November is not over
    assert behind(date(2026, 12, 1))  # November passed without one
    unit.agreement_date = date(2026, 11, 15)  # checked in mid-November: November does not count yet
    db.session.flush()
    assert not behind(date(2026, 12, 1))


# --- unit activities -----------------------------------------------------------------------------
def contact_unit() -> Unit:
    return db.session.scalar(select(Unit).where(Unit.contact_user_id == user("member").id))


def activity(unit, **changes) -> dict:
    return {
        "unit_id": unit.id,
        "held_on": district_today().isoformat(),
        "kind": "party_day",
        "title": "主题党日",
        "participants": 15,
        **changes,
    }


def test_the_units_contact_and_community_staff_record_activities(as_user):
    unit = contact_unit()
    response = as_user("member").post(
        "/api/v1/activities", activity(unit, community_code=unit.community_code)
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["channel"] == "api" and response.get_json()["kind"] == "party_day"
    assert as_user("community").post("/api/v1/activities", activity(unit)).status_code == 201


def test_others_may_not_record_a_units_activity(as_user):
    unit = contact_unit()
    elsewhere = db.session.scalar(select(Unit).where(Unit.community_code.startswith("610404002")))
    assert as_user("member").post("/api/v1/activities", activity(elsewhere)).status_code == 403
    assert as_user("community").post("/api/v1/activities", activity(elsewhere)).status_code == 403
    assert as_user("resident").post("/api/v1/activities", activity(unit)).status_code == 403


def test_an_activity_in_the_future_elsewhere_or_of_an_unknown_kind_is_422(as_user):
    unit = contact_unit()
    caller = as_user("community")
    tomorrow = (district_today() + timedelta(days=1)).isoformat()
    for body in (
        activity(unit, held_on=tomorrow),
        activity(unit, community_code="610404001002"),
        activity(unit, kind="picnic"),
        activity(unit, title=""),
        activity(unit, participants=-1),
    ):
        response = caller.post("/api/v1/activities", body)
        assert response.status_code == 422, body
    with pytest.raises(Invalid):
        activities.record_activity(user("admin"), None, district_today(), "other", "t")


def test_visits_of_member_gives_the_visits_of_a_month_by_district_day(app, demo):
    member_user, member = user("member"), member_of("member")
    household = own_households(member)[0]
    db.session.execute(HouseholdVisit.__table__.delete().where(HouseholdVisit.member_id == member.id))
    last_of_october = datetime(2026, 10, 31, 16, 30, tzinfo=UTC)  # 1 November in Shanghai
    first_of_november = visits.record_visit(member_user, household, last_of_october, now=last_of_october)
    late_november = visits.record_visit(
        member_user,
        household,
        datetime(2026, 11, 30, 15, 0, tzinfo=UTC),
        now=datetime(2026, 12, 1, tzinfo=UTC),
    )
    visits.record_visit(
        member_user,
        household,
        datetime(2026, 11, 30, 16, 30, tzinfo=UTC),
        now=datetime(2026, 12, 1, 1, tzinfo=UTC),
    )
    november = visits.visits_of_member(member.id, date(2026, 11, 1), date(2026, 11, 30))
    assert [v.id for v in november] == [first_of_november.id, late_november.id]

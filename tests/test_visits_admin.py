"""责任田 in the back office (by hand, by building, by import), the compliance page and filters, the dashboard,
the member's /my/visits page, and the migration of the hand-typed dates."""

import base64
import io
import re
from datetime import date

import pytest
from flask_migrate import upgrade
from openpyxl import Workbook, load_workbook
from sqlalchemy import select, text

from app import create_app
from app.extensions import db
from app.models import Building, Household, Member, Room, Unit, User
from app.models.visits import HouseholdAssignment, HouseholdVisit, UnitActivity
from app.services.clock import district_today
from tests.support import app_settings, separate_database

pytestmark = pytest.mark.usefixtures("english")
GRID = "610404001001001"
COMMUNITY = GRID[:12]


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def member_of(username: str) -> Member:
    return db.session.scalar(
        select(Member).join(User, Member.user_id == User.id).where(User.username == username)
    )


def open_assignment(household_id: int) -> HouseholdAssignment | None:
    return db.session.scalar(
        select(HouseholdAssignment).where(
            HouseholdAssignment.household_id == household_id, HouseholdAssignment.ended_at.is_(None)
        )
    )


def unassigned_households(community: str = COMMUNITY) -> list[Household]:
    taken = select(HouseholdAssignment.household_id).where(HouseholdAssignment.ended_at.is_(None))
    return list(
        db.session.scalars(
            select(Household)
            .where(Household.grid_code.startswith(community), Household.id.not_in(taken))
            .order_by(Household.id)
        )
    )


# --- assigning -----------------------------------------------------------------------------------
def test_staff_assign_one_household_by_hand(login_as):
    household = unassigned_households()[0]
    member = member_of("member")
    response = login_as("community").post(
        "/admin/household_assignment/new/", data={"member": str(member.id), "household": str(household.id)}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert open_assignment(household.id).member_id == member.id


def test_staff_assign_a_whole_building_and_reassigning_keeps_the_history(login_as):
    member = member_of("member")
    building = db.session.scalar(
        select(Building)
        .join(Room, Room.building_id == Building.id)
        .join(Household, Household.room_id == Room.id)
        .where(Building.grid_code == GRID)
        .order_by(Building.id.desc())
    )
    in_building = set(
        db.session.scalars(
            select(Household.id)
            .join(Room, Room.id == Household.room_id)
            .where(Room.building_id == building.id)
        )
    )
    client = login_as("community")
    response = client.post(
        "/admin/household_assignment/new/", data={"member": str(member.id), "building": str(building.id)}
    )
    assert response.status_code == 302
    assert all(open_assignment(h).member_id == member.id for h in in_building)
    kept = db.session.scalar(select(db.func.count()).where(HouseholdAssignment.household_id.in_(in_building)))
    assert kept >= len(in_building)
    some = min(in_building)
    ended = open_assignment(some).id
    client.post("/admin/household_assignment/action/", data={"action": "end", "rowid": [str(ended)]})
    assert open_assignment(some) is None
    assert db.session.get(HouseholdAssignment, ended).ended_at is not None


def test_staff_cannot_assign_a_household_outside_their_area(login_as):
    far = db.session.scalar(select(Household).where(Household.grid_code.startswith("610404002")))
    response = login_as("grid").post(
        "/admin/household_assignment/new/",
        data={"member": str(member_of("member").id), "household": str(far.id)},
    )
    assert response.status_code == 200  # the form again, nothing saved
    assert open_assignment(far.id) is None or open_assignment(far.id).member_id != member_of("member").id


# --- import --------------------------------------------------------------------------------------
def workbook(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["户号", "党员姓名", "党员手机号"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(client, data: bytes, good_rows_only: bool = False):
    form = {"file": (io.BytesIO(data), "zrt.xlsx")}
    if good_rows_only:
        form["good_rows_only"] = "1"
    return client.post("/admin/responsibility_import/", data=form, content_type="multipart/form-data")


def import_rows():
    """Row 2 good, row 3 an unknown household, row 4 an unknown member, row 5 repeats row 2's household."""
    free = unassigned_households()
    name = member_of("member").name
    return free, [
        [free[0].number, name, ""],
        ["NO-SUCH-1", name, ""],
        [free[1].number, "无此人", ""],
        [free[0].number, name, ""],
    ]


def test_an_import_with_bad_rows_assigns_nothing_and_reports_each_row(login_as):
    free, rows = import_rows()
    response = upload(login_as("community"), workbook(rows))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    found = {int(n): col for n, col in re.findall(r'<tr data-row="(\d+)"><td>\d+</td><td>([^<]*)</td>', page)}
    assert found == {3: "户号", 4: "党员姓名", 5: "户号"}
    assert open_assignment(free[0].id) is None
    report = base64.b64decode(re.search(r'href="data:[^;]+;base64,([^"]+)"', page).group(1))
    sheet = list(load_workbook(io.BytesIO(report)).active.iter_rows(values_only=True))
    assert sorted(r[0] for r in sheet[1:]) == [3, 4, 5]


def test_an_import_of_the_good_rows_only_assigns_them(login_as):
    free, rows = import_rows()
    response = upload(login_as("community"), workbook(rows), good_rows_only=True)
    assert response.status_code == 200
    assert open_assignment(free[0].id).member_id == member_of("member").id
    assert open_assignment(free[1].id) is None


def test_a_clean_import_redirects_to_the_list(login_as):
    free = unassigned_households()
    name = member_of("member").name
    response = upload(login_as("community"), workbook([[h.number, name, ""] for h in free[:3]]))
    assert response.status_code == 302
    assert all(open_assignment(h.id).member_id == member_of("member").id for h in free[:3])


# --- compliance in the back office ---------------------------------------------------------------
def test_the_compliance_page_lists_who_is_behind_in_the_users_area(login_as):
    page = login_as("community").get("/admin/compliance/").get_data(as_text=True)
    member = member_of("member")
    assert f'data-member="{member.id}"' in page  # the demo member has two overdue households
    behind_units = [
        u for u in db.session.scalars(select(Unit)) if u.community_code.startswith("610404001001")
    ]
    assert behind_units
    far = login_as("grid2").get("/admin/compliance/").get_data(as_text=True)
    assert f'data-member="{member.id}"' not in far


def test_the_member_list_filters_overdue_members(app, login_as):
    client = login_as("admin")
    views = [v for admin in app.extensions["admin"] for v in admin._views]
    view = next(v for v in views if getattr(v, "endpoint", "") == "member")
    position = next(i for i, f in enumerate(view._filters) if str(f.name) == "Overdue on household visits")
    page = client.get(f"/admin/member/?flt0_{view.get_filter_arg(position, view._filters[position])}=1")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    behind = member_of("member")
    on_time = db.session.scalar(select(Member).where(Member.grid_code.startswith("610404003")))
    assert behind.name in html
    assert on_time is None or on_time.name not in html  # a member without 责任田 is never behind


def test_the_dashboard_shows_the_compliance_figures(login_as):
    page = login_as("admin").get("/admin/").get_data(as_text=True)
    assert 'data-section="compliance"' in page
    assert re.search(r'data-figure="compliance\.members\.overdue">\d+<', page)


# --- the member's page ---------------------------------------------------------------------------
def test_a_member_records_a_visit_on_my_visits(login_as):
    client = login_as("member")
    page = client.get("/my/visits").get_data(as_text=True)
    assert page.count("data-household=") == 4 and 'data-overdue="1"' in page
    household = next(
        h
        for h in db.session.scalars(
            select(HouseholdAssignment.household_id).where(
                HouseholdAssignment.member_id == member_of("member").id,
                HouseholdAssignment.ended_at.is_(None),
            )
        )
    )
    moment = district_today().isoformat() + "T00:00"  # today, and never in the future whatever the hour
    response = client.post(
        "/my/visits",
        data={"household_id": str(household), "visited_at": moment, "note": "走访", "findings": ""},
    )
    assert response.status_code == 303
    visit = db.session.scalar(select(HouseholdVisit).order_by(HouseholdVisit.id.desc()))
    assert (visit.household_id, visit.channel, visit.visited_on) == (household, "site", district_today())


def test_the_visit_form_refuses_another_members_household_and_other_roles(login_as):
    other = db.session.scalar(
        select(HouseholdAssignment.household_id).where(
            HouseholdAssignment.member_id != member_of("member").id
        )
    )
    moment = district_today().isoformat() + "T08:00"
    response = login_as("member").post("/my/visits", data={"household_id": str(other), "visited_at": moment})
    assert response.status_code == 403
    assert login_as("resident").get("/my/visits").status_code == 403


# --- the migration of the hand-typed dates --------------------------------------------------------
@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_migration_turns_the_hand_typed_dates_into_records(kind, app):
    if kind == "postgresql" and not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("the PostgreSQL case runs in the PostgreSQL pass")
    with separate_database(kind, "visits_migration") as url:
        migrated = create_app(app_settings(url))
        with migrated.app_context():
            upgrade(revision="cd9046cf8d67")  # the schema before the records existed
            with db.engine.begin() as conn:
                areas = ("610404", "610404001", "610404001001", "610404001001001")
                levels = ("district", "street", "community", "grid")
                for number, (code, level) in enumerate(zip(areas, levels), start=1):
                    conn.execute(
                        text(
                            "INSERT INTO area (id, code, name, level, parent_id, created_at) "
                            "VALUES (:i, :c, :c, :l, :p, :t)"
                        ),
                        {
                            "i": number,
                            "c": code,
                            "l": level,
                            "p": number - 1 or None,
                            "t": "2026-01-01 00:00:00",
                        },
                    )
                conn.execute(
                    text(
                        "INSERT INTO unit (id, name, community_code, last_visit_on, created_at) "
                        "VALUES (1, 'u', '610404001001', :d, :t)"
                    ),
                    {"d": date(2026, 10, 5), "t": "2026-01-01 00:00:00"},
                )
                conn.execute(
                    text(
                        "INSERT INTO member (id, name, grid_code, service_hours, active, last_household_visit_on, "
                        "created_at) VALUES (1, 'm', '610404001001001', 0, :a, :d, :t), "
                        "(2, 'n', '610404001001001', 0, :a, NULL, :t)"
                    ),
                    {"a": True, "d": date(2026, 11, 20), "t": "2026-01-01 00:00:00"},
                )
            upgrade(revision="32da32a84e1d")
            visit = db.session.scalars(select(HouseholdVisit)).one()
            assert (visit.member_id, visit.household_id, visit.visited_on, visit.channel) == (
                1,
                None,
                date(2026, 11, 20),
                "migrated",
            )
            activity = db.session.scalars(select(UnitActivity)).one()
            assert (activity.unit_id, activity.held_on, activity.community_code, activity.kind) == (
                1,
                date(2026, 10, 5),
                "610404001001",
                "other",
            )
            columns = {c["name"] for c in db.inspect(db.engine).get_columns("member")}
            assert "last_household_visit_on" not in columns
            assert "last_visit_on" not in {c["name"] for c in db.inspect(db.engine).get_columns("unit")}
            db.session.remove()
            db.engine.dispose()


def test_the_visit_form_answers_huge_ids_and_absurd_dates_without_an_error(login_as):
    client = login_as("member")
    own = db.session.scalar(
        select(HouseholdAssignment.household_id).where(
            HouseholdAssignment.member_id == member_of("member").id
        )
    )
    today = district_today().isoformat() + "T08:00"
    assert (
        client.post("/my/visits", data={"household_id": str(10**30), "visited_at": today}).status_code == 403
    )
    for moment in ("0001-01-01T00:00", "9999-12-31T23:59", "not a time"):
        response = client.post("/my/visits", data={"household_id": str(own), "visited_at": moment})
        assert response.status_code == 422, moment

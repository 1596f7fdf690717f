"""The grid teams in the back office: one captain and one leader per grid (refused on the form, never a 500),
a shared person listed on each grid, scoping of persons and places, and the 五大员 duty filter."""

import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Area, GridRole, Member, TeamPerson
from app.models.choices import MEMBER_DUTY_LABELS, GridRoleKind
from app.services.duties import holds_duty
from app.services.teams import grid_team

pytestmark = pytest.mark.usefixtures("english")

GRID = "610404001001001"


def area_id(code: str) -> int:
    return db.session.scalar(select(Area.id).where(Area.code == code))


def place_count() -> int:
    return db.session.scalar(select(func.count()).select_from(GridRole))


def a_person(area_code: str) -> TeamPerson:
    return db.session.scalars(select(TeamPerson).where(TeamPerson.area_code == area_code)).first()


def shared_deputy() -> TeamPerson:
    return db.session.scalar(
        select(TeamPerson)
        .join(GridRole, GridRole.person_id == TeamPerson.id)
        .where(GridRole.role == GridRoleKind.DEPUTY_LEADER)
        .group_by(TeamPerson.id)
        .having(func.count() == 4)
        .order_by(TeamPerson.id)
        .limit(1)
    )


@pytest.mark.parametrize("role", ["vanguard_captain", "grid_leader"])
def test_a_second_captain_or_leader_is_refused_on_the_form(login_as, role):
    client = login_as("community")
    before = place_count()
    page = client.post(
        "/admin/gridrole/new/", data={"grid": area_id(GRID), "role": role, "person": a_person(GRID).id}
    )
    assert page.status_code == 200
    assert "This grid already has a" in page.get_data(as_text=True)
    assert place_count() == before


def test_the_captain_and_the_leader_are_two_people(login_as):
    grid = "610404001001003"
    db.session.execute(
        GridRole.__table__.delete().where(
            GridRole.grid_code == grid, GridRole.role == GridRoleKind.GRID_LEADER
        )
    )
    db.session.commit()
    captain = db.session.scalar(
        select(GridRole).where(GridRole.grid_code == grid, GridRole.role == GridRoleKind.VANGUARD_CAPTAIN)
    )
    client = login_as("community")
    data = {"grid": area_id(grid), "role": "grid_leader", "person": captain.person_id}
    page = client.post("/admin/gridrole/new/", data=data)
    assert page.status_code == 200 and "two different people" in page.get_data(as_text=True)
    data["person"] = a_person(grid).id if a_person(grid).id != captain.person_id else a_person(GRID).id
    other = db.session.scalar(
        select(TeamPerson.id).where(TeamPerson.area_code == grid, TeamPerson.id != captain.person_id).limit(1)
    )
    response = client.post("/admin/gridrole/new/", data={**data, "person": other})
    assert response.status_code == 302
    assert [p.person_id for p in grid_team(grid) if p.role == GridRoleKind.GRID_LEADER] == [other]


def test_liaisons_may_be_several_but_one_person_holds_a_place_once(login_as):
    client = login_as("community")
    liaisons = [p for p in grid_team(GRID) if p.role == GridRoleKind.LIAISON]
    assert len(liaisons) == 2
    newcomer = TeamPerson(name="新联络员", phone="13800001111", area_code=GRID)
    db.session.add(newcomer)
    db.session.commit()
    data = {"grid": area_id(GRID), "role": "liaison", "person": newcomer.id}
    assert client.post("/admin/gridrole/new/", data=data).status_code == 302
    assert len([p for p in grid_team(GRID) if p.role == GridRoleKind.LIAISON]) == 3
    again = client.post("/admin/gridrole/new/", data=data)
    assert again.status_code == 200 and "already holds this place" in again.get_data(as_text=True)


def test_a_shared_deputy_is_one_person_listed_on_each_of_four_grids(login_as):
    deputy = shared_deputy()
    assert deputy is not None and deputy.area_code == "610404001"  # managed by the street
    grids = sorted(p.grid_code for p in deputy.places)
    assert len(grids) == 4
    for code in grids:
        assert [p.name for p in grid_team(code) if p.role == GridRoleKind.DEPUTY_LEADER] == [deputy.name]
    street = login_as("street").get(f"/admin/teamperson/details/?id={deputy.id}").get_data(as_text=True)
    assert sorted(re.findall(r'<tr data-grid="(\d+)"', street)) == grids
    grid_page = login_as("street").get(f"/admin/area/details/?id={area_id(grids[0])}").get_data(as_text=True)
    assert f"/admin/teamperson/details/?id={deputy.id}" in grid_page
    # the community's staff see the street's deputy too, with only the grids of their community
    community = login_as("community").get(f"/admin/teamperson/details/?id={deputy.id}").get_data(as_text=True)
    shown = re.findall(r'<tr data-grid="(\d+)"', community)
    assert shown and all(code.startswith("610404001001") for code in shown) and len(shown) < 4
    assert "grids outside your area" in community


def test_persons_are_scoped_like_their_places(login_as):
    elsewhere = a_person("610404002001001")
    client = login_as("community")
    assert client.get(f"/admin/teamperson/details/?id={elsewhere.id}").status_code == 404
    listed = client.get("/admin/teamperson/?page_size=100").get_data(as_text=True)
    shown = set(map(int, re.findall(r'name="rowid"[^>]*value="(\d+)"', listed)))
    placed_here = set(
        db.session.scalars(select(GridRole.person_id).where(GridRole.grid_code.like("610404001001%")))
    )
    managed = set(
        db.session.scalars(
            select(TeamPerson.id).where(
                TeamPerson.area_code.like("610404001001%") | TeamPerson.area_code.in_(["610404", "610404001"])
            )
        )
    )
    assert shown and shown == placed_here | managed and elsewhere.id not in shown
    assert login_as("grid").get(f"/admin/teamperson/details/?id={a_person(GRID).id}").status_code == 200
    assert login_as("grid2").get(f"/admin/teamperson/details/?id={a_person(GRID).id}").status_code == 404


def test_a_place_outside_the_staffs_area_is_refused(login_as):
    client = login_as("community")
    before = place_count()
    outside = "610404002001001"
    page = client.post(
        "/admin/gridrole/new/",
        data={"grid": area_id(outside), "role": "liaison", "person": a_person(GRID).id},
    )
    assert page.status_code == 200 and place_count() == before


@pytest.mark.parametrize("duty", list(MEMBER_DUTY_LABELS))
def test_the_duty_filter_finds_the_members_holding_the_duty(app, login_as, duty):
    members = db.session.scalars(select(Member)).all()
    holding = {m.id for m in members if duty in (m.duties or "").split(",")}
    assert holding, "the demo gives every duty to someone"
    assert set(db.session.scalars(select(Member.id).where(holds_duty(duty)))) == holding
    with app.test_request_context():
        view = next(v for v in app.extensions["admin"][0]._views if getattr(v, "endpoint", "") == "member")
        index = next(i for i, f in enumerate(view._filters) if str(f.name) == "Duties")
        arg = view.get_filter_arg(index, view._filters[index])
    page = login_as("admin").get(f"/admin/member/?flt0_{arg}={duty}&page_size=100").get_data(as_text=True)
    shown = set(map(int, re.findall(r'name="rowid"[^>]*value="(\d+)"', page)))
    assert shown == holding


def test_an_underscore_in_a_duty_is_no_wildcard(demo):
    db.session.add(Member(name="错字", grid_code=GRID, duties="infoXcollector"))
    db.session.commit()
    found = db.session.scalars(select(Member.name).where(holds_duty("info_collector"))).all()
    assert "错字" not in found and found

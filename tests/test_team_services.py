"""The team and coverage service functions other features build on: who holds which place, what covers a grid."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Area, Unit, User
from app.models.choices import AreaLevel, GridRoleKind
from app.models.coverage import UnitCoverage
from app.services.clock import district_today
from app.services.coverage import coverage, coverage_by_area, covering_units
from app.services.teams import grid_team, holds_place, place_holder_user_id, places_of

GRID = "610404001001001"
GRID2 = "610404001001002"


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def cover(unit_name: str, grid_code: str, since: date, until: date | None = None) -> None:
    unit = db.session.scalar(select(Unit).where(Unit.name == unit_name))
    db.session.add(UnitCoverage(unit_id=unit.id, grid_code=grid_code, since=since, until=until))
    db.session.flush()


def test_a_grids_team_comes_in_team_order_with_labels(demo):
    team = grid_team(GRID)
    roles = [p.role for p in team]
    order = list(GridRoleKind)
    assert roles == sorted(roles, key=lambda r: order.index(GridRoleKind(r)))
    assert roles[:2] == [GridRoleKind.VANGUARD_CAPTAIN, GridRoleKind.GRID_LEADER]
    assert all(p.role_label and p.name for p in team)
    assert grid_team("610404999999999") == []


def test_holds_place_and_places_of_follow_the_linked_account(demo):
    captain = user("captain")
    assert holds_place(captain, GRID, GridRoleKind.VANGUARD_CAPTAIN)
    assert not holds_place(captain, GRID, GridRoleKind.GRID_LEADER)
    assert not holds_place(captain, GRID2, GridRoleKind.VANGUARD_CAPTAIN)
    assert not holds_place(user("member"), GRID, GridRoleKind.VANGUARD_CAPTAIN)
    assert not holds_place(None, GRID, GridRoleKind.VANGUARD_CAPTAIN)
    assert (GRID, GridRoleKind.VANGUARD_CAPTAIN) in places_of(captain)
    assert places_of(user("resident")) == []
    assert place_holder_user_id(GRID, GridRoleKind.VANGUARD_CAPTAIN) == captain.id
    assert place_holder_user_id(GRID, GridRoleKind.GRID_LEADER) == user("leader").id
    assert place_holder_user_id(GRID2, GridRoleKind.GRID_LEADER) is None
    with pytest.raises(ValueError):
        place_holder_user_id(GRID, GridRoleKind.LIAISON)


def test_covering_units_follow_the_period_in_the_districts_days(demo):
    db.session.execute(UnitCoverage.__table__.delete())
    today = district_today()
    cover("咸阳市渭城区财政局", GRID, today - timedelta(days=30))
    cover("国网咸阳供电公司", GRID, today - timedelta(days=30), today - timedelta(days=1))  # ended
    cover("咸阳市第一人民医院", GRID, today + timedelta(days=1))  # not yet
    assert [u.name for u in covering_units(GRID)] == ["咸阳市渭城区财政局"]
    assert {u.name for u in covering_units(GRID, on=today - timedelta(days=1))} == {
        "咸阳市渭城区财政局",
        "国网咸阳供电公司",
    }
    assert covering_units(GRID2) == []


def test_coverage_counts_grids_with_a_covering_unit_per_area(demo):
    db.session.execute(UnitCoverage.__table__.delete())
    today = district_today()
    cover("咸阳市渭城区财政局", GRID, today)
    cover("国网咸阳供电公司", GRID, today)  # two units, one grid
    cover("咸阳市第一人民医院", "610404001002001", today - timedelta(days=9), today - timedelta(days=2))
    grids = db.session.scalar(select(db.func.count()).where(Area.level == AreaLevel.GRID))
    assert coverage() == {"grids": grids, "covered": 1}
    assert coverage("610404001001") == {"grids": 3, "covered": 1}
    assert coverage("610404001002") == {"grids": 2, "covered": 0}
    assert coverage("610404001002", on=today - timedelta(days=5)) == {"grids": 2, "covered": 1}
    assert coverage("") == {"grids": 0, "covered": 0}
    streets = {r["code"]: r for r in coverage_by_area("street")}
    assert streets["610404001"]["grids"] == 5 and streets["610404001"]["covered"] == 1
    assert streets["610404001"]["name"] == "渭阳街道" and streets["610404001"]["rate"] == 20.0
    assert streets["610404002"]["covered"] == 0
    communities = coverage_by_area("community", "610404001")
    assert [(r["code"], r["grids"], r["covered"]) for r in communities] == [
        ("610404001001", 3, 1),
        ("610404001002", 2, 0),
    ]
    assert sum(r["grids"] for r in coverage_by_area("community")) == grids

"""The demo's 双报到 in practice: the vanguard captain and grid leader logins of 文汇社区第一网格, and which
check-in units cover (包抓) which grids — some grids left uncovered, so coverage is below 100 %."""

from datetime import date

from sqlalchemy import select

from app.extensions import db
from app.models import GridRole, Member, Unit, User
from app.models.choices import GridRoleKind
from app.models.coverage import UnitCoverage
from app.services.clock import district_today

TEAM_GRID = "610404001001001"  # 文汇社区第一网格
# (unit, grid it covers): each unit covers grids of the community it checked in to;
# 文汇社区第三网格, 渭滨社区第二网格 and 北平社区第二网格 are left uncovered
COVERAGE = [
    ("咸阳市渭城区财政局", "610404001001001"),
    ("咸阳市渭城区财政局", "610404001001002"),
    ("国网咸阳供电公司", "610404001001001"),
    ("咸阳市第一人民医院", "610404001002001"),
    ("渭城区人民法院", "610404002001001"),
    ("渭城区人民法院", "610404002001002"),
    ("咸阳职业技术学院", "610404002002001"),
    ("渭城区税务局", "610404003001001"),
    ("渭城区税务局", "610404003001002"),
]


def seed_team() -> None:
    """Link the captain's and the leader's places of the team grid to their logins; then the coverage."""
    users = {
        u.username: u
        for u in db.session.scalars(select(User).where(User.username.in_(("captain", "leader"))))
    }
    for username, role in (("captain", GridRoleKind.VANGUARD_CAPTAIN), ("leader", GridRoleKind.GRID_LEADER)):
        account = users[username]
        place = db.session.scalar(
            select(GridRole).where(GridRole.grid_code == TEAM_GRID, GridRole.role == role)
        )
        if place is None:
            place = GridRole(grid_code=TEAM_GRID, role=role, since=date(2024, 1, 1))
            db.session.add(place)
        member_id = db.session.scalar(select(Member.id).where(Member.user_id == account.id))
        place.name, place.user_id, place.member_id = account.name, account.id, member_id
    db.session.flush()
    seed_coverage()


def seed_coverage() -> None:
    """The demo's coverage, from 1 March of this year (the agreements' date), open-ended."""
    units = dict(db.session.execute(select(Unit.name, Unit.id)).all())
    since = date(district_today().year, 3, 1)
    for unit_name, grid_code in COVERAGE:
        unit_id = units.get(unit_name)
        if unit_id is None:
            continue
        exists = db.session.scalar(
            select(UnitCoverage.id).where(
                UnitCoverage.unit_id == unit_id, UnitCoverage.grid_code == grid_code
            )
        )
        if exists is None:
            db.session.add(UnitCoverage(unit_id=unit_id, grid_code=grid_code, since=since))
    db.session.flush()

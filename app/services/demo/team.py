"""The demo's 双报到 in practice: every grid's team (one captain and one leader, two liaisons, a police deputy
and a legal adviser each serving four grids of their street), the captain and leader logins of 文汇社区第一网格,
and which check-in units cover (包抓) which grids — some grids left uncovered, so coverage is below 100 %."""

import random
from datetime import date

from sqlalchemy import select

from app.extensions import db
from app.models import Area, GridRole, Member, TeamPerson, Unit, User
from app.models.choices import AreaLevel, GridRoleKind
from app.models.coverage import UnitCoverage
from app.services.clock import district_today
from app.services.demo.common import _get_or_create, _name, _phone

TEAM_GRID = "610404001001001"  # 文汇社区第一网格
SHARED = 4  # grids a deputy (police) or a legal adviser serves
SINCE = date(2024, 1, 1)
DUTIES = {
    GridRoleKind.VANGUARD_CAPTAIN: "带领报到党员开展网格服务，审签工作纪实和工作日志",
    GridRoleKind.GRID_LEADER: "统筹网格工作，审签工作纪实和工作日志",
    GridRoleKind.DEPUTY_LEADER: "治安防范、矛盾纠纷化解",
    GridRoleKind.LIAISON: "联系报到单位和党员，收集群众诉求",
    GridRoleKind.LEGAL_ADVISER: "法律咨询、普法宣传",
    GridRoleKind.GRID_WORKER: "信息采集、事件上报、入户走访",
    GridRoleKind.BUILDING_HEAD: "楼栋信息收集、邻里互助",
    GridRoleKind.RED_STEWARD: "物业服务、环境卫生",
}
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


def _person(name: str, phone: str | None, area_code: str, **values) -> TeamPerson:
    return _get_or_create(TeamPerson, {"name": name, "phone": phone}, area_code=area_code, **values)


def _place(grid_code: str, role: str, person: TeamPerson) -> None:
    _get_or_create(
        GridRole,
        {"grid_code": grid_code, "role": role, "person_id": person.id},
        duties=DUTIES[role],
        since=SINCE,
    )


def _account_person(username: str) -> TeamPerson:
    """The person of a demo login (its member profile too, for a member)."""
    account = db.session.scalar(select(User).where(User.username == username))
    person = db.session.scalar(select(TeamPerson).where(TeamPerson.user_id == account.id))
    if person is None:
        member_id = db.session.scalar(select(Member.id).where(Member.user_id == account.id))
        person = TeamPerson(
            name=account.name, area_code=account.area_code, user_id=account.id, member_id=member_id
        )
        db.session.add(person)
        db.session.flush()
    return person


def seed_team() -> None:
    """Every grid's team, then the coverage; the captain and leader logins hold their places in TEAM_GRID."""
    grids = list(db.session.scalars(select(Area).where(Area.level == AreaLevel.GRID).order_by(Area.code)))
    accounts = {TEAM_GRID: {GridRoleKind.VANGUARD_CAPTAIN: "captain", GridRoleKind.GRID_LEADER: "leader"}}
    workers = dict(
        db.session.execute(
            select(User.area_code, User.username).where(User.username.in_(("grid", "grid2")))
        ).all()
    )
    shared: dict[tuple, TeamPerson] = {}
    by_street: dict[str, int] = {}
    for grid in grids:
        rng = random.Random(f"team-{grid.code}")
        street = grid.code[:9]
        position = by_street.get(street, 0)
        by_street[street] = position + 1
        for role in (GridRoleKind.VANGUARD_CAPTAIN, GridRoleKind.GRID_LEADER):
            username = accounts.get(grid.code, {}).get(role)
            person = _account_person(username) if username else _person(_name(rng), _phone(rng), grid.code)
            _place(grid.code, role, person)
        for role, organisation in (
            (GridRoleKind.DEPUTY_LEADER, "渭城公安分局"),
            (GridRoleKind.LEGAL_ADVISER, "秦都律师事务所"),
        ):
            key = (role, street, position // SHARED)
            if key not in shared:  # the street's next deputy / adviser, for this grid and the next three
                own = random.Random(f"team-{role}-{key[1]}-{key[2]}")
                shared[key] = _person(_name(own), _phone(own), street, organisation=organisation)
            _place(grid.code, role, shared[key])
        for _n in range(2):
            _place(grid.code, GridRoleKind.LIAISON, _person(_name(rng), _phone(rng), grid.code))
        worker = workers.get(grid.code)
        person = _account_person(worker) if worker else _person(_name(rng), _phone(rng), grid.code)
        _place(grid.code, GridRoleKind.GRID_WORKER, person)
        for role in (GridRoleKind.BUILDING_HEAD, GridRoleKind.RED_STEWARD):
            _place(grid.code, role, _person(_name(rng), _phone(rng), grid.code))
    _captain_profile()
    db.session.flush()
    seed_coverage()


def _captain_profile() -> None:
    """The captain is a checked-in member of the team grid, with a unit and duties."""
    member = db.session.scalar(
        select(Member).join(User, User.id == Member.user_id).where(User.username == "captain")
    )
    unit_id = db.session.scalar(select(Unit.id).where(Unit.name == COVERAGE[0][0]))
    if member is not None and member.unit_id is None:
        member.unit_id, member.duties = unit_id, "info_collector,opinion_collector"
        member.checked_in_on = date(2024, 3, 1)


def seed_coverage() -> None:
    """The demo's coverage, from 1 March of this year (the agreements' date), open-ended."""
    units = dict(db.session.execute(select(Unit.name, Unit.id)).all())
    since = date(district_today().year, 3, 1)
    for unit_name, grid_code in COVERAGE:
        if unit_name in units:
            _get_or_create(UnitCoverage, {"unit_id": units[unit_name], "grid_code": grid_code}, since=since)
    db.session.flush()

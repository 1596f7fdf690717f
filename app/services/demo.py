"""The demo district: Weicheng (渭城区) with a few streets, communities, grids and people.

Idempotent: every row is looked up by its natural key first, and the random
choices come from a fixed seed, so a second run adds nothing.
"""

import random
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models import (
    Area,
    Building,
    Compound,
    Department,
    Enterprise,
    Facility,
    GridRole,
    Household,
    Matter,
    Member,
    PartyOrg,
    Pledge,
    Resident,
    Room,
    SlaPolicy,
    Unit,
    User,
)
from app.models.choices import AreaLevel, PartyOrgLevel, PledgeStatus, Role
from app.services.idcard import make_id_number
from app.services.users import create_user

DISTRICT = ("610404", "渭城区")
STREETS = [
    ("001", "渭阳街道", [("001", "文汇社区", 3), ("002", "渭滨社区", 2)]),
    ("002", "人民路街道", [("001", "东风社区", 2), ("002", "北平社区", 2)]),
    ("003", "新兴路街道", [("001", "新兴社区", 2)]),
]
DEPARTMENTS = [
    ("ZF", "区综治中心"),
    ("XF", "区信访局"),
    ("HB", "区生态环境分局"),
    ("AJ", "区应急管理局"),
    ("HW", "区城市管理和综合执法局"),
    ("ZJ", "区住房和城乡建设局"),
    ("MZ", "区民政局"),
    ("GA", "渭城公安分局"),
]
MATTERS = [
    ("WD-001", "矛盾纠纷调解", "stability", "ZF", True),
    ("WD-002", "重点人员稳控", "stability", "GA", True),
    ("XF-001", "群众来信来访", "petition", "XF", True),
    ("HJ-001", "噪声扰民", "environment", "HB", True),
    ("HJ-002", "油烟污染", "environment", "HB", True),
    ("AQ-001", "消防通道堵塞", "work_safety", "AJ", True),
    ("AQ-002", "电动车楼道充电", "work_safety", "AJ", True),
    ("HW-001", "垃圾清运不及时", "sanitation", "HW", True),
    ("HW-002", "占道经营", "urban_management", "HW", True),
    ("WY-001", "物业服务纠纷", "property", "ZJ", True),
    ("WY-002", "电梯故障", "property", "ZJ", True),
    ("MZ-001", "困难群众救助", "civil_affairs", "MZ", True),
    ("MZ-002", "高龄津贴申领", "civil_affairs", "MZ", False),
]
UNITS = [
    ("咸阳市渭城区财政局", "区财政局机关党支部", "610404001001"),
    ("国网咸阳供电公司", "供电公司第一党支部", "610404001001"),
    ("咸阳市第一人民医院", "医院内科党支部", "610404001002"),
    ("渭城区人民法院", "区法院机关党支部", "610404002001"),
    ("咸阳职业技术学院", "学院机关党总支", "610404002002"),
    ("渭城区税务局", "区税务局第二党支部", "610404003001"),
]
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐韩冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志强淑珍玉兰文博子涵浩然欣怡梓轩一诺"
DEMO_PASSWORDS = {
    "admin": ("onegrid-admin", Role.ADMIN, None, None, "系统管理员"),
    "street": ("onegrid-street", Role.STREET_ADMIN, "610404001", None, "渭阳街道办"),
    "community": ("onegrid-community", Role.COMMUNITY_ADMIN, "610404001001", None, "文汇社区工作站"),
    "grid": ("onegrid-grid", Role.GRID_WORKER, "610404001001001", None, "李网格"),
    "grid2": ("onegrid-grid", Role.GRID_WORKER, "610404001001002", None, "赵网格"),
    "dept": ("onegrid-dept", Role.DEPARTMENT, None, "HW", "城管执法局值班员"),
    "member": ("onegrid-member", Role.MEMBER, "610404001001001", None, "王建国"),
    "resident": ("onegrid-resident", Role.RESIDENT, "610404001001001", None, "陈秀英"),
    "hotline": ("onegrid-hotline", Role.INTEGRATION, None, None, "12345热线"),
}


def _get_or_create(model, lookup: dict, **values):
    obj = db.session.scalar(select(model).filter_by(**lookup))
    if obj is None:
        obj = model(**lookup, **values)
        db.session.add(obj)
        db.session.flush()
    return obj


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _phone(rng: random.Random) -> str:
    return rng.choice(("138", "139", "135", "150", "186", "177")) + f"{rng.randrange(10**8):08d}"


def seed_areas() -> list[Area]:
    """The district, its streets, communities and grids; returns the grids."""
    district = _get_or_create(Area, {"code": DISTRICT[0]}, name=DISTRICT[1], level=AreaLevel.DISTRICT)
    grids = []
    for s_no, s_name, communities in STREETS:
        street = _get_or_create(
            Area, {"code": district.code + s_no}, name=s_name, level=AreaLevel.STREET, parent_id=district.id
        )
        for c_no, c_name, grid_count in communities:
            community = _get_or_create(
                Area,
                {"code": street.code + c_no},
                name=c_name,
                level=AreaLevel.COMMUNITY,
                parent_id=street.id,
                supervision_phone="029-3321" + s_no[-1] + c_no,
            )
            for g in range(1, grid_count + 1):
                grids.append(
                    _get_or_create(
                        Area,
                        {"code": f"{community.code}{g:03d}"},
                        name=f"第{'一二三四五'[g - 1]}网格",
                        level=AreaLevel.GRID,
                        parent_id=community.id,
                        geojson=_square(len(grids)),
                    )
                )
    return grids


def _square(index: int) -> str:
    """A small square polygon per grid so the grid map has something true to draw."""
    x, y = 108.70 + (index % 4) / 100, 34.33 + (index // 4) / 100
    ring = [
        [round(a, 4), round(b, 4)]
        for a, b in [(x, y), (x + 0.01, y), (x + 0.01, y + 0.01), (x, y + 0.01), (x, y)]
    ]
    return '{"type": "Polygon", "coordinates": [' + str(ring).replace(" ", "") + "]}"


def seed_matters() -> None:
    default = _get_or_create(
        SlaPolicy, {"name": "默认"}, respond_minutes=15, reply_minutes=30, resolve_minutes=1440
    )
    urgent = _get_or_create(
        SlaPolicy, {"name": "紧急"}, respond_minutes=5, reply_minutes=15, resolve_minutes=240
    )
    departments = {code: _get_or_create(Department, {"code": code}, name=name) for code, name in DEPARTMENTS}
    for code, name, category, dept, admitted in MATTERS:
        _get_or_create(
            Matter,
            {"code": code},
            name=name,
            category=category,
            department_id=departments[dept].id,
            admitted=admitted,
            sla_policy_id=(urgent if category == "work_safety" else default).id,
        )


def seed_party_and_units(grids: list[Area]) -> None:
    today = date.today()
    for street in db.session.scalars(select(Area).where(Area.level == AreaLevel.STREET).order_by(Area.code)):
        committee = _get_or_create(
            PartyOrg,
            {"name": f"{street.name}党工委"},
            level=PartyOrgLevel.STREET_COMMITTEE,
            area_code=street.code,
        )
        for community in street.children:
            org = _get_or_create(
                PartyOrg,
                {"name": f"{community.name}党委"},
                level=PartyOrgLevel.COMMUNITY_ORG,
                area_code=community.code,
                parent_id=committee.id,
            )
            for grid in community.children:
                _get_or_create(
                    PartyOrg,
                    {"name": f"{community.name}{grid.name}党支部"},
                    level=PartyOrgLevel.GRID_BRANCH,
                    area_code=grid.code,
                    parent_id=org.id,
                )
    rng = random.Random(404)
    for i, (name, branch, community_code) in enumerate(UNITS):
        unit = _get_or_create(
            Unit,
            {"name": name},
            branch_name=branch,
            community_code=community_code,
            agreement_date=date(today.year, 3, 1),
            contact_name=_name(rng),
            contact_phone=_phone(rng),
            last_visit_on=today - timedelta(days=10 + 15 * i),
        )
        _get_or_create(
            Pledge,
            {"unit_id": unit.id, "title": "每月开展一次进社区志愿服务"},
            area_code=community_code,
            period_start=date(today.year, 1, 1),
            period_end=date(today.year, 12, 31),
            status=PledgeStatus.IN_PROGRESS,
            content="组织在职党员进社区开展政策宣讲、环境整治等志愿服务。",
        )
        _get_or_create(
            Pledge,
            {"unit_id": unit.id, "title": "结对帮扶困难家庭2户"},
            area_code=community_code,
            period_start=date(today.year, 1, 1),
            period_end=date(today.year, 6, 30),
            status=PledgeStatus.FULFILLED,
            evidence="帮扶台账及照片已存档。",
        )


def seed_people(grids: list[Area]) -> None:
    """Compounds, buildings, rooms, households, residents, enterprises, facilities, members and teams."""
    duties = ["info_collector", "opinion_collector", "hazard_checker", "policy_promoter", "livelihood_helper"]
    units = list(db.session.scalars(select(Unit).order_by(Unit.id)))
    for gi, grid in enumerate(grids):
        rng = random.Random(f"grid-{grid.code}")
        compound = _get_or_create(
            Compound,
            {"grid_code": grid.code, "name": f"{grid.parent.name}{'ABCDEFGH'[gi % 8]}区"},
            address=f"{grid.parent.parent.name}{rng.randint(1, 200)}号",
            property_company="渭城物业",
        )
        seq = 0
        for b in range(1, 3):
            building = _get_or_create(
                Building, {"grid_code": grid.code, "name": f"{b}号楼"}, compound_id=compound.id, floors=6
            )
            for r in range(1, 4):
                room = _get_or_create(
                    Room,
                    {"building_id": building.id, "number": f"{b}-{r // 3 + 1}-{r}01"},
                    grid_code=grid.code,
                    floor=r,
                    usage="住宅",
                )
                household = _get_or_create(
                    Household,
                    {"number": f"{grid.code}-{b}{r:02d}"},
                    grid_code=grid.code,
                    room_id=room.id,
                    care_tier=["assured", "assured", "warm", "close"][rng.randrange(4)],
                    is_member_household=(r == 1),
                )
                for p in range(rng.randint(1, 4)):
                    seq += 1
                    name = _name(rng)
                    birth = date(1940 + rng.randrange(70), rng.randint(1, 12), rng.randint(1, 28))
                    id_number = make_id_number(grid.code[:6], birth, gi * 40 + seq)
                    if p == 0 and household.head_name is None:
                        household.head_name = name
                    _get_or_create(
                        Resident,
                        {"id_number": id_number},
                        grid_code=grid.code,
                        household_id=household.id,
                        name=name,
                        gender="male" if int(id_number[16]) % 2 else "female",
                        phone=_phone(rng),
                        birth_date=birth,
                        ethnicity="汉族",
                        relation_to_head="户主" if p == 0 else "家庭成员",
                        tags="elderly_alone" if birth.year < 1950 and p == 0 else None,
                    )
        _get_or_create(
            Enterprise,
            {"grid_code": grid.code, "name": f"{compound.name}便民超市"},
            credit_code=f"91610404MA{gi:06d}X{rng.randint(0, 9)}"[:18],
            legal_person=_name(rng),
            phone=_phone(rng),
            industry="零售",
            employees=rng.randint(2, 20),
        )
        for k, category in enumerate(("street_light", "manhole", "hydrant")):
            _get_or_create(
                Facility,
                {"code": f"{grid.code}-{k + 1:03d}"},
                grid_code=grid.code,
                category=category,
                name={"street_light": "路灯", "manhole": "井盖", "hydrant": "消防栓"}[category],
                location=f"{compound.name}{k + 1}号位置",
            )
        team = [
            ("vanguard_captain", "先锋队长"),
            ("grid_leader", "网格长"),
            ("deputy_leader", "副网格长（民警）"),
            ("liaison", "联络员"),
            ("legal_adviser", "法律咨询师"),
            ("grid_worker", "专职网格员"),
            ("building_head", "楼栋长"),
            ("red_steward", "红管家"),
        ]
        for role, title in team:
            _get_or_create(
                GridRole,
                {"grid_code": grid.code, "role": role},
                name=_name(rng),
                phone=_phone(rng),
                duties=title,
                since=date(2024, 1, 1),
            )
        for m in range(3):
            member_name = _name(rng)
            _get_or_create(
                Member,
                {"grid_code": grid.code, "name": member_name},
                unit_id=units[(gi + m) % len(units)].id,
                phone=_phone(rng),
                duties=",".join(rng.sample(duties, 2)),
                checked_in_on=date(2025, 3, 1),
                service_hours=Decimal(rng.randint(0, 40)),
                last_household_visit_on=date.today() - timedelta(days=rng.randint(1, 30)),
            )


def seed_accounts() -> None:
    for username, (password, role, area, department, name) in DEMO_PASSWORDS.items():
        if db.session.scalar(select(User.id).where(User.username == username)) is None:
            create_user(username, role, password, area_code=area, department_code=department, name=name)


WISH_CATEGORIES = [
    ("life", "生活帮扶"),
    ("elderly", "助老助残"),
    ("repair", "家政维修"),
    ("education", "文化教育"),
    ("health", "医疗健康"),
    ("legal", "法律咨询"),
    ("other", "其他"),
]
# (title, category, description, how far along the lifecycle the demo takes it)
DEMO_WISHES = [
    (
        "帮父亲买降压药",
        "elderly",
        "父亲腿脚不便，需要每月到社区医院代购降压药（硝苯地平缓释片）。",
        "confirmed",
    ),
    ("楼道声控灯不亮", "repair", "3号楼2单元四楼到六楼的声控灯坏了一周，晚上上下楼很不方便。", "done"),
    ("孩子周末数学辅导", "education", "孩子上初二，周末想找人辅导一下数学，一次一个半小时左右。", "claimed"),
    ("陪老人去医院复查", "health", "下周三上午需要陪母亲去市第一人民医院复查，我要上班走不开。", "published"),
    ("咨询租房合同纠纷", "legal", "房东要提前收回房子，押金不退，想咨询一下怎么处理。", "published"),
    ("修理漏水的水龙头", "repair", "厨房水龙头一直滴水，自己修不好。", "submitted"),
]


def seed_wishes() -> None:
    """Wish categories, and a few wishes at every stage of the lifecycle (once: only into an empty board)."""
    from app.models import Wish, WishCategory
    from app.services import wishes

    for position, (code, name) in enumerate(WISH_CATEGORIES):
        _get_or_create(WishCategory, {"code": code}, name=name, position=position)
    db.session.flush()
    if db.session.scalar(select(Wish.id).limit(1)) is not None:
        return
    users = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(DEMO_PASSWORDS)))}
    resident, grid, member = users["resident"], users["grid"], users["member"]
    stages = ["submitted", "published", "claimed", "done", "confirmed"]
    for title, category, description, stage in DEMO_WISHES:
        wish = wishes.post_wish(resident, title=title, description=description, category_code=category)
        reached = stages.index(stage)
        if reached >= 1:
            wishes.publish_wish(grid, wish)
        if reached >= 2:
            wishes.claim_wish(member, wish)
        if reached >= 3:
            wishes.complete_wish(member, wish, "已按约定完成。", "1.5")
        if reached >= 4:
            wishes.confirm_wish(resident, wish, "good", "非常感谢，很及时！")
    # an assisted posting (帮办代办) for an elderly resident without an account, in the second grid
    elderly = db.session.scalar(
        select(Resident)
        .where(Resident.grid_code == users["grid2"].area_code, Resident.user_id.is_(None))
        .order_by(Resident.id)
    )
    if elderly is not None:
        wishes.post_wish(
            users["grid2"],
            title="独居老人需要打扫卫生",
            category_code="elderly",
            description="老人独居，行动不便，希望有人帮忙打扫一次房间。",
            resident_id=elderly.id,
            publish=True,
        )


def seed_events() -> None:
    """A few events of the one-network ladder at different stages (see app.services.events)."""
    from app.services.events import seed_events as seed

    seed()


def seed_demo() -> None:
    """Create (or complete) the demo district; flushes, the caller commits."""
    grids = seed_areas()
    seed_matters()
    seed_party_and_units(grids)
    seed_people(grids)
    seed_accounts()
    seed_wishes()
    seed_events()

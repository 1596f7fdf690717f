"""Accounts, check-in units, pledges and members of a synthetic district (grid teams: teams.py)."""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from app.extensions import db
from app.models import Department, Member, Pledge, Unit, User
from app.models.choices import MEMBER_DUTY_LABELS, Role
from app.services.scale import people
from app.services.scale.areas import chinese_number
from app.services.users import create_user

PASSWORD = "onegrid-scale"
ADMIN_USERNAME = "scale-admin"
HOTLINE_USERNAME = "hotline-12345"
UNIT_KINDS = (
    "财政局",
    "税务局",
    "人民法院",
    "人民检察院",
    "公安分局",
    "教育局",
    "卫生健康局",
    "民政局",
    "人社局",
    "自然资源局",
    "住建局",
    "交通运输局",
    "水务局",
    "农业农村局",
    "商务局",
    "文旅局",
    "市场监管局",
    "统计局",
    "医疗保障局",
    "城管执法局",
    "生态环境分局",
    "应急管理局",
    "供电公司",
    "燃气公司",
    "自来水公司",
    "中国银行支行",
    "工商银行支行",
    "建设银行支行",
    "农业银行支行",
    "邮政分公司",
    "移动分公司",
    "联通分公司",
    "电信分公司",
    "第一中学",
    "实验小学",
    "职业技术学院",
    "人民医院",
    "中医医院",
    "妇幼保健院",
    "疾控中心",
)
PLEDGES = (
    "每月开展一次进社区志愿服务",
    "结对帮扶困难家庭2户",
    "开展政策宣讲进网格",
    "协助开展环境卫生整治",
    "为老年人提供义诊服务",
    "开展防诈骗宣传",
    "助力社区文化活动",
)


@dataclass
class Staff:
    """The user ids that act in the generated history."""

    admin: int
    hotline: int
    password_hash: str
    streets: dict[str, int] = field(default_factory=dict)
    communities: dict[str, int] = field(default_factory=dict)
    grids: dict[str, int] = field(default_factory=dict)
    departments: dict[int, int] = field(default_factory=dict)  # department id → its user
    members: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # community code → (member, user)


def build_accounts(writer, district, rng: random.Random, created: datetime) -> Staff:
    """scale-admin through create_user; one account per street, community, grid and department, in bulk."""
    admin = create_user(ADMIN_USERNAME, Role.ADMIN, PASSWORD, name="区网格中心管理员")
    admin.created_at = created
    db.session.flush()
    password_hash = admin.password_hash  # one hash for every generated account: they share the password

    def account(username, role, name, area_code=None, department_id=None) -> int:
        user_id = writer.new_id(User)
        writer.add(
            User,
            {
                "id": user_id,
                "username": username,
                "password_hash": password_hash,
                "name": name,
                "role": role,
                "area_code": area_code,
                "department_id": department_id,
                "active": True,
                "locale": None,
                "created_at": created,
                "last_login_at": None,
                "elder_mode": False,
            },
            counted=False,
        )
        return user_id

    staff = Staff(
        admin=admin.id,
        hotline=account(HOTLINE_USERNAME, Role.INTEGRATION, "12345热线"),
        password_hash=password_hash,
    )
    for department in db.session.scalars(db.select(Department).order_by(Department.code)):
        staff.departments[department.id] = account(
            f"dept-{department.code}",
            Role.DEPARTMENT,
            f"{department.name}值班员",
            department_id=department.id,
        )
    for street in district.children:
        staff.streets[street.code] = account(
            f"street-{street.code}", Role.STREET_ADMIN, f"{street.name}办", street.code
        )
        for community in street.children:
            staff.communities[community.code] = account(
                f"community-{community.code}", Role.COMMUNITY_ADMIN, f"{community.name}工作站", community.code
            )
            for grid in community.children:
                staff.grids[grid.code] = account(
                    f"grid-{grid.code}", Role.GRID_WORKER, people.person_name(rng), grid.code
                )
    return staff


def build_units(
    writer, preset, communities: list, rng, as_of: date, created: datetime
) -> dict[str, list[int]]:
    """Check-in units spread over the communities, two pledges each; returns unit ids by community code."""
    by_community: dict[str, list[int]] = {}
    for i in range(preset.units):
        community = communities[(i * 7) % len(communities)] if i >= len(communities) else communities[i]
        kind = UNIT_KINDS[i % len(UNIT_KINDS)]
        name = f"{preset.district_name}{kind}" + (
            f"第{chinese_number(i // len(UNIT_KINDS) + 1)}党支部联系点" if i >= len(UNIT_KINDS) else ""
        )
        unit_id = writer.new_id(Unit)
        writer.add(
            Unit,
            {
                "id": unit_id,
                "name": name,
                "branch_name": f"{kind}机关党支部",
                "community_code": community.code,
                "agreement_date": date(as_of.year, 3, 1),
                "contact_name": people.person_name(rng),
                "contact_phone": people.phone(rng),
                "contact_user_id": None,
                "created_at": created,
            },
        )
        by_community.setdefault(community.code, []).append(unit_id)
        for k, title in enumerate(rng.sample(PLEDGES, 2)):
            writer.add(
                Pledge,
                {
                    "id": writer.new_id(Pledge),
                    "unit_id": unit_id,
                    "member_id": None,
                    "area_code": community.code,
                    "title": title,
                    "content": None,
                    "period_start": date(as_of.year, 1, 1),
                    "period_end": date(as_of.year, 12, 31),
                    "status": ("in_progress", "fulfilled", "planned")[(i + k) % 3],
                    "evidence": None,
                    "created_at": created,
                },
                counted=False,
            )
    return by_community


def plan_members(
    writer,
    preset,
    grids: list,
    units: dict[str, list[int]],
    staff: Staff,
    rng,
    as_of: date,
    created: datetime,
) -> list[dict]:
    """Member rows (written later, with the hours their wishes earn), each with a login of its own."""
    all_units = [u for ids in units.values() for u in ids]
    duties = list(MEMBER_DUTY_LABELS)
    members = []
    for n in range(preset.members):
        grid, community = grids[rng.randrange(len(grids))]
        name = people.person_name(rng)
        user_id = writer.new_id(User)
        writer.add(
            User,
            {
                "id": user_id,
                "username": f"member-{n + 1:05d}",
                "password_hash": staff.password_hash,
                "name": name,
                "role": Role.MEMBER,
                "area_code": grid.code,
                "department_id": None,
                "active": True,
                "locale": None,
                "created_at": created,
                "last_login_at": None,
                "elder_mode": False,
            },
            counted=False,
        )
        member = {
            "id": writer.new_id(Member),
            "user_id": user_id,
            "name": name,
            "phone": people.phone(rng),
            "unit_id": rng.choice(units.get(community.code) or all_units) if all_units else None,
            "grid_code": grid.code,
            "duties": ",".join(sorted(rng.sample(duties, rng.randint(1, 2)))),
            "checked_in_on": as_of - timedelta(days=rng.randint(30, 900)),
            "service_hours": 0,
            "active": True,
            "created_at": created,
        }
        members.append(member)
        staff.members.setdefault(community.code, []).append((member["id"], user_id))
    return members

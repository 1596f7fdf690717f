"""The demo's people: party organisations, check-in units and pledges, the census, members (teams: team.py)."""

import random
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models import (
    Area,
    Building,
    Compound,
    Enterprise,
    Facility,
    Household,
    Member,
    PartyOrg,
    Pledge,
    Resident,
    Room,
    Unit,
)
from app.models.choices import AreaLevel, PartyOrgLevel, PledgeStatus
from app.services.clock import district_today
from app.services.demo.common import (
    UNITS,
    _get_or_create,
    _name,
    _phone,
)
from app.services.idcard import make_id_number


def seed_party_and_units(grids: list[Area]) -> None:
    today = district_today()
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
            )

"""People and places of a synthetic district: compounds, buildings, rooms, households, residents, enterprises, facilities."""

import random
from dataclasses import dataclass, field
from datetime import date, datetime

from app.models import Building, Compound, Enterprise, Facility, Household, Resident, Room
from app.models.choices import FACILITY_CATEGORY_LABELS
from app.services.scale import people
from app.services.scale.bulk import Writer, split
from app.services.scale.presets import Preset

PROPERTY_COMPANIES = ("渭城物业", "秦都物业", "长庆物业", "绿城服务", "万科物业", "碧桂园服务", None)
COMPOUND_SUFFIXES = ("小区", "家园", "花园", "苑", "新村", "公寓", "佳苑")
FLOORS = (6, 6, 6, 7, 11, 18, 26, 33)
INDUSTRIES = (
    "零售",
    "餐饮",
    "住宿",
    "美容美发",
    "维修",
    "教育培训",
    "医药",
    "物流",
    "建筑",
    "制造",
    "软件",
    "金融",
)
SHOP_WORDS = (
    "便民超市",
    "餐馆",
    "宾馆",
    "理发店",
    "维修部",
    "培训中心",
    "大药房",
    "快递站",
    "建材店",
    "机械厂",
    "科技公司",
    "咨询公司",
)
FACILITY_NAMES = {
    "manhole": "井盖",
    "street_light": "路灯",
    "hydrant": "消防栓",
    "camera": "监控探头",
    "trash_bin": "垃圾箱",
    "bus_stop": "公交站",
    "charging_pile": "电动车充电桩",
    "other": "其他部件",
}
TIERS = (("assured", 0.80), ("warm", 0.14), ("close", 0.06))


@dataclass
class GridPeople:
    """What later stages need to know of one grid."""

    code: str
    community: str  # the community's name
    label: str  # community name + grid name, for locations
    residents: tuple[int, int] = (0, -1)  # first and last resident id (they are consecutive)
    buildings: list[str] = field(default_factory=list)


def build_census(
    writer: Writer, preset: Preset, grids: list, rng: random.Random, as_of: date, created: datetime
) -> list[GridPeople]:
    """Write the census of every grid; `grids` are (grid Place, community Place) pairs in code order."""
    n = len(grids)
    ids = people.IdNumbers()
    compound_counts = split(preset.compounds, n, rng, spread=0.9)
    building_counts = split(preset.buildings, n, rng, minimum=1)
    room_counts = split(preset.rooms, n, rng, minimum=1)
    household_counts = _on_top(preset.households, room_counts, rng)  # a household in every room, some share
    resident_counts = _on_top(preset.residents, household_counts, rng)  # at least one person per household
    enterprise_counts = split(preset.enterprises, n, rng, spread=0.8)
    facility_counts = split(preset.facilities, n, rng)
    result = []
    for i, (grid, community) in enumerate(grids):
        info = GridPeople(grid.code, community.name, community.name + grid.name)
        compounds = _compounds(writer, grid.code, community.name, compound_counts[i], rng, created)
        rooms = _buildings_and_rooms(
            writer, info, compounds, building_counts[i], room_counts[i], rng, created
        )
        _households(writer, info, rooms, household_counts[i], resident_counts[i], ids, rng, as_of, created)
        _enterprises(writer, info, preset.district_code, enterprise_counts[i], rng, created)
        _facilities(writer, info, facility_counts[i], rng, created)
        result.append(info)
    return result


def _on_top(total: int, bases: list[int], rng) -> list[int]:
    """`total` over the grids: each grid's base, and what is left shared out; plain shares when short."""
    extra = total - sum(bases)
    if extra < 0:
        return split(total, len(bases), rng, minimum=1)
    return [base + more for base, more in zip(bases, split(extra, len(bases), rng))]


def _compounds(writer, grid_code, community_name, count, rng, created) -> list[tuple[int, str]]:
    compounds = []
    for k in range(count):
        compound_id = writer.new_id(Compound)
        name = f"{community_name[:-2]}{'东西南北中'[k % 5]}{rng.choice(COMPOUND_SUFFIXES)}"
        if k >= 5:
            name = f"{name}{k // 5 + 1}期"
        writer.add(
            Compound,
            {
                "id": compound_id,
                "grid_code": grid_code,
                "name": name,
                "address": f"{community_name[:-2]}路{rng.randint(1, 300)}号",
                "property_company": rng.choice(PROPERTY_COMPANIES),
                "created_at": created,
            },
        )
        compounds.append((compound_id, name))
    return compounds


def _buildings_and_rooms(writer, info, compounds, buildings, rooms, rng, created) -> list[int]:
    """Buildings (most in the grid's compounds, the rest scattered) and their rooms; returns the room ids."""
    room_ids = []
    floors = [rng.choice(FLOORS) for _ in range(buildings)]
    per_building = split(rooms, buildings, rng, minimum=1, spread=0.6)
    for b in range(buildings):
        building_id = writer.new_id(Building)
        compound = compounds[b % len(compounds)] if compounds and rng.random() < 0.85 else None
        name = f"{b + 1}号楼"
        info.buildings.append(name)
        writer.add(
            Building,
            {
                "id": building_id,
                "grid_code": info.code,
                "compound_id": compound[0] if compound else None,
                "name": name,
                "address": f"{info.label}{name}",
                "floors": floors[b],
                "created_at": created,
            },
        )
        per_floor = -(-per_building[b] // floors[b])
        for r in range(per_building[b]):
            room_id = writer.new_id(Room)
            floor, position = divmod(r, per_floor)
            writer.add(
                Room,
                {
                    "id": room_id,
                    "grid_code": info.code,
                    "building_id": building_id,
                    "number": f"{floor + 1}{position + 1:02d}",
                    "floor": floor + 1,
                    "area_m2": round(rng.uniform(42, 140), 1),
                    "usage": "住宅" if rng.random() < 0.95 else "商用",
                    "created_at": created,
                },
            )
            room_ids.append(room_id)
    return room_ids


def _households(writer, info, room_ids, households, residents, ids, rng, as_of, created) -> None:
    sizes = split(residents, households, rng, minimum=1, spread=0.9)
    first_resident = None
    for h in range(households):
        household_id = writer.new_id(Household)
        members = _family(sizes[h], rng, as_of)
        roll, tier = rng.random(), "assured"
        for value, share in TIERS:
            if roll < share:
                tier = value
                break
            roll -= share
        writer.add(
            Household,
            {
                "id": household_id,
                "grid_code": info.code,
                "room_id": room_ids[h % len(room_ids)],
                "number": f"{info.code}-{h + 1:04d}",
                "head_name": members[0]["name"],
                "care_tier": tier,
                "is_member_household": rng.random() < 0.03,
                "note": None,
                "created_at": created,
            },
        )
        floating = rng.random() < 0.15
        for person in members:
            resident_id = writer.new_id(Resident)
            first_resident = first_resident or resident_id
            area6 = rng.choice(people.OTHER_AREAS) if floating else info.code[:6]
            age = person.pop("age")
            writer.add(
                Resident,
                {
                    **person,
                    "id": resident_id,
                    "grid_code": info.code,
                    "household_id": household_id,
                    "user_id": None,
                    "id_number": ids.make(area6, person["birth_date"], person["gender"] == "male"),
                    "phone": people.phone(rng) if age >= 16 and rng.random() < 0.9 else None,
                    "ethnicity": people.ethnicity(rng),
                    "residence_type": "floating" if floating else "registered",
                    "note": None,
                    "created_at": created,
                },
            )
    info.residents = (first_resident, first_resident + sum(sizes) - 1)


def _family(size: int, rng: random.Random, as_of: date) -> list[dict]:
    """A household's people: the head, a spouse, children or a parent; ages and tags that fit."""
    head_age = rng.randint(24, 88)
    head_male = rng.random() < 0.55
    family = [("户主", head_age, head_male)]
    for p in range(1, size):
        if p == 1 and head_age < 80:
            family.append(("配偶", max(20, head_age + rng.randint(-5, 5)), not head_male))
        elif head_age >= 45 and rng.random() < 0.2:
            family.append(("父母", min(99, head_age + rng.randint(22, 32)), rng.random() < 0.45))
        else:
            family.append(("子女", max(0, head_age - rng.randint(22, 36)), rng.random() < 0.52))
    result = []
    for relation, age, male in family:
        tags = []
        if age >= 75 and size == 1 and rng.random() < 0.6:
            tags.append("elderly_alone")
        if rng.random() < 0.02:
            tags.append("subsistence")
        if rng.random() < 0.015:
            tags.append("disabled")
        if male and age >= 45 and rng.random() < 0.03:
            tags.append("veteran")
        if age >= 22 and rng.random() < 0.07:
            tags.append("party_member")
        if rng.random() < 0.002:
            tags.append("focus")
        result.append(
            {
                "name": people.person_name(rng),
                "gender": "male" if male else "female",
                "age": age,
                "birth_date": people.birth_date(rng, as_of, age),
                "relation_to_head": relation,
                "tags": ",".join(tags) or None,
            }
        )
    return result


def _enterprises(writer, info, area6, count, rng, created) -> None:
    for _ in range(count):
        enterprise_id = writer.new_id(Enterprise)
        kind = rng.randrange(len(INDUSTRIES))
        writer.add(
            Enterprise,
            {
                "id": enterprise_id,
                "grid_code": info.code,
                "name": f"{info.community[:-2]}{people.person_name(rng)[1:]}{SHOP_WORDS[kind]}",
                "credit_code": people.credit_code(area6, enterprise_id),
                "legal_person": people.person_name(rng),
                "phone": people.phone(rng),
                "industry": INDUSTRIES[kind],
                "address": f"{info.label}{rng.randint(1, 200)}号",
                "employees": rng.randint(1, 12) if kind < 6 else rng.randint(5, 300),
                "created_at": created,
            },
        )


def _facilities(writer, info, count, rng, created) -> None:
    categories = list(FACILITY_CATEGORY_LABELS)
    for k in range(count):
        facility_id = writer.new_id(Facility)
        category = rng.choice(categories)
        writer.add(
            Facility,
            {
                "id": facility_id,
                "grid_code": info.code,
                "code": f"{info.code}-{k + 1:04d}",
                "category": category,
                "name": FACILITY_NAMES[category],
                "location": f"{info.label}{rng.choice(info.buildings)}旁",
                "status": "normal"
                if rng.random() < 0.93
                else ("damaged" if rng.random() < 0.8 else "removed"),
                "created_at": created,
            },
        )

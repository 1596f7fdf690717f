"""The area tree of a synthetic district: streets tile the district, communities their street, grids their community."""

import json
import math
import random
from dataclasses import dataclass, field
from datetime import datetime

from app.models import Area, PartyOrg
from app.models.choices import AreaLevel, PartyOrgLevel
from app.services.scale.bulk import Writer, split
from app.services.scale.presets import Preset

COMMUNITY_WORDS = (
    "文汇",
    "渭滨",
    "东风",
    "北平",
    "新兴",
    "朝阳",
    "和平",
    "建设",
    "幸福",
    "团结",
    "友谊",
    "光明",
    "民生",
    "长庆",
    "秦都",
    "渭柳",
    "育才",
    "西关",
    "东关",
    "南苑",
    "北苑",
    "金桥",
    "玉泉",
    "兰池",
    "安虹",
    "双照",
    "龙泉",
    "凤凰",
    "丰乐",
    "咸通",
    "永兴",
    "聚宝",
    "紫薇",
    "翠园",
    "康乐",
    "华西",
    "星火",
    "嘉园",
    "锦绣",
    "碧水",
    "畅园",
    "惠民",
    "润泽",
    "宝泉",
    "天和",
    "书香",
    "兴隆",
    "秀水",
    "银河",
    "通达",
    "万福",
    "春晖",
    "钟楼",
    "文林",
    "乐育",
    "滨河",
    "彩虹",
    "世纪",
    "北塬",
)
DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 23 → 二十三 (up to 99)."""
    tens, ones = divmod(n, 10)
    if tens == 0:
        return DIGITS[ones]
    return ("" if tens == 1 else DIGITS[tens]) + "十" + (DIGITS[ones] if ones else "")


@dataclass
class Place:
    code: str
    name: str
    rect: tuple[float, float, float, float]
    children: list["Place"] = field(default_factory=list)
    party_org_id: int | None = None


def tile(rect: tuple[float, float, float, float], n: int) -> list[tuple[float, float, float, float]]:
    """`rect` cut into `n` cells that cover it exactly: rows of near-equal cells, north to south, west to east."""
    west, south, east, north = rect
    width, height = east - west, north - south
    rows = max(1, min(n, round(math.sqrt(n * height / width)) if width else n))
    per_row = [n // rows + (1 if r < n % rows else 0) for r in range(rows)]
    cells = []
    for r, count in enumerate(per_row):
        top, bottom = north - height * r / rows, north - height * (r + 1) / rows
        for c in range(count):
            cells.append((west + width * c / count, bottom, west + width * (c + 1) / count, top))
    return cells


def polygon(rect: tuple[float, float, float, float]) -> str:
    west, south, east, north = (round(v, 6) for v in rect)
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]}, separators=(",", ":"))


def community_name(index: int) -> str:
    word = COMMUNITY_WORDS[index % len(COMMUNITY_WORDS)]
    return (
        f"{word}社区"
        if index < len(COMMUNITY_WORDS)
        else f"{word}{chinese_number(index // len(COMMUNITY_WORDS) + 1)}社区"
    )


def build_areas(writer: Writer, preset: Preset, rng: random.Random, created: datetime) -> Place:
    """Write the district, streets, communities and grids, and their party organisations; return the tree."""
    district = Place(preset.district_code, preset.district_name, preset.bbox)
    community_counts = split(preset.communities, len(preset.streets), rng, minimum=1, spread=0.2)
    grid_counts = split(preset.grids, preset.communities, rng, minimum=1, spread=0.4)
    streets = [
        Place(f"{district.code}{s + 1:03d}", name, rect)
        for s, (name, rect) in enumerate(zip(preset.streets, tile(district.rect, len(preset.streets))))
    ]
    district.children = streets
    c_index = 0
    for street, count in zip(streets, community_counts):
        for k, rect in enumerate(tile(street.rect, count)):
            community = Place(f"{street.code}{k + 1:03d}", community_name(c_index), rect)
            community.children = [
                Place(f"{community.code}{g + 1:03d}", f"第{chinese_number(g + 1)}网格", cell)
                for g, cell in enumerate(tile(rect, grid_counts[c_index]))
            ]
            street.children.append(community)
            c_index += 1
    _write(writer, district, None, AreaLevel.DISTRICT, created)
    return district


LEVEL_BELOW = {
    AreaLevel.DISTRICT: AreaLevel.STREET,
    AreaLevel.STREET: AreaLevel.COMMUNITY,
    AreaLevel.COMMUNITY: AreaLevel.GRID,
}
ORG_LEVEL = {
    AreaLevel.STREET: (PartyOrgLevel.STREET_COMMITTEE, "党工委"),
    AreaLevel.COMMUNITY: (PartyOrgLevel.COMMUNITY_ORG, "党委"),
    AreaLevel.GRID: (PartyOrgLevel.GRID_BRANCH, "党支部"),
}


def _write(
    writer: Writer, place: Place, parent: tuple[int, Place] | None, level: str, created: datetime
) -> None:
    area_id = writer.new_id(Area)
    writer.add(
        Area,
        {
            "id": area_id,
            "code": place.code,
            "name": place.name,
            "level": level,
            "parent_id": parent[0] if parent else None,
            "geojson": polygon(place.rect),
            "created_at": created,
            "supervision_phone": f"029-33{place.code[-5:]}" if level == AreaLevel.COMMUNITY else None,
        },
    )
    if level in ORG_LEVEL:
        org_level, suffix = ORG_LEVEL[level]
        org_name = (parent[1].name + place.name if level == AreaLevel.GRID else place.name) + suffix
        place.party_org_id = writer.new_id(PartyOrg)
        writer.add(
            PartyOrg,
            {
                "id": place.party_org_id,
                "name": org_name,
                "level": org_level,
                "parent_id": parent[1].party_org_id if parent else None,
                "area_code": place.code,
                "secretary": None,
                "created_at": created,
            },
            counted=False,
        )
    for child in place.children:
        _write(writer, child, (area_id, place), LEVEL_BELOW[level], created)

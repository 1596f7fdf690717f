"""The demo's areas (streets, communities, grids with small square outlines) and the matters catalogue."""

from app.models import (
    Area,
    Department,
    Matter,
    SlaPolicy,
)
from app.models.choices import AreaLevel
from app.services.demo.common import DEPARTMENTS, DISTRICT, MATTERS, STREETS, _get_or_create


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

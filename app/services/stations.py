"""The grid's red station (网格红色驿站): what the district publishes about one grid, for anyone.

One function assembles it (`station`) for the public page, the JSON API and the wall poster alike. It
holds only what the district publishes: the team's names, roles, duties and work phones; the covering
units with their pledges and service items; counts of checked-in members and their hours; recently
fulfilled wishes with their owners masked; the supervision phone. Never a resident's name or phone.
"""

from datetime import timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Area, Member, Pledge, Wish
from app.models.base import utcnow
from app.models.choices import PLEDGE_STATUS_LABELS, AreaLevel, PledgeStatus, WishStatus
from app.models.meetings import SERVICE_ITEM_STATUS_LABELS
from app.services.certificate_pdf import public_base_url
from app.services.clock import local_date
from app.services.coverage import covering_units
from app.services.masking import mask_name
from app.services.meetings import is_overdue, service_items_for_grid, service_items_for_unit
from app.services.teams import grid_team

GRID_CODE_LENGTH = 15
RECENT_WISHES = 10  # how many fulfilled wishes the station lists
SHOWN_PLEDGES = (PledgeStatus.PLANNED, PledgeStatus.IN_PROGRESS, PledgeStatus.FULFILLED)  # not lapsed ones


def find_grid(code) -> Area | None:
    """The grid with this code; None for anything else (malformed, unknown, or an area of another level)."""
    if not isinstance(code, str) or len(code) != GRID_CODE_LENGTH or not code.isascii() or not code.isdigit():
        return None
    return db.session.scalar(
        select(Area)
        .where(Area.code == code, Area.level == AreaLevel.GRID)
        .options(selectinload(Area.parent).selectinload(Area.parent).selectinload(Area.parent))
    )


def supervision_phone(grid: Area) -> str | None:
    """Where residents complain: the nearest area up from the grid (grid, community, street, district)
    with its own supervision phone, else the SUPERVISION_PHONE setting; None when neither is set."""
    node = grid
    while node is not None:
        if node.supervision_phone:
            return node.supervision_phone
        node = node.parent
    return current_app.config.get("SUPERVISION_PHONE") or None


def station_url(code: str) -> str:
    """The station page's public address (what the poster's QR code opens)."""
    return f"{public_base_url()}/grids/{code}"


def _area(area: Area | None) -> dict | None:
    return {"code": area.code, "name": area.name} if area is not None else None


def _team(code: str) -> list[dict]:
    return [
        {
            "role": place.role,
            "role_label": place.role_label,
            "name": place.name,
            "duties": place.duties,
            "phone": place.phone,
        }
        for place in grid_team(code)
    ]


def _pledges(unit_ids: list[int]) -> dict[int, list[dict]]:
    rows = db.session.scalars(
        select(Pledge)
        .where(Pledge.unit_id.in_(unit_ids), Pledge.status.in_(SHOWN_PLEDGES))
        .order_by(Pledge.unit_id, Pledge.period_start.desc(), Pledge.id)
    )
    pledges: dict[int, list[dict]] = {unit_id: [] for unit_id in unit_ids}
    for pledge in rows:
        pledges[pledge.unit_id].append(
            {
                "title": pledge.title,
                "content": pledge.content,
                "status": pledge.status,
                "status_label": str(PLEDGE_STATUS_LABELS.get(pledge.status, pledge.status)),
                "period_start": pledge.period_start,
                "period_end": pledge.period_end,
            }
        )
    return pledges


def _item(item, today) -> dict:
    return {
        "title": item.title,
        "due_on": item.due_on,
        "status": item.status,
        "status_label": str(SERVICE_ITEM_STATUS_LABELS.get(item.status, item.status)),
        "overdue": is_overdue(item, today),
        "owner": item.unit.name if item.unit is not None else None,
    }


def _units(code: str, today) -> list[dict]:
    units = covering_units(code, on=today)
    pledges = _pledges([unit.id for unit in units])
    return [
        {
            "id": unit.id,
            "name": unit.name,
            "branch_name": unit.branch_name,
            "pledges": pledges[unit.id],
            "service_items": [_item(item, today) for item in service_items_for_unit(unit.id)],
        }
        for unit in units
    ]


def _members(code: str) -> dict:
    count, hours = db.session.execute(
        select(func.count(), func.coalesce(func.sum(Member.service_hours), 0)).where(
            Member.grid_code == code, Member.active.is_(True)
        )
    ).one()
    return {"count": count, "hours": Decimal(hours or 0)}


def _wishes(code: str) -> list[dict]:
    since = utcnow() - timedelta(days=current_app.config.get("STATION_WISH_DAYS", 90))
    wishes = db.session.scalars(
        select(Wish)
        .where(Wish.grid_code == code, Wish.status == WishStatus.CONFIRMED, Wish.confirmed_at >= since)
        .options(selectinload(Wish.category), selectinload(Wish.resident), selectinload(Wish.owner))
        .order_by(Wish.confirmed_at.desc(), Wish.id.desc())
        .limit(RECENT_WISHES)
    )
    return [
        {
            "title": wish.title,
            "category": wish.category.name,
            "owner": mask_name(wish.owner_name),
            "confirmed_on": local_date(wish.confirmed_at),
            "hours": wish.hours,
        }
        for wish in wishes
    ]


def station(code) -> dict | None:
    """The station of the grid `code` as plain values (None when no grid has this code)."""
    grid = find_grid(code)
    if grid is None:
        return None
    today = local_date(utcnow())
    community = grid.parent
    street = community.parent if community is not None else None
    return {
        "grid": {
            "code": grid.code,
            "name": grid.name,
            "short_name": grid.short_name,
            "full_name": grid.full_name,
        },
        "community": _area(community),
        "street": _area(street),
        "team": _team(grid.code),
        "units": _units(grid.code, today),
        "service_items": [_item(item, today) for item in service_items_for_grid(grid.code)],
        "members": _members(grid.code),
        "wishes_done": _wishes(grid.code),
        "supervision_phone": supervision_phone(grid),
        "url": station_url(grid.code),
        "as_of": today,
    }

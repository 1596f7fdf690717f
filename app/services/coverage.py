"""Coverage (包抓): which check-in units cover a grid, and how many grids of an area at least one unit covers.

The district reports it as "实现与176个网格包抓全覆盖": coverage = grids with at least one covering unit ÷ grids,
per community, street and district. A unit covers grids of the community it checked in to (docs/domain.md);
each covered grid is one `UnitCoverage` row with its period, active on a district day when the day lies in it.
Every figure here is a set-based count (GROUP BY over the area codes' prefixes), never a loop over grids.
"""

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import and_, distinct, func, or_, select

from app.extensions import db
from app.models import Area, Unit
from app.models.base import under_area
from app.models.choices import AreaLevel
from app.models.coverage import UnitCoverage
from app.services.clock import district_today

CODE_LENGTH = {AreaLevel.DISTRICT: 6, AreaLevel.STREET: 9, AreaLevel.COMMUNITY: 12, AreaLevel.GRID: 15}


def active_on(day: date):
    """SQL: the coverage row's period holds `day`."""
    return and_(UnitCoverage.since <= day, or_(UnitCoverage.until.is_(None), UnitCoverage.until >= day))


def covering_units(grid_code: str, on: date | None = None) -> list[Unit]:
    """The units covering the grid on the district day `on` (default: today), by name."""
    day = on or district_today()
    covering = select(UnitCoverage.unit_id).where(UnitCoverage.grid_code == grid_code, active_on(day))
    return list(db.session.scalars(select(Unit).where(Unit.id.in_(covering)).order_by(Unit.name, Unit.id)))


def _within(column, area_code: str | None) -> list:
    return [] if area_code is None else [under_area(column, area_code)]


def coverage(area_code: str | None = None, on: date | None = None) -> dict[str, int]:
    """{"grids": grids in the area, "covered": those at least one unit covers on `on`} (None: every area;
    "" — a scope that holds nothing — counts nothing)."""
    if area_code == "":
        return {"grids": 0, "covered": 0}
    day = on or district_today()
    grids = db.session.scalar(
        select(func.count()).where(Area.level == AreaLevel.GRID, *_within(Area.code, area_code))
    )
    covered = db.session.scalar(
        select(func.count(distinct(UnitCoverage.grid_code))).where(
            active_on(day), *_within(UnitCoverage.grid_code, area_code)
        )
    )
    return {"grids": grids or 0, "covered": covered or 0}


def coverage_for(user, on: date | None = None) -> dict[str, int]:
    """Coverage within the user's scope (administrators: everywhere)."""
    return coverage(user.scope_prefix, on)


def coverage_by_area(level: str, area_code: str | None = None, on: date | None = None) -> list[dict]:
    """One row per area of `level` holding grids of `area_code` (None: all): {"code", "name", "grids",
    "covered", "rate"} in code order; rate in percent (None without grids). Two GROUP BYs and one lookup."""
    if area_code == "":
        return []
    length = CODE_LENGTH[AreaLevel(level)]
    day = on or district_today()
    grid_key = func.substr(Area.code, 1, length)
    grids = dict(
        db.session.execute(
            select(grid_key, func.count())
            .where(Area.level == AreaLevel.GRID, *_within(Area.code, area_code))
            .group_by(grid_key)
        ).all()
    )
    cover_key = func.substr(UnitCoverage.grid_code, 1, length)
    covered = dict(
        db.session.execute(
            select(cover_key, func.count(distinct(UnitCoverage.grid_code)))
            .where(active_on(day), *_within(UnitCoverage.grid_code, area_code))
            .group_by(cover_key)
        ).all()
    )
    names = dict(db.session.execute(select(Area.code, Area.name).where(Area.code.in_(list(grids)))).all())
    return [
        {
            "code": code,
            "name": names.get(code, code),
            "grids": n,
            "covered": covered.get(code, 0),
            "rate": round(100 * covered.get(code, 0) / n, 1) if n else None,
        }
        for code, n in sorted(grids.items())
    ]


def overlapping(unit_id: int, grid_code: str, since: date, until: date | None, exclude_id: int | None = None):
    """SQL: the unit's other coverage rows of the grid whose period meets [since, until]."""
    conditions = [
        UnitCoverage.unit_id == unit_id,
        UnitCoverage.grid_code == grid_code,
        or_(UnitCoverage.until.is_(None), UnitCoverage.until >= since),
    ]
    if until is not None:
        conditions.append(UnitCoverage.since <= until)
    if exclude_id is not None:
        conditions.append(UnitCoverage.id != exclude_id)
    return select(UnitCoverage.id).where(*conditions).limit(1)


def coverage_problems(unit: Unit | None, grid_code: str | None, since, until, exclude_id=None) -> dict:
    """{field: message} of what is wrong with a unit covering a grid over [since, until] (empty: nothing).

    A unit covers grids of the community it checked in to (docs/domain.md#coverage); its periods of one grid
    do not overlap; a period ends on or after its start."""
    problems = {}
    if since is not None and until is not None and until < since:
        problems["until"] = _("The coverage ends before it starts.")
    if unit is None or not grid_code:
        return problems
    level = db.session.scalar(select(Area.level).where(Area.code == grid_code))
    if level != AreaLevel.GRID:
        problems["grid"] = _("The area chosen is not a grid.")
    elif not grid_code.startswith(unit.community_code):
        problems["grid"] = _(
            "A unit covers grids of the community it checked in to (%(community)s).",
            community=unit.community.name if unit.community is not None else unit.community_code,
        )
    elif since is not None and db.session.scalar(overlapping(unit.id, grid_code, since, until, exclude_id)):
        problems["since"] = _("The unit already covers this grid in part of this period.")
    return problems


def coverage_figures(user, on: date | None = None) -> dict:
    """The dashboard's coverage: one row per area one level below the user's (streets for the district,
    communities for a street, grids below), and the total of the user's scope."""
    prefix = user.scope_prefix
    by = {None: AreaLevel.STREET, 6: AreaLevel.STREET, 9: AreaLevel.COMMUNITY}.get(
        None if prefix is None else len(prefix), AreaLevel.GRID
    )
    return {"by": str(by), "rows": coverage_by_area(by, prefix, on), "total": coverage(prefix, on)}

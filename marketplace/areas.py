"""The area tree as the public pages show it: the district overview, grid choices and the board's area filter."""

from dataclasses import dataclass, field
from types import SimpleNamespace

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from wtforms.fields.choices import SelectChoice

from app.extensions import db
from app.models import Area, Building, Compound, Member, Unit
from app.models.base import under_area
from app.models.choices import AREA_CODE_LENGTH, AreaLevel
from app.services.stats import count_in_scope

# the public pages show whole-deployment totals: a viewer with no scope restriction
WHOLE_DEPLOYMENT = SimpleNamespace(scope_prefix=None)


@dataclass
class AreaNode:
    """One area with its children and the number of grids below it."""

    area: Area
    children: list["AreaNode"] = field(default_factory=list)
    grids: int = 0


def area_tree() -> list[AreaNode]:
    """Districts → streets → communities (grids only counted), in code order; three queries in all."""
    areas = db.session.scalars(select(Area).where(Area.level != AreaLevel.GRID).order_by(Area.code)).all()
    grid_counts = dict(
        db.session.execute(
            select(Area.parent_id, func.count()).where(Area.level == AreaLevel.GRID).group_by(Area.parent_id)
        ).all()
    )
    nodes = {a.id: AreaNode(a, grids=grid_counts.get(a.id, 0)) for a in areas}
    roots = []
    for node in nodes.values():
        parent = nodes.get(node.area.parent_id)
        (parent.children if parent else roots).append(node)
    # deepest first, so each parent's total includes its children's finished totals
    for node in sorted(nodes.values(), key=lambda n: len(n.area.code), reverse=True):
        parent = nodes.get(node.area.parent_id)
        if parent is not None:
            parent.grids += node.grids
    return roots


def overview_counts() -> dict[str, int]:
    """The headline numbers of the home page, for the whole deployment."""
    return {
        "streets": count_in_scope(Area, WHOLE_DEPLOYMENT, Area.level == AreaLevel.STREET),
        "communities": count_in_scope(Area, WHOLE_DEPLOYMENT, Area.level == AreaLevel.COMMUNITY),
        "grids": count_in_scope(Area, WHOLE_DEPLOYMENT, Area.level == AreaLevel.GRID),
        "units": count_in_scope(Unit, WHOLE_DEPLOYMENT),
        "members": count_in_scope(Member, WHOLE_DEPLOYMENT, Member.active.is_(True)),
    }


def grid_choices(prefix: str | None = None) -> list[SelectChoice]:
    """Every grid (under the area code `prefix`, when given) as a select option, grouped by "street · community"
    so phones need no script."""
    community, street = aliased(Area), aliased(Area)
    rows = db.session.execute(
        select(Area.code, Area.name, community.name, street.name)
        .join(community, Area.parent_id == community.id)
        .join(street, community.parent_id == street.id)
        .where(Area.level == AreaLevel.GRID, Area.code.startswith(prefix or "", autoescape=True))
        .order_by(Area.code)
    ).all()
    choices = [SelectChoice("", _l("Choose your grid…"))]
    choices += [
        SelectChoice(code, name, optgroup=f"{street_name} · {community_name}")
        for code, name, community_name, street_name in rows
    ]
    return choices


BUILDING_CHOICES_MAX = 300


def building_choices(compound: str | None) -> list[SelectChoice]:
    """The buildings of the compounds whose name holds `compound` (all when empty, at most
    BUILDING_CHOICES_MAX), grouped by compound, each naming the grid it lies in: the grid follows the building."""
    grid = aliased(Area)
    query = (
        select(Building.id, Building.name, Compound.name, grid.name)
        .join(Compound, Building.compound_id == Compound.id)
        .join(grid, Building.grid_code == grid.code)
        .order_by(Compound.name, Building.name, Building.id)
        .limit(BUILDING_CHOICES_MAX)
    )
    if compound:
        query = query.where(Compound.name.contains(compound, autoescape=True))
    choices = [SelectChoice("", _l("Choose your building…"))]
    choices += [
        SelectChoice(str(building_id), f"{building} · {grid_name}", optgroup=compound_name)
        for building_id, building, compound_name, grid_name in db.session.execute(query)
    ]
    return choices


@dataclass
class AreaFilter:
    """The board's street → community → grid filter: what is chosen, and the options at each level."""

    street: str = ""
    community: str = ""
    grid: str = ""
    streets: list[Area] = field(default_factory=list)
    communities: list[Area] = field(default_factory=list)
    grids: list[Area] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        """The deepest area chosen, as a code prefix of the wishes' grids; empty when none is."""
        return self.grid or self.community or self.street

    def as_args(self) -> dict[str, str]:
        """The chosen levels as query arguments, for links that keep the filter."""
        return {
            name: code
            for name, code in (("street", self.street), ("community", self.community), ("grid", self.grid))
            if code
        }


def _children(level: str, parent_code: str | None = None) -> list[Area]:
    query = select(Area).where(Area.level == level).order_by(Area.code)
    if parent_code:
        query = query.where(under_area(Area.code, parent_code))
    return list(db.session.scalars(query))


def area_filter(street: str | None, community: str | None, grid: str | None) -> AreaFilter:
    """Read the three selects top-down; a level that does not lie under the level above is dropped.

    So changing the street (without script) drops the old community and grid, while a link with only
    `?grid=…` fills in its street and community. Unknown codes are ignored, never an error.
    """
    chosen = ""
    for value, level in (
        (street, AreaLevel.STREET),
        (community, AreaLevel.COMMUNITY),
        (grid, AreaLevel.GRID),
    ):
        value = (value or "").strip()
        if (
            value.isdigit()
            and len(value) == AREA_CODE_LENGTH[level]
            and value.startswith(chosen)
            and len(value) > len(chosen)
        ):
            chosen = value
    result = AreaFilter(streets=_children(AreaLevel.STREET))
    # each level is kept only when it exists, and its options are the children of the level above
    if chosen[:9] in {a.code for a in result.streets}:
        result.street = chosen[:9]
        result.communities = _children(AreaLevel.COMMUNITY, result.street)
        if len(chosen) >= 12 and chosen[:12] in {a.code for a in result.communities}:
            result.community = chosen[:12]
            result.grids = _children(AreaLevel.GRID, result.community)
            if len(chosen) == 15 and chosen in {a.code for a in result.grids}:
                result.grid = chosen
    return result

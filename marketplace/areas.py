"""The area tree as the public pages show it: districts, streets and communities with grid counts."""
from dataclasses import dataclass, field
from types import SimpleNamespace

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from wtforms.fields.choices import SelectChoice

from app.extensions import db
from app.models import Area, Member, Unit
from app.models.choices import AreaLevel
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
    grid_counts = dict(db.session.execute(
        select(Area.parent_id, func.count()).where(Area.level == AreaLevel.GRID).group_by(Area.parent_id)
    ).all())
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


def grid_choices() -> list[SelectChoice]:
    """Every grid as a select option, grouped by "street · community" so phones need no script."""
    community, street = aliased(Area), aliased(Area)
    rows = db.session.execute(
        select(Area.code, Area.name, community.name, street.name)
        .join(community, Area.parent_id == community.id)
        .join(street, community.parent_id == street.id)
        .where(Area.level == AreaLevel.GRID)
        .order_by(Area.code)
    ).all()
    choices = [SelectChoice("", _l("Choose your grid…"))]
    choices += [SelectChoice(code, name, optgroup=f"{street_name} · {community_name}")
                for code, name, community_name, street_name in rows]
    return choices

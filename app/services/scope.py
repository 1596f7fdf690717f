"""Area scoping: which rows a user may see, by the prefix of their area code."""

from sqlalchemy import false, or_, select

from app.extensions import db
from app.models import Area
from app.models.base import under_area
from app.models.choices import AreaLevel


def scope_condition(model, user):
    """A WHERE condition confining `model` rows to `user`'s scope, or None when unrestricted."""
    column_name = getattr(model, "scope_column_name", None)
    prefix = user.scope_prefix
    if column_name is None or prefix is None:
        return None
    if not prefix:
        return false()
    return under_area(getattr(model, column_name), prefix)


def apply_scope(query, model, user):
    """Filter a select()/Query to the rows of `model` that `user` may see."""
    condition = scope_condition(model, user)
    return query if condition is None else query.filter(condition)


def reach_condition(model, user):
    """A WHERE condition confining `model` rows to those that reach into `user`'s scope: set inside it, or
    for an area above it (a district-wide campaign covers every grid); None when unrestricted."""
    inside, prefix = scope_condition(model, user), user.scope_prefix
    if inside is None or not prefix:
        return inside
    above = [prefix[:length] for length in range(1, len(prefix))]  # area codes extend their parent's
    return or_(inside, getattr(model, model.scope_column_name).in_(above))


def apply_reach(query, model, user):
    """Filter a select()/Query to the rows of `model` that reach into `user`'s scope (see `reach_condition`)."""
    condition = reach_condition(model, user)
    return query if condition is None else query.filter(condition)


def code_in_scope(user, code: str | None) -> bool:
    """Whether an area code lies inside the user's scope."""
    prefix = user.scope_prefix
    if prefix is None:
        return True
    return bool(prefix) and code is not None and code.startswith(prefix)


def row_in_scope(user, obj) -> bool:
    """Whether a loaded row lies inside the user's scope."""
    column_name = getattr(type(obj), "scope_column_name", None)
    if column_name is None:
        return True
    return code_in_scope(user, getattr(obj, column_name))


def areas_in_scope(user, level: str | None = None, parent: str | None = None) -> list[Area]:
    """Areas visible to the user, optionally of one level and under one parent code."""
    query = apply_scope(select(Area), Area, user)
    if level:
        query = query.filter(Area.level == level)
    if parent:
        query = query.filter(under_area(Area.code, parent), Area.code != parent)
    return list(db.session.scalars(query.order_by(Area.code)))


def area_choices(user, level: str) -> list[tuple[str, str]]:
    """(code, label) pairs of the areas of one level in the user's scope, for filters.

    Only the two columns: a list page builds these three times, and full rows carry their boundaries.
    """
    query = apply_scope(select(Area.code, Area.name), Area, user).filter(Area.level == level)
    return [(code, f"{name} ({code})") for code, name in db.session.execute(query.order_by(Area.code))]


def grid_levels() -> tuple[str, ...]:
    return (AreaLevel.STREET, AreaLevel.COMMUNITY, AreaLevel.GRID)

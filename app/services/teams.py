"""The grid team (五包一 and the grid's other places): who holds which place in which grid.

A place is one role in one grid's team; its holder is one person (`TeamPerson`), who may hold places in
several grids (a deputy or legal adviser serving four grids is one person, listed on each). A place is
linked to a user account through its person: that is how signatures and other acts "as the grid's
captain" are checked (`holds_place`).
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from app.extensions import db
from app.models import GridRole
from app.models.choices import GRID_ROLE_LABELS, GridRoleKind

ROLE_ORDER = {kind.value: i for i, kind in enumerate(GridRoleKind)}  # captain, leader, deputy, liaisons, …
SINGLE_PLACES = (GridRoleKind.VANGUARD_CAPTAIN, GridRoleKind.GRID_LEADER)  # one holder per grid


@dataclass(frozen=True)
class TeamPlace:
    """One place of a grid's team as the pages, the API and the other services read it."""

    place_id: int
    grid_code: str
    role: str
    name: str
    phone: str | None  # the work phone the district publishes; may be None
    duties: str | None
    user_id: int | None
    member_id: int | None
    person_id: int | None
    since: date | None

    @property
    def role_label(self) -> str:
        return str(GRID_ROLE_LABELS.get(self.role, self.role))


def _places(*conditions) -> list[TeamPlace]:
    rows = db.session.scalars(select(GridRole).where(*conditions))
    places = [
        TeamPlace(
            place_id=r.id,
            grid_code=r.grid_code,
            role=r.role,
            name=r.name,
            phone=r.phone,
            duties=r.duties,
            user_id=r.user_id,
            member_id=r.member_id,
            person_id=None,
            since=r.since,
        )
        for r in rows
    ]
    return sorted(places, key=lambda p: (p.grid_code, ROLE_ORDER.get(p.role, 99), p.name, p.place_id))


def grid_team(grid_code: str) -> list[TeamPlace]:
    """The grid's team: captain, leader, deputies, liaisons, legal advisers, grid workers, building heads,
    red stewards (each kind by name)."""
    return _places(GridRole.grid_code == grid_code)


def holds_place(user, grid_code: str, role: str) -> bool:
    """Whether `user`'s account is the one linked to a place of `role` in the grid."""
    user_id = getattr(user, "id", None)
    if user_id is None:
        return False
    return (
        db.session.scalar(
            select(GridRole.id).where(
                GridRole.grid_code == grid_code, GridRole.role == role, GridRole.user_id == user_id
            )
        )
        is not None
    )


def places_of(user) -> list[tuple[str, str]]:
    """(grid code, role) of every place `user`'s account is linked to, by grid and team order."""
    user_id = getattr(user, "id", None)
    if user_id is None:
        return []
    return [(p.grid_code, p.role) for p in _places(GridRole.user_id == user_id)]


def place_holder_user_id(grid_code: str, role: str) -> int | None:
    """The account linked to the grid's single place of `role` (captain, leader), or None (vacant, or no
    account linked)."""
    if role not in SINGLE_PLACES:
        raise ValueError(f"{role} is not a single place: a grid may have several")
    return db.session.scalar(
        select(GridRole.user_id).where(GridRole.grid_code == grid_code, GridRole.role == role).limit(1)
    )

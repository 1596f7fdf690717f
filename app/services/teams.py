"""The grid team (五包一 and the grid's other places): who holds which place in which grid.

A place is one role in one grid's team (`GridRole`); its holder is one person (`TeamPerson`), who may hold
places in several grids (a deputy or legal adviser serving four grids is one person, listed on each). A grid
has one vanguard captain and one grid leader — the two who sign its work logs and records (双签字), so they
are two different people — and any number of the other places. A place is linked to a user account through
its person: that is how signatures and other acts "as the grid's captain" are checked (`holds_place`).
"""

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import exists, or_, select

from app.extensions import db
from app.models import Area, GridRole, Member, TeamPerson
from app.models.choices import GRID_ROLE_LABELS, SINGLE_GRID_ROLES, AreaLevel, GridRoleKind
from app.services.scope import reach_condition, scope_condition

ROLE_ORDER = {kind.value: i for i, kind in enumerate(GridRoleKind)}  # captain, leader, deputy, liaisons, …
SINGLE_PLACES = SINGLE_GRID_ROLES  # one holder per grid: the vanguard captain and the grid leader
SIGNERS = (GridRoleKind.VANGUARD_CAPTAIN, GridRoleKind.GRID_LEADER)


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
    person_id: int
    organisation: str | None
    since: date | None

    @property
    def role_label(self) -> str:
        return str(GRID_ROLE_LABELS.get(self.role, self.role))


def _places(*conditions) -> list[TeamPlace]:
    rows = db.session.execute(
        select(GridRole, TeamPerson).join(TeamPerson, TeamPerson.id == GridRole.person_id).where(*conditions)
    )
    places = [
        TeamPlace(
            place_id=place.id,
            grid_code=place.grid_code,
            role=place.role,
            name=person.name,
            phone=person.phone,
            duties=place.duties,
            user_id=person.user_id,
            member_id=person.member_id,
            person_id=person.id,
            organisation=person.organisation,
            since=place.since,
        )
        for place, person in rows
    ]
    return sorted(places, key=lambda p: (p.grid_code, ROLE_ORDER.get(p.role, 99), p.name, p.place_id))


def grid_team(grid_code: str) -> list[TeamPlace]:
    """The grid's team: captain, leader, deputies, liaisons, legal advisers, grid workers, building heads,
    red stewards (each kind by name)."""
    return _places(GridRole.grid_code == grid_code)


def person_places(person_id: int, user=None) -> list[TeamPlace]:
    """The places a person holds, by grid; with `user`, only those in the user's scope."""
    condition = scope_condition(GridRole, user) if user is not None else None
    return _places(GridRole.person_id == person_id, *([] if condition is None else [condition]))


def _user_id(user) -> int | None:
    return getattr(user, "id", None) if getattr(user, "is_authenticated", True) else None


def holds_place(user, grid_code: str, role: str) -> bool:
    """Whether `user`'s account is the one linked to a place of `role` in the grid."""
    user_id = _user_id(user)
    if user_id is None:
        return False
    return db.session.scalar(
        select(
            exists().where(
                GridRole.grid_code == grid_code,
                GridRole.role == role,
                GridRole.person_id == TeamPerson.id,
                TeamPerson.user_id == user_id,
            )
        )
    )


def places_of(user) -> list[tuple[str, str]]:
    """(grid code, role) of every place `user`'s account is linked to, by grid and team order."""
    user_id = _user_id(user)
    if user_id is None:
        return []
    return [(p.grid_code, p.role) for p in _places(TeamPerson.user_id == user_id)]


def place_holder_user_id(grid_code: str, role: str) -> int | None:
    """The account linked to the grid's single place of `role` (captain, leader), or None (vacant, or no
    account linked)."""
    if role not in SINGLE_PLACES:
        raise ValueError(f"{role} is not a single place: a grid may have several")
    return db.session.scalar(
        select(TeamPerson.user_id)
        .join(GridRole, GridRole.person_id == TeamPerson.id)
        .where(GridRole.grid_code == grid_code, GridRole.role == role)
        .limit(1)
    )


# --- the back office's rules: which persons a user sees, what a place may be -----------------------------
def visible_persons_condition(user):
    """SQL: the persons `user` may see — managed in or above their area (a street's deputy reaches its
    communities), or holding a place in a grid of their area; None when unrestricted."""
    reach = reach_condition(TeamPerson, user)
    placed = scope_condition(GridRole, user)
    if reach is None or placed is None:
        return None
    return or_(reach, exists().where(GridRole.person_id == TeamPerson.id, placed))


def person_visible(user, person: TeamPerson) -> bool:
    condition = visible_persons_condition(user)
    if condition is None:
        return True
    return bool(db.session.scalar(select(exists().where(TeamPerson.id == person.id, condition))))


def link_profiles(person: TeamPerson) -> None:
    """A person linked to a member profile acts through the member's account, and the other way round."""
    if person.member_id is not None and person.user_id is None:
        person.user_id = db.session.scalar(select(Member.user_id).where(Member.id == person.member_id))
    if person.user_id is not None and person.member_id is None:
        person.member_id = db.session.scalar(select(Member.id).where(Member.user_id == person.user_id))


def place_problem(place: GridRole) -> str | None:
    """Why the place cannot be saved as it is (for the form to show), or None (see `_place_problem`)."""
    with db.session.no_autoflush:  # a form's new place is in the session already: look before it is written
        return _place_problem(place)


def _place_problem(place: GridRole) -> str | None:
    """Why the place cannot be saved as it is (for the form to show), or None.

    A grid has one captain and one leader; a person holds a role once per grid; the captain and the leader
    sign together, so they are two people. The unique indexes stand behind the first two.
    """
    if place.grid_code is None or place.person_id is None or not place.role:
        return None  # the form's own "required" messages
    grid = db.session.scalar(select(Area.level).where(Area.code == place.grid_code))
    if grid != AreaLevel.GRID:
        return _("A team place belongs to a grid.")
    others = select(GridRole).where(GridRole.grid_code == place.grid_code)
    if place.id is not None:
        others = others.where(GridRole.id != place.id)
    if place.role in SINGLE_PLACES:
        taken = db.session.scalar(others.where(GridRole.role == place.role).limit(1))
        if taken is not None:
            return _(
                "This grid already has a %(role)s: %(name)s. Change or remove that place first.",
                role=GRID_ROLE_LABELS[place.role],
                name=taken.name,
            )
    if db.session.scalar(
        others.where(GridRole.role == place.role, GridRole.person_id == place.person_id).limit(1)
    ):
        return _("This person already holds this place in the grid.")
    if place.role in SIGNERS:
        other_signer = next(r for r in SIGNERS if r != place.role)
        if db.session.scalar(
            others.where(GridRole.role == other_signer, GridRole.person_id == place.person_id).limit(1)
        ):
            return _(
                "The vanguard captain and the grid leader sign the grid's records together: "
                "they must be two different people."
            )
    return None

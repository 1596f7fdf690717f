"""Grid teams and coverage (包抓) of a synthetic district, as bulk rows.

Every grid: a vanguard captain (one of its checked-in members, who signs with their own login), a grid
leader (its community's staff account: one person leading the community's grids), two liaisons, the
full-time grid worker (the grid's login); a police deputy and a legal adviser each serve SHARED grids of
their street in a row — one person, listed on each. Each unit covers grids of its community, round-robin,
since about a year; a few grids' coverage ended a while ago, so coverage stays below 100 %.
"""

from datetime import date, datetime, timedelta

from app.models import GridRole, TeamPerson, UnitCoverage
from app.models.choices import GridRoleKind
from app.services.scale import people

SHARED = 4  # grids a deputy or a legal adviser serves
ENDED = 0.06  # share of grids whose coverage has ended


def build_teams(writer, grids: list, staff, members: list[dict], rng, created: datetime) -> None:
    """`grids`: (grid, community) pairs; `members`: the planned member rows (their ids and logins)."""
    since = created.date()
    first_member = {}
    for member in members:
        first_member.setdefault(member["grid_code"], member)
    community_person: dict[str, int] = {}
    shared: dict[tuple, int] = {}
    position: dict[str, int] = {}

    def person(name, phone, area_code, user_id=None, member_id=None, organisation=None) -> int:
        person_id = writer.new_id(TeamPerson)
        writer.add(
            TeamPerson,
            {
                "id": person_id,
                "name": name,
                "phone": phone,
                "organisation": organisation,
                "area_code": area_code,
                "user_id": user_id,
                "member_id": member_id,
                "created_at": created,
            },
            counted=False,
        )
        return person_id

    def place(grid_code, role, person_id) -> None:
        writer.add(
            GridRole,
            {
                "id": writer.new_id(GridRole),
                "grid_code": grid_code,
                "role": role,
                "person_id": person_id,
                "duties": None,
                "since": since,
                "created_at": created,
            },
            counted=False,
        )

    for grid, community in grids:
        member = first_member.get(grid.code)
        captain = (
            person(member["name"], member["phone"], grid.code, member["user_id"], member["id"])
            if member
            else person(people.person_name(rng), people.phone(rng), grid.code)
        )
        place(grid.code, GridRoleKind.VANGUARD_CAPTAIN, captain)
        if community.code not in community_person:
            community_person[community.code] = person(
                f"{community.name}网格长",
                people.phone(rng),
                community.code,
                staff.communities[community.code],
            )
        place(grid.code, GridRoleKind.GRID_LEADER, community_person[community.code])
        street = grid.code[:9]
        n = position.get(street, 0)
        position[street] = n + 1
        for role, organisation in (
            (GridRoleKind.DEPUTY_LEADER, "公安分局派出所"),
            (GridRoleKind.LEGAL_ADVISER, "律师事务所"),
        ):
            key = (role, street, n // SHARED)
            if key not in shared:
                shared[key] = person(
                    people.person_name(rng), people.phone(rng), street, organisation=organisation
                )
            place(grid.code, role, shared[key])
        for _liaison in range(2):
            place(
                grid.code, GridRoleKind.LIAISON, person(people.person_name(rng), people.phone(rng), grid.code)
            )
        worker = person(people.person_name(rng), people.phone(rng), grid.code, staff.grids[grid.code])
        place(grid.code, GridRoleKind.GRID_WORKER, worker)


def build_coverage(
    writer, grids: list, units: dict[str, list[int]], rng, as_of: date, created: datetime
) -> None:
    """Each community's units cover its grids round-robin (every grid at least one unit while the community
    has any); for ENDED of the grids that coverage ended between one and three months ago."""
    by_community: dict[str, list[str]] = {}
    for grid, community in grids:
        by_community.setdefault(community.code, []).append(grid.code)
    for community_code, grid_codes in by_community.items():
        unit_ids = units.get(community_code) or []
        if not unit_ids:
            continue
        for i, grid_code in enumerate(grid_codes):
            ended = rng.random() < ENDED
            covering = {unit_ids[i % len(unit_ids)]}
            if len(unit_ids) > len(grid_codes) and i + len(grid_codes) < len(unit_ids):
                covering.add(unit_ids[i + len(grid_codes)])  # more units than grids: every unit covers one
            for unit_id in sorted(covering):
                writer.add(
                    UnitCoverage,
                    {
                        "id": writer.new_id(UnitCoverage),
                        "unit_id": unit_id,
                        "grid_code": grid_code,
                        "since": as_of - timedelta(days=rng.randint(200, 400)),
                        "until": as_of - timedelta(days=rng.randint(30, 90)) if ended else None,
                        "note": None,
                        "created_at": created,
                    },
                    counted=False,
                )

"""The whole synthetic district in one transaction: areas, accounts, census, party, wishes, events."""

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select, text, update

from app.extensions import db
from app.models import Area, Department, Matter, WishCategory
from app.services.demo import seed_matters
from app.services.scale import areas, census, events, party, teams, wishes
from app.services.scale import visits as scale_visits
from app.services.scale import worklogs as scale_worklogs
from app.services.scale.bulk import Writer, clear_all
from app.services.scale.presets import Preset


class ScaleError(Exception):
    """The generator refuses to run; the message says why."""


def total_rows(preset: Preset) -> int:
    """The rows that move the progress bar (every counted record; users, steps and supervisions ride along)."""
    counts = preset.counts()
    return 1 + sum(counts.values())


def generate(
    preset: Preset,
    seed: int = 1,
    as_of: date | None = None,
    replace: bool = False,
    advance: Callable[[int], None] | None = None,
    wish_hours: dict[str, int] | None = None,
) -> datetime:
    """Write the preset's district; flushes, the caller commits. Returns the moment the history ends at.

    Same preset, seed and `as_of` → the same rows (only password hashes differ: they are salted).
    Refuses a database that already holds areas, unless `replace`, which first deletes every row of
    every OneGrid table.
    """
    if db.session.scalar(select(Area.id).limit(1)) is not None:
        if not replace:
            raise ScaleError(
                "The database already holds areas. Run with --replace to delete ALL data first "
                "(areas, people, events, wishes, users, audit log …), or use an empty database."
            )
        clear_all()
    as_of = as_of or datetime.now(UTC).date()
    now = datetime.combine(as_of, time(), tzinfo=UTC)  # the history ends at midnight UTC of `as_of`
    created = now - timedelta(days=400)
    rng = {
        part: random.Random(f"{seed}:{part}")
        for part in ("areas", "census", "party", "wishes", "events", "visits", "worklogs")
    }

    _reference_data(created)
    writer = Writer(advance)
    district = areas.build_areas(writer, preset, rng["areas"], created)
    writer.flush()  # create_user looks the areas up
    staff = party.build_accounts(writer, district, rng["party"], created)
    communities = [c for s in district.children for c in s.children]
    grids = [(g, c) for c in communities for g in c.children]
    people = census.build_census(writer, preset, grids, rng["census"], as_of, created)
    units = party.build_units(writer, preset, communities, rng["party"], as_of, created)
    members = party.plan_members(writer, preset, grids, units, staff, rng["party"], as_of, created)
    community_of = {g.code: c.code for g, c in grids}
    wishes.build_wishes(
        writer,
        preset.wishes,
        people,
        community_of,
        staff,
        members,
        rng["wishes"],
        now,
        wish_hours or {"review": 24, "claim": 72, "resolve": 168},
    )
    events.build_events(writer, preset.events, people, staff, community_of, rng["events"], now)
    teams.build_teams(writer, grids, staff, members, rng["party"], created)  # after the members are written
    teams.build_coverage(writer, grids, units, rng["party"], as_of, created)
    scale_visits.build_visits(writer, members, rng["visits"], as_of)  # after the members are written
    scale_visits.build_activities(writer, units, rng["visits"], as_of)
    scale_worklogs.build_worklogs(writer, grids, staff, members, rng["worklogs"], as_of)
    writer.finish()
    return now


def _reference_data(created: datetime) -> None:
    """The demo's departments, SLA policies, matters and wish categories, stamped with `created` when new."""
    before = {
        model: set(db.session.scalars(select(model.id))) for model in (Department, Matter, WishCategory)
    }
    seed_matters()
    wishes.ensure_categories()
    for model, ids in before.items():
        statement = update(model).where(model.id.not_in(ids)) if ids else update(model)
        db.session.execute(statement.values(created_at=created).execution_options(synchronize_session=False))


def analyze() -> None:
    """Fresh planner statistics after a bulk load, as autovacuum would gather them later (outside its transaction).

    PostgreSQL also gets its visibility map (VACUUM), so counts are index-only scans from the start.
    """
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE" if connection.dialect.name == "postgresql" else "ANALYZE"))


def row_counts() -> dict[str, int]:
    """How many rows each table holds now (for the command's summary and the tests)."""
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }

"""The answer to a wish action: the wish as the step left it, with its people, history and photos.

The step has just moved the wish the session holds (its columns are fresh: the UPDATE returned them). What the
answer adds, the category, the people's names and the history, comes as plain rows, not through the ORM: filling
them in as objects (eight joined loaders) cost a won claim 13 % of its instructions (bench/README.md, the claim
race). On PostgreSQL they come with the step's own statement (`reading_with_step`), from the row its UPDATE
returns; elsewhere from one Core query in the step's transaction. Photos are read as objects, in a second
query, only when the wish has any.

`AnsweredWish` shows the wish to `app.api.wishes.present` as the ORM would, so the detail endpoint and the
action answers share one presenter and give the same body.
"""

from collections import namedtuple
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import Select, bindparam, exists, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import Attachment, Member, Resident, User, Wish, WishCategory, WishStep
from app.services import workflow_history
from app.services.workflow_history import Along


@dataclass(frozen=True)
class Person:
    """What an answer shows of a person (the presenter masks it): the name, or for an account without one the username."""

    name: str | None
    username: str | None = None


@dataclass(frozen=True)
class Category:
    code: str
    name: str


@dataclass(frozen=True)
class Step:
    """One history row with its actor, as `app.api.common.step_body` reads it."""

    id: int
    action: str
    actor: Person | None
    from_status: str | None
    to_status: str
    at: datetime
    note: str | None


class AnsweredWish:
    """The wish the session holds, with its category, people, history and photos from the answer's read;
    every other attribute is the wish's own."""

    owner_name = Wish.owner_name  # the model's rule: the census record's name, else the account's

    def __init__(self, wish: Wish, category, owner, resident, claimed_by, steps, attachments):
        self._wish = wish
        self.category, self.owner, self.resident, self.claimed_by = category, owner, resident, claimed_by
        self.steps, self.attachments = steps, attachments

    def __getattr__(self, name):
        return getattr(self._wish, name)


def answered(wish: Wish, along: Along | None = None) -> AnsweredWish:
    """`wish`, just moved by a step, with what its answer shows: the rows that came with the step (`along`, from
    `reading_with_step`) or one query, and a second when it has photos."""
    db.session.flush()  # what the step left pending counts, as the ORM's autoflush would have made it
    if along is not None and along.rows:
        rows, new_step = [_Row._make(row) for row in along.rows], along.step
    else:
        rows, new_step = db.session.connection().execute(_query(), {"wish_id": wish.id}).all(), None
    first = rows[0]
    steps = {
        row.step_id: Step(
            row.step_id,
            row.action,
            Person(row.actor_name, row.actor_username) if row.actor_id is not None else None,
            row.from_status,
            row.to_status,
            row.at,
            row.note,
        )
        for row in rows
        if row.step_id is not None
    }
    # read with the step's snapshot, the rows lack the step itself: add the history row it wrote, and its actor
    # (the user making the request, whom the session holds)
    if new_step is not None and new_step.id not in steps:
        actor = db.session.get(User, new_step.actor_id) if new_step.actor_id is not None else None
        steps[new_step.id] = Step(
            new_step.id,
            new_step.action,
            Person(actor.name, actor.username) if actor is not None else None,
            new_step.from_status,
            new_step.to_status,
            new_step.at,
            new_step.note,
        )
    # the relationship's own rows (who may see a step's photo is decided on them), loaded only when there are any
    photos = wish.attachments if first.has_photos else []
    return AnsweredWish(
        wish,
        Category(first.category_code, first.category_name),
        Person(first.owner_name, first.owner_username) if wish.owner_id is not None else None,
        Person(first.resident_name) if wish.resident_id is not None else None,
        Person(first.claimer_name) if wish.claimed_by_id is not None else None,
        [steps[key] for key in sorted(steps)],
        photos,
    )


def reading_with_step(wish: Wish):
    """Within the block, the next step on `wish` reads what its answer shows in its own statement, where the
    database can (PostgreSQL); `answered(wish, along)` then reads nothing more."""
    return workflow_history.read_along(wish, _of_row)


@cache
def _query():
    """The wish's category, people and history steps with their actors, a row per step: built once."""
    return _of_row(Wish.__table__).where(Wish.__table__.c.id == bindparam("wish_id"))


def _of_row(wish) -> Select:
    """The answer's rows for the wish row `wish` (the table, or a step's row as its UPDATE returned it)."""
    owner, actor = aliased(User), aliased(User)
    return (
        select(
            WishCategory.code.label("category_code"),
            WishCategory.name.label("category_name"),
            owner.name.label("owner_name"),
            owner.username.label("owner_username"),
            Resident.name.label("resident_name"),
            Member.name.label("claimer_name"),
            exists().where(Attachment.wish_id == wish.c.id).label("has_photos"),
            WishStep.id.label("step_id"),
            WishStep.action,
            WishStep.from_status,
            WishStep.to_status,
            WishStep.at,
            WishStep.note,
            WishStep.actor_id,
            actor.name.label("actor_name"),
            actor.username.label("actor_username"),
        )
        .select_from(wish)
        .join(WishCategory, WishCategory.id == wish.c.category_id)
        .outerjoin(owner, owner.id == wish.c.owner_id)
        .outerjoin(Resident, Resident.id == wish.c.resident_id)
        .outerjoin(Member, Member.id == wish.c.claimed_by_id)
        .outerjoin(WishStep, WishStep.wish_id == wish.c.id)
        .outerjoin(actor, actor.id == WishStep.actor_id)
    )


# the answer's columns, by name, for the rows that came with a step (plain tuples in the query's order)
_Row = namedtuple("_Row", [column.key for column in _of_row(Wish.__table__).selected_columns])

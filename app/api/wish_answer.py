"""The answer to a wish action: the wish as the step left it, with its people, history and photos.

The step has just moved the wish the session holds (its columns are fresh: the UPDATE returned them). What the
answer adds, the category, the people's names and the history, comes from one Core query read as plain rows in
the step's own transaction, not through the ORM: filling them in as objects (eight joined loaders) cost a won
claim 13 % of its instructions (bench/README.md, the claim race). Photos are read as objects, in a second
query, only when the wish has any.

`AnsweredWish` shows the wish to `app.api.wishes.present` as the ORM would, so the detail endpoint and the
action answers share one presenter and give the same body.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import Attachment, Member, Resident, User, Wish, WishCategory, WishStep


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


def answered(wish: Wish) -> AnsweredWish:
    """`wish`, just moved by a step, with what its answer shows: one query, two when it has photos."""
    db.session.flush()  # what the step left pending counts, as the ORM's autoflush would have made it
    rows = db.session.connection().execute(_query(), {"wish_id": wish.id}).all()
    first = rows[0]
    steps = [
        Step(
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
    ]
    # the relationship's own rows (who may see a step's photo is decided on them), loaded only when there are any
    photos = wish.attachments if first.has_photos else []
    return AnsweredWish(
        wish,
        Category(first.category_code, first.category_name),
        Person(first.owner_name, first.owner_username) if wish.owner_id is not None else None,
        Person(first.resident_name) if wish.resident_id is not None else None,
        Person(first.claimer_name) if wish.claimed_by_id is not None else None,
        steps,
        photos,
    )


@cache
def _query():
    """The wish's category, people and history steps with their actors, a row per step: built once."""
    owner, actor = aliased(User), aliased(User)
    return (
        select(
            WishCategory.code.label("category_code"),
            WishCategory.name.label("category_name"),
            owner.name.label("owner_name"),
            owner.username.label("owner_username"),
            Resident.name.label("resident_name"),
            Member.name.label("claimer_name"),
            exists().where(Attachment.wish_id == Wish.id).label("has_photos"),
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
        .select_from(Wish)
        .join(WishCategory, WishCategory.id == Wish.category_id)
        .outerjoin(owner, owner.id == Wish.owner_id)
        .outerjoin(Resident, Resident.id == Wish.resident_id)
        .outerjoin(Member, Member.id == Wish.claimed_by_id)
        .outerjoin(WishStep, WishStep.wish_id == Wish.id)
        .outerjoin(actor, actor.id == WishStep.actor_id)
        .where(Wish.id == bindparam("wish_id"))
        .order_by(WishStep.id)
    )

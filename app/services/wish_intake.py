"""Wishes coming in: the categories residents choose from, and a wish posted by a resident or for one (帮办代办)."""

from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import Area, Resident, User, Wish, WishCategory, WishStep
from app.models.base import utcnow
from app.models.choices import STAFF_ROLES, AreaLevel, Role, WishAction, WishStatus
from app.models.wishes import DESCRIPTION_MAX, TITLE_MAX
from app.services.errors import Forbidden, Invalid
from app.services.scope import code_in_scope
from app.services.signals import wish_changed
from app.services.text import check_text


def active_categories() -> list[WishCategory]:
    """The categories residents may choose, in their display order."""
    return list(
        db.session.scalars(
            select(WishCategory)
            .where(WishCategory.active.is_(True))
            .order_by(WishCategory.position, WishCategory.id)
        )
    )


def submit_wish(actor: User, *, title, description, category_code, grid_code=None, resident_id=None) -> Wish:
    """A resident submits a wish for themself; grid staff submit one for a resident in their area."""
    if actor.role not in (Role.RESIDENT, *STAFF_ROLES):
        raise Forbidden(_("Only residents, and grid staff on a resident's behalf, may post wishes."))
    errors: dict[str, str] = {}
    title = check_text(errors, "title", title, TITLE_MAX, True, _("Title"))
    description = check_text(errors, "description", description, DESCRIPTION_MAX, False, _("Description"))
    category = db.session.scalar(
        select(WishCategory).where(WishCategory.code == (category_code or ""), WishCategory.active.is_(True))
    )
    if category is None:
        errors["category"] = _("Choose one of the wish categories.")

    resident = None
    if actor.role == Role.RESIDENT:
        owner_id = actor.id
        resident = db.session.scalar(select(Resident).where(Resident.user_id == actor.id))
        grid_code = grid_code or actor.area_code
    else:
        resident = db.session.get(Resident, resident_id) if resident_id else None
        if resident is None or not code_in_scope(actor, resident.grid_code):
            errors["resident_id"] = _("Choose the resident you are posting for, from your own area.")
        owner_id = resident.user_id if resident is not None else None
        grid_code = grid_code or (resident.grid_code if resident is not None else None)

    grid = db.session.scalar(select(Area).where(Area.code == (grid_code or ""), Area.level == AreaLevel.GRID))
    if grid is None:
        errors["grid_code"] = _("Choose an existing grid.")
    elif actor.role in STAFF_ROLES and not code_in_scope(actor, grid.code):
        errors["grid_code"] = _("You can only post wishes in your own area.")
    if errors:
        raise Invalid(errors)

    now = utcnow()
    hours = current_app.config
    wish = Wish(
        title=title,
        description=description,
        category_id=category.id,
        grid_code=grid.code,
        owner_id=owner_id,
        resident_id=resident.id if resident is not None else None,
        posted_by_id=actor.id,
        status=WishStatus.SUBMITTED,
        created_at=now,
        updated_at=now,
        respond_by=now + timedelta(hours=hours["WISH_REVIEW_HOURS"]),
        reply_by=now + timedelta(hours=hours["WISH_CLAIM_HOURS"]),
        resolve_by=now + timedelta(hours=hours["WISH_RESOLVE_HOURS"]),
    )
    db.session.add(wish)
    db.session.flush()
    # whether it was posted on a resident's behalf is `wish.assisted`; notes stay the people's own words
    db.session.add(
        WishStep(
            wish_id=wish.id,
            actor_id=actor.id,
            action=WishAction.POST,
            from_status=None,
            to_status=WishStatus.SUBMITTED,
            at=now,
        )
    )
    db.session.flush()
    wish_changed.send(wish, action=WishAction.POST, actor=actor)
    return wish

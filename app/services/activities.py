"""Check-in units' activities in their community (每月至少下沉社区一次), recorded by the unit's contact or staff.

Who may record one for a unit: the user linked as the unit's contact (`Unit.contact_user_id`), and staff whose
area covers the unit's community (street and community staff, administrators). An activity is held in the
unit's own community; its day is a district day, not in the future and at most VISIT_BACKDATE_DAYS back.
"""

from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.ids import parse_id
from app.models import Unit
from app.models.choices import STAFF_ROLES
from app.models.visits import NOTE_MAX, TITLE_MAX, ActivityKind, UnitActivity
from app.services import audit
from app.services.clock import district_today
from app.services.errors import Forbidden, Invalid
from app.services.scope import code_in_scope
from app.services.visits import backdate_days, current_channel

MAX_PARTICIPANTS = 10_000


def may_record_for(user, unit: Unit) -> bool:
    """The unit's contact, or staff whose area covers the unit's community."""
    if user is None:
        return False
    if unit.contact_user_id is not None and unit.contact_user_id == user.id:
        return True
    return user.role in STAFF_ROLES and user.scope_prefix != "" and code_in_scope(user, unit.community_code)


def units_for(user) -> list[Unit]:
    """The units `user` may record activities for, by name."""
    units = db.session.scalars(select(Unit).order_by(Unit.name))
    return [u for u in units if may_record_for(user, u)]


def record_activity(
    actor,
    unit_id: int | None,
    held_on: date | None,
    kind: str | None,
    title: str | None,
    community_code: str | None = None,
    participants: int | None = None,
    note: str | None = None,
    today: date | None = None,
) -> UnitActivity:
    """Record a unit's activity; flushes and audits. Unknown unit: Invalid; not the unit's contact nor staff
    over its community: Forbidden."""
    unit_id = parse_id(unit_id)
    unit = db.session.get(Unit, unit_id) if unit_id is not None else None
    if unit is None:
        raise Invalid({"unit_id": _("No check-in unit has this id.")})
    if not may_record_for(actor, unit):
        raise Forbidden(_("Only the unit's contact or staff of its community record its activities."))
    today = today or district_today()
    errors = {}
    community_code = community_code or unit.community_code
    if community_code != unit.community_code:
        errors["community_code"] = _(
            "A unit's activities are held in its own community (%(code)s).", code=unit.community_code
        )
    if held_on is None:
        errors["held_on"] = _("Give the day of the activity.")
    elif held_on > today:
        errors["held_on"] = _("An activity cannot lie in the future.")
    elif held_on < today - timedelta(days=backdate_days()):
        errors["held_on"] = _("An activity may be recorded up to %(n)d days later.", n=backdate_days())
    if kind not in {k.value for k in ActivityKind}:
        errors["kind"] = _("Choose one of: %(choices)s.", choices=", ".join(k.value for k in ActivityKind))
    title = (title or "").strip()
    if not title:
        errors["title"] = _("Give the activity a title.")
    elif len(title) > TITLE_MAX:
        errors["title"] = _("At most %(n)d characters.", n=TITLE_MAX)
    if participants is not None and not 0 <= participants <= MAX_PARTICIPANTS:
        errors["participants"] = _("Between 0 and %(n)d.", n=MAX_PARTICIPANTS)
    if note is not None and len(note) > NOTE_MAX:
        errors["note"] = _("At most %(n)d characters.", n=NOTE_MAX)
    if errors:
        raise Invalid(errors)
    activity = UnitActivity(
        unit_id=unit.id,
        community_code=community_code,
        held_on=held_on,
        kind=kind,
        title=title,
        participants=participants,
        note=(note or "").strip() or None,
        channel=current_channel(),
        recorded_by_id=getattr(actor, "id", None),
    )
    db.session.add(activity)
    audit.record_created(actor, activity)
    return activity

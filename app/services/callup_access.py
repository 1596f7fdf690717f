"""Who is who around a call-up: the members of its area, the staff who run it, the muster grid's leads.

- **Members of the area**: active member profiles whose grid lies inside the call-up's area. They see it,
  answer it and check in.
- **Staff who manage it** (`can_manage`): staff whose area overlaps the call-up's (a street's staff for a
  call-up to one of its grids, a grid worker for a call-up to their community). They see the roll and the
  check-in token, mark arrivals and assign tasks.
- **Muster leads**: the vanguard captain and the grid leader of the muster grid (their linked accounts); they
  mark arrivals and assign tasks, but never see the token (a captain is a member).
- **Who may raise, close and cancel** (`may_raise`): community, street and district staff whose area covers it.
"""

from flask_babel import gettext as _
from sqlalchemy import and_, false, or_, select

from app.extensions import db
from app.ids import parse_id
from app.models import Member
from app.models.base import under_area
from app.models.callups import Callup
from app.models.choices import STAFF_ROLES, GridRoleKind, Role
from app.services.errors import NotFound
from app.services.scope import code_in_scope, reach_condition
from app.services.teams import holds_place, places_of
from app.services.wish_access import member_for

RAISE_ROLES = (Role.ADMIN, Role.STREET_ADMIN, Role.COMMUNITY_ADMIN)
AREA_PREFIXES = (9, 12, 15)  # the lengths of street, community and grid codes
LEADS = (GridRoleKind.VANGUARD_CAPTAIN, GridRoleKind.GRID_LEADER)


def _signed_in(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", True)


def may_raise(user, area_code: str | None) -> bool:
    """Community, street and district staff whose scope covers the area."""
    return _signed_in(user) and user.role in RAISE_ROLES and code_in_scope(user, area_code)


def _overlaps(user, area_code: str) -> bool:
    prefix = user.scope_prefix
    if prefix is None:
        return True
    return bool(prefix) and (area_code.startswith(prefix) or prefix.startswith(area_code))


def can_manage(user, callup: Callup) -> bool:
    """Staff whose area overlaps the call-up's: they see its roll and its check-in token."""
    return _signed_in(user) and user.role in STAFF_ROLES and _overlaps(user, callup.area_code)


def is_muster_lead(user, callup: Callup) -> bool:
    """The account linked to the vanguard captain's or the grid leader's place of the muster grid."""
    if not _signed_in(user) or callup.grid_code is None:
        return False
    return any(holds_place(user, callup.grid_code, role) for role in LEADS)


def may_lead(user, callup: Callup) -> bool:
    """Who marks arrivals and assigns tasks: staff who manage it, or a lead of the muster grid."""
    return can_manage(user, callup) or is_muster_lead(user, callup)


def area_member(user, callup: Callup) -> Member | None:
    """`user`'s active member profile when their grid lies in the call-up's area, else None."""
    member = member_for(user)
    if member is None or not member.grid_code.startswith(callup.area_code):
        return None
    return member


def area_members(area_code: str):
    """SQL condition: the member rows on a call-up's roll (active, their grid inside `area_code`)."""
    return and_(Member.active.is_(True), under_area(Member.grid_code, area_code))


def refusal(user, callup: Callup, kind: str, _context=None) -> str | None:
    """Why `user` is not the kind of actor a call-up step needs (member, lead, manager); None when they are."""
    if kind == "member":
        if area_member(user, callup) is None:
            return _("Only checked-in members of the call-up's area answer it and check in.")
        return None
    if kind == "lead":
        if may_lead(user, callup):
            return None
        return _(
            "Only staff of the area, or the muster grid's vanguard captain and grid leader, may do this."
        )
    if may_raise(user, callup.area_code):
        return None
    return _("Only community, street and district staff of the call-up's area may close or cancel it.")


def visible_condition(user):
    """SQL: the call-ups `user` may see — staff: those overlapping their area; members: those whose area
    holds their grid; anyone else: none."""
    if not _signed_in(user):
        return false()
    if user.role in STAFF_ROLES:
        condition = reach_condition(Callup, user)
        return Callup.id.isnot(None) if condition is None else condition
    member = member_for(user)
    if member is None:
        return false()
    areas = [member.grid_code[:n] for n in AREA_PREFIXES]
    leads = _led_grids(user)
    return (
        or_(Callup.area_code.in_(areas), Callup.grid_code.in_(leads))
        if leads
        else Callup.area_code.in_(areas)
    )


def _led_grids(user) -> list[str]:
    return [grid for grid, role in places_of(user) if role in LEADS]


def get_for(user, callup_id) -> Callup:
    """The call-up when `user` may see it; NotFound (404) otherwise, also for a malformed id."""
    callup_id = parse_id(callup_id)
    callup = None
    if callup_id is not None:
        callup = db.session.scalar(select(Callup).where(Callup.id == callup_id, visible_condition(user)))
    if callup is None:
        raise NotFound(_("Not found."))
    return callup

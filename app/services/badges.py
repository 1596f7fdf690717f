"""Work badges (持证上岗): issued to checked-in members and team places, revoked when they leave, verified by anyone.

A badge copies what it says at issue (name, role or duties, grid, unit); its serial (`WB-` and 16 random
base32 characters, 80 bits) is printed with a QR code of the public check `/verify/badge/<serial>`, which
answers valid or revoked with the name masked. A badge is revoked by staff (with a reason), and on its own
when its holder leaves: a member checked out (`active` false), moved to another grid or deleted; a team
place given to someone else, moved or deleted, or its holder renamed (`revoke_departed`, wired by
app.reactions on every flush, so whichever interface makes the change). Like every domain service, these functions flush and never commit.
"""

import base64
import re
import secrets

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import GridRole, Member, TeamPerson
from app.models.badges import Badge, BadgeHolder, BadgeStatus
from app.models.base import utcnow
from app.models.choices import GRID_ROLE_LABELS, MEMBER_DUTY_LABELS, STAFF_ROLES
from app.services import audit
from app.services.certificate_pdf import public_base_url
from app.services.clock import local_date
from app.services.errors import Conflict, Forbidden, Invalid, NotFound
from app.services.masking import mask_name
from app.services.scope import code_in_scope
from app.services.teams import ROLE_ORDER

SERIAL_PATTERN = re.compile(r"^WB-[A-Z2-7]{16}$")
REASON_MAX = 1000
MEMBER_COLUMNS = ("active", "grid_code")  # a member whose change ends their badge
PLACE_COLUMNS = ("grid_code", "role", "person_id")  # a place given to someone else (or moved)
DEPARTURE_REASONS = {
    "checked_out": _l("The member checked out."),
    "moved": _l("The member moved to another grid."),
    "left_place": _l("The holder left this place in the grid's team."),
    "renamed": _l("The name on the badge changed."),
}


def new_serial() -> str:
    """WB- and 16 base32 characters: 80 random bits, unguessable."""
    return "WB-" + base64.b32encode(secrets.token_bytes(10)).decode()


def verify_url(serial: str) -> str:
    """The public check the badge's QR code opens."""
    return f"{public_base_url()}/verify/badge/{serial}"


def find_badge(serial) -> Badge | None:
    """The badge with this serial (letters in any case), or None; malformed serials never reach the database."""
    serial = serial.strip().upper() if isinstance(serial, str) else ""
    if not SERIAL_PATTERN.match(serial):
        return None
    return db.session.scalar(select(Badge).where(Badge.serial == serial))


def may_manage(user, grid_code: str) -> bool:
    """Staff whose area covers the grid issue, print and revoke its badges."""
    return (
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.role in STAFF_ROLES
        and code_in_scope(user, grid_code)
    )


def check_manager(user, grid_code: str) -> None:
    if not may_manage(user, grid_code):
        raise Forbidden(_("Only staff of this grid's area may issue or revoke its badges."))


# --- what a badge says ---------------------------------------------------------------------------------
def _in_district_language(labels) -> str:
    """Labels as the district prints them, whatever the language of the page that asked."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return "、".join(str(label) for label in labels)


def member_role_text(member: Member) -> str:
    """A member's duties (五大员) by name; "Checked-in party member" when none is recorded."""
    keys = [key.strip() for key in (member.duties or "").split(",") if key.strip()]
    labels = [MEMBER_DUTY_LABELS[key] for key in keys if key in MEMBER_DUTY_LABELS]
    return _in_district_language(labels or [_l("Checked-in party member")])


def place_role_text(place: GridRole) -> str:
    return _in_district_language([GRID_ROLE_LABELS.get(place.role, place.role)])


def in_force_for_member(member_id: int) -> Badge | None:
    return db.session.scalar(
        select(Badge).where(Badge.member_id == member_id, Badge.status == BadgeStatus.VALID)
    )


def in_force_for_place(place_id: int) -> Badge | None:
    return db.session.scalar(
        select(Badge).where(Badge.grid_role_id == place_id, Badge.status == BadgeStatus.VALID)
    )


def _add(actor, **values) -> Badge | None:
    """Insert a badge in a savepoint; None when another badge of the holder came into force meanwhile."""
    badge = Badge(serial=new_serial(), issued_at=utcnow(), issued_by_id=getattr(actor, "id", None), **values)
    try:
        with db.session.begin_nested():
            db.session.add(badge)
    except IntegrityError:
        return None
    audit.record(actor, "create", badge, None, audit.snapshot(badge))
    return badge


def _member_values(member: Member) -> dict:
    return {
        "holder_kind": BadgeHolder.MEMBER,
        "member_id": member.id,
        "grid_code": member.grid_code,
        "holder_name": member.name,
        "role_text": member_role_text(member),
        "unit_name": member.unit.name if member.unit is not None else None,
    }


def _place_values(place: GridRole) -> dict:
    """A team place's badge: its holder, and their organisation (a police station, a law firm, a unit)."""
    person, member = place.person, place.member
    unit = person.organisation or (
        member.unit.name if member is not None and member.unit is not None else None
    )
    return {
        "holder_kind": BadgeHolder.TEAM,
        "grid_role_id": place.id,
        "grid_code": place.grid_code,
        "holder_name": place.name,
        "role_text": place_role_text(place),
        "unit_name": unit,
    }


def issue_member_badge(actor, member: Member) -> tuple[Badge, bool]:
    """The member's badge in force, issued now if they have none: (badge, issued now)."""
    check_manager(actor, member.grid_code)
    if not member.active:
        raise Conflict(_("%(name)s has checked out: no badge is issued.", name=member.name))
    existing = in_force_for_member(member.id)
    if existing is not None:
        return existing, False
    badge = _add(actor, **_member_values(member))
    return (badge, True) if badge is not None else (in_force_for_member(member.id), False)


def issue_place_badge(actor, place: GridRole) -> tuple[Badge, bool]:
    """The team place's badge in force, issued now if it has none: (badge, issued now)."""
    check_manager(actor, place.grid_code)
    existing = in_force_for_place(place.id)
    if existing is not None:
        return existing, False
    badge = _add(actor, **_place_values(place))
    return (badge, True) if badge is not None else (in_force_for_place(place.id), False)


def issue_grid_badges(actor, grid_code: str) -> int:
    """A badge for every team place and every checked-in member of the grid that has none; how many were
    issued (audited one by one)."""
    check_manager(actor, grid_code)
    with_badge = select(Badge.member_id).where(
        Badge.status == BadgeStatus.VALID, Badge.member_id.is_not(None)
    )
    members = db.session.scalars(
        select(Member)
        .where(Member.grid_code == grid_code, Member.active.is_(True), Member.id.not_in(with_badge))
        .options(selectinload(Member.unit))
        .order_by(Member.name, Member.id)
    ).all()
    placed = select(Badge.grid_role_id).where(
        Badge.status == BadgeStatus.VALID, Badge.grid_role_id.is_not(None)
    )
    places = db.session.scalars(
        select(GridRole)
        .where(GridRole.grid_code == grid_code, GridRole.id.not_in(placed))
        .options(selectinload(GridRole.person), selectinload(GridRole.member).selectinload(Member.unit))
    ).all()
    issued = [_add(actor, **_place_values(place)) for place in places]
    issued += [_add(actor, **_member_values(member)) for member in members]
    return sum(1 for badge in issued if badge is not None)


def grid_badges(grid_code: str) -> list[Badge]:
    """The grid's badges in force: the team in its order, then the members, each by name."""
    badges = db.session.scalars(
        select(Badge)
        .where(Badge.grid_code == grid_code, Badge.status == BadgeStatus.VALID)
        .options(selectinload(Badge.grid_role))
    ).all()

    def order(badge: Badge):
        if badge.holder_kind == BadgeHolder.TEAM and badge.grid_role is not None:
            return (0, ROLE_ORDER.get(badge.grid_role.role, 99), badge.holder_name, badge.id)
        return (1, 0, badge.holder_name, badge.id)

    return sorted(badges, key=order)


# --- revoking ------------------------------------------------------------------------------------------
def _clean_reason(reason) -> str:
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        raise Invalid({"reason": _("Say why the badge is revoked.")})
    if len(reason) > REASON_MAX or "\x00" in reason:
        raise Invalid({"reason": _("The reason is too long (at most %(n)d characters).", n=REASON_MAX)})
    return reason


def revoke_badge(actor, badge: Badge, reason) -> Badge:
    """Withdraw a badge, saying why; its check answers "revoked" from now on."""
    check_manager(actor, badge.grid_code)
    reason = _clean_reason(reason)
    changed = db.session.execute(
        update(Badge)
        .where(Badge.id == badge.id, Badge.status == BadgeStatus.VALID)
        .values(
            status=BadgeStatus.REVOKED,
            revoked_at=utcnow(),
            revoked_reason=reason,
            revoked_by_id=getattr(actor, "id", None),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(badge)
    if changed != 1:
        raise Conflict(_("This badge has already been revoked."))
    audit.record(
        actor, "update", badge, {"status": BadgeStatus.VALID}, {"status": badge.status, "reason": reason}
    )
    return badge


def _changed(obj, columns) -> bool:
    state = inspect(obj)
    return any(state.attrs[column].history.has_changes() for column in columns)


def _departures(session) -> list[tuple[str, int, str]]:
    """(holder column, id, reason) of each member or place this flush ends the badge of."""
    found = []
    for obj in list(session.dirty) + list(session.deleted):
        deleted = obj in session.deleted
        if isinstance(obj, Member) and obj.id is not None:
            if deleted or not obj.active or _changed(obj, ("grid_code",)):
                reason = "checked_out" if deleted or not obj.active else "moved"
                found.append(("member_id", obj.id, reason))
        elif isinstance(obj, GridRole) and obj.id is not None and (deleted or _changed(obj, PLACE_COLUMNS)):
            found.append(("grid_role_id", obj.id, "left_place"))
        elif isinstance(obj, TeamPerson) and obj.id is not None and not deleted and _changed(obj, ("name",)):
            # the name printed on the person's badges is no longer theirs: new badges are to be issued
            with session.no_autoflush:
                found += [("grid_role_id", place.id, "renamed") for place in obj.places]
    return found


def revoke_departed(session, _flush_context=None, _instances=None) -> None:
    """Session `before_flush`: revoke the badges of members who checked out (or moved, or were deleted) and
    of team places given to someone else (or deleted), in the flush that records the change, audited as
    the system's; reasons in the district's language."""
    departures = _departures(session)
    if not departures:
        return
    now = utcnow()
    with session.no_autoflush:
        for column, holder_id, reason in departures:
            badge = session.scalar(
                select(Badge).where(getattr(Badge, column) == holder_id, Badge.status == BadgeStatus.VALID)
            )
            if badge is None:
                continue
            with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
                text = str(DEPARTURE_REASONS[reason])
            badge.status, badge.revoked_at, badge.revoked_reason = BadgeStatus.REVOKED, now, text
            audit.record(
                None, "update", badge, {"status": BadgeStatus.VALID}, {"status": badge.status, "reason": text}
            )


# --- the public check ----------------------------------------------------------------------------------
def verification(serial) -> dict | None:
    """What anyone may learn from a serial: valid or revoked, the name masked, role, grid, unit; None when
    no badge has this serial."""
    badge = find_badge(serial)
    if badge is None:
        return None
    revoked = badge.status == BadgeStatus.REVOKED
    return {
        "serial": badge.serial,
        "status": badge.status,
        "holder": mask_name(badge.holder_name),
        "role": badge.role_text,
        "grid": {"code": badge.grid_code, "name": badge.grid.short_name if badge.grid else badge.grid_code},
        "unit": badge.unit_name,
        "issued_on": local_date(badge.issued_at),
        "revoked_at": badge.revoked_at if revoked else None,
        "verify_url": verify_url(badge.serial),
    }


def get_badge(user, badge_id) -> Badge:
    """The badge for staff whose area covers it; NotFound otherwise."""
    badge = db.session.get(Badge, badge_id) if isinstance(badge_id, int) else None
    if badge is None or not may_manage(user, badge.grid_code):
        raise NotFound(_("Not found."))
    return badge


def grid_holders(grid_code: str) -> list[dict]:
    """Everyone in the grid who may wear a badge — the team's places, then the checked-in members — each with
    the badge in force (or None), for the back office's grid page."""
    valid = {
        (b.holder_kind, b.grid_role_id or b.member_id): b
        for b in db.session.scalars(
            select(Badge).where(Badge.grid_code == grid_code, Badge.status == BadgeStatus.VALID)
        )
    }
    places = sorted(
        db.session.scalars(
            select(GridRole).where(GridRole.grid_code == grid_code).options(selectinload(GridRole.person))
        ),
        key=lambda p: (ROLE_ORDER.get(p.role, 99), p.name, p.id),
    )
    members = db.session.scalars(
        select(Member)
        .where(Member.grid_code == grid_code, Member.active.is_(True))
        .order_by(Member.name, Member.id)
    )
    return [
        {
            "kind": BadgeHolder.TEAM,
            "id": p.id,
            "name": p.name,
            "role": place_role_text(p),
            "badge": valid.get((BadgeHolder.TEAM, p.id)),
        }
        for p in places
    ] + [
        {
            "kind": BadgeHolder.MEMBER,
            "id": m.id,
            "name": m.name,
            "role": member_role_text(m),
            "badge": valid.get((BadgeHolder.MEMBER, m.id)),
        }
        for m in members
    ]

"""Reaching each other with privacy (issue 15 §2): who sees whose phone, when, and the audit of every display.

- A wish's claimer sees its owner's phone and the grid worker's work phone while the claim lasts (`claimed`,
  `done`); before the claim and once the wish has ended they do not. The owner sees the claimer's given name,
  unit and work phone (the member's own `Member.phone`, if they gave one) in the same window.
- Staff in scope reveal a report's reporter (or a wish's owner) with one click (`reveal_reporter`,
  `reveal_wish_owner`).
- Every full phone shown is an audit row (`reveal`: who viewed, whose phone — the row's model and id — and why,
  e.g. "claimed wish #12"), written in the caller's transaction.
- `CONTACT_PHONE_DISPLAY` off: no phones, only masked names and a hint to go through the grid worker.
  `CONTACT_PHONE_MASKER` ("package.module:function") plugs in a district's number-masking service: it is called
  as `function(phone, viewer=…, subject=…, purpose=…)` and returns the number to show and dial (a virtual
  number) or None to show none.
"""

from dataclasses import dataclass
from pkgutil import resolve_name

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import Event, Member, Resident, TeamPerson, Wish
from app.models.choices import STAFF_ROLES, GridRoleKind, WishStatus
from app.models.teams import GridRole
from app.services import audit
from app.services.errors import Forbidden, Invalid
from app.services.masking import mask_name, mask_phone
from app.services.scope import code_in_scope
from app.services.text import PHONE_RE
from app.services.wish_access import member_for

# while the claim lasts: claimed, and done until the owner confirms
CLAIM_WINDOW = (WishStatus.CLAIMED, WishStatus.DONE)
RESIDENT_PREFIX = "resident:"  # an event's `acting_for` naming a census record


@dataclass(frozen=True)
class Contact:
    """One person to reach, as the viewer may see them: `phone` is the number to show and dial, or None."""

    role: str  # owner, grid_worker, claimer, reporter
    name: str
    phone: str | None
    unit: str | None = None

    @property
    def dialable(self) -> str:
        """The number as a tel:/sms: target (digits and a leading +)."""
        return "".join(c for c in (self.phone or "") if c.isdigit() or c == "+")


def display_on() -> bool:
    return bool(current_app.config.get("CONTACT_PHONE_DISPLAY", True))


def hidden_hint() -> str:
    return _("Phone numbers are not shown here: contact each other through the grid worker.")


def _shown(viewer, person, phone: str | None, subject, purpose: str) -> str | None:
    """The number `viewer` is shown for `person`'s `phone` (audited), or None (no phone, display off, hook says no)."""
    if not phone or not display_on():
        return None
    hook = current_app.config.get("CONTACT_PHONE_MASKER")
    if hook:
        phone = resolve_name(hook)(phone, viewer=viewer, subject=subject, purpose=purpose)
        if not phone:
            return None
    audit.record_reveal(viewer, person, ["phone"], reason=purpose)
    return phone


# --- who is who -----------------------------------------------------------------------------------------
def owner_record(wish: Wish) -> Resident | None:
    """The census record of the person helped (the wish's, else the owner account's)."""
    if wish.resident is not None:
        return wish.resident
    if wish.owner_id is None:
        return None
    return db.session.scalar(select(Resident).where(Resident.user_id == wish.owner_id))


def grid_worker_of(grid_code: str) -> TeamPerson | None:
    """The grid's full-time grid worker (the first recorded), whose work phone the district publishes."""
    return db.session.scalar(
        select(TeamPerson)
        .join(GridRole, GridRole.person_id == TeamPerson.id)
        .where(GridRole.grid_code == grid_code, GridRole.role == GridRoleKind.GRID_WORKER)
        .order_by(GridRole.id)
        .limit(1)
    )


def given_name(name: str | None) -> str:
    """The given name (建国 of 王建国): what the owner calls the member who helps."""
    return (name[1:] if name and len(name) > 1 else name) or ""


def reporter_record(event: Event):
    """The census record (or member profile) holding the reporter's phone: whom a report was made for, else
    the resident or member who reported it; None when there is none."""
    if event.acting_for and event.acting_for.startswith(RESIDENT_PREFIX):
        resident_id = event.acting_for[len(RESIDENT_PREFIX) :]
        if resident_id.isdigit():
            return db.session.get(Resident, int(resident_id))
    resident = db.session.scalar(select(Resident).where(Resident.user_id == event.reporter_id))
    if resident is not None:
        return resident
    return db.session.scalar(select(Member).where(Member.user_id == event.reporter_id))


# --- a wish: claimer and owner --------------------------------------------------------------------------
def in_claim_window(wish: Wish) -> bool:
    return wish.status in CLAIM_WINDOW and wish.claimed_by_id is not None


def is_claimer(viewer, wish: Wish) -> bool:
    member = member_for(viewer)
    return member is not None and member.id == wish.claimed_by_id


def wish_contacts(viewer, wish: Wish) -> list[Contact]:
    """Whom `viewer` may reach about `wish` now, each full phone shown audited; [] outside the claim window.

    The claimer: the owner and the grid worker. The owner (a resident with an account): the claimer.
    """
    if viewer is None or not in_claim_window(wish):
        return []
    why = f"claimed wish #{wish.id}"  # the audit row's reason, as stored
    if is_claimer(viewer, wish):
        contacts = []
        owner = owner_record(wish)
        contacts.append(
            Contact(
                "owner",
                mask_name(wish.owner_name),
                _shown(viewer, owner, owner.phone if owner else None, wish, why),
            )
        )
        worker = grid_worker_of(wish.grid_code)
        if worker is not None:
            contacts.append(
                Contact("grid_worker", worker.name, _shown(viewer, worker, worker.phone, wish, why))
            )
        return contacts
    if wish.owner_id is not None and wish.owner_id == getattr(viewer, "id", None):
        member = wish.claimed_by
        unit = member.unit.name if member.unit is not None else None
        phone = _shown(viewer, member, member.phone, wish, why)
        return [Contact("claimer", given_name(member.name), phone, unit)]
    return []


# --- staff: one click to call -----------------------------------------------------------------------------
def _staff_in_scope(user, grid_code: str) -> bool:
    return user is not None and user.role in STAFF_ROLES and code_in_scope(user, grid_code)


def reveal_reporter(staff, event: Event) -> Contact:
    """Staff handling a report call its reporter back: the phone in full (audited, "handling event #n")."""
    if not _staff_in_scope(staff, event.grid_code):
        raise Forbidden(_("Only the staff responsible for this event's grid may call its reporter."))
    record = reporter_record(event)
    name = record.name if record is not None else (event.reporter.name or event.reporter.username)
    why = f"handling event #{event.id}"
    phone = _shown(staff, record, record.phone if record is not None else None, event, why)
    return Contact("reporter", mask_name(name), phone)


def reveal_wish_owner(staff, wish: Wish) -> Contact:
    """Staff reviewing a wish in their scope call the resident: the phone in full (audited, "reviewing wish #n")."""
    if not _staff_in_scope(staff, wish.grid_code):
        raise Forbidden(_("Only the staff responsible for this wish's grid may call its resident."))
    owner = owner_record(wish)
    why = f"reviewing wish #{wish.id}"
    return Contact(
        "owner", mask_name(wish.owner_name), _shown(staff, owner, owner.phone if owner else None, wish, why)
    )


# --- a member's work phone ---------------------------------------------------------------------------------
def set_work_phone(actor, phone) -> Member:
    """A member gives (or, empty, withdraws) the work phone shown to the residents whose wishes they claim."""
    member = member_for(actor)
    if member is None:
        raise Forbidden(_("Only checked-in members have a work phone here."))
    phone = phone.strip() if isinstance(phone, str) else ""
    if phone and not PHONE_RE.match(phone):
        raise Invalid({"phone": _("Enter an 11-digit mobile number or a landline such as 029-33211234.")})
    if (member.phone or None) != (phone or None):
        audit.record_updated(actor, member, {"phone": mask_phone(member.phone)}, {"phone": mask_phone(phone)})
        member.phone = phone or None
    db.session.flush()
    return member

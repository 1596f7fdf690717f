"""A resident registers: they pick their building (the grid follows from it), and a resident record the grid
already keeps for the same phone or ID number is linked to the new account instead of a second one made."""

from flask_babel import gettext as _
from sqlalchemy import or_, select

from app.extensions import db
from app.models import Building, Resident, User
from app.models.choices import Role
from app.services import audit
from app.services.idcard import id_number_error
from app.services.users import UserError, create_user


def existing_resident(phone: str | None, id_number: str | None) -> Resident | None:
    """The resident record already kept for this phone or ID number (the ID number wins), if any."""
    matches = [Resident.phone == phone] if phone else []
    if id_number:
        matches.append(Resident.id_number == id_number)
    if not matches:
        return None
    found = db.session.scalars(select(Resident).where(or_(*matches)).order_by(Resident.id)).all()
    by_id = [r for r in found if id_number and r.id_number == id_number]
    return (by_id or found or [None])[0]


def register_resident(
    username: str,
    password: str,
    name: str,
    phone: str,
    building_id: int | None,
    id_number: str | None = None,
) -> User:
    """Create a resident's account in the grid of their building; flushes, never commits.

    Refused (UserError, 422): no such building, an invalid ID number, or an account already registered
    for this phone or ID number (the person is told to log in, or to ask their grid worker for a new password).
    """
    building = db.session.get(Building, building_id) if building_id else None
    if building is None:
        raise UserError(_("Choose your compound and building."))
    id_number = (id_number or "").strip().upper() or None
    if id_number and id_number_error(id_number):
        raise UserError(_("The ID number is not a valid 18-character resident ID number."))
    resident = existing_resident(phone, id_number)
    if resident is not None and resident.user_id is not None:
        raise UserError(
            _(
                "An account is already registered for this phone number or ID number. Log in with it; "
                "if you forgot its password, ask your grid worker to reset it."
            )
        )
    user = create_user(
        username,
        Role.RESIDENT,
        password,
        area_code=building.grid_code,
        name=name,
        phone=phone,
        resident=resident,
    )
    if resident is not None:  # the grid's record of this person now belongs to their account
        audit.record(user, "update", resident, {"user_id": None}, {"user_id": user.id})
    elif id_number:
        profile = db.session.scalar(select(Resident).where(Resident.user_id == user.id))
        profile.id_number = id_number
    db.session.flush()
    return user

"""Creating accounts, with the member or resident profile their role needs."""
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import Area, Department, Member, Resident, User
from app.models.choices import ROLE_AREA_LEVEL, Role

MIN_PASSWORD_LENGTH = 8  # OWASP ASVS 2.1.1; no composition rules (2.1.9)
MAX_PASSWORD_LENGTH = 128


class UserError(ValueError):
    """A user could not be created; the message says why, for the person typing."""


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(_("The password must be at least %(n)d characters long.", n=MIN_PASSWORD_LENGTH))
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError(_("The password must be at most %(n)d characters long.", n=MAX_PASSWORD_LENGTH))


def create_user(
    username: str,
    role: str,
    password: str,
    area_code: str | None = None,
    department_code: str | None = None,
    name: str | None = None,
    phone: str | None = None,
) -> User:
    """Create a user (and its Member or Resident profile); flushes, never commits."""
    username = (username or "").strip()
    if not username:
        raise UserError(_("A username is required."))
    if role not in {r.value for r in Role}:
        raise UserError(
            _("Unknown role %(role)s; choose one of: %(roles)s", role=role, roles=", ".join(r.value for r in Role))
        )
    check_password_policy(password)
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise UserError(_("The username %(name)s is already taken.", name=username))

    area = None
    if area_code:
        area = db.session.scalar(select(Area).where(Area.code == area_code))
        if area is None:
            raise UserError(_("Unknown area code %(code)s.", code=area_code))
    needed_level = ROLE_AREA_LEVEL.get(Role(role))
    if needed_level is not None:
        if area is None:
            raise UserError(_("The role %(role)s needs an area (--area).", role=role))
        if area.level != needed_level:
            raise UserError(
                _("The role %(role)s needs an area of level %(level)s, but %(code)s is a %(actual)s.",
                  role=role, level=needed_level, code=area.code, actual=area.level)
            )

    department = None
    if role == Role.DEPARTMENT:
        if not department_code:
            raise UserError(_("The role department needs a department (--department)."))
        department = db.session.scalar(select(Department).where(Department.code == department_code))
        if department is None:
            raise UserError(_("Unknown department code %(code)s.", code=department_code))
    elif department_code:
        raise UserError(_("Only department users belong to a department."))

    user = User(username=username, role=role, name=name or username, area_code=area.code if area else None,
                department_id=department.id if department else None, active=True)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    if role == Role.MEMBER:
        db.session.add(Member(user_id=user.id, name=user.name, phone=phone, grid_code=area.code,
                              checked_in_on=date.today()))
    elif role == Role.RESIDENT:
        db.session.add(Resident(user_id=user.id, name=user.name, phone=phone, grid_code=area.code))
    db.session.flush()
    return user


def authenticate(username: str, password: str) -> User | None:
    """The active user with these credentials, or None."""
    user = db.session.scalar(select(User).where(User.username == (username or "").strip()))
    if user is None or not user.active or not user.check_password(password or ""):
        return None
    return user

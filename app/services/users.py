"""Accounts: creating them (with the member or resident profile their role needs), passwords, deactivation."""

import secrets

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import Area, Department, Member, Resident, User
from app.models.choices import AREA_LEVEL_LABELS, ROLE_AREA_LEVEL, ROLE_LABELS, STAFF_ROLES, Role
from app.services import audit
from app.services.clock import district_today
from app.services.errors import DomainError, Forbidden
from app.services.sessions import end_all_sessions
from app.services.tokens import revoke_tokens

MIN_PASSWORD_LENGTH = 8  # OWASP ASVS 2.1.1; no composition rules (2.1.9)
MAX_PASSWORD_LENGTH = 128


class UserError(DomainError, ValueError):
    """A user could not be created or changed; the message says why, for the person typing: HTTP 422."""

    status = 422
    code = "validation_error"

    def __init__(self, message: str, code: str | None = None, field: str | None = None):
        super().__init__(message, code)
        self.field = field  # the form field to fix, when one is to blame


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
    resident: Resident | None = None,
) -> User:
    """Create a user (and its Member or Resident profile: `resident`, an unlinked record, when given);
    flushes, never commits."""
    username = (username or "").strip()
    if not username:
        raise UserError(_("A username is required."))
    if role not in {r.value for r in Role}:
        raise UserError(
            _(
                "Unknown role %(role)s; choose one of: %(roles)s",
                role=role,
                roles=", ".join(r.value for r in Role),
            )
        )
    check_password_policy(password)
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise UserError(_("The username %(name)s is already taken.", name=username))

    area = None
    if area_code:
        area = db.session.scalar(select(Area).where(Area.code == area_code))
        if area is None:
            raise UserError(_("Unknown area code %(code)s.", code=area_code))
    department = None
    if department_code:
        department = db.session.scalar(select(Department).where(Department.code == department_code))
        if department is None:
            raise UserError(_("Unknown department code %(code)s.", code=department_code))
    check_role_binding(role, area, department)

    user = User(
        username=username,
        role=role,
        name=name or username,
        area_code=area.code if area else None,
        department_id=department.id if department else None,
        active=True,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    if resident is not None and role == Role.RESIDENT:
        resident.user_id = user.id
    ensure_profile(user, phone=phone)
    return user


def check_role_binding(role: str | None, area: Area | None, department: Department | None) -> None:
    """A user needs a role; a role's area must be of the role's level (staff, members and residents: their
    street, community or grid); a department user needs a department. The error's `field` names what to fix."""
    if not role:
        raise UserError(_("Choose the user's role."), field="role")
    needed_level = ROLE_AREA_LEVEL.get(Role(role))
    if needed_level is not None:
        if area is None:
            raise UserError(
                _(
                    "A %(role)s account needs its area: choose a %(level)s.",
                    role=ROLE_LABELS[Role(role)],
                    level=AREA_LEVEL_LABELS[needed_level],
                ),
                field="area",
            )
        if area.level != needed_level:
            raise UserError(
                _(
                    "The role %(role)s needs an area of level %(level)s, but %(code)s is a %(actual)s.",
                    role=ROLE_LABELS[Role(role)],
                    level=AREA_LEVEL_LABELS[needed_level],
                    code=area.code,
                    actual=AREA_LEVEL_LABELS.get(area.level, area.level),
                ),
                field="area",
            )
    if role == Role.DEPARTMENT and department is None:
        raise UserError(_("A department account needs its department: choose one."), field="department")
    if role != Role.DEPARTMENT and department is not None:
        raise UserError(_("Only department users belong to a department."), field="department")


def ensure_profile(user: User, phone: str | None = None) -> None:
    """Give a member or resident user the profile row its role needs, if it has none yet."""
    if user.role == Role.MEMBER:
        if db.session.scalar(select(Member.id).where(Member.user_id == user.id)) is None:
            db.session.add(
                Member(
                    user_id=user.id,
                    name=user.name or user.username,
                    phone=phone,
                    grid_code=user.area_code,
                    checked_in_on=district_today(),
                )
            )
    elif (
        user.role == Role.RESIDENT
        and db.session.scalar(select(Resident.id).where(Resident.user_id == user.id)) is None
    ):
        db.session.add(
            Resident(user_id=user.id, name=user.name or user.username, phone=phone, grid_code=user.area_code)
        )
    db.session.flush()


def authenticate(username: str, password: str) -> User | None:
    """The active user with these credentials, or None."""
    user = db.session.scalar(select(User).where(User.username == (username or "").strip()))
    if user is None:
        # hash anyway, so an unknown username takes as long as a wrong password
        User(password_hash="").set_password(password or "")
        return None
    if not user.active or not user.check_password(password or ""):
        return None
    return user


def set_password(user: User, password: str, keep_session: str | None = None) -> int:
    """Give `user` a new password and end their other ways in: every login session (remember-me cookies
    included) but the one whose key is `keep_session`, and every API token. The number ended; never commits.

    Whoever learnt the old password, or holds a cookie or token obtained with it, is out from now on.
    """
    check_password_policy(password)
    user.set_password(password)
    return revoke_access(user, keep_session=keep_session)


RESET_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # nothing to misread when told aloud or on paper
RESET_LENGTH = 10


def may_reset_password(actor: User, user: User) -> bool:
    """An admin resets anyone's password; area staff those of the residents and members in their area."""
    if actor.role == Role.ADMIN:
        return True
    return (
        actor.role in STAFF_ROLES
        and user.role in (Role.RESIDENT, Role.MEMBER)
        and bool(actor.area_code and user.area_code)
        and user.area_code.startswith(actor.area_code)
    )


def reset_password(actor: User, user: User) -> str:
    """A person who forgot their password asks staff: `user` gets a new random password, returned to be shown
    to staff once and told to the person; their sessions and tokens end; audited. Never commits."""
    if not may_reset_password(actor, user):
        raise Forbidden(_("You may not reset this account's password."))
    password = "".join(secrets.choice(RESET_ALPHABET) for _position in range(RESET_LENGTH))
    set_password(user, password)
    audit.record(
        actor,
        "update",  # the log's actions are a closed list: a password change is an update of its hash
        user,
        {"password_hash": audit.SECRET_HIDDEN},
        {"password_hash": audit.SECRET_CHANGED},
    )
    return password


def set_elder_mode(user: User, on: bool) -> None:
    """The account's 长辈模式 (适老化) preference: shown on every device the person logs in on. Never commits."""
    user.elder_mode = bool(on)


def deactivate(user: User) -> int:
    """Disable `user`'s account and end all their sessions and tokens (re-activating revives none)."""
    user.active = False
    return revoke_access(user)


def revoke_access(user: User, keep_session: str | None = None) -> int:
    """End `user`'s login sessions (but `keep_session`) and API tokens; the number ended. Never commits."""
    if user.id is None:  # not saved yet: nothing was ever issued
        return 0
    # no autoflush: a back-office save computes its audit entry from the user's unflushed changes afterwards
    with db.session.no_autoflush:
        return end_all_sessions(user, keep=keep_session) + revoke_tokens(user)

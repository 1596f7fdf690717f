"""Accounts: the roles people sign in with and the area level each is bound to."""

from flask_babel import lazy_gettext as _l

from app.models.choices.areas import AreaLevel
from app.models.choices.base import Labelled

__all__ = ["BACK_OFFICE_ROLES", "ROLE_AREA_LEVEL", "ROLE_LABELS", "STAFF_ROLES", "Role"]


class Role(Labelled):
    ADMIN = "admin", _l("Administrator")
    STREET_ADMIN = "street_admin", _l("Street staff")
    COMMUNITY_ADMIN = "community_admin", _l("Community staff")
    GRID_WORKER = "grid_worker", _l("Grid worker")
    DEPARTMENT = "department", _l("Functional department")
    MEMBER = "member", _l("Checked-in member")
    RESIDENT = "resident", _l("Resident")
    INTEGRATION = "integration", _l("Integration (API client)")


ROLE_LABELS = Role.labels()

# the area level a scoped role is bound to
ROLE_AREA_LEVEL = {
    Role.STREET_ADMIN: AreaLevel.STREET,
    Role.COMMUNITY_ADMIN: AreaLevel.COMMUNITY,
    Role.GRID_WORKER: AreaLevel.GRID,
    Role.MEMBER: AreaLevel.GRID,
    Role.RESIDENT: AreaLevel.GRID,
}

STAFF_ROLES = (Role.ADMIN, Role.STREET_ADMIN, Role.COMMUNITY_ADMIN, Role.GRID_WORKER)

BACK_OFFICE_ROLES = STAFF_ROLES + (Role.DEPARTMENT,)

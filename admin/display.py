"""How the back office shows moments and people: times in the user's time zone, residents' names masked."""

from flask_babel import format_datetime
from flask_babel import gettext as _

from app.models.choices import Role
from app.services.masking import mask_name


def when(value) -> str:
    """A timestamp in the user's timezone, to the minute."""
    return format_datetime(value, "yyyy-MM-dd HH:mm") if value else ""


def person(user) -> str:
    """A user's name as staff see it on a wish: residents masked (张*), staff and members in full."""
    if user is None:
        return _("System")
    name = user.name or user.username
    return mask_name(name) if user.role == Role.RESIDENT else name

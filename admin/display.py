"""How the back office shows moments and people: one format for times (date, or date and minute) on the
district's clock (app/services/clock.py) in lists, details and exports alike; residents' names masked."""

from datetime import date, datetime

from flask_admin.model import typefmt
from flask_babel import gettext as _

from app.models.choices import Role
from app.services.clock import local_time
from app.services.masking import mask_name

MINUTE = "%Y-%m-%d %H:%M"
DAY = "%Y-%m-%d"


def when(value) -> str:
    """A moment on the district's clock, to the minute (a stored naive moment is UTC); a date as a date."""
    if not value:
        return ""
    if isinstance(value, datetime):
        return local_time(value).strftime(MINUTE)
    if isinstance(value, date):
        return value.strftime(DAY)
    return str(value)


def _moment(view, value, name):
    return when(value)


# Flask-Admin's type formatters with every date and moment shown by `when`: datetime before date (a datetime
# is a date too). OneGridModelView uses them for lists, details and exports, so no view formats a time itself.
MOMENTS = {datetime: _moment, date: _moment}
LIST_FORMATTERS = {**MOMENTS, **typefmt.BASE_FORMATTERS}
DETAIL_FORMATTERS = {**MOMENTS, **typefmt.DETAIL_FORMATTERS}
EXPORT_FORMATTERS = {**MOMENTS, **typefmt.EXPORT_FORMATTERS}


def person(user) -> str:
    """A user's name as staff see it on a wish: residents masked (张*), staff and members in full."""
    if user is None:
        return _("System")
    name = user.name or user.username
    return mask_name(name) if user.role == Role.RESIDENT else name

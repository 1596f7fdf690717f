"""The event lists' columns and filters in the back office: status and level labels, the deadline, overdue."""

from flask_admin.babel import lazy_gettext as admin_lazy_gettext
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from admin.display import person, when
from app.models.base import utcnow
from app.models.choices import (
    EVENT_LEVEL_LABELS,
    EVENT_SOURCE_LABELS,
    EVENT_STATUS_LABELS,
    OPEN_EVENT_STATUSES,
)
from app.models.events import Event
from app.services.event_sla import is_overdue, next_deadline


def status_label(status) -> str:
    return str(EVENT_STATUS_LABELS.get(status, status or ""))


def level_label(level) -> str:
    return str(EVENT_LEVEL_LABELS.get(level, level or ""))


def _deadline(view, context, event, name, plain: bool = False):
    deadline = next_deadline(event)
    if deadline is None:
        return ""
    if plain or not is_overdue(event):
        return when(deadline)
    return Markup('<span class="badge badge-danger og-overdue">%s · %s</span>') % (
        when(deadline),
        _("overdue"),
    )


def _title(view, context, event, name):
    return Markup('<a href="%s">%s</a>') % (view.get_url(".details_view", id=event.id), event.title)


FORMATTERS = {
    "title": _title,
    "status": lambda v, c, m, n: status_label(m.status),
    "level": lambda v, c, m, n: level_label(m.level),
    "source": lambda v, c, m, n: str(EVENT_SOURCE_LABELS.get(m.source, m.source)),
    "matter": lambda v, c, m, n: m.matter.name if m.matter is not None else "",
    "reporter": lambda v, c, m, n: person(m.reporter),
    "major": lambda v, c, m, n: _("Yes") if m.major else "",
    "due_by": _deadline,
    **{
        c: (lambda v, c, m, n: when(getattr(m, n)))
        for c in (
            "respond_by",
            "reply_by",
            "resolve_by",
            "created_at",
            "accepted_at",
            "replied_at",
            "resolved_at",
            "verified_at",
            "closed_at",
            "archived_at",
        )
    },
}
EXPORT_FORMATTERS = {
    **FORMATTERS,
    "title": lambda v, c, m, n: m.title,
    "due_by": lambda v, c, m, n: _deadline(v, c, m, n, plain=True),
}


class OverdueFilter(BaseSQLAFilter):
    """Open events past the deadline they race now."""

    def __init__(self):
        super().__init__(Event.due_by, _l("Overdue"), options=[("1", _l("Yes"))])

    def apply(self, query, value, alias=None):
        return query.filter(Event.status.in_(OPEN_EVENT_STATUSES), Event.due_by < utcnow())

    def operation(self):
        return admin_lazy_gettext("equals")

"""Who is who around an event: its handler at each level, its departments, its verifier; who may read it."""

from flask_babel import gettext as _
from sqlalchemy import or_, select

from app.extensions import db
from app.ids import parse_id
from app.models.choices import ROLE_LABELS, STAFF_ROLES, DispatchStatus, EventLevel, EventSource, Role
from app.models.events import Dispatch, Event
from app.services.errors import Conflict
from app.services.event_ladder import HANDLER_ROLE
from app.services.scope import code_in_scope, scope_condition


def _staff_in_scope(user, event: Event, role=None) -> bool:
    if user is None or not getattr(user, "is_authenticated", True):
        return False
    if user.role == Role.ADMIN:
        return True
    roles = (role,) if role else STAFF_ROLES
    return user.role in roles and code_in_scope(user, event.grid_code)


def handles(user, event: Event) -> bool:
    """Staff of the event's present level whose scope covers its grid (admins: every level)."""
    return _staff_in_scope(user, event, HANDLER_ROLE[EventLevel(event.level)])


def dispatch_of(user, event: Event) -> Dispatch | None:
    """The dispatch of `event` to the department of a department user, or None."""
    if user is None or user.role != Role.DEPARTMENT or user.department_id is None:
        return None
    return db.session.scalar(
        select(Dispatch).where(Dispatch.event_id == event.id, Dispatch.department_id == user.department_id)
    )


def is_reporter(user, event: Event) -> bool:
    """The resident or member who reported `event` themself (source `resident`)."""
    return (
        user is not None
        and getattr(user, "is_authenticated", True)
        and event.source == EventSource.RESIDENT
        and event.reporter_id == getattr(user, "id", None)
    )


def _is_actor(user, event: Event, kind: str) -> bool:
    if kind == "handler":
        return handles(user, event)
    if kind == "department":
        return dispatch_of(user, event) is not None
    if kind == "verifier":  # 网格员确认验收: the grid worker of the grid confirms on the spot
        return _staff_in_scope(user, event, Role.GRID_WORKER)
    if kind == "staff":
        return _staff_in_scope(user, event)
    if kind == "community":  # 社区考评归档
        return _staff_in_scope(user, event, Role.COMMUNITY_ADMIN)
    if kind == "reporter":  # the resident (or member) who reported it through the site or the API (随手拍)
        return is_reporter(user, event)
    return False  # system


_FORBIDDEN = {
    "handler": lambda: _("Only the staff handling this event at its present level may do this."),
    "department": lambda: _("Only a department this event was dispatched to may answer it."),
    "verifier": lambda: _("Only the grid worker of this event's grid may verify it."),
    "staff": lambda: _("Only the staff responsible for this event's grid may do this."),
    "community": lambda: _("Only the community staff of this event's grid may archive it."),
    "reporter": lambda: _("Only the resident who reported this may do this."),
    "system": lambda: _("Only the system takes this step."),
}


def refusal(user, event: Event, kind: str, _context=None) -> str | Conflict | None:
    """Why `user` is not the `kind` of actor a step needs; None when they are. A department whose dispatch
    is done has no part left: a Conflict (the event goes on with its handler)."""
    if not _is_actor(user, event, kind):
        return _FORBIDDEN[kind]()
    if kind == "department" and dispatch_of(user, event).status == DispatchStatus.DONE:
        return Conflict(_("Your department has already finished its part of this event."))
    return None


def dispatch_outcome(user, event: Event) -> str | None:
    """What became of the department user's own dispatch of `event`, in words (None: not theirs)."""
    dispatch = dispatch_of(user, event)
    if dispatch is None:
        return None
    if dispatch.status == DispatchStatus.DONE:
        return _(
            "Your department's dispatch is done; the event stays with the %(handler)s for follow-up.",
            handler=ROLE_LABELS[HANDLER_ROLE[EventLevel(event.level)]],
        )
    if dispatch.status == DispatchStatus.ANSWERED:
        return _("Your department has answered; report again once its part is done.")
    return _("Your department has been called in: answer the dispatch.")


def visible_condition(user):
    """WHERE condition of the events `user` may read: staff their scope, departments their dispatches,
    everyone else what they reported."""
    if user.role in STAFF_ROLES:
        condition = scope_condition(Event, user)
        return Event.id.is_not(None) if condition is None else condition
    own = Event.reporter_id == user.id
    if user.role == Role.DEPARTMENT and user.department_id is not None:
        dispatched = (
            select(Dispatch.id)
            .where(Dispatch.event_id == Event.id, Dispatch.department_id == user.department_id)
            .exists()
        )
        return or_(own, dispatched)
    return own


def get_visible_event(user, event_id: int) -> Event | None:
    """The event when `user` may read it, else None (the caller answers 404)."""
    event_id = parse_id(event_id)
    if event_id is None:
        return None
    return db.session.scalar(select(Event).where(Event.id == event_id, visible_condition(user)))

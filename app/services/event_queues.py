"""What waits for whom (docs/workflows.md#events): each role's event queue, by the nearest deadline, and its notices.

A grid worker's queue holds the new and ongoing events at grid level of their grid, and the resolved
events of their grid that wait for the on-the-spot check (验收); community staff hold the community-level
events and the closed ones to score (考评归档); street staff hold the street level and the events they
whistled departments in on (吹哨); a department holds the events dispatched to it and not yet done (报到);
district staff hold the district level. Everything here is a WHERE condition over indexed columns, so
the back office, its home page and the API count and page the same rows.
"""

from datetime import datetime

from sqlalchemy import and_, case, false, func, or_, select, true

from app.extensions import db
from app.models.base import utcnow
from app.models.choices import OPEN_EVENT_STATUSES, STAFF_ROLES, DispatchStatus, EventLevel, EventStatus, Role
from app.models.events import Dispatch, Event, Supervision
from app.services.event_ladder import HANDLER_ROLE, NOTIFIED_LEVEL
from app.services.scope import scope_condition

# the levels each staff role handles: the state machine's handler table read the other way round
# (the street keeps the department level: departments act through their dispatches)
LEVELS_BY_ROLE: dict[Role, tuple[EventLevel, ...]] = {}
for _level, _role in HANDLER_ROLE.items():
    LEVELS_BY_ROLE[_role] = LEVELS_BY_ROLE.get(_role, ()) + (_level,)


def _in_scope(model, user):
    condition = scope_condition(model, user)
    return true() if condition is None else condition


def queue_condition(user):
    """WHERE condition of the events waiting for `user` to act."""
    if user.role == Role.DEPARTMENT:
        if user.department_id is None:
            return false()
        waiting = (
            select(Dispatch.id)
            .where(
                Dispatch.event_id == Event.id,
                Dispatch.department_id == user.department_id,
                Dispatch.status != DispatchStatus.DONE,
            )
            .exists()
        )
        return and_(Event.status == EventStatus.IN_PROGRESS, waiting)
    levels = LEVELS_BY_ROLE.get(Role(user.role))
    if levels is None:
        return false()
    handling = and_(Event.level.in_(levels), Event.status.in_(OPEN_EVENT_STATUSES))
    if user.role == Role.GRID_WORKER:  # 网格员确认验收 at every level
        handling = or_(handling, Event.status == EventStatus.RESOLVED)
    elif user.role == Role.COMMUNITY_ADMIN:  # 社区考评归档
        handling = or_(handling, Event.status == EventStatus.CLOSED)
    return and_(_in_scope(Event, user), handling)


def queue_counts(user, now: datetime | None = None) -> dict[str, int]:
    """How many events wait for `user`, and how many of them are past their deadline."""
    now = now or utcnow()
    overdue = and_(Event.status.in_(OPEN_EVENT_STATUSES), Event.due_by < now)
    row = db.session.execute(
        select(func.count(), func.coalesce(func.sum(case((overdue, 1), else_=0)), 0))
        .select_from(Event)
        .where(queue_condition(user))
    ).one()
    return {"waiting": row[0], "overdue": row[1]}


def notified_levels(user) -> tuple[EventLevel, ...]:
    """The notified levels `user` stands for: the ones they handle that the sweep tells about breaches below
    (a community hears of its grids', a street of its communities'; nobody tells the grid)."""
    notified = set(NOTIFIED_LEVEL.values())
    return tuple(level for level in LEVELS_BY_ROLE.get(Role(user.role), ()) if level in notified)


def supervision_condition(user):
    """WHERE condition of the supervision notices (督办) sent to `user`'s level in their area."""
    if user.role not in STAFF_ROLES:
        return false()
    levels = notified_levels(user)
    if not levels:  # a grid worker reads the notices about their own grid's events
        return _in_scope(Supervision, user)
    return and_(Supervision.level_notified.in_(levels), _in_scope(Supervision, user))


def open_supervisions(user) -> int:
    """Unresolved supervision notices for `user`."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Supervision)
            .where(supervision_condition(user), Supervision.resolved_at.is_(None))
        )
        or 0
    )

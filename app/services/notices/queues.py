"""Notices to staff of a new item in their queue (待办): a wish to review, an event at their level, a dispatch to
their department, a supervision notice (督办), a callback to make (回访).

Recipients follow the rules the queues themselves follow (app.services.event_ladder, event_queues, the wish
machine), so a notice links to a page its recipient can open. Many events at once (the SLA sweep) are told per
level and area in one notice each, not one per event: one INSERT … SELECT per group.
"""

from collections import defaultdict
from functools import partial

from flask_babel import gettext as _
from sqlalchemy import exists, select

from app.extensions import db
from app.models import Area, User, Wish
from app.models.callbacks import CallbackSubject
from app.models.choices import (
    EVENT_LEVEL_LABELS,
    SLA_DEADLINE_LABELS,
    EventLevel,
    NotificationKind,
    Role,
    WishStatus,
)
from app.models.events import LEVEL_CODE_LENGTH, Dispatch, Event, EventStep, Supervision
from app.services import callbacks, notifications
from app.services.event_ladder import HANDLER_ROLE
from app.services.notices.common import account, covering, handlers_at, language, staff_of, title, when

K = NotificationKind

WISH_REVIEW_LINK = "/admin/wish/details/?id={id}"
EVENT_LINK = "/admin/event/details/?id={id}"
EVENT_QUEUE_LINK = "/admin/event_queue/"
SUPERVISION_LINK = "/admin/supervision/"
CALLBACK_LINK = "/admin/callback/record/?id={id}"


def _grid_name(code: str) -> str:
    return db.session.scalar(select(Area.name).where(Area.code == code)) or code


# --- wishes to review ------------------------------------------------------------------------------
@notifications.builder(K.REVIEW_QUEUE)
def review_queue(wish_id: int, actor_id: int | None = None) -> int:
    """A wish posted: the grid workers of its grid review it (publish or reject); when the grid has none, its
    community's staff. Not the staff who posted it, and nobody once it was published at once (帮办代办)."""
    wish = db.session.get(Wish, wish_id)
    if wish is None or wish.status != WishStatus.SUBMITTED:
        return 0
    grid_workers = select(User.id).where(
        User.active.is_(True), User.role == Role.GRID_WORKER, User.area_code == wish.grid_code
    )
    has_grid_worker = db.session.scalar(select(exists(grid_workers)))
    reviewers = (
        staff_of((Role.GRID_WORKER,), wish.grid_code, besides=actor_id)
        if has_grid_worker
        else staff_of((Role.COMMUNITY_ADMIN,), wish.grid_code, besides=actor_id)
    )
    grid, by = _grid_name(wish.grid_code), when(wish.respond_by)
    return notifications.send_words(
        K.REVIEW_QUEUE,
        reviewers,
        lambda: (
            title(_("A wish to review: %(title)s", title=wish.title)),
            _("Posted in %(grid)s; review it by %(when)s.", grid=grid, when=by),
        ),
        link=WISH_REVIEW_LINK.format(id=wish.id),
        subject=f"wish:{wish.id}",
    )


# --- events at a level -----------------------------------------------------------------------------
def _area_of(level: str, grid_code: str) -> str:
    return grid_code[: LEVEL_CODE_LENGTH[EventLevel(level)]]


@notifications.builder(K.EVENT_QUEUE)
def event_queue(events, actor_id: int | None = None, verify: bool = False) -> int:
    """Events that reached a level (`events`: [id, level] pairs — reported at the grid, escalated by hand or by the
    sweep): the staff who handle that level in scope of each event's grid. `verify`: resolved events waiting for
    their grid worker's check.

    One event: a notice naming it. Several that share a level and area (a sweep): one notice for them all."""
    reached = {int(event_id): EventLevel(level) for event_id, level in events}
    rows = db.session.scalars(select(Event).where(Event.id.in_(list(reached))).order_by(Event.id))
    groups: dict[tuple[str, str], list[Event]] = defaultdict(list)
    for event in rows:
        level = reached[event.id]
        groups[(level, _area_of(level, event.grid_code))].append(event)
    sent = 0
    for (level, _area), group in groups.items():
        recipients = handlers_at(level, group[0].grid_code, besides=actor_id)
        if verify:
            recipients = staff_of((Role.GRID_WORKER,), group[0].grid_code, besides=actor_id)
        if len(group) == 1:
            event = group[0]
            link, subject = EVENT_LINK.format(id=event.id), f"event:{event.id}"
        else:
            link, subject = EVENT_QUEUE_LINK, None
        words = partial(_event_words, group, level, verify)
        sent += notifications.send_words(K.EVENT_QUEUE, recipients, words, link=link, subject=subject)
    return sent


def _event_words(group: list[Event], level: str, verify: bool) -> tuple[str, str]:
    """The title and body of an event-queue notice about `group`, in the language in force."""
    if len(group) > 1:
        heading = _("%(n)d events reached your level", n=len(group))
        return title(heading), "；".join(e.title for e in group[:5]) + ("…" if len(group) > 5 else "")
    event = group[0]
    heading = (
        _("An event to check on the spot: %(title)s", title=event.title)
        if verify
        else _("An event for you: %(title)s", title=event.title)
    )
    body = _(
        "%(grid)s · at the %(level)s level · resolve by %(when)s",
        grid=_grid_name(event.grid_code),
        level=EVENT_LEVEL_LABELS[level],
        when=when(event.resolve_by),
    )
    return title(heading), body


@notifications.builder(K.DISPATCH_QUEUE)
def dispatch_queue(step_id: int) -> int:
    """An event dispatched to departments (吹哨): the users of each department called in by that step."""
    step = db.session.get(EventStep, step_id)
    if step is None:
        return 0
    event = db.session.get(Event, step.event_id)
    departments = select(Dispatch.department_id).where(
        Dispatch.event_id == event.id, Dispatch.dispatched_at == step.at
    )
    users = select(User.id).where(
        User.active.is_(True), User.role == Role.DEPARTMENT, User.department_id.in_(departments)
    )
    grid, by = _grid_name(event.grid_code), when(event.resolve_by)
    return notifications.send_words(
        K.DISPATCH_QUEUE,
        users,
        lambda: (
            title(_("Dispatched to your department: %(title)s", title=event.title)),
            _(
                "%(grid)s · resolve by %(when)s. Report in (报到) with what your department does.",
                grid=grid,
                when=by,
            ),
        ),
        link=EVENT_LINK.format(id=event.id),
        subject=f"event:{event.id}",
    )


# --- supervision notices -----------------------------------------------------------------------------
def supervision_recipients(level_notified: str, level: str, grid_code: str):
    """The staff a supervision concerns: those of the level it was reported to (they supervise), and the
    handler of the level that missed the deadline (they must act) — both in scope of the event's grid."""
    roles = {HANDLER_ROLE[EventLevel(level_notified)], HANDLER_ROLE[EventLevel(level)]}
    return select(User.id).where(User.active.is_(True), User.role.in_(roles), covering(grid_code))


@notifications.builder(K.SUPERVISION)
def supervision(supervision_ids) -> int:
    """A sweep's new supervisions, told to the staff they concern: one notice per group of the same people — naming
    the event when it is one, counting the events when they are several."""
    rows = db.session.execute(
        select(Supervision, Event.title)
        .join(Event, Event.id == Supervision.event_id)
        .where(Supervision.id.in_(list(supervision_ids)))
        .order_by(Supervision.id)
    ).all()
    groups: dict[tuple, list] = defaultdict(list)
    for notice, event_title in rows:
        key = (notice.level_notified, notice.level, notice.notified_area_code, notice.grid_code[:15])
        groups[key].append((notice, event_title))
    sent = 0
    for (level_notified, level, _area, grid_code), group in groups.items():
        recipients = supervision_recipients(level_notified, level, grid_code)
        events = list(dict.fromkeys(notice.event_id for notice, _t in group))
        if len(events) == 1:
            link, subject = EVENT_LINK.format(id=events[0]), f"event:{events[0]}"
        else:
            link, subject = SUPERVISION_LINK, None
        words = partial(_supervision_words, group, len(events))
        sent += notifications.send_words(K.SUPERVISION, recipients, words, link=link, subject=subject)
    return sent


def _supervision_words(group: list, events: int) -> tuple[str, str]:
    """The title and body of a supervision notice about `group` ((supervision, event title) pairs of `events`
    events), in the language in force."""
    if events > 1:
        titles = list(dict.fromkeys(t for _n, t in group))
        heading = _("Supervision: %(n)d events are late", n=events)
        return title(heading), "；".join(titles[:5]) + ("…" if len(titles) > 5 else "")
    heading = _("Supervision: %(title)s is late", title=group[0][1])
    body = _(
        "Missed: %(deadline)s, due %(when)s. Act on it now.",
        deadline="、".join(str(SLA_DEADLINE_LABELS.get(n.deadline, n.deadline)) for n, _t in group),
        when=when(min(n.due_at for n, _t in group)),
    )
    return title(heading), body


# --- callbacks -------------------------------------------------------------------------------------
@notifications.builder(K.CALLBACK_DUE)
def callback_due(subject_type: str, subject_id: int) -> int:
    """A callback task opened (a wish confirmed, an event verified): the grid worker it is assigned to; with
    none, the community staff of its grid. Nobody once it was recorded."""
    task = callbacks.open_task(subject_type, subject_id)
    if task is None:
        return 0
    recipients = (
        account(task.assignee_id)
        if task.assignee_id is not None
        else staff_of((Role.COMMUNITY_ADMIN,), task.grid_code)
    )
    if task.subject_type == CallbackSubject.WISH:
        what = db.session.scalar(select(Wish.title).where(Wish.id == task.subject_id))
    else:
        what = db.session.scalar(select(Event.title).where(Event.id == task.subject_id))
    with language(task.assignee_id):
        return notifications.send(
            K.CALLBACK_DUE,
            recipients,
            title=title(_("A callback to make: %(title)s", title=what or "")),
            body=_(
                "Call the resident from %(when)s and record whether they are satisfied.",
                when=when(task.due_at),
            ),
            link=CALLBACK_LINK.format(id=task.id),
            subject=f"callback:{task.id}",
        )

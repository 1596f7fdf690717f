"""Event deadlines (SLA), the supervision sweep (督办), the on-time rate (docs/workflows.md#deadlines-and-supervision).

The sweep is set-based: one INSERT … SELECT per deadline finds the newly breached events through the
indexes on (status, respond_by), (replied_at, reply_by) and (status, resolve_by), and the unique
(event, deadline) of Supervision makes it idempotent, even when two sweeps overlap. Only the newly
breached rows are touched in Python. An event past its resolve deadline is escalated through the
event machine (`auto_escalate`, app.services.workflow.move_all): the history rows and the reactions of
a manual escalate, still set-based. The ladder is app.services.event_ladder; the deadlines an event
gets at its report, app.services.event_intake. `now` is a parameter everywhere, for a controllable clock.
"""

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import DateTime, String, case, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import Department, Matter
from app.models.base import under_area, utcnow
from app.models.choices import OPEN_EVENT_STATUSES, EventAction, EventStatus, SlaDeadline
from app.models.events import Dispatch, Event, Supervision
from app.services import events, workflow
from app.services.event_ladder import NEXT_LEVEL, NOTIFIED_LEVEL
from app.services.signals import sla_swept

CHUNK = workflow.CHUNK  # ids per IN list


def _breached(deadline: SlaDeadline, now: datetime):
    """WHERE conditions of the events whose `deadline` has newly passed at `now`."""
    if deadline == SlaDeadline.RESPOND:  # respond = accepted
        return (
            Event.status == EventStatus.REPORTED,
            Event.respond_by < now,
            Event.respond_breached.is_(False),
        )
    if (
        deadline == SlaDeadline.REPLY
    ):  # reply = the first word back: work started, a department's answer, resolved
        return (
            Event.replied_at.is_(None),
            Event.reply_by < now,
            Event.reply_breached.is_(False),
            Event.status.in_(OPEN_EVENT_STATUSES),
        )  # imported history may lack replied_at
    return (Event.status.in_(OPEN_EVENT_STATUSES), Event.resolve_by < now, Event.resolve_breached.is_(False))


DUE_COLUMN = {
    SlaDeadline.RESPOND: Event.respond_by,
    SlaDeadline.REPLY: Event.reply_by,
    SlaDeadline.RESOLVE: Event.resolve_by,
}
FLAG = {
    SlaDeadline.RESPOND: "respond_breached",
    SlaDeadline.REPLY: "reply_breached",
    SlaDeadline.RESOLVE: "resolve_breached",
}


@dataclass
class SweepResult:
    """What one sweep did: new supervisions per deadline and the events it escalated."""

    created: dict[str, int] = field(default_factory=dict)
    escalated: list[int] = field(default_factory=list)

    def __str__(self) -> str:
        parts = [f"{k} {v}" for k, v in self.created.items()]
        return f"supervisions: {', '.join(parts)}; escalated {len(self.escalated)}"


def _level_case(mapping: dict):
    return case({k.value: v.value for k, v in mapping.items()}, value=Event.level, else_=Event.level)


def sweep(now: datetime | None = None) -> SweepResult:
    """Create one Supervision per newly breached deadline, notify the next level up, and escalate each event
    whose resolve deadline passed by one level — once per breach. Flushes; the caller commits."""
    return _sweep(now or utcnow())


def _sweep(now: datetime) -> SweepResult:
    result = SweepResult()
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[db.session.get_bind().dialect.name]
    new: list[tuple[int, int, str]] = []  # (supervision id, event id, deadline)
    for deadline in SlaDeadline:
        conditions = _breached(deadline, now)
        rows = select(
            Event.id,
            literal(deadline.value, String),
            Event.grid_code,
            Event.level,
            _level_case(NOTIFIED_LEVEL),
            DUE_COLUMN[deadline],
            literal(now, DateTime(timezone=True)),
        ).where(*conditions)
        created = db.session.execute(
            insert(Supervision)
            .from_select(
                ["event_id", "deadline", "grid_code", "level", "level_notified", "due_at", "created_at"], rows
            )
            .on_conflict_do_nothing(index_elements=["event_id", "deadline"])
            .returning(Supervision.id, Supervision.event_id)
        ).all()
        if created:  # nothing new (the usual minute) means nothing to flag: one statement, not two
            db.session.execute(
                update(Event)
                .where(Event.id.in_([eid for _sid, eid in created]))
                .values({FLAG[deadline]: True})
                .execution_options(synchronize_session=False)
            )
        result.created[deadline.value] = len(created)
        new.extend((sid, eid, deadline.value) for sid, eid in created)
    resolve_breaches = [eid for _sid, eid, d in new if d == SlaDeadline.RESOLVE]
    result.escalated = _escalate(resolve_breaches, now)
    db.session.flush()
    _notify(new)
    if new:
        sla_swept.send(None, supervision_ids=[sid for sid, _e, _d in new], escalated_ids=result.escalated)
    return result


def _escalate(event_ids: list[int], now: datetime) -> list[int]:
    """Escalate each event one level up through the machine (auto_escalate, not past the district): its
    history rows and its reactions as a manual escalate's, set-based; the ids moved."""
    up = _level_case(NEXT_LEVEL)
    return workflow.move_all(
        events.MACHINE,
        EventAction.AUTO_ESCALATE,
        event_ids,
        now=now,
        level=up,
        note=_("Resolve deadline passed: escalated by the supervision sweep."),
        step={"from_level": Event.level, "to_level": up},
    )


def _notify(new: list[tuple[int, int, str]]) -> None:
    """The webhook "event.overdue" for each new supervision (when anyone subscribes to it)."""
    from app.services import webhooks
    from app.services.signals import EVENT_OVERDUE

    if not new or not webhooks.listening(EVENT_OVERDUE):
        return
    supervisions = {
        s.id: s
        for start in range(0, len(new), CHUNK)
        for s in db.session.scalars(
            select(Supervision).where(Supervision.id.in_([sid for sid, _e, _d in new[start : start + CHUNK]]))
        )
    }
    for sid, _eid, _d in new:
        supervision = supervisions[sid]
        event = supervision.event
        webhooks.emit(
            EVENT_OVERDUE,
            {
                "id": event.id,
                "title": event.title,
                "grid_code": event.grid_code,
                "status": event.status,
                "level": event.level,
                "external_ref": event.external_ref,
                "deadline": supervision.deadline,
                "due_at": webhooks.iso(supervision.due_at),
                "level_notified": supervision.level_notified,
                "notified_area": supervision.notified_area_code,
            },
            event_id=f"msg_overdue_{sid}",
        )


def is_overdue(event: Event, now: datetime | None = None) -> bool:
    """Open and past its resolve deadline, or not yet accepted past its respond deadline."""
    from app.models.base import aware

    now = now or utcnow()
    if event.status == EventStatus.REPORTED and now > aware(event.respond_by):
        return True
    return event.status in OPEN_EVENT_STATUSES and now > aware(event.resolve_by)


def next_deadline(event: Event) -> datetime | None:
    """The deadline the event is measured against now: respond while reported, resolve while open."""
    if event.status == EventStatus.REPORTED:
        return event.respond_by
    return event.resolve_by if event.status in OPEN_EVENT_STATUSES else None


# --- the on-time rate ------------------------------------------------------------------------------
GROUPS = ("grid", "community", "street", "department", "matter")


@dataclass(frozen=True)
class OnTimeRow:
    """One group's figures: resolved on time ÷ (resolved + open and overdue)."""

    key: str
    name: str
    resolved: int
    on_time: int
    open_overdue: int

    @property
    def rate(self) -> float | None:
        total = self.resolved + self.open_overdue
        return self.on_time / total if total else None


def on_time_rates(
    by: str,
    now: datetime | None = None,
    *,
    scope: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[OnTimeRow]:
    """The on-time rate per grid, community, street, department (events dispatched to it) or matter.

    `scope` confines to events under an area code; `since`/`until` to events reported in that window.
    """
    from app.models import Area

    if by not in GROUPS:
        raise ValueError(f"group by one of {GROUPS}")
    now = now or utcnow()
    resolved = Event.resolved_at.is_not(None)
    on_time = resolved & (Event.resolved_at <= Event.resolve_by)
    overdue = Event.status.in_(OPEN_EVENT_STATUSES) & (Event.resolve_by < now)
    key = {
        "grid": Event.grid_code,
        "community": func.substr(Event.grid_code, 1, 12),
        "street": func.substr(Event.grid_code, 1, 9),
        "matter": Matter.code,
        "department": Department.code,
    }[by]
    query = select(
        key.label("key"),
        func.sum(case((resolved, 1), else_=0)),
        func.sum(case((on_time, 1), else_=0)),
        func.sum(case((overdue, 1), else_=0)),
    )
    if by == "matter":
        query = query.join(Matter, Matter.id == Event.matter_id)
    elif by == "department":
        query = query.join(Dispatch, Dispatch.event_id == Event.id).join(
            Department, Department.id == Dispatch.department_id
        )
    else:
        query = query.select_from(Event)
    if scope:
        query = query.where(under_area(Event.grid_code, scope))
    if since is not None:
        query = query.where(Event.created_at >= since)
    if until is not None:
        query = query.where(Event.created_at < until)
    rows = db.session.execute(query.group_by(key).order_by(key)).all()
    keys = [r[0] for r in rows]
    if by == "matter":
        names = dict(db.session.execute(select(Matter.code, Matter.name).where(Matter.code.in_(keys))).all())
    elif by == "department":
        names = dict(
            db.session.execute(
                select(Department.code, Department.name).where(Department.code.in_(keys))
            ).all()
        )
    else:
        names = dict(db.session.execute(select(Area.code, Area.name).where(Area.code.in_(keys))).all())
    return [OnTimeRow(k, names.get(k, k), int(r or 0), int(t or 0), int(o or 0)) for k, r, t, o in rows]

"""A call-up's roll and figures, and what the interfaces answer about it.

The counts: coming, cannot, arrived (arriving is coming), no answer yet (neither answered nor arrived).
The figures, measured from the call's start (the later of its raise and its `starts_at`): the time to the
first arrival, the time to reach the number needed (the moment the `needed`-th member arrived), and the
arrival rate: arrived ÷ those who said they were coming (arrivals included). While a call-up is open they are
worked out from the roll; its close archives them on the call-up.
"""

from datetime import UTC, datetime

from sqlalchemy import case, func, select

from app.extensions import db
from app.models import Member, Unit
from app.models.base import aware
from app.models.callups import Callup, CallupResponse
from app.models.choices import CallupAnswer, CallupStatus
from app.services.callup_access import area_member, can_manage, may_lead, visible_condition
from app.services.wish_access import member_for

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ARRIVED = CallupResponse.arrived_at.isnot(None)


def _count(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def counts(callup: Callup) -> dict:
    """{"coming", "cannot", "arrived", "no_answer", "called"}: one aggregate over the roll."""
    row = db.session.execute(
        select(
            _count(CallupResponse.answer == CallupAnswer.COMING),
            _count(CallupResponse.answer == CallupAnswer.CANNOT),
            _count(ARRIVED),
            _count(CallupResponse.answer.is_(None) & CallupResponse.arrived_at.is_(None)),
            func.count(),
        ).where(CallupResponse.callup_id == callup.id)
    ).one()
    return dict(zip(("coming", "cannot", "arrived", "no_answer", "called"), (int(v) for v in row)))


def _nth_arrival(callup: Callup, n: int) -> datetime | None:
    return aware(
        db.session.scalar(
            select(CallupResponse.arrived_at)
            .where(CallupResponse.callup_id == callup.id, ARRIVED)
            .order_by(CallupResponse.arrived_at, CallupResponse.id)
            .offset(n - 1)
            .limit(1)
        )
    )


def started_at(callup: Callup) -> datetime:
    """When the call counts from: its raise, or its `starts_at` when that is later."""
    return max(aware(callup.created_at), aware(callup.starts_at))


def _seconds(callup: Callup, moment: datetime | None) -> int | None:
    if moment is None:
        return None
    return max(int((aware(moment) - started_at(callup)).total_seconds()), 0)


def figures(callup: Callup) -> dict:
    """The counts and the figures: live from the roll while open, as archived once closed."""
    numbers = counts(callup)
    if callup.status == CallupStatus.CLOSED and callup.arrived_count is not None:
        numbers.update(coming=callup.coming_count, cannot=callup.cannot_count, arrived=callup.arrived_count)
        first, reached = aware(callup.first_arrival_at), aware(callup.needed_reached_at)
    else:
        first = _nth_arrival(callup, 1) if numbers["arrived"] else None
        reached = _nth_arrival(callup, callup.needed) if numbers["arrived"] >= callup.needed else None
    coming = numbers["coming"]
    return {
        **numbers,
        "first_arrival_at": first,
        "needed_reached_at": reached,
        "seconds_to_first_arrival": _seconds(callup, first),
        "seconds_to_needed": _seconds(callup, reached),
        "arrival_rate": round(numbers["arrived"] / coming, 3) if coming else None,
    }


def people(callup: Callup) -> list[dict]:
    """Everyone on the roll: arrived first (in order of arrival), then coming, no answer, cannot; by name."""
    rows = db.session.execute(
        select(CallupResponse, Member.name, Unit.name)
        .join(Member, Member.id == CallupResponse.member_id)
        .outerjoin(Unit, Unit.id == Member.unit_id)
        .where(CallupResponse.callup_id == callup.id)
    ).all()
    order = {CallupAnswer.COMING: 1, None: 2, CallupAnswer.CANNOT: 3}

    def moment(response) -> datetime:
        return aware(response.arrived_at) or aware(response.answered_at) or EPOCH

    rows.sort(
        key=lambda r: (0 if r[0].arrived_at is not None else order.get(r[0].answer, 2), moment(r[0]), r[1])
    )
    return [
        {
            "member_id": response.member_id,
            "name": name,
            "unit": unit,
            "answer": response.answer,
            "answered_at": aware(response.answered_at),
            "arrived_at": aware(response.arrived_at),
            "arrived_via": response.arrived_via,
            "task": response.task,
        }
        for response, name, unit in rows
    ]


def roll(callup: Callup) -> dict:
    """The live roll: {"id", "status", "title", "needed", "counts", "people", "figures"}."""
    numbers = figures(callup)
    return {
        "id": callup.id,
        "status": callup.status,
        "title": callup.title,
        "needed": callup.needed,
        "counts": {key: numbers[key] for key in ("coming", "cannot", "arrived", "no_answer")},
        "people": people(callup),
        "figures": {
            key: value for key, value in numbers.items() if key not in ("coming", "cannot", "no_answer")
        },
    }


def _mine(callup: Callup, viewer) -> dict | None:
    member = area_member(viewer, callup)
    if member is None:
        return None
    response = db.session.scalar(
        select(CallupResponse).where(
            CallupResponse.callup_id == callup.id, CallupResponse.member_id == member.id
        )
    )
    return {
        "member_id": member.id,
        "answer": response.answer if response else None,
        "answered_at": aware(response.answered_at) if response else None,
        "arrived_at": aware(response.arrived_at) if response else None,
        "task": response.task if response else None,
    }


def as_json(callup: Callup, viewer, *, with_people: bool = True) -> dict:
    """What the API answers: the call-up, its counts and figures; the roll's people for those who lead it,
    the check-in token only for staff who manage it, and a member's own answer."""
    from app.services.callups import actions  # the machine's verbs (callups imports this module)

    numbers = figures(callup)
    answer = {
        "id": callup.id,
        "status": callup.status,
        "title": callup.title,
        "details": callup.details,
        "area_code": callup.area_code,
        "area_name": callup.area.name if callup.area is not None else callup.area_code,
        "grid_code": callup.grid_code,
        "muster_point": callup.muster_point,
        "needed": callup.needed,
        "starts_at": aware(callup.starts_at),
        "hours": callup.hours,
        "created_at": aware(callup.created_at),
        "closed_at": aware(callup.closed_at),
        "cancel_reason": callup.cancel_reason,
        "counts": {key: numbers[key] for key in ("coming", "cannot", "arrived", "no_answer")},
        "figures": {
            key: value for key, value in numbers.items() if key not in ("coming", "cannot", "no_answer")
        },
        "link": f"/callups/{callup.id}",
        "actions": actions(viewer, callup),
        "mine": _mine(callup, viewer),
    }
    if with_people and may_lead(viewer, callup):
        answer["people"] = people(callup)
    if can_manage(viewer, callup):
        answer["checkin_token"] = callup.checkin_token
    return answer


def visible_query(user):
    """select() of the call-ups `user` may see, open ones first, newest first."""
    return (
        select(Callup)
        .where(visible_condition(user))
        .order_by(
            case((Callup.status == CallupStatus.OPEN, 0), else_=1), Callup.created_at.desc(), Callup.id.desc()
        )
    )


def open_for_member(user) -> list[Callup]:
    """The open call-ups whose area holds the member's grid, newest first (for the site's notices)."""
    if member_for(user) is None:
        return []
    return list(
        db.session.scalars(
            select(Callup)
            .where(visible_condition(user), Callup.status == CallupStatus.OPEN)
            .order_by(Callup.created_at.desc(), Callup.id.desc())
        )
    )


def dashboard_figures(user) -> dict:
    """The dashboard's call-up figures in `user`'s reach: how many are open, how many were closed, and the
    last closed one's archived figures (None when none was closed yet)."""
    visible = visible_condition(user)
    by_status = dict(
        db.session.execute(select(Callup.status, func.count()).where(visible).group_by(Callup.status)).all()
    )
    last = db.session.scalar(
        select(Callup)
        .where(visible, Callup.status == CallupStatus.CLOSED)
        .order_by(Callup.closed_at.desc(), Callup.id.desc())
        .limit(1)
    )
    return {
        "open": by_status.get(CallupStatus.OPEN, 0),
        "closed": by_status.get(CallupStatus.CLOSED, 0),
        "last": None
        if last is None
        else {"id": last.id, "title": last.title, "needed": last.needed, **figures(last)},
    }

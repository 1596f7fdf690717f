"""Event deadlines, the supervision sweep (督办) and the on-time rate, with a controllable clock."""

from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from app.extensions import db
from app.jobs import PERIODIC
from app.models import CallbackTask, Dispatch, Event, User
from app.models.base import utcnow
from app.models.events import EventStep, Supervision
from app.models.webhooks import WebhookDelivery, WebhookEndpoint
from app.services import events as service
from app.services.event_sla import is_overdue, on_time_rates, sweep
from app.services.signals import event_changed

pytestmark = pytest.mark.usefixtures("english")
GRID = "610404001001001"
T0 = utcnow().replace(microsecond=0) - timedelta(days=2)  # the clock the events are reported by


@pytest.fixture
def people(demo):
    """The demo district without its events: the sweep and the on-time rates count every event."""
    for model in (Supervision, Dispatch, EventStep, Event):
        db.session.execute(delete(model))
    db.session.execute(delete(CallbackTask).where(CallbackTask.subject_type == "event"))
    db.session.flush()
    return {u.username: u for u in db.session.scalars(select(User))}


def _report(p, matter="HW-001", grid=GRID, at=T0, who="grid"):
    event, _created = service.report_event(
        p[who], title="垃圾未清运", description=None, matter_code=matter, grid_code=grid, now=at
    )
    return event


def _supervisions(event=None):
    query = select(Supervision).order_by(Supervision.id)
    if event is not None:
        query = query.where(Supervision.event_id == event.id)
    return db.session.scalars(query).all()


def test_a_respond_breach_creates_one_supervision_notifying_the_community_and_a_second_sweep_nothing(people):
    db.session.add(
        WebhookEndpoint(
            url="https://hotline.example/cb", secret="whsec_x", event_types=["event.overdue"], active=True
        )
    )
    event = _report(people)  # respond within 15 minutes

    early = sweep(T0 + timedelta(minutes=14))
    assert early.created == {"respond": 0, "reply": 0, "resolve": 0} and _supervisions() == []

    first = sweep(T0 + timedelta(minutes=16))
    assert first.created == {"respond": 1, "reply": 0, "resolve": 0}
    [supervision] = _supervisions(event)
    assert (supervision.deadline, supervision.level, supervision.level_notified) == (
        "respond",
        "grid",
        "community",
    )
    assert supervision.notified_area_code == "610404001001" and supervision.resolved_at is None
    db.session.refresh(event)
    assert (event.respond_breached, event.reply_breached, event.level) == (True, False, "grid")
    [delivery] = db.session.scalars(select(WebhookDelivery)).all()
    assert delivery.topic == "event.overdue"
    assert delivery.payload["data"]["deadline"] == "respond"
    assert delivery.payload["data"]["level_notified"] == "community"

    again = sweep(T0 + timedelta(minutes=17))
    assert again.created == {"respond": 0, "reply": 0, "resolve": 0}
    assert (
        len(_supervisions(event)) == 1
        and db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1
    )

    service.accept_event(people["grid"], event, now=T0 + timedelta(minutes=20))
    db.session.refresh(supervision)
    assert supervision.resolved_at is not None


def test_a_reply_breach_is_supervised_once_and_settled_when_work_starts(people):
    event = _report(people)
    service.accept_event(people["grid"], event, now=T0 + timedelta(minutes=5))
    assert sweep(T0 + timedelta(minutes=31)).created == {"respond": 0, "reply": 1, "resolve": 0}
    assert sweep(T0 + timedelta(minutes=40)).created["reply"] == 0
    service.start_event(people["grid"], event, now=T0 + timedelta(minutes=45))
    [supervision] = _supervisions(event)
    assert supervision.deadline == "reply" and supervision.resolved_at is not None
    db.session.refresh(event)
    assert event.replied_at is not None and event.reply_breached


def test_an_event_handled_in_time_is_never_supervised(people):
    event = _report(people)
    service.accept_event(people["grid"], event, now=T0 + timedelta(minutes=1))
    service.start_event(people["grid"], event, now=T0 + timedelta(minutes=2))
    service.resolve_event(people["grid"], event, "已清运", now=T0 + timedelta(hours=3))
    assert sweep(T0 + timedelta(days=3)).created == {"respond": 0, "reply": 0, "resolve": 0}
    assert not is_overdue(event, T0 + timedelta(days=3))


def test_a_resolve_breach_escalates_the_event_exactly_once(people):
    p = people
    event = _report(p)
    service.accept_event(p["grid"], event, now=T0 + timedelta(minutes=5))
    service.start_event(p["grid"], event, now=T0 + timedelta(minutes=6))
    assert is_overdue(event, T0 + timedelta(hours=25))

    result = sweep(T0 + timedelta(hours=25))
    assert result.created["resolve"] == 1 and result.escalated == [event.id]
    db.session.refresh(event)
    assert (event.status, event.level, event.resolve_breached) == ("in_progress", "community", True)
    [step] = db.session.scalars(
        select(EventStep).where(EventStep.event_id == event.id, EventStep.action == "auto_escalate")
    ).all()
    assert (step.actor_id, step.from_level, step.to_level, step.from_status, step.to_status) == (
        None,
        "grid",
        "community",
        "in_progress",
        "in_progress",
    )
    [supervision] = _supervisions(event)
    assert (supervision.deadline, supervision.level, supervision.level_notified) == (
        "resolve",
        "grid",
        "community",
    )

    for hours in (26, 48, 100):
        assert sweep(T0 + timedelta(hours=hours)).escalated == []
    db.session.refresh(event)
    assert event.level == "community"
    # the community now handles it; the grid worker no longer may
    assert service.can(p["community"], event, "resolve") and not service.can(p["grid"], event, "resolve")


def test_the_sweeps_escalation_is_a_step_of_the_machine_with_a_manual_escalates_history_and_reactions(people):
    p = people
    db.session.add(
        WebhookEndpoint(
            url="https://hotline.example/cb", secret="whsec_x", event_types=["event.escalated"], active=True
        )
    )
    by_hand, late = _report(p), _report(p)
    for event in (by_hand, late):
        service.accept_event(p["grid"], event, now=T0 + timedelta(minutes=5))
    service.escalate_event(p["grid"], by_hand, "需社区协调", now=T0 + timedelta(minutes=6))
    heard = []
    event_changed.connect(receiver := lambda event, **kw: heard.append((event.id, kw["action"])))
    try:
        sweep(T0 + timedelta(hours=25))
    finally:
        event_changed.disconnect(receiver)

    assert (late.id, "auto_escalate") in heard
    steps = {
        e.id: db.session.scalars(
            select(EventStep).where(EventStep.event_id == e.id).order_by(EventStep.id.desc()).limit(1)
        ).one()
        for e in (by_hand, late)
    }
    assert steps[late.id].action == "auto_escalate" and steps[late.id].note
    assert steps[late.id].at.replace(tzinfo=None) == (T0 + timedelta(hours=25)).replace(tzinfo=None)
    for event, step in steps.items():  # both moved community → street or grid → community the same way
        db.session.refresh(db.session.get(Event, event))
        assert (step.from_status, step.to_status) == ("accepted", "accepted")
        assert step.to_level == db.session.get(Event, event).level != step.from_level
    topics = db.session.scalars(select(WebhookDelivery.payload)).all()
    escalated = sorted(payload["data"]["id"] for payload in topics if payload["type"] == "event.escalated")
    assert escalated == sorted([by_hand.id, by_hand.id, late.id])  # by hand, then by the sweep from community


def test_the_sweep_escalates_only_what_the_machine_allows(people):
    from app.services import workflow

    p = people
    event = _report(p)
    service.accept_event(p["grid"], event, now=T0 + timedelta(minutes=5))
    with pytest.raises(ValueError):  # people escalate one event at a time, through their checks
        workflow.move_all(service.MACHINE, "escalate", [event.id])
    service.escalate_event(p["grid"], event, "重大", major=True, now=T0 + timedelta(minutes=6))
    # at the top: a requirement of auto_escalate, checked in SQL by the set-based move
    assert workflow.move_all(service.MACHINE, "auto_escalate", [event.id]) == []
    db.session.refresh(event)
    assert event.level == "district"


def test_one_ladder_says_who_is_one_level_up_and_who_hears_of_a_breach():
    from app.services.event_ladder import HANDLER_ROLE, NEXT_LEVEL, NOTIFIED_LEVEL

    assert set(HANDLER_ROLE) == set(NOTIFIED_LEVEL) == set(NEXT_LEVEL) | {"district"}
    assert all(NOTIFIED_LEVEL[level] == up for level, up in NEXT_LEVEL.items())
    assert NOTIFIED_LEVEL["district"] == "district" and "district" not in NEXT_LEVEL
    assert "department" not in NEXT_LEVEL.values()  # departments are reached by dispatch


def test_an_unaccepted_event_past_every_deadline_gets_three_supervisions_in_one_sweep(people):
    event = _report(people)
    result = sweep(T0 + timedelta(days=2))
    assert result.created == {"respond": 1, "reply": 1, "resolve": 1} and result.escalated == [event.id]
    assert {s.deadline for s in _supervisions(event)} == {"respond", "reply", "resolve"}
    db.session.refresh(event)
    assert (event.status, event.level) == ("reported", "community")


def test_an_overdue_event_at_the_district_is_supervised_but_goes_no_higher(people):
    p = people
    event = _report(p)
    service.accept_event(p["grid"], event, now=T0 + timedelta(minutes=1))
    service.escalate_event(p["grid"], event, "重大", major=True, now=T0 + timedelta(minutes=2))
    result = sweep(T0 + timedelta(days=2))
    assert result.created["resolve"] == 1 and result.escalated == []
    [supervision] = [s for s in _supervisions(event) if s.deadline == "resolve"]
    assert supervision.level_notified == "district"
    db.session.refresh(event)
    assert event.level == "district"


def test_the_sweep_only_touches_newly_breached_events(people):
    overdue = [_report(people) for _ in range(3)]
    fresh = [_report(people, at=T0 + timedelta(days=2)) for _ in range(2)]
    result = sweep(T0 + timedelta(days=2, minutes=1))
    assert sorted(result.escalated) == sorted(e.id for e in overdue)
    assert {s.event_id for s in _supervisions()} == {e.id for e in overdue}
    for event in fresh:
        db.session.refresh(event)
        assert (event.level, event.respond_breached) == ("grid", False)


def test_the_sweep_is_a_periodic_task_every_minute(people, app):
    from app.jobs.scheduler import run_periodic

    assert PERIODIC["sla_sweep"].seconds == 60
    event_id = _report(people).id
    db.session.commit()
    assert "respond 1" in run_periodic("sla_sweep")  # it commits and closes the session
    assert (
        db.session.scalar(
            select(func.count()).select_from(Supervision).where(Supervision.event_id == event_id)
        )
        == 3
    )
    assert "respond 0" in run_periodic("sla_sweep")


def test_the_on_time_rate_per_grid_community_street_department_and_matter(people):
    p = people
    now = T0 + timedelta(days=3)
    grid2 = "610404001001002"

    def resolved(at_hours, matter="HW-001", grid=GRID, worker="grid", departments=()):
        event = _report(p, matter=matter, grid=grid, who=worker)
        service.accept_event(p[worker], event, now=T0 + timedelta(minutes=1))
        if departments:
            service.escalate_event(p[worker], event, "r", now=T0 + timedelta(minutes=2))
            service.escalate_event(p["community"], event, "r", now=T0 + timedelta(minutes=3))
            service.dispatch_event(p["street"], event, list(departments), now=T0 + timedelta(minutes=4))
            service.answer_dispatch(p["dept"], event, "ok", done=True, now=T0 + timedelta(minutes=5))
            service.resolve_event(p["street"], event, "ok", now=T0 + timedelta(hours=at_hours))
        else:
            service.start_event(p[worker], event, now=T0 + timedelta(minutes=2))
            service.resolve_event(p[worker], event, "ok", now=T0 + timedelta(hours=at_hours))
        return event

    resolved(2)  # on time
    resolved(30)  # late
    resolved(3, departments=["HW"])  # on time, with the HW department
    _report(p)  # open and overdue
    _report(p, at=now - timedelta(hours=1))  # open, not yet due: does not count
    resolved(5, matter="HJ-001", grid=grid2, worker="grid2")  # on time, another grid and matter

    by_grid = {r.key: r for r in on_time_rates("grid", now)}
    assert (by_grid[GRID].on_time, by_grid[GRID].resolved, by_grid[GRID].open_overdue) == (2, 3, 1)
    assert by_grid[GRID].rate == pytest.approx(0.5) and by_grid[grid2].rate == 1.0
    [community] = on_time_rates("community", now)
    assert (community.key, community.name, community.on_time, community.resolved, community.open_overdue) == (
        "610404001001",
        "文汇社区",
        3,
        4,
        1,
    )
    assert community.rate == pytest.approx(0.6)
    [street] = on_time_rates("street", now)
    assert street.key == "610404001" and street.rate == pytest.approx(0.6)
    by_matter = {r.key: r for r in on_time_rates("matter", now)}
    assert by_matter["HW-001"].rate == pytest.approx(0.5) and by_matter["HJ-001"].rate == 1.0
    [department] = on_time_rates("department", now)
    assert (department.key, department.on_time, department.resolved) == ("HW", 1, 1)
    assert {r.key for r in on_time_rates("grid", now, scope=grid2)} == {grid2}
    with pytest.raises(ValueError):
        on_time_rates("planet", now)

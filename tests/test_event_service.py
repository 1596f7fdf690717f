"""The event machine (docs/workflows.md#events) through its service functions: the ladder, scope, refusals.

Reporting (the intake) is tested in tests/test_event_intake.py.
"""

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import User
from app.models.callbacks import CallbackStatus, CallbackTask
from app.models.choices import DispatchStatus, EventAction, EventStatus
from app.models.events import Dispatch, Event, EventStep
from app.services import events as service
from app.services.events import TRANSITIONS, EventConflict, EventForbidden, EventInvalid
from app.services.users import create_user

pytestmark = pytest.mark.usefixtures("english")
GRID = "610404001001001"


def make_people() -> dict:
    """The demo's people and three more in other places (a community, a department, a street), by username."""
    create_user("community2", "community_admin", "community2-pw", area_code="610404001002")
    create_user("dept2", "department", "dept2-password", department_code="ZJ")
    create_user("street2", "street_admin", "street2-password", area_code="610404002")
    db.session.flush()
    return {u.username: u for u in db.session.scalars(select(User))}


@pytest.fixture
def people(demo):
    return make_people()


def _report(people, who="grid", **values):
    fields = {
        "title": "楼道堆放杂物",
        "description": "堵塞消防通道",
        "matter_code": "HW-001",
        "grid_code": GRID,
        "location_text": "3号楼2单元",
    }
    fields.update(values)
    event, created = service.report_event(people[who], **fields)
    assert created
    return event


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_the_full_ladder_from_grid_to_archive_records_every_step_with_its_actor(people):
    p = people
    event = _report(p)
    assert (event.status, event.level, event.source) == ("reported", "grid", "patrol")
    service.accept_event(p["grid"], event)
    service.escalate_event(p["grid"], event, "需社区协调")
    assert (event.status, event.level) == ("accepted", "community")
    service.escalate_event(p["community"], event, "需街道吹哨")
    assert event.level == "street"
    dispatches = service.dispatch_event(p["street"], event, ["HW", "ZJ"])
    assert (event.status, event.level) == ("in_progress", "department")
    assert {d.department.code for d in dispatches} == {"HW", "ZJ"} and {d.status for d in dispatches} == {
        "pending"
    }
    with pytest.raises(EventConflict):  # two departments still at work
        service.resolve_event(p["street"], event, "已处理")
    service.answer_dispatch(p["dept"], event, "已安排执法队员", done=False)
    service.answer_dispatch(p["dept"], event, "已清理完毕", done=True)
    with pytest.raises(EventConflict) as refused:
        service.resolve_event(p["street"], event, "已处理")
    assert refused.value.code == "dispatches_open"
    service.answer_dispatch(p["dept2"], event, "已督促物业整改", done=True)
    service.resolve_event(p["street"], event, "各部门已处置完毕")
    assert event.status == "resolved" and event.resolved_at is not None
    service.verify_event(p["grid"], event, False, "杂物仍有残留")
    assert (event.status, event.resolved_at) == ("in_progress", None)
    service.resolve_event(p["street"], event, "残留杂物已清走")
    service.verify_event(p["grid"], event, True, "现场核实")
    assert event.status == "verified"
    task = db.session.scalar(
        select(CallbackTask).where(CallbackTask.subject_type == "event", CallbackTask.subject_id == event.id)
    )
    assert task is not None and task.status == CallbackStatus.DUE and task.assignee_id == p["grid"].id
    service.callback_event(p["grid"], event, True, "居民满意")
    assert event.status == "closed"
    db.session.refresh(task)
    assert (task.status, task.outcome) == ("done", "satisfied")
    service.archive_event(p["community"], event, 4)
    assert (event.status, event.score) == ("archived", 4)

    steps = db.session.scalars(
        select(EventStep).where(EventStep.event_id == event.id).order_by(EventStep.id)
    ).all()
    assert [(s.action, s.actor.username) for s in steps] == [
        ("report", "grid"),
        ("accept", "grid"),
        ("escalate", "grid"),
        ("escalate", "community"),
        ("dispatch", "street"),
        ("answer", "dept"),
        ("answer", "dept"),
        ("answer", "dept2"),
        ("resolve", "street"),
        ("verify_fail", "grid"),
        ("resolve", "street"),
        ("verify", "grid"),
        ("close", "grid"),
        ("archive", "community"),
    ]
    assert [(s.from_level, s.to_level) for s in steps[2:5]] == [
        ("grid", "community"),
        ("community", "street"),
        ("street", "department"),
    ]
    assert steps[9].note == "杂物仍有残留" and steps[5].department.code == "HW"


def test_unsatisfied_callback_reopens_the_event_for_its_handler(people):
    p = people
    event = _report(p)
    for step in (
        lambda: service.accept_event(p["grid"], event),
        lambda: service.start_event(p["grid"], event),
        lambda: service.resolve_event(p["grid"], event, "已清理"),
        lambda: service.verify_event(p["grid"], event, True),
    ):
        step()
    with pytest.raises(EventInvalid):  # "unsatisfied" needs a note
        service.callback_event(p["grid"], event, False, "")
    service.callback_event(p["grid"], event, False, "居民说还有杂物")
    assert (event.status, event.level, event.verified_at) == ("in_progress", "grid", None)
    task = db.session.scalar(
        select(CallbackTask).where(CallbackTask.subject_type == "event", CallbackTask.subject_id == event.id)
    )
    assert (task.status, task.outcome, task.note) == ("done", "unsatisfied", "居民说还有杂物")
    assert event.steps[-1].action == "reopen"
    # worked again and verified again: a second callback falls due
    service.resolve_event(p["grid"], event, "再次清理")
    service.verify_event(p["grid"], event, True)
    assert (
        _count(
            CallbackTask,
            CallbackTask.subject_type == "event",
            CallbackTask.subject_id == event.id,
            CallbackTask.status == "due",
        )
        == 1
    )


def test_a_major_event_goes_straight_to_the_district_and_no_higher(people):
    p = people
    event = _report(p)
    service.accept_event(p["grid"], event)
    service.escalate_event(p["grid"], event, "重大安全隐患", major=True)
    assert (event.level, event.major) == ("district", True)
    with pytest.raises(EventForbidden):  # street staff do not act at district level
        service.start_event(p["street"], event)
    steps = _count(EventStep, EventStep.event_id == event.id)
    with pytest.raises(EventConflict) as refused:
        service.escalate_event(p["admin"], event, "再上报")
    assert refused.value.code == "top_level"
    assert _count(EventStep, EventStep.event_id == event.id) == steps
    service.start_event(p["admin"], event)
    assert event.status == "in_progress"


# --- scope ---------------------------------------------------------------------------------------
def _at_street_with_dispatch(p):
    event = _report(p)
    service.accept_event(p["grid"], event)
    service.escalate_event(p["grid"], event, "r")
    service.escalate_event(p["community"], event, "r")
    service.dispatch_event(p["street"], event, ["ZJ"])
    return event


def test_a_department_answers_only_its_own_dispatch_and_sees_only_dispatched_events(people):
    p = people
    event = _at_street_with_dispatch(p)
    other = _report(p, title="另一件事")
    with pytest.raises(EventForbidden):
        service.answer_dispatch(p["dept"], event, "不是我们的", done=True)
    assert db.session.get(Dispatch, event.dispatches[0].id).status == DispatchStatus.PENDING
    assert service.get_visible_event(p["dept"], event.id) is None
    assert service.get_visible_event(p["dept2"], event.id) is event
    assert service.get_visible_event(p["dept2"], other.id) is None
    assert service.available_actions(p["dept2"], event) == [EventAction.ANSWER]


def test_a_grid_worker_cannot_act_on_a_community_level_event(people):
    p = people
    event = _report(p)
    service.accept_event(p["grid"], event)
    service.escalate_event(p["grid"], event, "需社区处理")
    for act in (
        lambda: service.start_event(p["grid"], event),
        lambda: service.escalate_event(p["grid"], event, "r"),
    ):
        with pytest.raises(EventForbidden):
            act()
    assert service.available_actions(p["grid"], event) == []
    assert EventAction.START in service.available_actions(p["community"], event)


def test_a_community_admin_cannot_act_in_another_community_nor_a_grid_worker_in_another_grid(people):
    p = people
    event = _report(p)
    with pytest.raises(EventForbidden):
        service.accept_event(p["grid2"], event)
    service.accept_event(p["grid"], event)
    service.escalate_event(p["grid"], event, "需社区处理")
    with pytest.raises(EventForbidden):
        service.start_event(p["community2"], event)
    with pytest.raises(EventForbidden):  # the street of another street
        service.escalate_event(p["street2"], event, "r")
    assert service.get_visible_event(p["community2"], event.id) is None
    assert service.get_visible_event(p["community"], event.id) is event


def test_the_resident_reads_their_own_report_and_nobody_elses(people):
    p = people
    own = _report(p, who="resident", grid_code=None)
    assert (own.source, own.grid_code) == ("resident", GRID)
    other = _report(p)
    assert service.get_visible_event(p["resident"], own.id) is own
    assert service.get_visible_event(p["resident"], other.id) is None
    assert service.available_actions(p["resident"], own) == ["withdraw"]  # before anyone accepts it


# --- every illegal transition, table-driven --------------------------------------------------------
PATHS = {
    EventStatus.REPORTED: [],
    EventStatus.ACCEPTED: ["accept"],
    EventStatus.IN_PROGRESS: ["accept", "start"],
    EventStatus.RESOLVED: ["accept", "start", "resolve"],
    EventStatus.VERIFIED: ["accept", "start", "resolve", "verify"],
    EventStatus.CLOSED: ["accept", "start", "resolve", "verify", "close"],
    EventStatus.ARCHIVED: ["accept", "start", "resolve", "verify", "close", "archive"],
}


def _event_at(p, status: EventStatus) -> Event:
    event = _report(p)
    steps = {
        "accept": lambda: service.accept_event(p["grid"], event),
        "start": lambda: service.start_event(p["grid"], event),
        "resolve": lambda: service.resolve_event(p["grid"], event, "done"),
        "verify": lambda: service.verify_event(p["grid"], event, True),
        "close": lambda: service.callback_event(p["grid"], event, True),
        "archive": lambda: service.archive_event(p["community"], event, 5),
    }
    for step in PATHS[status]:
        steps[step]()
    assert event.status == status
    return event


# the right actor for each action on a grid-level event of GRID, and its values
ATTEMPTS = {
    EventAction.ACCEPT: lambda p, e: service.accept_event(p["grid"], e),
    EventAction.START: lambda p, e: service.start_event(p["grid"], e),
    EventAction.ESCALATE: lambda p, e: service.escalate_event(p["grid"], e, "r"),
    EventAction.RESOLVE: lambda p, e: service.resolve_event(p["grid"], e, "n"),
    EventAction.VERIFY: lambda p, e: service.verify_event(p["grid"], e, True),
    EventAction.VERIFY_FAIL: lambda p, e: service.verify_event(p["grid"], e, False, "n"),
    EventAction.CLOSE: lambda p, e: service.callback_event(p["grid"], e, True),
    EventAction.REOPEN: lambda p, e: service.callback_event(p["grid"], e, False, "n"),
    EventAction.ARCHIVE: lambda p, e: service.archive_event(p["community"], e, 3),
}
ILLEGAL = [
    (status, action) for status in PATHS for action in ATTEMPTS if status not in TRANSITIONS[action].sources
]


@pytest.mark.parametrize(("status", "action"), ILLEGAL, ids=[f"{s}-{a}" for s, a in ILLEGAL])
def test_every_illegal_transition_is_refused_and_writes_nothing(people, status, action):
    event = _event_at(people, status)
    steps = _count(EventStep, EventStep.event_id == event.id)
    with pytest.raises(EventConflict):
        ATTEMPTS[action](people, event)
    db.session.refresh(event)
    assert event.status == status
    assert _count(EventStep, EventStep.event_id == event.id) == steps


def test_dispatch_and_answer_are_refused_below_the_street_and_without_a_dispatch(people):
    p = people
    event = _event_at(p, EventStatus.IN_PROGRESS)
    with pytest.raises(EventForbidden):  # street staff do not handle a grid-level event
        service.dispatch_event(p["street"], event, ["HW"])
    with pytest.raises(EventConflict) as refused:  # an admin may act, but departments come in at the street
        service.dispatch_event(p["admin"], event, ["HW"])
    assert refused.value.code == "wrong_level"
    assert _count(Dispatch, Dispatch.event_id == event.id) == 0


def test_of_two_handlers_acting_on_the_same_version_only_one_wins(people):
    p = people
    event = _report(p)
    # another handler accepts (and escalates) it meanwhile: this session still holds the old version
    db.session.execute(
        update(Event)
        .where(Event.id == event.id)
        .values(status="accepted", level="community")
        .execution_options(synchronize_session=False)
    )
    assert (event.status, event.level) == ("reported", "grid")
    with pytest.raises(EventConflict):
        service.accept_event(p["grid"], event)
    assert (event.status, event.level) == ("accepted", "community")
    assert _count(EventStep, EventStep.event_id == event.id, EventStep.action == "accept") == 0


# --- bad values of the steps ---------------------------------------------------------------------
def test_bad_values_of_the_steps_are_refused(people):
    p = people
    event = _event_at(p, EventStatus.ACCEPTED)
    with pytest.raises(EventInvalid):
        service.escalate_event(p["grid"], event, "  ")
    with pytest.raises(EventInvalid):
        service.escalate_event(p["grid"], event, "r", major="perhaps")
    service.escalate_event(p["grid"], event, "r")
    service.escalate_event(p["community"], event, "r")
    for codes in ([], "HW", ["HW", "XX"], None):
        with pytest.raises(EventInvalid):
            service.dispatch_event(p["street"], event, codes)
    service.dispatch_event(p["street"], event, ["HW"])
    with pytest.raises(EventInvalid):  # already waiting for it
        service.dispatch_event(p["street"], event, ["HW"])
    with pytest.raises(EventInvalid):
        service.answer_dispatch(p["dept"], event, "")
    service.answer_dispatch(p["dept"], event, "done", done=True)
    with pytest.raises(EventConflict):  # finished is finished
        service.answer_dispatch(p["dept"], event, "again", done=True)
    closed = _event_at(p, EventStatus.CLOSED)
    for score in (0, 6, "five", True, None, 2.5):
        with pytest.raises(EventInvalid):
            service.archive_event(p["community"], closed, score)
    assert closed.status == "closed"
    with pytest.raises(EventForbidden):  # archiving is the community's
        service.archive_event(p["grid"], closed, 5)

"""The one workflow engine: every machine is well formed, and the engine refuses alike for all of them."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.models.callbacks import CallbackStatus
from app.models.choices import EventStatus, WishStatus
from app.services import callbacks, events, wishes, workflow
from app.services.errors import Conflict, DomainError, Forbidden, Invalid, Limited, NotFound

MACHINES = {
    "wish": (wishes.MACHINE, WishStatus),
    "event": (events.MACHINE, EventStatus),
    "callback": (callbacks.MACHINE, CallbackStatus),
}


@pytest.mark.parametrize("name", MACHINES)
def test_a_machine_declares_every_status_of_its_model(name):
    machine, statuses = MACHINES[name]
    assert machine.states == tuple(statuses)


@pytest.mark.parametrize("name", MACHINES)
def test_every_transition_leaves_and_reaches_statuses_of_its_machine(name):
    machine, statuses = MACHINES[name]
    for action, transition in machine.transitions.items():
        assert transition.action == action
        assert transition.sources and set(transition.sources) <= set(statuses)
        assert transition.target is None or transition.target in set(statuses)
    assert set(machine.user_actions) <= set(machine.transitions)


@pytest.mark.parametrize("name", ["wish", "event"])
def test_every_verb_a_machine_lists_runs_a_step(name):
    machine, _statuses = MACHINES[name]
    assert workflow.listed_verbs(machine)
    for action in machine.user_actions:
        verb = machine.verbs.get(action, str(action))
        assert verb in machine.steps, f"{name}: {action} is listed as {verb}, which no step runs"


@pytest.mark.parametrize("name", ["wish", "event"])
def test_an_unknown_verb_is_refused_alike_by_every_machine(app, name):
    machine, _statuses = MACHINES[name]
    with pytest.raises(Conflict) as refused:
        workflow.perform(machine, None, None, "teleport", {})
    assert refused.value.code == "unknown_action" and refused.value.status == 409


def test_a_verb_without_a_route_is_found_before_it_is_listed():
    routed = set(events.MACHINE.steps) - {"start"}
    assert workflow.unrouted(events.MACHINE, routed) == {"start"}
    assert workflow.unrouted(events.MACHINE, events.MACHINE.steps) == set()
    # reopening a wish is a callback's, never listed: no interface needs a route for it
    assert "reopen" not in workflow.listed_verbs(wishes.MACHINE)


def test_the_refusals_are_one_hierarchy_with_one_status_each():
    assert [(kind.status, kind.code) for kind in (Conflict, Forbidden, Invalid, NotFound, Limited)] == [
        (409, "state_conflict"),
        (403, "forbidden"),
        (422, "validation_error"),
        (404, "not_found"),
        (429, "too_many_requests"),
    ]
    assert all(issubclass(kind, DomainError) for kind in (Conflict, Forbidden, Invalid, NotFound, Limited))
    # the names callers know are the same classes, so one `except DomainError` maps them all
    assert (wishes.WishConflict, events.EventForbidden, events.EventInvalid) == (Conflict, Forbidden, Invalid)
    assert issubclass(events.EventLimited, Limited) and events.EventLimited.code == "too_many_reports"


@pytest.mark.usefixtures("english")
def test_a_verb_not_offered_says_why_in_the_machine_s_own_words(app, demo):
    users = {u.username: u for u in db.session.scalars(select(User))}
    event, _created = events.report_event(
        users["grid"],
        title="楼道堆放杂物",
        description="堵塞消防通道",
        matter_code="HW-001",
        grid_code="610404001001001",
        location_text="3号楼",
    )
    assert workflow.refusal_of(events.MACHINE, users["grid"], event, "accept") is None
    assert "handling this event" in workflow.refusal_of(events.MACHINE, users["community"], event, "accept")
    assert "not possible from there" in workflow.refusal_of(events.MACHINE, users["grid"], event, "start")
    # a verb of two transitions (verify: passed or failed) answers with the first refusal
    assert "not possible from there" in workflow.refusal_of(events.MACHINE, users["grid"], event, "verify")
    assert workflow.refusal_of(events.MACHINE, users["grid"], event, "teleport") is None

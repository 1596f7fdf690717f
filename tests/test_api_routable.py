"""Every action the API lists can be posted: each machine walked through every (role, status) pair, over HTTP."""

import pytest
from sqlalchemy import select
from test_api_wishes import Caller
from test_wish_service import PATHS as WISH_PATHS

from app.extensions import db
from app.models import User
from app.models.choices import EventLevel, EventStatus, WishStatus
from app.services import events, wishes, workflow
from app.services.demo import DEMO_PASSWORDS

pytestmark = pytest.mark.usefixtures("english")

GRID = "610404001001001"
ROLES = tuple(DEMO_PASSWORDS)  # one demo user of every role (and a second grid worker)


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


# --- events: each status, and the levels above the grid --------------------------------------------
def _report():
    event, _created = events.report_event(
        _user("grid"),
        title="楼道堆放杂物",
        description="堵塞消防通道",
        matter_code="HW-001",
        grid_code=GRID,
        location_text="3号楼2单元",
    )
    return event


EVENT_STEPS = {
    "accept": lambda e: events.accept_event(_user("grid"), e),
    "start": lambda e: events.start_event(_user("grid"), e),
    "resolve": lambda e: events.resolve_event(_user("grid"), e, "已处理"),
    "verify": lambda e: events.verify_event(_user("grid"), e, True),
    "close": lambda e: events.callback_event(_user("grid"), e, True),
    "archive": lambda e: events.archive_event(_user("community"), e, 5),
    "to_community": lambda e: events.escalate_event(_user("grid"), e, "网格无法处置"),
    "to_street": lambda e: events.escalate_event(_user("community"), e, "需街道协调"),
    "dispatch": lambda e: events.dispatch_event(_user("street"), e, ["HW"]),
    "to_district": lambda e: events.escalate_event(_user("grid"), e, "重大", major=True),
}
EVENT_SITUATIONS = {
    "reported": [],
    "accepted": ["accept"],
    "in_progress": ["accept", "start"],
    "resolved": ["accept", "start", "resolve"],
    "verified": ["accept", "start", "resolve", "verify"],
    "closed": ["accept", "start", "resolve", "verify", "close"],
    "archived": ["accept", "start", "resolve", "verify", "close", "archive"],
    "accepted_at_community": ["accept", "to_community"],
    "in_progress_at_street": ["accept", "start", "to_community", "to_street"],
    "at_department": ["accept", "start", "to_community", "to_street", "dispatch"],
    "at_district": ["accept", "start", "to_district"],
}

# --- wishes: each status --------------------------------------------------------------------------
WISH_STEPS = {
    "publish": lambda w: wishes.publish_wish(_user("grid"), w),
    "reject": lambda w: wishes.reject_wish(_user("grid"), w, "请找物业"),
    "cancel": lambda w: wishes.cancel_wish(_user("resident"), w),
    "claim": lambda w: wishes.claim_wish(_user("member"), w),
    "complete": lambda w: wishes.complete_wish(_user("member"), w, "做完了", "1"),
    "confirm": lambda w: wishes.confirm_wish(_user("resident"), w, "good"),
}
WISH_SITUATIONS = WISH_PATHS  # every status, by its happy path


def _event_in(situation: str) -> int:
    event = _report()
    for step in EVENT_SITUATIONS[situation]:
        EVENT_STEPS[step](event)
    db.session.commit()
    return event.id


def _wish_in(status: WishStatus) -> int:
    wish = wishes.post_wish(_user("resident"), title="换灯泡", description=None, category_code="repair")
    for step in WISH_SITUATIONS[status]:
        WISH_STEPS[step](wish)
    db.session.commit()
    assert wish.status == status
    return wish.id


def _walk(callers: dict, collection: str, make) -> list[tuple[str, str]]:
    """Every action each caller sees listed on a fresh subject, posted to a fresh twin of it (empty body);
    the (role, action) pairs posted. A listed action is taken (200) or asks for its values (422)."""
    posted = []
    for role, caller in callers.items():
        response = caller.get(f"/api/v1/{collection}/{make()}")
        if response.status_code == 404:  # not theirs to see: nothing listed
            continue
        for action in response.get_json()["actions"]:
            answer = caller.post(f"/api/v1/{collection}/{make()}/{action}")
            assert answer.status_code in (200, 422), (role, action, answer.status_code, answer.get_json())
            posted.append((role, action))
    return posted


@pytest.fixture
def callers(client, demo, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_ACTIVE_CLAIMS", 1000)  # the walk claims many wishes for one member
    return {role: Caller(client, role) for role in ROLES}


@pytest.mark.parametrize("situation", EVENT_SITUATIONS)
def test_every_event_action_the_api_lists_can_be_posted(callers, situation):
    posted = _walk(callers, "events", lambda: _event_in(situation))
    if situation not in ("archived",):  # every open event is someone's to act on
        assert posted


@pytest.mark.parametrize("status", WISH_SITUATIONS)
def test_every_wish_action_the_api_lists_can_be_posted(callers, status):
    posted = _walk(callers, "wishes", lambda: _wish_in(status))
    if status not in (WishStatus.REJECTED, WishStatus.CANCELLED, WishStatus.CONFIRMED):
        assert posted


def test_every_verb_a_machine_can_list_has_its_endpoint(app):
    routes = {rule.rule for rule in app.url_map.iter_rules()}
    for machine, collection, noun in (
        (events.MACHINE, "events", "event"),
        (wishes.MACHINE, "wishes", "wish"),
    ):
        for verb in workflow.listed_verbs(machine):
            assert f"/api/v1/{collection}/<int:{noun}_id>/{verb}" in routes


def test_a_grid_worker_takes_an_event_accept_start_resolve_through_the_api(callers):
    grid = callers["grid"]
    event_id = _event_in("reported")
    for action, body, status in (
        ("accept", None, EventStatus.ACCEPTED),
        ("start", {"note": "已到现场"}, EventStatus.IN_PROGRESS),
        ("resolve", {"note": "已清理"}, EventStatus.RESOLVED),
    ):
        assert action in grid.get(f"/api/v1/events/{event_id}").get_json()["actions"]
        answer = grid.post(f"/api/v1/events/{event_id}/{action}", json=body)
        assert answer.status_code == 200, answer.get_json()
        assert answer.get_json()["status"] == status
        assert answer.get_json()["level"] == EventLevel.GRID
    history = answer.get_json()["history"]
    assert [step["action"] for step in history] == ["report", "accept", "start", "resolve"]
    assert history[2]["note"] == "已到现场"

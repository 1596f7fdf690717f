"""The resident's say (issue 15 §3): feedback on a resolved report, withdrawing a report, a rejected wish sent
again, and members asking to be released from a claim — through the services and the API."""

import pytest
from sqlalchemy import select
from test_api_wishes import Caller

from app.extensions import db
from app.models import AuditLog, EventFeedback, Member, User, Wish, WishStep
from app.models.callbacks import CallbackTask
from app.models.choices import EventAction, EventLevel, EventStatus, WishAction, WishStatus
from app.models.events import Event
from app.services import dashboard, event_queues, events, resident_say, wishes
from app.services.errors import Conflict, Forbidden, Invalid

pytestmark = pytest.mark.usefixtures("english")

GRID = "610404001001001"


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def reported(username: str = "resident") -> Event:
    event, _created = events.report_event(
        user(username),
        title="路灯不亮",
        description="5号楼前的路灯坏了一周",
        matter_code="HW-001",
        location_text="5号楼前",
    )
    db.session.commit()
    return event


def resolved(escalate: bool = False) -> Event:
    """A resident's report handled at the grid (or, escalated, at the community) and resolved there."""
    event = reported()
    grid = user("grid")
    events.accept_event(grid, event)
    events.start_event(grid, event)
    handler = grid
    if escalate:
        events.escalate_event(grid, event, "需要社区协调")
        handler = user("community")
    events.resolve_event(handler, event, "已更换灯泡")
    db.session.commit()
    return event


def waiting(staff: User, event: Event) -> bool:
    """Whether `event` is in `staff`'s queue (待办)."""
    condition = event_queues.queue_condition(staff)
    return db.session.scalar(select(Event.id).where(Event.id == event.id, condition)) is not None


@pytest.fixture
def api(client, demo):
    return lambda username: Caller(client, username)


# --- feedback ------------------------------------------------------------------------------------------
def test_not_fixed_reopens_the_event_at_the_level_that_resolved_it_with_the_words_in_its_history(demo):
    event = resolved(escalate=True)
    assert (event.status, event.level) == (EventStatus.RESOLVED, EventLevel.COMMUNITY)
    resident = user("resident")
    assert resident_say.feedback_due(resident, event)
    resident_say.give_feedback(resident, event, False, "poor", "灯还是不亮")
    db.session.commit()
    db.session.expire_all()
    event = db.session.get(Event, event.id)
    assert (event.status, event.level, event.resolved_at) == (
        EventStatus.IN_PROGRESS,
        EventLevel.COMMUNITY,
        None,
    )
    last = event.steps[-1]
    assert (last.action, last.actor_id, last.note) == (EventAction.NOT_FIXED, resident.id, "灯还是不亮")
    # back in the queue of the community that resolved it, not the grid's
    assert waiting(user("community"), event) and not waiting(user("grid"), event)
    assert not resident_say.feedback_due(resident, event)


def test_fixed_keeps_the_event_and_a_second_answer_is_a_conflict(demo):
    event = resolved()
    resident = user("resident")
    feedback = resident_say.give_feedback(resident, event, True, "good", "很快")
    db.session.commit()
    assert event.status == EventStatus.RESOLVED
    assert (feedback.fixed, feedback.rating, feedback.round) == (True, "good", 1)
    with pytest.raises(Conflict):
        resident_say.give_feedback(resident, event, True, "fair")
    db.session.rollback()
    audit = db.session.scalar(select(AuditLog).where(AuditLog.model == "EventFeedback"))
    assert audit is not None and audit.user_id == resident.id


def test_feedback_is_refused_to_others_before_resolution_and_without_words_when_not_fixed(demo):
    event = reported()
    with pytest.raises(Conflict):
        resident_say.give_feedback(user("resident"), event, True, "good")
    events.accept_event(user("grid"), event)
    events.start_event(user("grid"), event)
    events.resolve_event(user("grid"), event, "已处理")
    with pytest.raises(Forbidden):
        resident_say.give_feedback(user("member"), event, True, "good")
    with pytest.raises(Forbidden):
        resident_say.give_feedback(user("grid"), event, True, "good")
    with pytest.raises(Invalid) as refused:
        resident_say.give_feedback(user("resident"), event, False, "meh", "")
    assert set(refused.value.errors) == {"rating", "comment"}


def test_not_fixed_after_verification_closes_the_callback_task_unsatisfied(demo):
    event = resolved()
    events.verify_event(user("grid"), event, True)
    db.session.commit()
    resident_say.give_feedback(user("resident"), event, False, "poor", "又坏了")
    db.session.commit()
    task = db.session.scalar(select(CallbackTask).where(CallbackTask.subject_id == event.id))
    assert (task.status, task.outcome, task.note) == ("done", "unsatisfied", "又坏了")
    assert event.status == EventStatus.IN_PROGRESS


def test_a_report_resolved_again_is_asked_again(demo):
    event = resolved()
    resident_say.give_feedback(user("resident"), event, False, "poor", "没修好")
    events.resolve_event(user("grid"), event, "再次更换")
    db.session.commit()
    assert resident_say.feedback_due(user("resident"), event)
    assert resident_say.give_feedback(user("resident"), event, True, "fair").round == 2


def test_the_rating_shows_on_the_dashboard(demo, login_as):
    event = resolved()
    resident_say.give_feedback(user("resident"), event, False, "poor", "没修好")
    db.session.commit()
    figures = dashboard.area_figures(user("community"), dashboard.Period())
    say = figures["satisfaction"]
    assert say["answered"] >= 1 and say["not_fixed"] >= 1 and say["ratings"]["poor"] >= 1
    page = login_as("community").get("/admin/").get_data(as_text=True)
    assert "Residents&#39; say on resolved reports" in page or "Residents' say on resolved reports" in page


def test_api_feedback_reporter_only_once_and_only_when_resolved(api, demo):
    event = reported()
    resident = api("resident")
    body = {"fixed": False, "rating": "poor", "comment": "没修好"}
    response = resident.post(f"/api/v1/events/{event.id}/feedback", json=body)
    assert response.status_code == 409
    event = resolved()
    assert resident.get(f"/api/v1/events/{event.id}").get_json()["feedback_due"] is True
    assert api("member").post(f"/api/v1/events/{event.id}/feedback", json=body).status_code == 404
    assert api("grid").post(f"/api/v1/events/{event.id}/feedback", json=body).status_code == 403
    response = resident.post(f"/api/v1/events/{event.id}/feedback", json=body)
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert answer["status"] == "in_progress" and answer["history"][-1]["action"] == "not_fixed"
    assert answer["feedback"][0]["rating"] == "poor" and answer["feedback_due"] is False
    assert resident.post(f"/api/v1/events/{event.id}/feedback", json=body).status_code == 409
    staff = api("grid").get(f"/api/v1/events/{event.id}").get_json()
    assert staff["feedback"][0]["comment"] == "没修好"


def test_api_feedback_fair_is_stored_as_average(api, demo):
    event = resolved()
    body = {"fixed": True, "rating": "fair"}
    assert api("resident").post(f"/api/v1/events/{event.id}/feedback", json=body).status_code == 200
    assert db.session.scalar(select(EventFeedback.rating)) == "average"


# --- withdraw ------------------------------------------------------------------------------------------
def test_the_reporter_withdraws_before_acceptance_only(api, demo):
    event = reported()
    assert "withdraw" in api("resident").get(f"/api/v1/events/{event.id}").get_json()["actions"]
    assert api("member").post(f"/api/v1/events/{event.id}/withdraw").status_code == 404
    assert api("grid").post(f"/api/v1/events/{event.id}/withdraw").status_code == 403
    response = api("resident").post(f"/api/v1/events/{event.id}/withdraw", json={"note": "自己修好了"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "withdrawn"
    assert response.get_json()["actions"] == []
    assert not waiting(user("grid"), event)
    second = reported()
    events.accept_event(user("grid"), second)
    db.session.commit()
    assert api("resident").post(f"/api/v1/events/{second.id}/withdraw").status_code == 409


# --- resubmit ------------------------------------------------------------------------------------------
def rejected_wish() -> Wish:
    wish = wishes.post_wish(user("resident"), title="修水管", description="厨房漏水", category_code="elderly")
    wishes.reject_wish(user("grid"), wish, "请写清楼号")
    db.session.commit()
    return wish


def test_a_rejected_wish_is_edited_and_sent_back_to_review(api, demo):
    wish = rejected_wish()
    assert "resubmit" in api("resident").get(f"/api/v1/wishes/{wish.id}").get_json()["actions"]
    assert api("member").post(f"/api/v1/wishes/{wish.id}/resubmit", json={"title": "x"}).status_code == 404
    response = api("resident").post(
        f"/api/v1/wishes/{wish.id}/resubmit", json={"title": "修水管（3号楼201）"}
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["status"], body["title"]) == ("submitted", "修水管（3号楼201）")
    assert [s["action"] for s in body["history"]] == ["post", "reject", "resubmit"]
    assert api("resident").post(f"/api/v1/wishes/{wish.id}/resubmit", json={}).status_code == 409
    db.session.expire_all()
    assert db.session.get(Wish, wish.id).reject_reason is None


def test_resubmit_refuses_a_blank_title_and_other_people(demo):
    wish = rejected_wish()
    with pytest.raises(Invalid):
        resident_say.resubmit_wish(user("resident"), wish, title="  ")
    with pytest.raises(Forbidden):
        resident_say.resubmit_wish(user("member"), wish, title="别人的")


# --- release with a reason -------------------------------------------------------------------------------
def claimed_wish() -> Wish:
    wish = wishes.post_wish(user("resident"), title="买菜", description=None, category_code="elderly")
    wishes.publish_wish(user("grid"), wish)
    wishes.claim_wish(user("member"), wish)
    db.session.commit()
    return wish


def test_release_needs_a_reason_which_goes_into_the_history_and_the_count(api, demo):
    wish = claimed_wish()
    caller = api("member")
    assert caller.post(f"/api/v1/wishes/{wish.id}/release").status_code == 422
    response = caller.post(f"/api/v1/wishes/{wish.id}/release", json={"reason": "临时出差"})
    assert response.status_code == 200, response.get_json()
    step = db.session.scalar(select(WishStep).where(WishStep.wish_id == wish.id).order_by(WishStep.id.desc()))
    assert (step.action, step.note) == (WishAction.RELEASE, "临时出差")
    member = db.session.scalar(select(Member).where(Member.user_id == user("member").id))
    assert resident_say.recent_releases(member) == 1
    db.session.expire_all()
    assert db.session.get(Wish, wish.id).status == WishStatus.PUBLISHED


# --- the site ------------------------------------------------------------------------------------------
def test_the_report_page_asks_the_reporter_and_not_fixed_sends_it_back(login_as):
    event = resolved()
    client = login_as("resident")
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "Is it fixed? Tell us" in page and 'name="feedback-fixed"' in page
    response = client.post(
        f"/events/{event.id}/feedback",
        data={"feedback-fixed": "false", "feedback-rating": "poor", "feedback-comment": "灯还是不亮"},
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Event, event.id).status == EventStatus.IN_PROGRESS
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "Your say: not fixed" in page and "Is it fixed? Tell us" not in page
    again = client.post(
        f"/events/{event.id}/feedback", data={"feedback-fixed": "true", "feedback-rating": "good"}
    )
    assert again.status_code == 303  # refused: flashed on the report page
    assert len(resident_say.feedback_of(db.session.get(Event, event.id))) == 1
    assert login_as("member").post(f"/events/{event.id}/feedback", data={}).status_code == 404


def test_the_site_withdraws_a_report_and_sends_a_rejected_wish_again(login_as):
    event = reported()
    client = login_as("resident")
    assert "Withdraw this report" in client.get(f"/events/{event.id}").get_data(as_text=True)
    assert client.post(f"/events/{event.id}/withdraw").status_code == 303
    db.session.expire_all()
    assert db.session.get(Event, event.id).status == EventStatus.WITHDRAWN
    wish = rejected_wish()
    page = client.get(f"/wishes/{wish.id}").get_data(as_text=True)
    assert 'value="修水管"' in page and "Send it again for review" in page
    response = client.post(
        f"/wishes/{wish.id}/resubmit",
        data={
            "resubmit-title": "修水管（3号楼）",
            "resubmit-category": "elderly",
            "resubmit-description": "漏水",
        },
    )
    assert response.status_code == 303
    db.session.expire_all()
    wish = db.session.get(Wish, wish.id)
    assert (wish.status, wish.title) == (WishStatus.SUBMITTED, "修水管（3号楼）")

"""Events in the back office: quick reports, each role's queue, the ladder as buttons, supervision notices, campaigns."""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, func, select

from app.extensions import db
from app.models import AuditLog, CallbackTask, Department, Dispatch, Event, Matter, User
from app.models.base import utcnow
from app.models.events import Campaign, EventStep, Supervision
from app.services import events as service
from app.services.event_sla import sweep

pytestmark = pytest.mark.usefixtures("english")
GRID_A = "610404001001001"  # the demo grid worker "grid"
GRID_B = "610404001001002"  # "grid2"


@pytest.fixture
def people(demo):
    """The demo district without its events, so every listed event is one the test made."""
    for model in (Supervision, Dispatch, EventStep, Event):
        db.session.execute(delete(model))
    db.session.execute(delete(CallbackTask).where(CallbackTask.subject_type == "event"))
    db.session.commit()
    return {u.username: u for u in db.session.scalars(select(User))}


def report(people, title="楼道堆物", grid=GRID_A, matter="HW-001", who="grid", at=None) -> Event:
    event, _created = service.report_event(
        people[who], title=title, description=None, matter_code=matter, grid_code=grid, now=at
    )
    db.session.commit()
    return event


def reload(event: Event) -> Event:
    db.session.expire_all()
    return db.session.get(Event, event.id)


def listed_ids(page: str) -> list[int]:
    ids = []
    for i in re.findall(r"/details/\?id=(\d+)", page):
        if int(i) not in ids:
            ids.append(int(i))
    return ids


def text(response) -> str:
    return response.get_data(as_text=True)


def act(client, event, verb, **form):
    return client.post(f"/admin/event/transition/{verb}/?id={event.id}", data=form)


def matter_id(code: str) -> int:
    return db.session.scalar(select(Matter.id).where(Matter.code == code))


# --- reporting -------------------------------------------------------------------------------------
def test_a_grid_worker_reports_from_the_quick_form_and_lands_on_the_event(people, login_as):
    client = login_as("grid")
    form = text(client.get("/admin/event/new/"))
    assert "Report an event" in form and 'name="location_text"' in form
    grid_id = people["grid"].area.id
    response = client.post(
        "/admin/event/new/",
        data={
            "matter": matter_id("HW-001"),
            "grid": grid_id,
            "title": "垃圾桶满溢",
            "location_text": "5号楼旁",
            "description": "三天未清运",
            "acting_for": "陈秀英",
        },
    )
    assert response.status_code == 302
    event = db.session.scalar(select(Event).where(Event.title == "垃圾桶满溢"))
    assert response.headers["Location"].endswith(f"/admin/event/details/?id={event.id}")
    assert (event.grid_code, event.level, event.status, event.source) == (
        GRID_A,
        "grid",
        "reported",
        "patrol",
    )
    assert event.acting_for == "陈秀英" and event.reporter_id == people["grid"].id
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.model == "Event", AuditLog.object_id == str(event.id))
        )
        == 1
    )


@pytest.mark.parametrize(
    "change, field",
    [
        ({"matter": ""}, "matter"),
        ({"grid": "other"}, "grid"),
        ({"title": ""}, "title"),
        ({"matter": "non-admitted"}, "matter"),
    ],
)
def test_a_bad_quick_report_shows_the_error_and_writes_nothing(people, login_as, change, field):
    other_grid = db.session.scalar(select(User).where(User.username == "grid2")).area.id
    values = {"matter": matter_id("HW-001"), "grid": people["grid"].area.id, "title": "井盖缺失"}
    values.update(change)
    if values["grid"] == "other":
        values["grid"] = other_grid
    if values["matter"] == "non-admitted":
        values["matter"] = matter_id("MZ-002")  # not admitted to the grid's matter list
    response = login_as("grid").post("/admin/event/new/", data=values)
    invalid = re.findall(r'<(?:input|select|textarea)[^>]*is-invalid[^>]*id="(\w+)"', text(response))
    assert response.status_code == 200 and invalid == [field]
    assert db.session.scalar(select(func.count()).select_from(Event)) == 0


# --- queues ----------------------------------------------------------------------------------------
def test_each_role_sees_its_own_queue_nearest_deadline_first(people, login_as):
    now = utcnow()
    late = report(people, "早上报的", at=now - timedelta(hours=2))  # respond deadline long past
    fresh = report(people, "刚上报的")
    elsewhere = report(people, "别的网格", grid=GRID_B, who="grid2")
    climbing = report(people, "要上报社区的")
    service.accept_event(people["grid"], climbing)
    service.escalate_event(people["grid"], climbing, "网格处置不了")
    db.session.commit()

    grid_page = text(login_as("grid").get("/admin/event_queue/"))
    assert listed_ids(grid_page) == [late.id, fresh.id]
    assert grid_page.count("og-overdue") == 1
    community_ids = listed_ids(text(login_as("community").get("/admin/event_queue/")))
    assert community_ids == [climbing.id]
    assert elsewhere.id in listed_ids(text(login_as("grid2").get("/admin/event_queue/")))
    assert listed_ids(text(login_as("dept").get("/admin/event_queue/"))) == []


def test_a_department_sees_only_what_was_dispatched_to_it(people, login_as):
    event = report(people, "占道经营")
    other = report(people, "无关事件")
    service.accept_event(people["grid"], event)
    service.escalate_event(people["grid"], event, "需执法")
    service.escalate_event(people["community"], event, "需街道协调")
    service.dispatch_event(people["street"], event, [people["dept"].department.code])
    db.session.commit()
    client = login_as("dept")
    assert listed_ids(text(client.get("/admin/event_queue/"))) == [event.id]
    assert listed_ids(text(client.get("/admin/event/"))) == [event.id]
    assert client.get(f"/admin/event/details/?id={other.id}").status_code == 404


def test_the_home_page_counts_what_waits_and_what_is_overdue(people, login_as):
    report(people, "早上报的", at=utcnow() - timedelta(hours=2))
    report(people, "刚上报的")
    page = text(login_as("grid").get("/admin/"))
    assert 'data-queue-count="events">2<' in page and "1 is overdue." in page


# --- the ladder as buttons -------------------------------------------------------------------------
def test_the_whole_ladder_through_the_back_office_buttons(people, login_as, app):
    grid, community, street, dept = (login_as(u) for u in ("grid", "community", "street", "dept"))
    event = report(people, "沿街商户占道经营")
    page = text(grid.get(f"/admin/event/details/?id={event.id}"))
    assert 'data-event-action="accept"' in page and 'data-event-action="escalate"' not in page

    assert act(grid, event, "accept").status_code == 302
    assert act(grid, event, "escalate", reason="涉及执法").status_code == 302
    assert reload(event).level == "community"
    assert act(community, event, "escalate", reason="需街道协调").status_code == 302
    dispatch_page = text(street.get(f"/admin/event/transition/dispatch/?id={event.id}"))
    assert 'name="departments"' in dispatch_page
    second = db.session.scalars(
        select(Department).where(Department.id != people["dept"].department_id)
    ).first()
    assert (
        act(street, event, "dispatch", departments=[people["dept"].department.code, second.code]).status_code
        == 302
    )
    assert reload(event).level == "department" and len(reload(event).dispatches) == 2
    assert act(dept, event, "answer", note="已派员到场", done="1").status_code == 302
    service.answer_dispatch(
        _dept_user(second), reload(event), "已处理", True
    )  # the second department finishes too
    db.session.commit()
    assert act(street, event, "resolve", note="已清理").status_code == 302
    assert act(grid, event, "verify", passed="false", note="仍有摊位").status_code == 302
    assert reload(event).status == "in_progress"
    assert act(street, event, "resolve", note="复查后清理完毕").status_code == 302
    assert act(grid, event, "verify", passed="true", note="现场已清").status_code == 302
    task = db.session.scalar(
        select(CallbackTask).where(CallbackTask.subject_type == "event", CallbackTask.subject_id == event.id)
    )
    assert task is not None
    callback_page = text(grid.get("/admin/callback/?flt0_0=all"))
    assert f"/admin/event/details/?id={event.id}" in callback_page
    assert (
        grid.post(f"/admin/callback/record/?id={task.id}", data={"outcome": "satisfied"}).status_code == 302
    )
    assert reload(event).status == "closed"
    assert act(community, event, "archive", score="4").status_code == 302
    event = reload(event)
    assert (event.status, event.score) == ("archived", 4)
    steps = [s.action for s in event.steps]
    assert steps == [
        "report",
        "accept",
        "escalate",
        "escalate",
        "dispatch",
        "answer",
        "answer",
        "resolve",
        "verify_fail",
        "resolve",
        "verify",
        "close",
        "archive",
    ]
    history = text(grid.get(f"/admin/event/details/?id={event.id}"))
    assert history.count('data-step="') == len(steps) and "李网格" in history and "文汇社区工作站" in history


def _dept_user(department) -> User:
    """A department user for `department`, made for the test."""
    from app.services.users import create_user

    user = create_user(
        f"dept-{department.code.lower()}", "department", "dept-password-1", department_code=department.code
    )
    db.session.flush()
    return user


def test_a_step_by_the_wrong_person_is_refused_and_changes_nothing(people, login_as):
    event = report(people)
    service.accept_event(people["grid"], event)
    service.escalate_event(people["grid"], event, "网格处置不了")
    db.session.commit()
    client = login_as("grid")
    response = client.post(
        f"/admin/event/transition/escalate/?id={event.id}", data={"reason": "再上报"}, follow_redirects=True
    )
    assert "Only the staff handling this event" in text(response)
    assert reload(event).level == "community"
    assert client.post(f"/admin/event/transition/fly/?id={event.id}").status_code == 404
    assert login_as("grid2").get(f"/admin/event/details/?id={event.id}").status_code == 404


def test_a_step_missing_its_values_shows_the_field_error(people, login_as):
    event = report(people)
    client = login_as("grid")
    act(client, event, "accept")
    response = act(client, event, "escalate", reason="  ")
    assert response.status_code == 200 and "invalid-feedback" in text(response)
    assert reload(event).level == "grid"


# --- supervision notices ---------------------------------------------------------------------------
def test_a_missed_deadline_reaches_the_community_as_a_notice(people, login_as):
    event = report(people, "无人受理", at=utcnow() - timedelta(hours=1))
    other = report(people, "二网格也超时", grid=GRID_B, who="grid2", at=utcnow() - timedelta(hours=1))
    sweep()
    db.session.commit()
    page = text(login_as("community").get("/admin/supervision/"))
    assert f"/admin/event/details/?id={event.id}" in page and f"/admin/event/details/?id={other.id}" in page
    home = text(login_as("community").get("/admin/"))
    assert int(re.search(r'data-queue-count="supervisions">(\d+)<', home).group(1)) >= 2
    grid_page = text(login_as("grid").get("/admin/supervision/"))
    assert f"?id={event.id}" in grid_page and f"?id={other.id}" not in grid_page
    assert login_as("street").get("/admin/supervision/").status_code == 200

    service.accept_event(people["grid"], reload(event))  # meets the respond deadline: that notice settles
    service.start_event(people["grid"], reload(event), "已到现场")  # and the reply deadline
    db.session.commit()
    client = login_as("community")
    assert f"?id={event.id}" not in text(client.get("/admin/supervision/"))
    assert f"?id={event.id}" in text(client.get("/admin/supervision/?flt0_0=resolved"))


# --- campaigns -------------------------------------------------------------------------------------
def test_a_community_runs_a_campaign_and_events_join_it(people, login_as):
    client = login_as("community")
    community_area = people["community"].area
    today = date.today()
    bad = client.post(
        "/admin/campaign/new/",
        data={
            "name": "倒序",
            "area": community_area.id,
            "starts_on": today.isoformat(),
            "ends_on": (today - timedelta(days=1)).isoformat(),
        },
    )
    assert bad.status_code == 200 and db.session.scalar(select(func.count()).select_from(Campaign)) == 0
    response = client.post(
        "/admin/campaign/new/",
        data={
            "name": "楼道堆物清理月",
            "matter": matter_id("AQ-001"),
            "area": community_area.id,
            "starts_on": today.isoformat(),
            "ends_on": (today + timedelta(days=30)).isoformat(),
        },
    )
    assert response.status_code == 302
    campaign = db.session.scalar(select(Campaign))
    event, _ = service.report_event(
        people["grid"],
        title="楼道堆物",
        description=None,
        matter_code="AQ-001",
        grid_code=GRID_A,
        campaign_id=campaign.id,
    )
    assert event.campaign_id == campaign.id
    with pytest.raises(service.EventInvalid) as wrong_matter:
        service.report_event(
            people["grid"],
            title="垃圾",
            description=None,
            matter_code="HW-001",
            grid_code=GRID_A,
            campaign_id=campaign.id,
        )
    assert "campaign_id" in wrong_matter.value.errors
    assert login_as("grid").get("/admin/campaign/new/").status_code in (302, 403)


def test_the_quick_report_offers_the_campaigns_that_reach_the_workers_grid(people, login_as):
    today = date.today()
    for name, code, ends in (
        ("全区安全月", "610404", None),
        ("本社区整治", "610404001001", None),
        ("别的街道整治", "610404002", None),
        ("已结束", "610404", today - timedelta(days=1)),
    ):
        db.session.add(Campaign(name=name, area_code=code, starts_on=today - timedelta(days=5), ends_on=ends))
    db.session.commit()
    form = text(login_as("grid").get("/admin/event/new/"))
    assert "全区安全月" in form and "本社区整治" in form
    assert "别的街道整治" not in form and "已结束" not in form
    assert {c.name for c in service.running_campaigns(people["grid"])} == {"全区安全月", "本社区整治"}


@pytest.mark.chinese
def test_a_department_that_finished_hears_of_its_dispatch_and_is_offered_nothing_more(people, login_as):
    event = report(people, "占道经营")
    service.accept_event(people["grid"], event)
    service.escalate_event(people["grid"], event, "需执法")
    service.escalate_event(people["community"], event, "需街道协调")
    service.dispatch_event(people["street"], event, [people["dept"].department.code])
    db.session.commit()
    dept = login_as("dept")
    page = text(dept.get(f"/admin/event/details/?id={event.id}"))
    assert 'data-event-action="answer"' in page and "og-my-dispatch" in page
    answered = act(dept, event, "answer", note="已派员", done="")
    assert answered.status_code == 302
    page = text(dept.get(answered.headers["Location"]))
    assert "贵部门已答复" in page and 'data-event-action="answer"' in page  # the part is not done yet
    finished = act(dept, event, "answer", note="已清理完毕", done="1")
    assert finished.status_code == 302
    page = text(dept.get(finished.headers["Location"]))
    assert "贵部门的派单已办结，事件仍由街道工作人员跟进" in page
    assert (
        "进行中" not in page.split("og-my-dispatch")[0].split("alert")[-1]
    )  # the message is not the event's
    assert 'data-event-action="answer"' not in page
    details = text(dept.get(f"/admin/event/details/?id={event.id}"))
    assert 'data-event-action="' not in details and "贵部门的派单已办结" in details
    # the machine says so to every interface: no verb left, and a step tried anyway is a conflict
    assert service.interface_actions(people["dept"], reload(event)) == []
    again = act(dept, event, "answer", note="再来一次", done="1")
    assert again.status_code == 302 and reload(event).steps[-1].note == "已清理完毕"
    # the street still coordinates: it may report the event resolved now
    assert "resolve" in service.interface_actions(people["street"], reload(event))

"""Events through the JSON API: the ladder, scope, the hotline's idempotent intake, validation, the document."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from test_api_wishes import Caller, assert_error
from test_marketplace_events import age_demo_reports

from app.extensions import db
from app.models import Matter, User
from app.models.events import Campaign, Event, EventStep
from app.services.masking import mask_name
from app.services.users import create_user

pytestmark = pytest.mark.usefixtures("english")

GRID = "610404001001001"
COMMUNITY = "610404001001"
REPORT = {
    "title": "楼道堆放杂物",
    "description": "堵塞消防通道",
    "matter": "HW-001",
    "grid_code": GRID,
    "location_text": "3号楼2单元",
}


@pytest.fixture
def as_user(client, demo):
    """A factory: an API caller holding the token of a demo user, or of one made here (password given)."""
    return lambda username, password=None: Caller(client, username, password)


@pytest.fixture
def dept2(demo):
    """A duty officer of a second department (ZJ, housing and construction)."""
    create_user("dept2", "department", "dept2-password", department_code="ZJ", name="住建局值班员")
    db.session.commit()
    return "dept2", "dept2-password"


def act(caller: Caller, event_id: int, action: str, **body):
    return caller.post(f"/api/v1/events/{event_id}/{action}", json=body or None)


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def masked(username: str) -> str:
    user = db.session.scalar(select(User).where(User.username == username))
    return mask_name(user.name)


def count(model=Event, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_an_event_climbs_the_whole_ladder_and_every_step_names_its_actor(as_user, dept2):
    grid, community, street = as_user("grid"), as_user("community"), as_user("street")
    dept, zj = as_user("dept"), as_user(*dept2)

    event = ok(grid.post("/api/v1/events", json=REPORT), 201)
    assert (event["status"], event["level"], event["source"], event["matter"]) == (
        "reported",
        "grid",
        "patrol",
        "HW-001",
    )
    assert event["actions"] == ["accept"] and set(event["deadlines"]) == {"respond", "reply", "resolve"}
    eid = event["id"]
    assert ok(act(grid, eid, "accept"))["status"] == "accepted"
    assert ok(act(grid, eid, "escalate", reason="需社区协调"))["level"] == "community"
    assert ok(act(community, eid, "escalate", reason="需街道吹哨", major=False))["level"] == "street"
    dispatched = ok(act(street, eid, "dispatch", departments=["HW", "ZJ"]))
    assert (dispatched["status"], dispatched["level"]) == ("in_progress", "department")
    assert [(d["department"], d["status"]) for d in dispatched["dispatches"]] == [
        ("HW", "pending"),
        ("ZJ", "pending"),
    ]
    assert "answer" in ok(dept.get(f"/api/v1/events/{eid}"))["actions"]

    ok(act(dept, eid, "answer", note="已安排执法队员"))
    assert_error(act(street, eid, "resolve", note="已处理"), 409, "dispatches_open")
    ok(act(dept, eid, "answer", note="已清理完毕", done=True))
    answered = ok(act(zj, eid, "answer", note="已督促物业整改", done=True))
    assert [
        (d["department"], d["status"], [a["note"] for a in d["answers"]]) for d in answered["dispatches"]
    ] == [("HW", "done", ["已安排执法队员", "已清理完毕"]), ("ZJ", "done", ["已督促物业整改"])]

    assert ok(act(street, eid, "resolve", note="各部门已处置完毕"))["status"] == "resolved"
    assert ok(act(grid, eid, "verify", passed=False, note="杂物仍有残留"))["status"] == "in_progress"
    ok(act(street, eid, "resolve", note="残留杂物已清走"))
    verified = ok(act(grid, eid, "verify", passed=True, note="现场核实"))
    assert verified["status"] == "verified" and verified["actions"] == ["callback"]
    assert ok(act(grid, eid, "callback", satisfied=True, note="居民满意"))["status"] == "closed"
    archived = ok(act(community, eid, "archive", score=4))

    assert (archived["status"], archived["score"], archived["actions"]) == ("archived", 4, [])
    assert [(s["action"], s["actor"], s["from"], s["to"], s["to_level"]) for s in archived["history"]] == [
        ("report", masked("grid"), None, "reported", "grid"),
        ("accept", masked("grid"), "reported", "accepted", "grid"),
        ("escalate", masked("grid"), "accepted", "accepted", "community"),
        ("escalate", masked("community"), "accepted", "accepted", "street"),
        ("dispatch", masked("street"), "accepted", "in_progress", "department"),
        ("answer", masked("dept"), "in_progress", "in_progress", "department"),
        ("answer", masked("dept"), "in_progress", "in_progress", "department"),
        ("answer", masked("dept2"), "in_progress", "in_progress", "department"),
        ("resolve", masked("street"), "in_progress", "resolved", "department"),
        ("verify_fail", masked("grid"), "resolved", "in_progress", "department"),
        ("resolve", masked("street"), "in_progress", "resolved", "department"),
        ("verify", masked("grid"), "resolved", "verified", "department"),
        ("close", masked("grid"), "verified", "closed", "department"),
        ("archive", masked("community"), "closed", "archived", "department"),
    ]
    assert archived["history"][1]["at"].endswith("+00:00")
    assert ok(grid.get(f"/api/v1/events/{eid}"))["history"] == archived["history"]


def test_a_department_sees_only_the_events_dispatched_to_it(as_user, dept2):
    grid, street, dept, zj = as_user("grid"), as_user("street"), as_user("dept"), as_user(*dept2)
    eid = ok(grid.post("/api/v1/events", json=REPORT), 201)["id"]
    ok(act(grid, eid, "accept"))
    assert_error(zj.get(f"/api/v1/events/{eid}"), 404, "not_found")  # not dispatched to anyone yet

    ok(act(grid, eid, "escalate", reason="需社区协调"))
    ok(act(as_user("community"), eid, "escalate", reason="需街道吹哨"))
    ok(act(street, eid, "dispatch", departments=["ZJ"]))

    assert ok(zj.get(f"/api/v1/events/{eid}"))["actions"] == ["answer"]
    assert [e["id"] for e in ok(zj.get("/api/v1/events"))["items"]] == [eid]
    assert_error(dept.get(f"/api/v1/events/{eid}"), 404, "not_found")
    assert_error(act(dept, eid, "answer", note="不归我们管", done=True), 404)
    assert eid not in [e["id"] for e in ok(dept.get("/api/v1/events?per_page=100"))["items"]]
    assert all(e["level"] == "department" for e in ok(dept.get("/api/v1/events"))["items"])  # the demo's one


def test_a_grid_worker_cannot_act_on_a_community_level_event(as_user):
    grid = as_user("grid")
    eid = ok(grid.post("/api/v1/events", json=REPORT), 201)["id"]
    ok(act(grid, eid, "accept"))
    escalated = ok(act(grid, eid, "escalate", reason="需社区协调"))
    assert escalated["actions"] == []
    steps = count(EventStep, EventStep.event_id == eid)

    assert_error(act(grid, eid, "escalate", reason="再往上"), 403, "forbidden")
    assert_error(act(grid, eid, "resolve", note="已处理"), 403, "forbidden")

    assert count(EventStep, EventStep.event_id == eid) == steps
    assert ok(grid.get(f"/api/v1/events/{eid}"))["level"] == "community"
    assert "escalate" in ok(as_user("community").get(f"/api/v1/events/{eid}"))["actions"]


def test_the_hotline_sending_one_ticket_twice_gets_one_event(as_user):
    hotline = as_user("hotline")
    key = {"Idempotency-Key": "12345-20261126-0001", **hotline.headers}
    events_before = count()

    first = hotline.client.post("/api/v1/events", json=REPORT, headers=key)
    again = hotline.client.post("/api/v1/events", json={**REPORT, "title": "重复推送"}, headers=key)

    created, repeated = ok(first, 201), ok(again, 200)
    assert repeated["id"] == created["id"] and repeated["title"] == REPORT["title"]
    assert (created["source"], created["external_ref"]) == ("hotline", "12345-20261126-0001")
    assert count() == events_before + 1
    assert count(EventStep, EventStep.event_id == created["id"]) == 1


def test_a_ticket_id_used_by_another_client_is_refused(as_user, client):
    create_user("hotline2", "integration", "hotline2-password", name="另一热线")
    db.session.commit()
    key = "12345-20261126-0002"
    ok(
        client.post(
            "/api/v1/events", json=REPORT, headers={"Idempotency-Key": key, **as_user("hotline").headers}
        ),
        201,
    )

    other = client.post(
        "/api/v1/events",
        json=REPORT,
        headers={"Idempotency-Key": key, **as_user("hotline2", "hotline2-password").headers},
    )
    assert_error(other, 409, "idempotency_conflict")
    staff = client.post(
        "/api/v1/events", json=REPORT, headers={"Idempotency-Key": "mine", **as_user("grid").headers}
    )
    assert ok(staff, 201)["external_ref"] is None  # for everyone else an ordinary Idempotency-Key
    too_long = client.post(
        "/api/v1/events", json=REPORT, headers={"Idempotency-Key": "x" * 65, **as_user("hotline").headers}
    )
    assert "Idempotency-Key" in assert_error(too_long, 422)["fields"]
    assert count(Event, Event.external_ref == key) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"matter": "XX-999"}, "matter"),  # unknown
        ({"matter": "MZ-002"}, "matter"),  # not admitted to the grid list (准入)
        ({"grid_code": COMMUNITY}, "grid_code"),  # a community, not a grid
        ({"grid_code": "12345"}, "grid_code"),  # not an area code at all
        ({"title": ""}, "title"),
        ({"source": "rumour"}, "source"),
        ({"campaign_id": 999_999}, "campaign_id"),  # no such campaign
        ({"campaign_id": "3"}, "campaign_id"),  # not a number
    ],
)
def test_bad_reports_name_the_field_and_write_nothing(as_user, change, field):
    events_before, steps_before = count(), count(EventStep)

    error = assert_error(as_user("grid").post("/api/v1/events", json={**REPORT, **change}), 422)

    assert field in error["fields"]
    assert (count(), count(EventStep)) == (events_before, steps_before)


def test_a_report_joins_a_running_campaign_of_its_area(as_user):
    campaign = Campaign(
        name="垃圾清运专项",
        matter_id=db.session.scalar(select(Matter.id).where(Matter.code == "HW-001")),
        area_code=GRID[:12],
        starts_on=date.today() - timedelta(days=1),
    )
    db.session.add(campaign)
    db.session.commit()
    body = ok(as_user("grid").post("/api/v1/events", json={**REPORT, "campaign_id": campaign.id}), 201)
    assert body["campaign_id"] == campaign.id
    assert db.session.get(Event, body["id"]).campaign_id == campaign.id


def test_bad_action_bodies_are_refused_with_the_field_and_change_nothing(as_user):
    grid = as_user("grid")
    eid = ok(grid.post("/api/v1/events", json=REPORT), 201)["id"]
    assert "reason" in assert_error(act(grid, eid, "escalate", major=True), 422)["fields"]
    assert_error(act(grid, eid, "escalate", reason="先受理再上报"), 409, "state_conflict")  # not accepted yet
    assert "score" in assert_error(act(as_user("community"), eid, "archive", score=7), 422)["fields"]
    assert_error(act(grid, 999_999, "accept"), 404, "not_found")
    assert ok(grid.get(f"/api/v1/events/{eid}"))["status"] == "reported"
    assert count(EventStep, EventStep.event_id == eid) == 1


def test_the_event_list_filters_and_pages(as_user):
    grid = as_user("grid")
    eid = ok(grid.post("/api/v1/events", json={**REPORT, "matter": "WY-002"}), 201)["id"]

    newest = ok(grid.get("/api/v1/events?per_page=1"))
    assert ([e["id"] for e in newest["items"]], newest["has_next"]) == ([eid], True)
    by_matter = ok(grid.get("/api/v1/events?matter=WY-002&status=reported&level=grid&source=patrol"))["items"]
    assert [e["id"] for e in by_matter] == [eid]
    assert ok(grid.get(f"/api/v1/events?area={COMMUNITY}"))["items"]
    assert ok(grid.get("/api/v1/events?area=610404002"))["items"] == []
    assert "status" in assert_error(grid.get("/api/v1/events?status=lost"), 422)["fields"]
    assert "per_page" in assert_error(grid.get("/api/v1/events?per_page=101"), 422)["fields"]
    assert_error(grid.client.get("/api/v1/events"), 401, "missing_token")


def test_a_resident_sees_only_what_they_reported(as_user):
    resident = as_user("resident")
    mine = ok(resident.post("/api/v1/events", json={**REPORT, "grid_code": None}), 201)
    assert (mine["source"], mine["grid_code"], mine["actions"]) == ("resident", GRID, ["withdraw"])
    listed = ok(resident.get("/api/v1/events?per_page=100"))["items"]
    reporter_ids = set(
        db.session.scalars(select(Event.reporter_id).where(Event.id.in_([e["id"] for e in listed])))
    )
    assert mine["id"] in [e["id"] for e in listed]
    assert reporter_ids == {db.session.scalar(select(User.id).where(User.username == "resident"))}


def test_a_resident_reports_through_the_api_only_into_their_own_grid_and_with_the_site_s_required_fields(
    as_user,
):
    resident, before = as_user("resident"), count()
    other_street = assert_error(
        resident.post("/api/v1/events", json={**REPORT, "grid_code": "610404002001001"}), 422
    )
    assert "own grid" in other_street["fields"]["grid_code"][0]
    bare = assert_error(resident.post("/api/v1/events", json={"title": "路灯不亮", "matter": "HW-001"}), 422)
    assert {"description", "location_text"} <= set(bare["fields"])
    assert count() == before
    grid = as_user("grid")  # staff may still leave both out (a quick note from patrol)
    ok(grid.post("/api/v1/events", json={"title": "路灯不亮", "matter": "HW-001", "grid_code": GRID}), 201)


def test_the_report_limit_counts_the_site_and_the_api_together(app, as_user, login_as):
    app.config["EVENT_REPORT_RATE_LIMIT"] = "2 per hour"
    age_demo_reports()
    try:
        site = login_as("resident")
        assert (
            site.post(
                "/events/new",
                data={"matter": "HW-001", "description": "楼道堆放杂物", "location_text": "3号楼"},
            ).status_code
            == 303
        )
        resident = as_user("resident")
        ok(resident.post("/api/v1/events", json=REPORT), 201)
        before = count()
        refused = resident.post("/api/v1/events", json=REPORT)
        assert_error(refused, 429, "too_many_reports")
        assert 0 < int(refused.headers["Retry-After"]) <= 3600
        on_site = site.post(
            "/events/new", data={"matter": "HW-001", "description": "又堆上了", "location_text": "3号楼"}
        )
        assert on_site.status_code == 429 and on_site.headers["Retry-After"]
        assert count() == before
        ok(as_user("member").post("/api/v1/events", json={**REPORT, "grid_code": None}), 201)  # per reporter
    finally:
        app.config["EVENT_REPORT_RATE_LIMIT"] = ""


def test_the_openapi_document_lists_the_event_endpoints(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert set(paths["/api/v1/events"]) == {"get", "post"}
    post = paths["/api/v1/events"]["post"]
    assert {"200", "201", "401", "409", "422"} <= set(post["responses"])
    assert any(p["in"] == "header" and p["name"] == "Idempotency-Key" for p in post["parameters"])
    for action in ("accept", "escalate", "dispatch", "answer", "resolve", "verify", "callback", "archive"):
        responses = paths[f"/api/v1/events/{{event_id}}/{action}"]["post"]["responses"]
        assert {"200", "401", "403", "404", "409", "422"} <= set(responses), action

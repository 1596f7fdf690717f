"""Every change is audited by the services, with the channel it came through (site, API, back office, job,
command line), the actor, the client's address and before/after, in the change's own transaction."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.jobs.scheduler import run_periodic
from app.models import AuditLog, User, Wish, WishCategory
from app.models.base import utcnow
from app.models.events import Event
from app.services import audit, events
from app.services.demo import DEMO_PASSWORDS

PUBLISHED, DONE, CLAIMED, SUBMITTED = (
    "陪老人去医院复查",
    "楼道声控灯不亮",
    "孩子周末数学辅导",
    "修理漏水的水龙头",
)
GRID = "610404001001001"
ADDRESS = "203.0.113.7"
REPORT = {
    "title": "楼道堆放杂物",
    "description": "堵塞消防通道",
    "matter": "HW-001",
    "grid_code": GRID,
    "location_text": "3号楼2单元",
}


def wish_titled(title: str) -> Wish:
    db.session.expire_all()
    return db.session.scalar(select(Wish).where(Wish.title == title))


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def entries(model: str, object_id) -> list[AuditLog]:
    db.session.expire_all()
    return db.session.scalars(
        select(AuditLog)
        .where(AuditLog.model == model, AuditLog.object_id == str(object_id))
        .order_by(AuditLog.id)
    ).all()


def the_step(model: str, object_id) -> AuditLog:
    rows = entries(model, object_id)
    assert len(rows) == 1, [(r.action, r.channel, r.after) for r in rows]
    return rows[0]


@pytest.fixture
def site(app, demo):
    """A factory: a site client logged in as a demo user, calling from ADDRESS."""

    def make(username: str):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = ADDRESS
        response = client.post("/login", data={"username": username, "password": DEMO_PASSWORDS[username][0]})
        assert response.status_code in (302, 303)
        return client

    return make


@pytest.fixture
def api(app, demo):
    """A factory: post(url, json) to the API with a demo user's bearer token, from ADDRESS."""

    def make(username: str):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = ADDRESS
        token = client.post(
            "/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORDS[username][0]}
        ).get_json()["token"]
        return lambda url, json=None: client.post(
            url, json=json, headers={"Authorization": f"Bearer {token}"}
        )

    return make


# --- the site ---------------------------------------------------------------------------------------
def test_a_claim_on_the_site_leaves_one_audit_row_saying_site(site):
    wish = wish_titled(PUBLISHED)
    assert site("member").post(f"/wishes/{wish.id}/claim").status_code == 303

    row = the_step("Wish", wish.id)
    assert (row.channel, row.username, row.user_id, row.ip) == ("site", "member", user("member").id, ADDRESS)
    assert (row.action, row.area_code) == ("update", GRID)
    assert row.before == {"status": "published"}
    assert row.after["status"] == "claimed" and row.after["step"] == "claim"
    assert row.after["claimed_by_id"] == wish_titled(PUBLISHED).claimed_by_id


def test_a_confirmation_on_the_site_leaves_one_audit_row_saying_site(site):
    wish = wish_titled(DONE)
    response = site("resident").post(
        f"/wishes/{wish.id}/confirm", data={"confirm-rating": "good", "confirm-comment": "谢谢"}
    )
    assert response.status_code == 303

    row = the_step("Wish", wish.id)
    assert (row.channel, row.username, row.ip) == ("site", "resident", ADDRESS)
    assert row.before == {"status": "done"}
    assert (row.after["status"], row.after["step"], row.after["rating"]) == ("confirmed", "confirm", "good")


def test_an_event_reported_on_the_site_leaves_one_audit_row_saying_site(site):
    response = site("resident").post(
        "/events/new",
        data={
            "matter": "HW-001",
            "description": "路口的垃圾箱满了三天，没人清运。",
            "location_text": "5号楼东侧",
            "title": "",
        },
    )
    assert response.status_code == 303
    event = db.session.scalar(select(Event).order_by(Event.id.desc()))

    row = the_step("Event", event.id)
    assert (row.channel, row.username, row.ip, row.action, row.area_code) == (
        "site",
        "resident",
        ADDRESS,
        "create",
        event.grid_code,
    )
    assert row.before is None and (row.after["status"], row.after["level"]) == ("reported", "grid")


def test_a_refused_step_leaves_no_audit_row(site):
    wish = wish_titled(CLAIMED)  # claimed by the demo member already
    site("resident").post(f"/wishes/{wish.id}/claim")
    site("member").post(f"/wishes/{wish.id}/confirm", data={"confirm-rating": "good"})

    assert entries("Wish", wish.id) == []


# --- the API ----------------------------------------------------------------------------------------
def test_a_claim_and_a_confirmation_through_the_api_each_leave_one_row_saying_api(api):
    claimed, done = wish_titled(PUBLISHED), wish_titled(DONE)
    assert api("member")(f"/api/v1/wishes/{claimed.id}/claim").status_code == 200
    assert api("resident")(f"/api/v1/wishes/{done.id}/confirm", {"rating": "average"}).status_code == 200

    claim, confirmation = the_step("Wish", claimed.id), the_step("Wish", done.id)
    assert (claim.channel, claim.username, claim.ip, claim.before, claim.after["status"]) == (
        "api",
        "member",
        ADDRESS,
        {"status": "published"},
        "claimed",
    )
    assert (confirmation.channel, confirmation.username, confirmation.ip) == ("api", "resident", ADDRESS)
    assert (confirmation.before, confirmation.after["status"], confirmation.after["rating"]) == (
        {"status": "done"},
        "confirmed",
        "average",
    )


def test_an_event_step_through_the_api_is_audited_with_its_level(api):
    grid = api("grid")
    event_id = grid("/api/v1/events", REPORT).get_json()["id"]
    assert grid(f"/api/v1/events/{event_id}/accept").status_code == 200

    report, row = entries("Event", event_id)
    assert (report.action, report.channel, report.after["status"]) == ("create", "api", "reported")
    assert (row.channel, row.username, row.ip, row.area_code) == ("api", "grid", ADDRESS, GRID)
    assert row.before == {"status": "reported", "level": "grid"}
    assert (row.after["status"], row.after["level"], row.after["step"]) == ("accepted", "grid", "accept")


def test_a_refused_api_step_leaves_no_audit_row(api):
    wish = wish_titled(CLAIMED)
    assert api("resident")(f"/api/v1/wishes/{wish.id}/claim").status_code in (403, 409)
    assert entries("Wish", wish.id) == []


# --- the back office, jobs, the command line -------------------------------------------------------------
def test_a_back_office_edit_is_audited_once_saying_admin(login_as):
    client = login_as("admin")
    client.environ_base["REMOTE_ADDR"] = ADDRESS
    category = db.session.scalar(select(WishCategory).order_by(WishCategory.id))
    response = client.post(
        f"/admin/wishcategory/edit/?id={category.id}",
        data={"code": category.code, "name": "新的名称", "position": category.position or 0},
    )
    assert response.status_code == 302

    row = the_step("WishCategory", category.id)
    assert (row.channel, row.username, row.ip, row.action) == ("admin", "admin", ADDRESS, "update")
    assert row.after["name"] == "新的名称"


def test_a_back_office_step_is_audited_once_by_the_engine_saying_admin(login_as):
    wish = wish_titled(SUBMITTED)
    client = login_as("grid")
    client.environ_base["REMOTE_ADDR"] = ADDRESS
    assert client.post(f"/admin/wish/transition/publish/?id={wish.id}").status_code == 302

    row = the_step("Wish", wish.id)  # the engine's row only: the view writes none of its own
    assert (row.channel, row.username, row.ip) == ("admin", "grid", ADDRESS)
    assert (row.before, row.after["status"], row.after["step"]) == (
        {"status": "submitted"},
        "published",
        "publish",
    )


def test_a_periodic_job_audits_its_steps_saying_job(demo):
    wish = wish_titled(DONE)
    wish.done_at, wish_id = utcnow() - timedelta(hours=80), wish.id
    db.session.commit()
    assert run_periodic("auto_confirm_wishes") == "auto_confirm_wishes: 1"

    row = the_step("Wish", wish_id)
    assert (row.channel, row.user_id, row.ip) == ("job", None, None)
    assert (row.before, row.after["status"]) == ({"status": "done"}, "confirmed")


def test_the_sla_sweeps_escalations_are_audited_saying_job(demo):
    grid, reported = user("grid"), utcnow() - timedelta(days=2)
    event, _created = events.report_event(
        grid, title="垃圾未清运", description=None, matter_code="HW-001", grid_code=GRID, now=reported
    )
    events.accept_event(grid, event, now=reported + timedelta(minutes=5))
    event_id = event.id
    db.session.commit()
    run_periodic("sla_sweep")

    [row] = [r for r in entries("Event", event_id) if r.channel == "job"]
    assert (row.user_id, row.action, row.after["step"]) == (None, "update", "auto_escalate")
    assert row.before == {"status": "accepted", "level": "grid"}
    assert (row.after["status"], row.after["level"]) == ("accepted", "community")


def test_outside_any_interface_the_channel_is_left_empty_and_a_block_can_name_it(demo):
    assert audit.current_origin() == audit.Origin()
    with audit.acting_through("cli"):
        assert audit.current_origin().channel == "cli"
        audit.record_bulk(None, "import", Event, GRID, {"rows": 0})
    assert audit.current_origin() == audit.Origin()
    db.session.commit()
    assert db.session.scalar(select(AuditLog.channel).where(AuditLog.action == "import")) == "cli"


# --- the audit log shows it --------------------------------------------------------------------------------
def test_the_audit_log_shows_the_channel_in_chinese(api, login_as):
    wish = wish_titled(PUBLISHED)
    assert api("member")(f"/api/v1/wishes/{wish.id}/claim").status_code == 200

    page = login_as("admin").get("/admin/auditlog/").get_data(as_text=True)
    assert re.search(r'<th class="column-header col-channel">\s*渠道\s*</th>', page)
    assert re.findall(r'<td class="col-channel">\s*(\S*)\s*</td>', page) == ["接口"]
    for channel, shown in (("api", ["接口"]), ("admin", [])):  # and filters by it
        filtered = login_as("admin").get(f"/admin/auditlog/?flt1_1={channel}").get_data(as_text=True)
        assert re.findall(r'<td class="col-channel">\s*(\S*)\s*</td>', filtered) == shown


def test_a_command_line_import_is_audited_saying_cli(runner, demo, tmp_path):
    from test_import import as_csv, person

    path = tmp_path / "residents.csv"
    path.write_bytes(as_csv([person(i) for i in range(3)], "gbk"))
    result = runner.invoke(args=["import", "residents", str(path), "--as", "grid"])
    assert result.exit_code == 0, result.output

    db.session.expire_all()
    row = db.session.scalar(select(AuditLog).where(AuditLog.action == "import"))
    assert (row.channel, row.username, row.ip) == ("cli", "grid", None)
    assert audit.current_origin() == audit.Origin()  # the command's channel ends with it


def test_a_wish_posted_through_the_api_is_audited_saying_api(api):
    response = api("resident")(
        "/api/v1/wishes", {"title": "帮忙修自行车", "category": "repair", "description": "车胎漏气"}
    )
    assert response.status_code == 201, response.get_json()

    row = the_step("Wish", response.get_json()["id"])
    assert (row.channel, row.username, row.ip, row.action, row.before) == (
        "api",
        "resident",
        ADDRESS,
        "create",
        None,
    )
    assert (row.after["title"], row.after["status"]) == ("帮忙修自行车", "submitted")

"""Who is told what about events: a resident's report (随手拍) along the ladder tells its reporter and the staff of
each level once; dispatches reach the department; the SLA sweep tells in lists, not one job per event."""

from datetime import timedelta

import pytest
from notices_support import GRID, every_notice, forget_notices, notify_jobs, told, told_once, user
from sqlalchemy import func, select

from app.extensions import db
from app.jobs.scheduler import run_periodic
from app.models import Event, Notification
from app.models.base import utcnow
from app.models.events import Supervision
from app.services.demo import DEMO_PASSWORDS
from app.services.event_intake import report_event

pytestmark = pytest.mark.chinese


@pytest.fixture
def quiet(demo):
    forget_notices()


@pytest.fixture
def swept(quiet):
    """The demo's own events swept first: those whose deadlines passed while the suite ran (the seed's clock
    is the session's start) are noted already, so a test's sweep finds only the events it made late."""
    run_periodic("sla_sweep")
    forget_notices()


class Api:
    """A bearer-token API caller."""

    def __init__(self, client, username):
        password = DEMO_PASSWORDS[username][0]
        answer = client.post("/api/v1/auth/token", json={"username": username, "password": password})
        self.client, self.headers = client, {"Authorization": f"Bearer {answer.get_json()['token']}"}

    def act(self, event_id, action, **body):
        response = self.client.post(
            f"/api/v1/events/{event_id}/{action}", json=body or None, headers=self.headers
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()


def _site_report(login_as) -> Event:
    response = login_as("resident").post(
        "/events/new",
        data={
            "matter": "HW-001",
            "title": "垃圾箱满溢",
            "description": "三天没清运",
            "location_text": "5号楼东侧",
        },
    )
    assert response.status_code == 303
    db.session.expire_all()
    return db.session.scalar(select(Event).order_by(Event.id.desc()))


def _only(kind: str) -> tuple[str, str, str]:
    """The one notice of `kind`, to the demo resident."""
    notices = told_once(kind)
    assert set(notices) == {"resident"}, notices
    return notices["resident"]


def test_a_report_along_the_ladder_tells_its_reporter_and_each_level_once(quiet, client, login_as):
    event = _site_report(login_as)
    queue = told_once("event_queue")
    assert set(queue) == {"grid", "leader"}  # the grid workers of its grid
    title, body, link = queue["leader"]
    assert (
        title == "新的待办事件：垃圾箱满溢"
        and "网格层级" in body
        and link == f"/admin/event/details/?id={event.id}"
    )
    assert login_as("leader").get(link).status_code == 200
    assert every_notice() == 2  # the reporter hears nothing of their own report

    grid, community, street, dept = (Api(client, n) for n in ("grid", "community", "street", "dept"))
    resident = login_as("resident")
    grid.act(event.id, "accept")
    title, body, link = _only("report_accepted")
    assert title == "您反映的“垃圾箱满溢”已受理" and link == f"/events/{event.id}"
    assert resident.get(link).status_code == 200

    grid.act(event.id, "start")  # without a note: nothing to reply
    assert told("report_replied") == []
    grid.act(event.id, "escalate", reason="需社区协调")
    title, body, link = _only("report_escalated")
    assert title == "您反映的“垃圾箱满溢”已上报至社区"
    assert set(told_once("event_queue")) == {"grid", "leader", "community"}  # the community now holds it
    community.act(event.id, "escalate", reason="需街道吹哨")
    assert [n for n, *_ in told("report_escalated")] == ["resident", "resident"]
    assert told("report_escalated")[1][1] == "您反映的“垃圾箱满溢”已上报至街道"
    assert set(told_once("event_queue")) == {"grid", "leader", "community", "street"}

    street.act(event.id, "dispatch", departments=["HW"])
    dispatched = told_once("dispatch_queue")
    assert set(dispatched) == {"dept"}  # the users of 区城管执法局 only
    title, body, link = dispatched["dept"]
    assert title == "吹哨派单至本部门：垃圾箱满溢" and link == f"/admin/event/details/?id={event.id}"
    assert login_as("dept").get(link).status_code == 200
    assert _only("report_replied")[1] == "已转交：区城市管理和综合执法局"

    dept.act(event.id, "answer", note="已安排清运车", done=True)
    replies = told("report_replied")
    assert len(replies) == 2 and replies[1][2] == "区城市管理和综合执法局：已安排清运车"

    street.act(event.id, "resolve", note="已清运完毕")
    title, body, link = _only("report_resolved")
    assert title == "您反映的“垃圾箱满溢”已办结，请查看" and body.startswith("已清运完毕")
    checks = [row for row in told("event_queue") if row[1].startswith("待现场核实验收")]
    assert sorted(n for n, *_ in checks) == ["grid", "leader"]  # its grid workers check on the spot

    grid.act(event.id, "verify", passed=True, note="现场已清理干净")
    assert told("report_replied")[-1][2] == "现场已清理干净"
    callback = told_once("callback_due")
    assert set(callback) == {"grid"} and login_as("grid").get(callback["grid"][2]).status_code == 200

    grid.act(event.id, "callback", satisfied=True)
    title, body, link = _only("report_closed")
    assert title == "您反映的“垃圾箱满溢”已结案" and resident.get(link).status_code == 200
    # every kind above once: nobody told twice of one step
    kinds = db.session.execute(select(Notification.kind, func.count()).group_by(Notification.kind)).all()
    assert dict(kinds) == {
        "event_queue": 6,
        "report_accepted": 1,
        "report_escalated": 2,
        "dispatch_queue": 1,
        "report_replied": 3,
        "report_resolved": 1,
        "callback_due": 1,
        "report_closed": 1,
    }


def test_a_staff_report_tells_no_reporter(quiet, client):
    grid = Api(client, "grid")
    answer = client.post(
        "/api/v1/events",
        json={"title": "井盖缺失", "description": "路口", "matter": "HW-001", "grid_code": GRID},
        headers=grid.headers,
    )
    event_id = answer.get_json()["id"]
    assert set(told_once("event_queue")) == {"leader"}  # the other grid worker; not who reported it
    grid.act(event_id, "accept")
    assert every_notice() == 1


def test_the_sweep_tells_supervisions_and_escalations_in_lists(swept, login_as):
    long_ago = utcnow() - timedelta(days=2)
    resident, grid = user("resident"), user("grid")
    first, _new = report_event(
        resident,
        title="路灯不亮",
        description="整条街",
        location_text="文汇路",
        matter_code="HW-001",
        now=long_ago,
    )
    second, _new = report_event(
        grid, title="占道经营", description="早市", matter_code="HW-002", grid_code=GRID, now=long_ago
    )
    db.session.commit()
    ids = [first.id, second.id]
    forget_notices()
    jobs = notify_jobs()
    assert run_periodic("sla_sweep").startswith("sla_sweep: supervisions: respond 2, reply 2, resolve 2")
    assert (
        notify_jobs() == jobs + 3
    )  # supervisions, the events escalated, the reports escalated: one job each

    supervisions = told_once("supervision")
    # the community hears of its grid's late events (notified level), the grid workers must act (their level)
    assert set(supervisions) == {"community", "grid", "leader"}
    title, body, link = supervisions["community"]
    assert title == "督办：2 件事件已超时" and link == "/admin/supervision/"
    assert "路灯不亮" in body and "占道经营" in body

    queue = told_once("event_queue")
    assert set(queue) == {"community"}  # both escalated to the community: one notice for the two
    assert (
        queue["community"][0] == "2 件事件已流转至您这一级" and queue["community"][2] == "/admin/event_queue/"
    )
    # the resident's report; the grid worker's own tells no reporter
    assert told_once("report_escalated")["resident"][0] == "您反映的“路灯不亮”已上报至社区"
    community = login_as("community")
    for link in ("/admin/event_queue/", "/admin/supervision/"):  # both events listed where the notices lead
        page = community.get(link).get_data(as_text=True)
        assert "路灯不亮" in page and "占道经营" in page
    late = select(func.count()).select_from(Supervision).where(Supervision.event_id.in_(ids))
    assert db.session.scalar(late) == 6
    assert {e.level for e in db.session.scalars(select(Event).where(Event.id.in_(ids)))} == {"community"}

    before = every_notice()
    run_periodic("sla_sweep")  # nothing newly breached: nobody told again
    assert every_notice() == before


def test_one_supervision_names_its_event_and_links_to_it(swept, login_as):
    event, _new = report_event(
        user("grid"),
        title="消防通道堵塞",
        description="",
        matter_code="AQ-001",
        grid_code=GRID,
        now=utcnow() - timedelta(minutes=20),
    )  # respond within 15 minutes: late; the other deadlines are not
    db.session.commit()
    event_id = event.id
    forget_notices()
    run_periodic("sla_sweep")
    notices = told_once("supervision")
    assert set(notices) == {"community", "grid", "leader"}
    title, body, link = notices["community"]
    assert title == "督办：消防通道堵塞 已超时" and "超时环节：" in body
    assert link == f"/admin/event/details/?id={event_id}"
    assert login_as("community").get(link).status_code == 200
    assert told("event_queue") == []  # not escalated: only the resolve deadline escalates


def test_a_supervision_reaches_each_in_their_own_language(swept):
    user("community").locale = "en"
    db.session.commit()
    report_event(
        user("grid"),
        title="井盖缺失",
        description="",
        matter_code="AQ-001",
        grid_code=GRID,
        now=utcnow() - timedelta(minutes=20),
    )
    db.session.commit()
    forget_notices()
    run_periodic("sla_sweep")
    notices = told_once("supervision")
    title, body, _link = notices["community"]
    assert title == "Supervision: 井盖缺失 is late" and body.startswith("Missed: ")
    assert "超时" not in body  # the deadline's label is in English too
    title, body, _link = notices["grid"]
    assert title == "督办：井盖缺失 已超时" and body.startswith("超时环节：")

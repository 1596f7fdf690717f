"""The back office's call-ups: 发起吹哨 in two clicks, the roll with its buttons, each routed to the service."""

import re
from decimal import Decimal

import pytest
from signing_support import user
from sqlalchemy import select

from app.extensions import db
from app.models import Member
from app.models.callups import Callup, CallupResponse

pytestmark = pytest.mark.usefixtures("english")


def test_raise_from_the_menu_follow_the_roll_and_close(login_as):
    staff = login_as("community")
    home = staff.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/callup/new/"' in home  # the menu's 发起吹哨: open the menu, click
    form = staff.get("/admin/callup/new/")
    assert form.status_code == 200 and "610404001001" in form.get_data(as_text=True)
    refused = staff.post("/admin/callup/new/", data={"area_code": "610404001001", "title": "", "needed": "0"})
    assert refused.status_code == 200 and "is-invalid" in refused.get_data(as_text=True)
    created = staff.post(
        "/admin/callup/new/",
        data={
            "area_code": "610404001001",
            "grid_code": "610404001001001",
            "title": "防汛值守",
            "details": "巡查低洼地段",
            "muster_point": "社区广场",
            "needed": "3",
            "starts_at": "",
            "hours": "1.5",
        },
    )
    assert created.status_code == 200  # starts_at missing: asked again
    values = {
        "area_code": "610404001001",
        "grid_code": "610404001001001",
        "title": "防汛值守",
        "details": "巡查低洼地段",
        "muster_point": "社区广场",
        "needed": "3",
        "starts_at": re.search(r'name="starts_at" value="([^"]+)"', form.get_data(as_text=True)).group(1),
        "hours": "1.5",
    }
    created = staff.post("/admin/callup/new/", data=values)
    assert created.status_code == 302
    callup = db.session.scalar(select(Callup).where(Callup.title == "防汛值守"))
    assert created.headers["Location"].endswith(f"/admin/callup/details/?id={callup.id}")
    page = staff.get(f"/admin/callup/details/?id={callup.id}").get_data(as_text=True)
    assert f'href="/callups/{callup.id}"' in page and f'href="/callups/{callup.id}/qr"' in page
    member = db.session.scalar(select(Member).where(Member.user_id == user("member").id))
    assert f'data-member="{member.id}"' in page

    leader = login_as("leader")  # the muster grid's leader marks the arrival and assigns the task
    leader.post("/admin/callup/step/", data={"id": callup.id, "verb": "arrived", "member_id": member.id})
    leader.post(
        "/admin/callup/step/",
        data={"id": callup.id, "verb": "assign", "member_id": member.id, "task": "值守"},
    )
    row = db.session.scalar(
        select(CallupResponse).where(
            CallupResponse.callup_id == callup.id, CallupResponse.member_id == member.id
        )
    )
    assert row.arrived_via == "staff" and row.task == "值守"
    refused = leader.post(
        "/admin/callup/step/", data={"id": callup.id, "verb": "close"}
    )  # not theirs to close
    db.session.expire_all()
    assert db.session.get(Callup, callup.id).status == "open"

    before = member.service_hours
    staff.post("/admin/callup/step/", data={"id": callup.id, "verb": "close"})
    staff.post("/admin/callup/step/", data={"id": callup.id, "verb": "close"})  # twice: refused, flashed
    db.session.expire_all()
    assert db.session.get(Callup, callup.id).status == "closed"
    assert db.session.get(Member, member.id).service_hours == before + Decimal("1.5")
    listed = staff.get("/admin/callup/").get_data(as_text=True)
    assert "防汛值守" in listed


def test_members_and_residents_have_no_back_office_call_ups(login_as):
    for username in ("member", "resident"):
        assert login_as(username).get("/admin/callup/").status_code in (302, 403)
    assert login_as("grid").get("/admin/callup/new/").status_code == 403
    assert login_as("grid").get("/admin/callup/").status_code == 200


def figure(page: str, key: str) -> str:
    return re.search(rf'data-figure="{re.escape(key)}">([^<]*)<', page).group(1)


def test_the_dashboard_shows_open_call_ups_and_the_last_closed_ones_figures(login_as):
    from app.models.base import utcnow
    from app.services import callups

    staff = login_as("community")
    page = staff.get("/admin/").get_data(as_text=True)
    assert figure(page, "callups.open") == "1" and figure(page, "callups.closed") == "0"  # the demo's
    callup = callups.raise_callup(
        user("community"),
        area_code="610404001001",
        title="夜间巡查",
        details="",
        muster_point="社区门口",
        needed=1,
        starts_at=utcnow(),
    )
    callups.check_in(user("member"), callup.id, callup.checkin_token)
    callups.respond(user("captain"), callup.id, "coming")
    callups.close(user("community"), callup.id)
    db.session.commit()
    page = staff.get("/admin/").get_data(as_text=True)
    assert figure(page, "callups.open") == "1" and figure(page, "callups.closed") == "1"
    assert (figure(page, "callups.last_needed"), figure(page, "callups.last_coming")) == ("1", "2")
    assert figure(page, "callups.last_arrived") == "1"
    assert "夜间巡查" in page and "50%" in page  # arrived ÷ coming
    other = login_as("street").get("/admin/").get_data(as_text=True)  # the street reaches its community's
    assert figure(other, "callups.closed") == "1"

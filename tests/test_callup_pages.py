"""The call-up's pages on the site: a member answers and checks in, staff follow the roll, print the QR code and
the report (opened with pdftotext), and nobody outside the area sees any of it."""

import re
import subprocess
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Member, User
from app.models.base import utcnow
from app.models.callups import CallupResponse
from app.services import callups
from app.services.users import create_user

GRID = "610404001001001"  # the demo member's and captain's grid
OTHER_GRID = "610404002001001"


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def member_id(username: str) -> int:
    return db.session.scalar(
        select(Member.id).join(User, User.id == Member.user_id).where(User.username == username)
    )


@pytest.fixture
def callup(demo):
    """An open call-up to the demo member's grid, raised by the community's staff."""
    raised = callups.raise_callup(
        user("community"),
        area_code=GRID,
        grid_code=GRID,
        title="防汛沙袋转运",
        details="渭河水位上涨，需要转运沙袋。",
        muster_point="文汇社区党群服务中心门口",
        needed=2,
        starts_at=utcnow() + timedelta(minutes=30),
        hours=Decimal(3),
    )
    db.session.commit()
    return raised


@pytest.fixture
def outsider(demo, app):
    """A checked-in member of another street's grid, logged in."""
    create_user("outsider", "member", "outsider-password-1", area_code=OTHER_GRID, name="外网格党员")
    db.session.commit()
    client = app.test_client()
    assert client.post(
        "/login", data={"username": "outsider", "password": "outsider-password-1"}
    ).status_code in (302, 303)
    return client


def response_of(callup_id: int, username: str) -> CallupResponse:
    db.session.expire_all()
    return db.session.scalar(
        select(CallupResponse).where(
            CallupResponse.callup_id == callup_id, CallupResponse.member_id == member_id(username)
        )
    )


def pdf_text(response) -> str:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=response.data, capture_output=True, check=True
    ).stdout
    return re.sub(r"\s+", "", text.decode("utf-8"))


def test_a_member_of_the_area_answers_with_one_tap_and_may_change_it(login_as, callup):
    member = login_as("member")
    page = member.get(f"/callups/{callup.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for text in ("防汛沙袋转运", "文汇社区党群服务中心门口", 'value="coming"', 'value="cannot"'):
        assert text in html
    assert "data-roll-url" not in html  # a member does not see the roll

    answered = member.post(f"/callups/{callup.id}/answer", data={"answer": "coming"})
    assert answered.status_code == 303 and answered.headers["Location"].endswith(f"/callups/{callup.id}")
    assert response_of(callup.id, "member").answer == "coming"
    page = member.get(f"/callups/{callup.id}").get_data(as_text=True)
    assert 'data-answer="coming"' in page
    assert re.search(r'value="coming"[^>]*aria-pressed="true"', page)

    member.post(f"/callups/{callup.id}/answer", data={"answer": "cannot"})
    assert response_of(callup.id, "member").answer == "cannot"  # answering again keeps the last
    assert member.post(f"/callups/{callup.id}/answer", data={"answer": "maybe"}).status_code == 400


def test_members_outside_the_area_and_visitors_are_kept_out(client, outsider, login_as, callup):
    for path in (f"/callups/{callup.id}", f"/callups/{callup.id}/roll.json", f"/callups/{callup.id}/qr"):
        assert outsider.get(path).status_code == 404, path
    assert outsider.post(f"/callups/{callup.id}/answer", data={"answer": "coming"}).status_code == 404
    assert outsider.get(f"/callups/{callup.id}/checkin?token={callup.checkin_token}").status_code == 404
    assert outsider.get("/callups/999999").status_code == 404
    # a member of the area is not staff: no roll, no QR code, no report
    member = login_as("member")
    assert member.get(f"/callups/{callup.id}/roll.json").status_code == 404
    assert member.get(f"/callups/{callup.id}/qr").status_code == 404
    assert member.post(f"/callups/{callup.id}/print/report").status_code in (303, 404)
    assert (
        member.post(f"/callups/{callup.id}/arrived", data={"member_id": member_id("captain")}).status_code
        == 303
    )
    assert response_of(callup.id, "captain").arrived_at is None
    # a visitor is sent to log in, and comes back to the check-in page with its token
    anonymous = client.get(f"/callups/{callup.id}/checkin?token=abc")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert "token%3Dabc" in anonymous.headers["Location"] or "token=abc" in anonymous.headers["Location"]


def test_staff_follow_the_roll_mark_arrivals_and_give_tasks(login_as, callup):
    login_as("member").post(f"/callups/{callup.id}/answer", data={"answer": "coming"})
    login_as("captain").post(f"/callups/{callup.id}/answer", data={"answer": "cannot"})
    staff = login_as("community")
    roll = staff.get(f"/callups/{callup.id}/roll.json")
    assert roll.status_code == 200 and roll.headers["Cache-Control"] == "no-store"
    data = roll.get_json()
    assert data["needed"] == 2
    assert data["counts"]["coming"] == 1 and data["counts"]["cannot"] == 1 and data["counts"]["arrived"] == 0
    total = len(data["people"])
    assert data["counts"]["no_answer"] == total - 2
    people = {p["name"]: p for p in data["people"]}
    assert people["王建国"]["group"] == "coming" and people["王建国"]["answered_text"]
    assert people["张卫东"]["group"] == "cannot"

    page = staff.get(f"/callups/{callup.id}").get_data(as_text=True)
    assert "data-roll-url" in page and "王建国" in page and "js/callup.js" in page

    marked = staff.post(f"/callups/{callup.id}/arrived", data={"member_id": member_id("member")})
    assert marked.status_code == 303
    assert response_of(callup.id, "member").arrived_via == "staff"
    staff.post(f"/callups/{callup.id}/task", data={"member_id": member_id("member"), "task": "二号门装沙袋"})
    assert response_of(callup.id, "member").task == "二号门装沙袋"
    data = staff.get(f"/callups/{callup.id}/roll.json").get_json()
    assert data["counts"]["arrived"] == 1
    assert {p["name"]: p for p in data["people"]}["王建国"]["group"] == "arrived"
    # the member reads their task on their page
    assert "二号门装沙袋" in login_as("member").get(f"/callups/{callup.id}").get_data(as_text=True)
    # hostile member ids are 404, never a 500
    for bad in ("x", "0", "99999999999", ""):
        assert staff.post(f"/callups/{callup.id}/arrived", data={"member_id": bad}).status_code == 404


def test_the_qr_code_checks_a_member_in_and_a_wrong_token_is_refused(login_as, callup):
    staff = login_as("community")
    qr = staff.get(f"/callups/{callup.id}/qr")
    assert qr.status_code == 200
    link = re.search(r"data-checkin-link>([^<]+)<", qr.get_data(as_text=True)).group(1)
    assert link.endswith(f"/callups/{callup.id}/checkin?token={callup.checkin_token}")
    assert 'src="data:image/svg+xml' in qr.get_data(as_text=True)

    member = login_as("member")
    path = link.split("://", 1)[1].split("/", 1)[1]
    landing = member.get("/" + path)
    assert landing.status_code == 200 and callup.checkin_token in landing.get_data(as_text=True)

    wrong = member.post(f"/callups/{callup.id}/checkin", data={"token": "not-the-token"})
    assert wrong.status_code in (403, 409, 422)
    assert "data-checkin-refused" in wrong.get_data(as_text=True)
    assert response_of(callup.id, "member").arrived_at is None

    done = member.post(f"/callups/{callup.id}/checkin", data={"token": callup.checkin_token})
    assert done.status_code == 303
    arrived = response_of(callup.id, "member")
    assert arrived.arrived_at is not None and arrived.arrived_via == "qr"


def test_the_printable_qr_sheet_is_rendered_on_the_jobs_queue(login_as, callup):
    staff = login_as("community")
    asked = staff.post(f"/callups/{callup.id}/print/qr")
    assert asked.status_code == 303
    text = pdf_text(staff.get(asked.headers["Location"]))
    assert "紧急召集" in text and "扫码报到" in text and "防汛沙袋转运" in text
    assert f"/callups/{callup.id}/checkin?token=" in text
    assert (
        staff.get(f"/callups/{callup.id}/prints/callup-{callup.id}-qr-0123456789abcdef.pdf").status_code
        == 404
    )
    assert staff.get(f"/callups/{callup.id}/prints/..%2F..%2Fetc%2Fpasswd").status_code == 404
    assert staff.post(f"/callups/{callup.id}/print/poster").status_code in (303, 404)


def test_the_report_pdf_has_the_figures_the_roll_and_the_hours(login_as, callup):
    member, captain = login_as("member"), login_as("captain")
    member.post(f"/callups/{callup.id}/answer", data={"answer": "coming"})
    captain.post(f"/callups/{callup.id}/answer", data={"answer": "coming"})
    member.post(f"/callups/{callup.id}/checkin", data={"token": callup.checkin_token})
    staff = login_as("community")
    staff.post(f"/callups/{callup.id}/arrived", data={"member_id": member_id("captain")})
    staff.post(f"/callups/{callup.id}/task", data={"member_id": member_id("member"), "task": "装沙袋"})
    assert staff.post(f"/callups/{callup.id}/close").status_code == 303

    asked = staff.post(f"/callups/{callup.id}/print/report")
    assert asked.status_code == 303
    text = pdf_text(staff.get(asked.headers["Location"]))
    for expected in (
        "紧急召集报告",
        "防汛沙袋转运",
        "已结束",
        "王建国",
        "张卫东",
        "装沙袋",
        "扫码",
        "工作人员登记",
    ):
        assert expected in text, expected
    assert "到达率（到达/响应）" in text and "100%" in text and "2/2" in text  # 2 coming, 2 arrived, 2 needed
    assert "首人到达用时" in text and "达到所需人数用时" in text
    assert "6小时" in text  # 3 hours each for the two who arrived
    # the same roll asks for the same file; the report is for staff only
    assert staff.post(f"/callups/{callup.id}/print/report").headers["Location"] == asked.headers["Location"]
    assert member.get(asked.headers["Location"]).status_code == 404


def test_an_open_call_up_shows_on_the_members_board(login_as, callup, outsider):
    board = login_as("member").get("/").get_data(as_text=True)
    assert f'data-callup-notice="{callup.id}"' in board and f'href="/callups/{callup.id}"' in board
    assert "data-callup-notice" not in outsider.get("/").get_data(as_text=True)
    assert "data-callup-notice" not in login_as("resident").get("/").get_data(as_text=True)


def test_the_muster_grids_captain_leads_the_roll_but_never_sees_the_code(login_as, callup):
    captain = login_as("captain")  # a member holding the vanguard captain's place of the muster grid
    page = captain.get(f"/callups/{callup.id}").get_data(as_text=True)
    assert 'value="coming"' in page  # answers like any member of the area
    assert "data-roll-url" in page and callup.checkin_token not in page  # and leads the roll
    assert captain.get(f"/callups/{callup.id}/roll.json").status_code == 200
    assert captain.get(f"/callups/{callup.id}/qr").status_code == 404  # the token is for staff
    assert f"/callups/{callup.id}/close" not in page  # closing is for staff
    login_as("member").post(f"/callups/{callup.id}/checkin", data={"token": callup.checkin_token})
    given = captain.post(
        f"/callups/{callup.id}/task", data={"member_id": member_id("member"), "task": "清点沙袋"}
    )
    assert given.status_code == 303
    assert response_of(callup.id, "member").task == "清点沙袋"


def test_the_polled_roll_is_shared_for_a_moment(app, login_as, callup):
    from app.extensions import cache

    app.config["CALLUP_ROLL_CACHE_SECONDS"] = 60
    try:
        staff = login_as("community")
        before = staff.get(f"/callups/{callup.id}/roll.json").get_json()["counts"]["coming"]
        login_as("member").post(f"/callups/{callup.id}/answer", data={"answer": "coming"})
        assert staff.get(f"/callups/{callup.id}/roll.json").get_json()["counts"]["coming"] == before  # shared
        # one's own action shows at once: the page after it is made fresh
        staff.post(f"/callups/{callup.id}/arrived", data={"member_id": member_id("captain")})
        page = staff.get(f"/callups/{callup.id}").get_data(as_text=True)
        assert re.search(r'data-count="arrived">1<', page)
        assert login_as("member").get(f"/callups/{callup.id}/roll.json").status_code == 404  # still checked
    finally:
        app.config["CALLUP_ROLL_CACHE_SECONDS"] = 0
        cache.clear()


def test_a_closed_or_cancelled_call_up_offers_nothing_more(login_as, callup):
    callups.cancel(user("community"), callup.id, "水位已回落")
    db.session.commit()
    page = login_as("member").get(f"/callups/{callup.id}").get_data(as_text=True)
    assert 'value="coming"' not in page and "callup-cancelled" in page
    staff_page = login_as("community").get(f"/callups/{callup.id}").get_data(as_text=True)
    assert "roll-arrive" not in staff_page and f"/callups/{callup.id}/close" not in staff_page
    refused = login_as("member").post(f"/callups/{callup.id}/answer", data={"answer": "coming"})
    assert refused.status_code == 303  # back to the page, which says why
    assert response_of(callup.id, "member").answer is None
    board = login_as("member").get("/").get_data(as_text=True)
    assert f'data-callup-notice="{callup.id}"' not in board

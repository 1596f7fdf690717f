"""Notices to members about their own record: a certificate ready to download, household visits falling due (told
once per due date, however often the task runs)."""

from datetime import timedelta

import pytest
from notices_support import DONE, every_notice, forget_notices, told, told_once, user, wish_titled
from sqlalchemy import select, update
from test_certificates import certificate_dir  # noqa: F401  (autouse: each test's PDFs in a folder of its own)

from app.extensions import db
from app.jobs.scheduler import run_periodic
from app.models import Member
from app.models.base import utcnow
from app.models.certificates import Certificate
from app.models.visits import HouseholdAssignment, HouseholdVisit
from app.services import compliance, notification_preferences
from app.services.certificate_pdf import local_date
from app.services.clock import district_today
from app.services.notices.members import tell_visits_due

pytestmark = pytest.mark.chinese


@pytest.fixture
def quiet(demo):
    forget_notices()


def test_a_confirmed_wish_tells_its_member_the_certificate_is_ready(quiet, login_as):
    wish = wish_titled(DONE)
    response = login_as("resident").post(
        f"/wishes/{wish.id}/confirm", data={"confirm-rating": "good", "confirm-comment": "谢谢"}
    )
    assert response.status_code == 303
    notices = told_once("certificate_ready")
    assert set(notices) == {"member"}  # its holder; not the captain, not the resident
    title, body, link = notices["member"]
    assert title == "您的志愿服务证明已生成" and "编号 OG-" in body
    pdf = login_as("member").get(link)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert login_as("captain").get(link).status_code == 404  # nobody else's to open
    assert set(told_once("callback_due")) == {"grid"}
    assert every_notice() == 2


def test_an_honour_batch_tells_each_holder_once_when_it_is_finished(quiet, login_as):
    today = local_date(utcnow())
    form = {
        "scope": "area:610404001001",
        "period_start": f"{today.year}-01-01",
        "period_end": today.isoformat(),
    }
    community = login_as("community")
    assert community.post("/admin/honourbatch/new/", data=form).status_code in (302, 303)
    holders = db.session.scalars(
        select(Member.user_id)
        .join(Certificate, Certificate.member_id == Member.id)
        .where(Certificate.batch_id.is_not(None), Certificate.status == "ready")
    ).all()
    assert user("member").id in holders  # 王建国: the demo's confirmed wish
    notices = told_once("certificate_ready")
    assert {user(name).id for name in notices} == set(holders)
    title, body, link = notices["member"]
    assert title == "您的荣誉证书已生成" and f"{today.year}-01-01" in body and link == "/my/claims"
    page = login_as("member").get(link)
    assert page.status_code == 200 and "荣誉证书" in page.get_data(as_text=True)

    again = community.post("/admin/honourbatch/new/", data=form, follow_redirects=True)
    assert again.status_code == 200
    assert len(told("certificate_ready")) == len(holders)  # nothing added, nobody told again


def _member():
    return db.session.scalar(select(Member).where(Member.user_id == user("member").id))


def _due_in_two_days() -> int:
    """Make one of the demo member's visited households fall due in two days (its visits moved back); its id."""
    member = _member()
    household_id = db.session.scalar(
        select(HouseholdVisit.household_id)
        .join(HouseholdAssignment, HouseholdAssignment.household_id == HouseholdVisit.household_id)
        .where(HouseholdAssignment.member_id == member.id, compliance.open_assignment())
        .order_by(HouseholdVisit.visited_on.desc())
        .limit(1)
    )
    last = district_today() + timedelta(days=2) - timedelta(days=compliance.interval_days())
    db.session.execute(
        update(HouseholdVisit).where(HouseholdVisit.household_id == household_id).values(visited_on=last)
    )
    db.session.commit()
    return household_id


def test_members_are_told_two_days_before_their_visits_fall_due_once(quiet, login_as):
    _due_in_two_days()
    due = district_today() + timedelta(days=2)
    run_periodic("visits_due")
    notices = told_once("visits_due")
    assert "member" in notices
    title, body, link = notices["member"]
    assert title == f"您的责任田有 1 户将于 {due.isoformat()} 到走访期" and "我的走访" in body
    page = login_as("member").get(link)
    assert page.status_code == 200
    assert all(user(name).role == "member" for name in notices)

    assert run_periodic("visits_due") == "visits_due: 0"  # the same day again: nobody twice
    tell_visits_due(district_today() + timedelta(days=1))  # the next day: that due date is one day away
    db.session.commit()
    assert [row for row in told("visits_due") if row[0] == "member"] == [("member", title, body, link)]


def test_a_member_who_muted_visits_is_not_told(quiet):
    _due_in_two_days()
    notification_preferences.save_preferences(user("member"), muted_kinds=["visits_due"])
    db.session.commit()
    run_periodic("visits_due")
    assert "member" not in told_once("visits_due")


def test_a_household_visited_meanwhile_is_not_due_any_more(quiet):
    household_id = _due_in_two_days()
    db.session.execute(
        update(HouseholdVisit)
        .where(HouseholdVisit.household_id == household_id)
        .values(visited_on=district_today())
    )
    db.session.commit()
    run_periodic("visits_due")
    assert "member" not in told_once("visits_due")

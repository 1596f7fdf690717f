"""The demo's 双签字 and 联席会议: a log of 文汇社区第一网格 awaiting its signatures, which the demo captain and leader
sign; a meeting with its service items."""

from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.models.meetings import JointMeeting, ServiceItemStatus
from app.models.worklogs import SignStatus, WorkLog
from app.services import meetings, worklogs
from app.services.demo import seed_demo

GRID = "610404001001001"


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def test_the_demo_has_a_log_awaiting_signatures_that_its_captain_and_leader_sign(demo):
    logs = list(
        db.session.scalars(select(WorkLog).where(WorkLog.grid_code == GRID).order_by(WorkLog.log_date))
    )
    assert [log.status for log in logs] == [SignStatus.SIGNED, SignStatus.AWAITING]
    awaiting = logs[1]
    worklogs.sign_log(user("captain"), awaiting)
    worklogs.sign_log(user("leader"), awaiting)
    db.session.commit()
    assert awaiting.status == SignStatus.SIGNED


def test_the_demo_has_a_meeting_with_items_shown_for_the_grid_and_its_units(demo):
    meeting = db.session.scalar(select(JointMeeting))
    assert len(meeting.units) >= 2 and len(meeting.items) == 3
    assert {item.status for item in meeting.items} == {ServiceItemStatus.OPEN, ServiceItemStatus.DONE}
    assert [item.title for item in meetings.service_items_for_grid(GRID)] == ["消防安全隐患排查"]
    assert meetings.service_items_for_unit(meeting.items[0].unit_id)


def test_seeding_the_demo_again_adds_no_logs_or_meetings(demo):
    seed_demo()
    db.session.commit()
    assert db.session.scalar(select(db.func.count()).select_from(WorkLog)) == 2
    assert db.session.scalar(select(db.func.count()).select_from(JointMeeting)) == 1

"""The demo's 双签字 and 联席会议: work logs of 文汇社区第一网格 (one signed by both, one awaiting its signatures)
and a joint meeting of 文汇社区 with the service items it agreed, one of them done.

Through the services, as people would do it; idempotent (nothing is added when the logs or the meeting exist).
"""

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Unit, User
from app.models.meetings import JointMeeting
from app.models.worklogs import WorkLog
from app.services import meetings, worklogs
from app.services.clock import district_today

GRID, COMMUNITY = "610404001001001", "610404001001"  # 文汇社区第一网格, 文汇社区
LOGS = (
    (2, "走访辖区独居老人3户，帮助更换楼道声控灯；排查2号楼消防通道堆物并督促清理。"),
    (0, "组织楼栋长例会，通报本周微心愿认领情况；入户核实新入住家庭2户信息。"),
)
MEETING_TITLE = "文汇社区第四季度党建联席会议"


def _user(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == username))


def seed_records() -> None:
    """Two work logs (the older one signed by the captain and the leader) and a meeting with items."""
    grid_worker, captain, leader = _user("grid"), _user("captain"), _user("leader")
    today = district_today()
    if db.session.scalar(select(WorkLog.id).where(WorkLog.grid_code == GRID).limit(1)) is None:
        for days_ago, content in LOGS:
            log = worklogs.write_log(grid_worker, GRID, today - timedelta(days=days_ago), content)
            if days_ago and captain is not None and leader is not None:
                worklogs.sign_log(captain, log)
                worklogs.sign_log(leader, log)
    if db.session.scalar(select(JointMeeting.id).where(JointMeeting.area_code == COMMUNITY).limit(1)) is None:
        units = list(
            db.session.scalars(select(Unit).where(Unit.community_code == COMMUNITY).order_by(Unit.id))
        )
        staff = _user("community")
        meeting = meetings.record_meeting(
            staff,
            area_code=COMMUNITY,
            held_on=today - timedelta(days=7),
            title=MEETING_TITLE,
            minutes="社区党委与报到单位共同研究本季度网格服务事项：老旧小区楼道照明改造、独居老人结对帮扶、"
            "消防安全隐患排查，明确责任单位和完成时限。",
            unit_ids=[unit.id for unit in units],
            items=[
                {
                    "title": "老旧小区楼道照明改造",
                    "unit_id": units[1].id,
                    "due_on": today + timedelta(days=30),
                },
                {"title": "独居老人结对帮扶", "unit_id": units[0].id, "due_on": today + timedelta(days=60)},
                {"title": "消防安全隐患排查", "grid_code": GRID, "due_on": today - timedelta(days=1)},
            ],
        )
        meetings.follow_item(staff, meeting.items[2], meetings.COMPLETE, "已完成12栋楼排查，整改隐患3处。")
    db.session.flush()

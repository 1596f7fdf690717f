"""The demo's accounts and what they have been doing: wishes at every stage and ladder events."""

from sqlalchemy import select

from app.extensions import db
from app.models import (
    Resident,
    User,
)
from app.services.demo.common import DEMO_PASSWORDS, _get_or_create
from app.services.users import create_user


def seed_accounts() -> None:
    for username, (password, role, area, department, name) in DEMO_PASSWORDS.items():
        if db.session.scalar(select(User.id).where(User.username == username)) is None:
            create_user(username, role, password, area_code=area, department_code=department, name=name)


WISH_CATEGORIES = [
    ("life", "生活帮扶"),
    ("elderly", "助老助残"),
    ("repair", "家政维修"),
    ("education", "文化教育"),
    ("health", "医疗健康"),
    ("legal", "法律咨询"),
    ("other", "其他"),
]


# (title, category, description, how far along the lifecycle the demo takes it)
DEMO_WISHES = [
    (
        "帮父亲买降压药",
        "elderly",
        "父亲腿脚不便，需要每月到社区医院代购降压药（硝苯地平缓释片）。",
        "confirmed",
    ),
    ("楼道声控灯不亮", "repair", "3号楼2单元四楼到六楼的声控灯坏了一周，晚上上下楼很不方便。", "done"),
    ("孩子周末数学辅导", "education", "孩子上初二，周末想找人辅导一下数学，一次一个半小时左右。", "claimed"),
    ("陪老人去医院复查", "health", "下周三上午需要陪母亲去市第一人民医院复查，我要上班走不开。", "published"),
    ("咨询租房合同纠纷", "legal", "房东要提前收回房子，押金不退，想咨询一下怎么处理。", "published"),
    ("修理漏水的水龙头", "repair", "厨房水龙头一直滴水，自己修不好。", "submitted"),
]


def seed_wishes() -> None:
    """Wish categories, and a few wishes at every stage of the lifecycle (once: only into an empty board)."""
    from app.models import Wish, WishCategory
    from app.services import wishes

    for position, (code, name) in enumerate(WISH_CATEGORIES):
        _get_or_create(WishCategory, {"code": code}, name=name, position=position)
    db.session.flush()
    if db.session.scalar(select(Wish.id).limit(1)) is not None:
        return
    users = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(DEMO_PASSWORDS)))}
    resident, grid, member = users["resident"], users["grid"], users["member"]
    stages = ["submitted", "published", "claimed", "done", "confirmed"]
    for title, category, description, stage in DEMO_WISHES:
        wish = wishes.post_wish(resident, title=title, description=description, category_code=category)
        reached = stages.index(stage)
        if reached >= 1:
            wishes.publish_wish(grid, wish)
        if reached >= 2:
            wishes.claim_wish(member, wish)
        if reached >= 3:
            wishes.complete_wish(member, wish, "已按约定完成。", "1.5")
        if reached >= 4:
            wishes.confirm_wish(resident, wish, "good", "非常感谢，很及时！")
    # an assisted posting (帮办代办) for an elderly resident without an account, in the second grid
    elderly = db.session.scalar(
        select(Resident)
        .where(Resident.grid_code == users["grid2"].area_code, Resident.user_id.is_(None))
        .order_by(Resident.id)
    )
    if elderly is not None:
        wishes.post_wish(
            users["grid2"],
            title="独居老人需要打扫卫生",
            category_code="elderly",
            description="老人独居，行动不便，希望有人帮忙打扫一次房间。",
            resident_id=elderly.id,
            publish=True,
        )


# (title, matter, location, how far along the ladder the demo takes it)
DEMO_EVENTS = [
    ("3号楼楼道堆放杂物堵塞消防通道", "AQ-001", "文汇社区A区3号楼2单元", "reported"),
    ("小区门口夜市油烟扰民", "HJ-002", "文汇社区A区北门", "accepted"),
    ("垃圾箱三天未清运", "HW-001", "文汇社区A区5号楼旁", "in_progress"),
    ("沿街商户占道经营", "HW-002", "文汇路与渭阳西路十字东南角", "dispatched"),
    ("电梯频繁停运困人", "WY-002", "文汇社区A区1号楼", "verified"),
    ("邻里噪声纠纷", "WD-001", "文汇社区A区2号楼302室", "archived"),
]


def seed_events() -> None:
    """A handful of events at different stages of the ladder (once: only into an empty event list)."""
    from app.models import Event
    from app.services.event_intake import report_event
    from app.services.events import (
        accept_event,
        archive_event,
        callback_event,
        dispatch_event,
        escalate_event,
        resolve_event,
        start_event,
        verify_event,
    )

    if db.session.scalar(select(Event.id).limit(1)) is not None:
        return
    users = {
        u.username: u
        for u in db.session.scalars(
            select(User).where(User.username.in_(("grid", "community", "street", "dept", "resident")))
        )
    }
    if len(users) < 5:
        return
    grid, community, street, dept = users["grid"], users["community"], users["street"], users["dept"]
    stages = ["reported", "accepted", "in_progress", "dispatched", "verified", "archived"]
    for n, (title, matter, location, stage) in enumerate(DEMO_EVENTS):
        reporter = users["resident"] if n % 2 else grid
        event, _created = report_event(
            reporter,
            title=title,
            description=title,
            matter_code=matter,
            grid_code=grid.area_code,
            location_text=location,
        )
        reached = stages.index(stage)
        if reached >= 1:
            accept_event(grid, event)
        if reached >= 2:
            start_event(grid, event, "已到现场查看。")
        if stage == "dispatched":
            escalate_event(grid, event, "涉及执法，网格无法处置。")
            escalate_event(community, event, "需街道协调执法部门。")
            dispatch_event(street, event, [dept.department.code])
        if reached >= 4:
            resolve_event(grid, event, "已协调处理完毕。")
            verify_event(grid, event, True, "现场核实已解决。")
        if reached >= 5:
            callback_event(grid, event, True, "居民表示满意。")
            archive_event(community, event, 5)

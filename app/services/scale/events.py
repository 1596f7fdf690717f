"""A year of events (一网统管) in a synthetic district: every status and level, with steps, dispatches, supervisions.

Each event's history is laid out in minutes after its report (accept, start, escalations, the departments'
dispatch and answer, resolve, verify, callback, archive), then placed in time so that its last step lies
before `now`. Deadlines come from the matter's SLA policy; a deadline missed (by a late step, or still
open at `now`) sets the event's breach flag and writes the supervision the sweep would have written.
"""

import math
import random
from datetime import datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Matter
from app.models.events import Dispatch, Event, EventStep, Supervision
from app.services.event_intake import DEFAULT_MINUTES
from app.services.event_ladder import NEXT_LEVEL, NOTIFIED_LEVEL
from app.services.scale.bulk import Writer
from app.services.scale.people import pick

STATUSES = (
    ("reported", 0.02),
    ("accepted", 0.03),
    ("in_progress", 0.07),
    ("resolved", 0.03),
    ("verified", 0.03),
    ("closed", 0.12),
    ("archived", 0.70),
)
LEVELS = (("grid", 0.72), ("community", 0.14), ("street", 0.07), ("department", 0.05), ("district", 0.02))
SOURCES = (("patrol", 0.45), ("resident", 0.20), ("hotline", 0.25), ("e_patrol", 0.07), ("department", 0.03))
SCORES = ((5, 0.6), (4, 0.3), (3, 0.08), (2, 0.015), (1, 0.005))
# how long ago (minutes) an event of each status took its last step
LAST_STEP_AGO = {
    "reported": (0, 4320),
    "accepted": (0, 720),
    "in_progress": (0, 2000),
    "resolved": (0, 480),
    "verified": (0, 2880),
    "closed": (0, 14400),
    "archived": (0, 525600),
}
TITLES = {
    "stability": ("邻里噪声纠纷", "家庭矛盾调解", "租赁合同纠纷", "重点人员情况变化"),
    "petition": ("群众反映拆迁补偿问题", "反映小区违建问题", "来访反映供暖不热"),
    "environment": ("夜间施工噪声扰民", "餐馆油烟扰民", "河道漂浮垃圾", "露天焚烧垃圾"),
    "work_safety": ("消防通道堵塞", "电动车楼道充电", "楼道堆放杂物", "燃气管道老化"),
    "sanitation": ("垃圾箱满溢未清运", "建筑垃圾乱堆放", "公厕卫生差"),
    "urban_management": ("占道经营", "违规张贴小广告", "共享单车乱停放", "井盖破损"),
    "property": ("电梯故障困人", "小区门禁损坏", "屋顶漏水", "物业服务纠纷"),
    "civil_affairs": ("困难群众救助申请", "高龄老人生活困难", "残疾人补贴咨询"),
}
ESCALATE_NOTE = {
    "grid": "网格无法处置，提请社区协调。",
    "community": "需街道协调。",
    "street": "需区级统筹。",
}


def _matters() -> list[dict]:
    rows = []
    for matter in db.session.scalars(select(Matter).where(Matter.admitted.is_(True)).order_by(Matter.code)):
        policy = matter.sla_policy
        minutes = (
            (policy.respond_minutes, policy.reply_minutes, policy.resolve_minutes)
            if policy
            else DEFAULT_MINUTES
        )
        rows.append(
            {
                "id": matter.id,
                "category": matter.category,
                "department_id": matter.department_id,
                "minutes": minutes,
            }
        )
    return rows


def _level_path(level: str, major: bool) -> list[str]:
    """The levels an event passes on its way to `level`."""
    if level == "district" and major:
        return ["grid", "district"]
    path = ["grid"]
    while path[-1] != level:
        path.append("department" if level == "department" and path[-1] == "street" else NEXT_LEVEL[path[-1]])
    return path


def build_events(
    writer: Writer,
    count: int,
    census: list,
    staff,
    communities: dict[str, str],
    rng: random.Random,
    now: datetime,
) -> None:
    """Write `count` events with their steps, dispatches and supervisions."""
    matters = _matters()
    weights = [rng.uniform(0.3, 1.7) for _ in census]  # some grids are busier than others
    cumulative = [sum(weights[: i + 1]) for i in range(len(weights))]
    for n in range(count):
        grid = rng.choices(census, cum_weights=cumulative)[0]
        status = STATUSES[n][0] if n < len(STATUSES) else pick(rng, STATUSES)  # every status, however few
        _event(writer, grid, rng.choice(matters), status, staff, communities[grid.code], rng, now)


def _event(writer, grid, matter, status, staff, community_code, rng, now) -> None:
    level = "grid" if status == "reported" else pick(rng, LEVELS)
    if level == "department" and (status == "accepted" or matter["department_id"] is None):
        level = "street"  # a dispatch starts the work, and needs the matter's department
    major = level == "district" and rng.random() < 0.5
    source = pick(rng, SOURCES)
    street_user = staff.streets[grid.code[:9]]
    handler = {
        "grid": staff.grids[grid.code],
        "community": staff.communities[community_code],
        "street": street_user,
        "department": street_user,
        "district": staff.admin,
    }
    department_user = staff.departments.get(matter["department_id"])
    reporter = {"hotline": staff.hotline, "e_patrol": staff.hotline}.get(source, staff.grids[grid.code])
    if source == "department" and department_user is not None:
        reporter = department_user
    event_id = writer.new_id(Event)
    steps = [
        (0.0, "report", None, "reported", None, "grid", reporter, None, None)
    ]  # minutes, action, statuses, levels, actor …
    order = [s for s, _ in STATUSES]
    reached = order.index(status)
    t, current, replied, dispatch = 0.0, "grid", None, None
    respond, reply, resolve = matter["minutes"]
    if reached >= 1:  # most accept well in time: about one in twenty is late
        t = min(respond * rng.expovariate(1 / 0.35), 600)
        steps.append((t, "accept", "reported", "accepted", "grid", "grid", handler["grid"], None, None))
    state = "accepted"
    if reached >= 2:  # the first word back, mostly before the reply deadline
        t += (reply - respond) * rng.uniform(0.1, 1.15) + 1
        steps.append(
            (t, "start", "accepted", "in_progress", "grid", "grid", handler["grid"], "已到现场查看。", None)
        )
        state, replied = "in_progress", t
    for target in _level_path(level, major)[1:]:
        t += rng.uniform(30, 600)
        if target == "department":
            steps.append(
                (
                    t,
                    "dispatch",
                    state,
                    "in_progress",
                    current,
                    target,
                    street_user,
                    "吹哨部门协同处置。",
                    None,
                )
            )
            state, replied = "in_progress", replied if replied is not None else t
            dispatch = {
                "id": writer.new_id(Dispatch),
                "event_id": event_id,
                "department_id": matter["department_id"],
                "status": "pending",
                "dispatched_by_id": street_user,
                "dispatched_at": t,
                "answer_note": None,
                "answered_at": None,
                "done_at": None,
            }
        else:
            note = "重大事件，直报区级。" if major else ESCALATE_NOTE[current]
            steps.append((t, "escalate", state, state, current, target, handler[current], note, None))
        current = target
    if dispatch is not None and (reached >= 3 or rng.random() < 0.5):
        t += rng.uniform(60, 1440)
        done = reached >= 3
        dispatch.update(
            status="done" if done else "answered",
            answer_note="已安排人员处置。",
            answered_at=t,
            done_at=t if done else None,
        )
        steps.append(
            (
                t,
                "answer",
                "in_progress",
                "in_progress",
                current,
                current,
                department_user,
                dispatch["answer_note"],
                matter["department_id"],
            )
        )
    if reached >= 3:  # a quarter of the resolve deadline at grid level, longer higher up: ~7 % late overall
        median = (
            resolve
            * 0.25
            * (1 + 0.5 * ("grid", "community", "street", "department", "district").index(level))
        )
        t = max(t + 10, median * math.exp(rng.gauss(0, 0.8)))
        steps.append(
            (
                t,
                "resolve",
                "in_progress",
                "resolved",
                current,
                current,
                handler[current],
                "已处置完毕。",
                None,
            )
        )
    for action, source_status, target, low, high, actor in (
        ("verify", "resolved", "verified", 30, 480, handler["grid"]),
        ("close", "verified", "closed", 1200, 2880, handler["grid"]),
        ("archive", "closed", "archived", 1440, 14400, staff.communities[community_code]),
    ):
        if reached >= order.index(target):
            t += rng.uniform(low, high)
            note = (
                str(pick(rng, SCORES))
                if action == "archive"
                else ("回访居民表示满意。" if action == "close" else "现场核实已解决。")
            )
            steps.append((t, action, source_status, target, current, current, actor, note, None))
    _place(
        writer, event_id, grid, matter, status, current, major, source, reporter, steps, dispatch, rng, now
    )


def _place(
    writer, event_id, grid, matter, status, level, major, source, reporter, steps, dispatch, rng, now
) -> None:
    """Put the history in time (its last step before `now`), flag missed deadlines and write it all."""
    low, high = LAST_STEP_AGO[status]
    if status == "reported" and rng.random() < 0.7:
        high = 14  # most new reports are minutes old
    reported = now - timedelta(minutes=steps[-1][0] + rng.uniform(low, high))
    at = {}
    for minutes, action, *_ in steps:
        at.setdefault(action, reported + timedelta(minutes=minutes))
    respond_by, reply_by, resolve_by = (reported + timedelta(minutes=m) for m in matter["minutes"])
    replies = [at[a] for a in ("start", "dispatch", "answer", "resolve") if a in at]
    replied_at = min(replies) if replies else None
    open_ = status in ("reported", "accepted", "in_progress")
    settled = {"respond": at.get("accept"), "reply": replied_at, "resolve": at.get("resolve")}
    due = {"respond": respond_by, "reply": reply_by, "resolve": resolve_by}
    breached, supervisions = {}, []
    for deadline, moment in settled.items():
        late = moment > due[deadline] if moment is not None else (open_ and now > due[deadline])
        breached[deadline] = late
        if late:
            breach_level = "grid" if deadline != "resolve" else level
            supervisions.append(
                {
                    "id": writer.new_id(Supervision),
                    "event_id": event_id,
                    "deadline": deadline,
                    "grid_code": grid.code,
                    "level": breach_level,
                    "level_notified": NOTIFIED_LEVEL[breach_level],
                    "due_at": due[deadline],
                    "created_at": min(now, due[deadline] + timedelta(seconds=rng.randint(1, 59))),
                    "resolved_at": moment,
                }
            )
    if open_ and breached["resolve"] and level in NEXT_LEVEL:  # the sweep escalated it, once
        escalated = max(resolve_by, reported + timedelta(minutes=steps[-1][0])) + timedelta(minutes=1)
        steps.append(
            (
                (min(escalated, now) - reported).total_seconds() / 60,
                "auto_escalate",
                status,
                status,
                level,
                NEXT_LEVEL[level],
                None,
                "超期自动升级。",
                None,
            )
        )
        level = NEXT_LEVEL[level]
    archived = status == "archived"
    writer.add(
        Event,
        {
            "id": event_id,
            "title": rng.choice(TITLES.get(matter["category"], ("其他问题",))),
            "description": "网格内群众反映的问题，请及时处置。",
            "matter_id": matter["id"],
            "grid_code": grid.code,
            "location_text": f"{grid.label}{rng.choice(grid.buildings)}附近",
            "source": source,
            "reporter_id": reporter,
            "acting_for": f"resident:{rng.randint(*grid.residents)}" if source == "resident" else None,
            "external_ref": f"12345-{reported:%Y%m%d}-{event_id:07d}" if source == "hotline" else None,
            "level": level,
            "status": status,
            "major": major,
            "campaign_id": None,
            "resolution_note": "已处置完毕。" if "resolve" in at else None,
            "score": int(steps[-1][7]) if archived else None,
            "respond_by": respond_by,
            "reply_by": reply_by,
            "resolve_by": resolve_by,
            "respond_breached": breached["respond"],
            "reply_breached": breached["reply"],
            "resolve_breached": breached["resolve"],
            "created_at": reported,
            "accepted_at": at.get("accept"),
            "replied_at": replied_at,
            "resolved_at": at.get("resolve"),
            "verified_at": at.get("verify"),
            "closed_at": at.get("close"),
            "archived_at": at.get("archive"),
            "updated_at": reported + timedelta(minutes=steps[-1][0]),
        },
    )
    for supervision in supervisions:  # after their event: a flush may come between any two rows
        writer.add(Supervision, supervision, counted=False)
    for minutes, action, from_status, to_status, from_level, to_level, actor, note, department_id in steps:
        writer.add(
            EventStep,
            {
                "id": writer.new_id(EventStep),
                "event_id": event_id,
                "actor_id": actor,
                "action": action,
                "from_status": from_status,
                "to_status": to_status,
                "from_level": from_level,
                "to_level": to_level,
                "department_id": department_id,
                "note": note,
                "at": reported + timedelta(minutes=minutes),
            },
            counted=False,
        )
    if dispatch is not None:
        for key in ("dispatched_at", "answered_at", "done_at"):
            if dispatch[key] is not None:
                dispatch[key] = reported + timedelta(minutes=dispatch[key])
        writer.add(Dispatch, dispatch, counted=False)

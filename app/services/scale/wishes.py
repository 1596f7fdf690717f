"""Micro-wishes of a synthetic district at every status, with their steps; members' hours follow from them."""

import random
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models import Member, Wish, WishCategory, WishStep
from app.services.demo import DEMO_WISHES, WISH_CATEGORIES
from app.services.scale.bulk import Writer
from app.services.scale.people import pick

# (status, share): most wishes are done and confirmed; every status present
STATUSES = (
    ("submitted", 0.06),
    ("published", 0.14),
    ("rejected", 0.04),
    ("cancelled", 0.05),
    ("claimed", 0.12),
    ("done", 0.07),
    ("confirmed", 0.52),
)
TASKS = (
    "帮忙取快递",
    "陪同就医",
    "代买生活用品",
    "辅导孩子功课",
    "上门理发",
    "维修家电",
    "打扫卫生",
    "读报聊天",
    "咨询法律问题",
    "搬运重物",
    "代缴水电费",
    "教用智能手机",
) + tuple(t for t, *_ in DEMO_WISHES)
RATINGS = (("good", 0.86), ("average", 0.09), ("poor", 0.03), (None, 0.02))  # None: confirmed automatically
MAX_ACTIVE = 3


def ensure_categories() -> list[int]:
    """The demo's wish categories (created when missing); their ids."""
    for position, (code, name) in enumerate(WISH_CATEGORIES):
        if db.session.scalar(select(WishCategory.id).where(WishCategory.code == code)) is None:
            db.session.add(WishCategory(code=code, name=name, position=position))
    db.session.flush()
    return list(db.session.scalars(select(WishCategory.id).order_by(WishCategory.position)))


# how long ago each status was reached (hours): fresh reviews, claims before the auto-confirm, old history
LAST_STEP_AGO = {
    "submitted": (0.2, 30),
    "published": (1, 240),
    "claimed": (1, 120),
    "done": (1, 60),
    "rejected": (24, 4000),
    "cancelled": (24, 4000),
    "confirmed": (24, 4000),
}


def build_wishes(
    writer: Writer,
    count: int,
    census: list,
    communities: dict[str, str],
    staff,
    members: list[dict],
    rng: random.Random,
    now: datetime,
    hours: dict[str, int],
) -> None:
    """Write the members (with the hours their confirmed wishes earned), then the wishes and their steps."""
    categories = ensure_categories()
    member_index = {m["id"]: m for m in members}
    active: dict[int, int] = {}
    for member in members:
        member["service_hours"] = Decimal(0)
    rows, steps = [], []
    for n in range(count):
        grid = census[rng.randrange(len(census))]
        status = STATUSES[n][0] if n < len(STATUSES) else pick(rng, STATUSES)  # every status, however few
        pool = staff.members.get(communities[grid.code]) or []
        if status in ("claimed", "done", "confirmed") and not pool:
            status = "published"  # nobody checked in to this community could have claimed it
        worker = staff.grids[grid.code]
        row = {
            "id": writer.new_id(Wish),
            "title": rng.choice(TASKS),
            "description": "居民提出的微心愿，由网格员帮办录入。",
            "category_id": rng.choice(categories),
            "grid_code": grid.code,
            "owner_id": None,
            "resident_id": rng.randint(*grid.residents),
            "posted_by_id": worker,
            "status": status,
            "claimed_by_id": None,
            "hours": None,
            "completion_note": None,
            "rating": None,
            "comment": None,
            "reject_reason": None,
        }
        # the trail in hours after posting; placed in time once its length is known
        trail = [("post", None, "submitted", worker, 0.0, None)]
        moment = rng.uniform(0.5, 20)
        if status == "rejected":
            row["reject_reason"] = "不属于微心愿受理范围，已转相关部门。"
            trail.append(("reject", "submitted", "rejected", worker, moment, row["reject_reason"]))
        elif status == "cancelled":
            trail.append(("cancel", "submitted", "cancelled", worker, moment, "居民已自行解决。"))
        elif status != "submitted":
            trail.append(("publish", "submitted", "published", worker, moment, None))
        if status in ("claimed", "done", "confirmed"):
            member_id, user_id = rng.choice(pool)
            if status == "claimed" and active.get(member_id, 0) >= MAX_ACTIVE:
                status = row["status"] = "done"  # this member holds enough claims; the wish got done
            moment += rng.uniform(1, 48)
            row["claimed_by_id"] = member_id
            trail.append(("claim", "published", "claimed", user_id, moment, None))
            if status == "claimed":
                active[member_id] = active.get(member_id, 0) + 1
            else:
                moment += rng.uniform(2, 72)
                row.update(hours=Decimal(rng.randint(1, 8)) / 2, completion_note="已按约定完成。")
                trail.append(("complete", "claimed", "done", user_id, moment, row["completion_note"]))
            if status == "confirmed":
                rating = pick(rng, RATINGS)
                moment += rng.uniform(1, 70) if rating else 72 + rng.uniform(0, 1)
                row.update(rating=rating, comment="非常感谢！" if rating == "good" else None)
                trail.append(
                    (
                        "confirm" if rating else "auto_confirm",
                        "done",
                        "confirmed",
                        worker if rating else None,
                        moment,
                        row["comment"],
                    )
                )
                member_index[member_id]["service_hours"] += row["hours"]
        posted = now - timedelta(hours=rng.uniform(*LAST_STEP_AGO[status]) + trail[-1][4])
        at = {action: posted + timedelta(hours=h) for action, _s, _t, _a, h, _n in trail}
        row.update(
            created_at=posted,
            updated_at=posted + timedelta(hours=trail[-1][4]),
            respond_by=posted + timedelta(hours=hours["review"]),
            reply_by=posted + timedelta(hours=hours["claim"]),
            resolve_by=posted + timedelta(hours=hours["resolve"]),
            published_at=at.get("publish"),
            claimed_at=at.get("claim"),
            done_at=at.get("complete"),
            confirmed_at=at.get("confirm") or at.get("auto_confirm"),
        )
        rows.append(row)
        for action, source, target, actor, h, note in trail:
            steps.append(
                {
                    "wish_id": row["id"],
                    "actor_id": actor,
                    "action": action,
                    "from_status": source,
                    "to_status": target,
                    "note": note,
                    "at": posted + timedelta(hours=h),
                }
            )
    for member in members:
        writer.add(Member, member)
    for row in rows:
        writer.add(Wish, row)
    for step in steps:
        writer.add(WishStep, step | {"id": writer.new_id(WishStep)}, counted=False)

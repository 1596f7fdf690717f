"""What the notice tests share: who was told what (read from the inbox table), and the demo's people and wishes."""

from sqlalchemy import delete, func, select

from app.extensions import db
from app.models import Notification, OutboxMessage, User, Wish
from app.services.notifications import NOTIFY_JOB

# the demo board (app/services/demo/activity.py): one wish at each stage, all the demo resident's, in GRID
GRID = "610404001001001"
CONFIRMED, DONE, CLAIMED = "帮父亲买降压药", "楼道声控灯不亮", "孩子周末数学辅导"
PUBLISHED, SUBMITTED = "陪老人去医院复查", "修理漏水的水龙头"
# the demo's community 文汇社区 has two members with accounts: `member` and `captain`
COMMUNITY_MEMBERS = {"member", "captain"}
EVERYONE = {
    "admin",
    "street",
    "community",
    "grid",
    "grid2",
    "dept",
    "member",
    "resident",
    "hotline",
    "captain",
    "leader",
}


def forget_notices() -> None:
    """Start from an empty inbox (the demo's own steps told people too)."""
    db.session.execute(delete(Notification))
    db.session.commit()


def told(kind: str) -> list[tuple[str, str, str, str]]:
    """(username, title, body, link) of every notice of `kind`, in the order written."""
    db.session.expire_all()
    return [
        tuple(row)
        for row in db.session.execute(
            select(User.username, Notification.title, Notification.body, Notification.link)
            .join(User, User.id == Notification.user_id)
            .where(Notification.kind == kind)
            .order_by(Notification.id)
        )
    ]


def told_once(kind: str) -> dict[str, tuple[str, str, str]]:
    """{username: (title, body, link)} of `kind`'s notices; fails when anyone got two."""
    rows = told(kind)
    names = [row[0] for row in rows]
    assert len(names) == len(set(names)), f"someone was told twice: {names}"
    return {name: rest for name, *rest in rows}


def every_notice() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Notification))


def notify_jobs() -> int:
    return db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == NOTIFY_JOB)
    )


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def wish_titled(title: str) -> Wish:
    db.session.expire_all()
    return db.session.scalar(select(Wish).where(Wish.title == title))


def opens(client, link: str) -> bool:
    """Whether `link` opens for the client's user (a page, or a PDF), without an error."""
    response = client.get(link)
    return response.status_code == 200

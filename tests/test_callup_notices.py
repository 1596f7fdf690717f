"""A call-up's notifications: urgent, once per person per raise, the leads first in their own words; none after a
rollback; a whole street's worth written set-based."""

import time
from decimal import Decimal

import pytest
from signing_support import user
from sqlalchemy import func, select

from app.extensions import db
from app.models import Member, Notification, NotificationPreference, OutboxMessage, User
from app.models.base import utcnow
from app.models.callups import Callup
from app.services import callup_notices, callups

pytestmark = pytest.mark.usefixtures("english")

COMMUNITY, STREET = "610404001001", "610404001"


def raise_one(area=COMMUNITY, username="community"):
    return callups.raise_callup(
        user(username),
        area_code=area,
        title="防汛抢险",
        details="转移沙袋",
        muster_point="社区党群服务中心",
        needed=3,
        starts_at=utcnow(),
        hours=Decimal(1),
    )


def notices(callup_id: int) -> list[Notification]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.subject == f"callup:{callup_id}")
            .order_by(Notification.id)
        )
    )


def test_members_and_leads_are_told_once_each_urgently_leads_first(demo):
    # quiet hours all day and the kinds muted: a call-up comes through all the same
    member = user("member")
    db.session.add(
        NotificationPreference(
            user_id=member.id,
            muted_kinds=["callup"],
            muted_categories=[],
            quiet_start="00:00",
            quiet_end="23:59",
        )
    )
    db.session.commit()
    callup = raise_one()
    db.session.commit()
    rows = notices(callup.id)
    by_user = {}
    for row in rows:
        by_user.setdefault(row.user_id, []).append(row.kind)
    assert all(len(kinds) == 1 for kinds in by_user.values())  # each person once
    assert by_user[user("captain").id] == ["callup_lead"] and by_user[user("leader").id] == ["callup_lead"]
    assert by_user[member.id] == ["callup"]
    expected = set(
        db.session.scalars(
            select(Member.user_id)
            .join(User, User.id == Member.user_id)
            .where(Member.active.is_(True), Member.grid_code.startswith(COMMUNITY), User.active.is_(True))
        )
    ) - {user("captain").id}
    assert {r.user_id for r in rows if r.kind == "callup"} == expected
    assert user("resident").id not in by_user and user("community").id not in by_user
    assert all(r.urgent and r.link == f"/callups/{callup.id}" for r in rows)
    first_member = min(r.id for r in rows if r.kind == "callup")
    assert max(r.id for r in rows if r.kind == "callup_lead") < first_member  # the leads first
    lead, plain = (next(r for r in rows if r.kind == kind) for kind in ("callup_lead", "callup"))
    assert lead.title != plain.title and "防汛抢险" in lead.title and "防汛抢险" in plain.title
    # answering, checking in and closing tell nobody again
    callups.respond(member, callup.id, "coming")
    callups.close(user("community"), callup.id)
    db.session.commit()
    assert len(notices(callup.id)) == len(rows)


def test_each_member_reads_the_call_up_in_their_own_language(demo):
    member, leader = user("member"), user("leader")
    member.locale = leader.locale = "zh_Hans_CN"  # the district's language here is English (the fixture)
    db.session.commit()
    callup = raise_one()
    db.session.commit()
    by_user = {row.user_id: row for row in notices(callup.id)}
    assert (
        by_user[member.id].title == "【吹哨报到】防汛抢险" and "社区党群服务中心" in by_user[member.id].body
    )
    assert by_user[user("captain").id].title == "Call-up — lead your members: 防汛抢险"
    assert by_user[leader.id].title.endswith("防汛抢险") and "Call-up" not in by_user[leader.id].title


def test_a_rolled_back_raise_sends_nothing(demo):
    before = db.session.scalar(select(func.count()).select_from(Notification))
    callup = raise_one()
    callup_id = callup.id
    db.session.rollback()
    assert db.session.get(Callup, callup_id) is None
    assert db.session.scalar(select(func.count()).select_from(Notification)) == before
    assert notices(callup_id) == []
    pending = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "notify")).all()
    assert all(m.payload.get("payload", {}).get("callup_id") != callup_id for m in pending)


def test_a_cancelled_callup_sends_nothing_when_its_job_runs_late(demo):
    callup = raise_one()
    callups.cancel(user("community"), callup.id, "误发")
    db.session.commit()  # the jobs run after this commit: the call-up is cancelled by then
    assert notices(callup.id) == []


def test_a_street_is_told_set_based(demo):
    members = db.session.scalar(
        select(func.count())
        .select_from(Member)
        .join(User, User.id == Member.user_id)
        .where(Member.active.is_(True), Member.grid_code.startswith(STREET))
    )
    callup = raise_one(area=STREET, username="street")
    db.session.commit()
    started = time.perf_counter()
    written = callup_notices.notify_members(callup.id)  # the job again: one statement, whatever the size
    db.session.rollback()
    assert time.perf_counter() - started < 2
    assert written == len([r for r in notices(callup.id) if r.kind == "callup"])
    assert written + len([r for r in notices(callup.id) if r.kind == "callup_lead"]) >= members

"""Who is told what about micro-wishes: each step tells the right people once, through the site, the API and the
back office alike; a rolled-back step tells nobody; muted kinds and categories stay quiet."""

from datetime import timedelta

import pytest
from notices_support import (
    CLAIMED,
    COMMUNITY_MEMBERS,
    DONE,
    GRID,
    PUBLISHED,
    SUBMITTED,
    every_notice,
    forget_notices,
    notify_jobs,
    told,
    told_once,
    user,
    wish_titled,
)
from sqlalchemy import select, update

from app.extensions import db
from app.jobs.scheduler import run_periodic
from app.models import Member, Resident, Unit, Wish, WishCategory
from app.models.base import utcnow
from app.services import notification_preferences, wishes
from app.services.demo import DEMO_PASSWORDS

pytestmark = pytest.mark.chinese  # the notices are written in the district's language


@pytest.fixture
def quiet(demo):
    forget_notices()


def api(client, username: str):
    """Headers of a bearer token for `username`."""
    password = DEMO_PASSWORDS[username][0]
    token = client.post("/api/v1/auth/token", json={"username": username, "password": password}).get_json()[
        "token"
    ]
    return {"Authorization": f"Bearer {token}"}


def test_a_wish_posted_on_the_site_goes_to_its_grid_workers_review_queue(quiet, login_as):
    response = login_as("resident").post(
        "/wishes/new",
        data={"title": "帮忙换灯泡", "category": "repair", "grid_code": GRID, "description": "客厅"},
    )
    assert response.status_code == 303
    wish = wish_titled("帮忙换灯泡")
    notices = told_once("review_queue")
    # the grid workers of its grid; not grid2, the community, the street
    assert set(notices) == {"grid", "leader"}
    title, body, link = notices["grid"]
    assert title == "待审核心愿：帮忙换灯泡" and "第一网格" in body and "前审核" in body
    assert link == f"/admin/wish/details/?id={wish.id}"
    page = login_as("leader").get(link)
    assert page.status_code == 200 and "帮忙换灯泡" in page.get_data(as_text=True)
    assert every_notice() == 2  # nothing else: the wish is not on the board yet


def test_a_wish_staff_post_and_publish_at_once_skips_review_and_tells_the_community(quiet):
    owner = db.session.scalar(select(Resident).where(Resident.user_id == user("resident").id))
    grid = user("grid")
    wishes.post_wish(
        grid, title="代办：取快递", description=None, category_code="life", resident_id=owner.id, publish=True
    )
    db.session.commit()
    assert told("review_queue") == []
    assert set(told_once("wish_published")) == {"resident"}
    assert set(told_once("new_wish")) == COMMUNITY_MEMBERS


def test_publishing_tells_the_owner_and_every_member_of_the_community_once(quiet, client, login_as):
    wish = wish_titled(SUBMITTED)
    response = client.post(f"/api/v1/wishes/{wish.id}/publish", headers=api(client, "grid"))
    assert response.status_code == 200, response.get_json()
    owner = told_once("wish_published")
    assert set(owner) == {"resident"}
    title, body, link = owner["resident"]
    assert title == f"您的心愿“{SUBMITTED}”已发布" and "报到党员" in body and link == f"/wishes/{wish.id}"
    assert login_as("resident").get(link).status_code == 200

    members = told_once("new_wish")
    assert set(members) == COMMUNITY_MEMBERS  # active, checked in to 文汇社区, with an account
    title, body, link = members["captain"]
    assert (
        title == f"本社区新心愿：{SUBMITTED}"
        and body == "家政维修 · 第一网格"
        and link == f"/wishes/{wish.id}"
    )
    page = login_as("captain").get(link)
    assert page.status_code == 200 and f"/wishes/{wish.id}?confirm=claim" in page.get_data(as_text=True)
    assert every_notice() == 3


def test_notices_to_many_reach_each_in_their_own_language(quiet, client, login_as):
    # the grid worker reads English, the leader the district's Chinese; so do a member and the captain
    user("grid").locale, user("captain").locale = "en", "en"
    db.session.commit()
    response = login_as("resident").post(
        "/wishes/new",
        data={"title": "帮忙修门锁", "category": "repair", "grid_code": GRID, "description": ""},
    )
    assert response.status_code == 303
    reviewers = told_once("review_queue")
    assert reviewers["grid"][0] == "A wish to review: 帮忙修门锁" and "review it by" in reviewers["grid"][1]
    assert reviewers["leader"][0] == "待审核心愿：帮忙修门锁" and "前审核" in reviewers["leader"][1]

    wish = wish_titled("帮忙修门锁")
    response = client.post(f"/api/v1/wishes/{wish.id}/publish", headers=api(client, "leader"))
    assert response.status_code == 200, response.get_json()
    members = told_once("new_wish")
    assert members["captain"][0] == "New wish in your community: 帮忙修门锁"
    assert members["member"][0] == "本社区新心愿：帮忙修门锁"
    assert members["captain"][1] == members["member"][1] == "家政维修 · 第一网格"  # names, not words


def test_a_member_who_muted_new_wishes_or_the_category_is_not_told(quiet, client):
    category = db.session.scalar(select(WishCategory).where(WishCategory.code == "repair"))
    notification_preferences.save_preferences(user("captain"), muted_kinds=["new_wish"])
    notification_preferences.save_preferences(user("member"), muted_categories=[category.id])
    db.session.commit()
    wish = wish_titled(SUBMITTED)  # a repair
    assert client.post(f"/api/v1/wishes/{wish.id}/publish", headers=api(client, "grid")).status_code == 200
    assert told("new_wish") == [] and set(told_once("wish_published")) == {"resident"}

    other = wishes.post_wish(user("resident"), title="陪读", description=None, category_code="education")
    db.session.commit()
    wishes.publish_wish(user("grid"), other)
    db.session.commit()
    assert set(told_once("new_wish")) == {"member"}  # another category: only the captain muted every new wish


def test_a_rejection_tells_the_owner_why(quiet, client, login_as):
    wish = wish_titled(SUBMITTED)
    response = client.post(
        f"/api/v1/wishes/{wish.id}/reject", json={"reason": "属于物业维修范围"}, headers=api(client, "grid")
    )
    assert response.status_code == 200
    (title, body, link) = told_once("wish_rejected")["resident"]
    assert title == f"您的心愿“{SUBMITTED}”未通过审核" and body == "原因：属于物业维修范围"
    assert login_as("resident").get(link).status_code == 200
    assert told("new_wish") == [] and every_notice() == 1


def test_a_claim_tells_the_owner_who_took_it_by_family_name_and_unit(quiet, client, login_as):
    member = db.session.scalar(select(Member).where(Member.user_id == user("member").id))
    unit = db.session.scalar(select(Unit).order_by(Unit.id))
    member.unit_id = unit.id
    db.session.commit()
    wish = wish_titled(PUBLISHED)
    assert client.post(f"/api/v1/wishes/{wish.id}/claim", headers=api(client, "member")).status_code == 200
    notices = told_once("wish_claimed")
    assert set(notices) == {"resident"}
    title, body, link = notices["resident"]
    assert title == f"王同志认领了您的心愿“{PUBLISHED}”"
    assert body.startswith(f"{unit.name}的王同志于 ") and "王建国" not in title + body
    assert login_as("resident").get(link).status_code == 200
    assert every_notice() == 1


def test_a_claim_tells_the_owner_at_once_in_their_own_language_through_the_site_too(quiet, client, login_as):
    user("resident").locale = "en"
    member = db.session.scalar(select(Member).where(Member.user_id == user("member").id))
    member.unit_id = None
    db.session.commit()
    wish = wish_titled(PUBLISHED)
    jobs = notify_jobs()
    page = login_as("member")
    assert page.post(f"/wishes/{wish.id}/claim").status_code == 303
    assert wish_titled(PUBLISHED).status == "claimed"
    notices = told_once("wish_claimed")
    title, body, _link = notices["resident"]
    assert title == f"Comrade 王 has taken on your wish “{PUBLISHED}”"
    assert body.startswith("Comrade 王 took it on at ")  # no unit: said without one
    assert notify_jobs() == jobs  # written in the claim's transaction: no job for it


def test_an_owner_who_muted_claims_is_not_told_and_the_claim_stands(quiet, client):
    # the notice is written by the claim's own statement, which then writes no row for the owner
    notification_preferences.save_preferences(user("resident"), muted_kinds=["wish_claimed"])
    db.session.commit()
    wish = wish_titled(PUBLISHED)
    response = client.post(f"/api/v1/wishes/{wish.id}/claim", headers=api(client, "member"))
    assert response.status_code == 200 and response.get_json()["status"] == "claimed"
    assert told("wish_claimed") == [] and every_notice() == 0
    assert [step["action"] for step in response.get_json()["history"]][-1] == "claim"


def test_done_asks_the_owner_to_confirm(quiet, login_as):
    wish = wish_titled(CLAIMED)
    response = login_as("member").post(
        f"/wishes/{wish.id}/complete", data={"complete-note": "辅导了两次", "complete-hours": "3"}
    )
    assert response.status_code == 303
    title, body, link = told_once("wish_done")["resident"]
    assert title == f"您的心愿“{CLAIMED}”已完成，请确认" and "辅导了两次" in body
    page = login_as("resident").get(link)
    assert page.status_code == 200 and f"/wishes/{wish.id}/confirm" in page.get_data(as_text=True)
    assert every_notice() == 1


def test_a_dispute_tells_the_member_who_did_it(quiet, login_as):
    wish = wish_titled(DONE)
    response = login_as("resident").post(
        f"/wishes/{wish.id}/dispute", data={"dispute-reason": "五楼的灯还是不亮"}
    )
    assert response.status_code == 303
    notices = told_once("wish_disputed")
    assert set(notices) == {"member"}
    title, body, link = notices["member"]
    assert title == f"群众反馈“{DONE}”尚未完成" and body == "原因：五楼的灯还是不亮"
    assert login_as("member").get(link).status_code == 200
    assert every_notice() == 1


def test_auto_confirmation_tells_the_owner_and_the_grid_worker_who_calls_back(quiet, login_as):
    wish = wish_titled(DONE)
    db.session.execute(update(Wish).where(Wish.id == wish.id).values(done_at=utcnow() - timedelta(hours=73)))
    db.session.commit()
    assert run_periodic("auto_confirm_wishes") == "auto_confirm_wishes: 1"
    title, body, link = told_once("wish_auto_confirmed")["resident"]
    assert title == f"您的心愿“{DONE}”已自动确认" and "72 小时" in body
    assert login_as("resident").get(link).status_code == 200
    callbacks = told_once("callback_due")
    assert set(callbacks) == {"grid"}  # the task's assignee: the first grid worker of the grid
    title, body, link = callbacks["grid"]
    assert title == f"待回访：{DONE}" and link.startswith("/admin/callback/record/?id=")
    page = login_as("grid").get(link)
    assert page.status_code == 200 and DONE in page.get_data(as_text=True)
    assert (
        told("certificate_ready") and every_notice() == 3
    )  # and the member's certificate (rendered in-process)


def test_staff_releasing_a_claim_tells_its_member_and_a_member_releasing_it_nobody(quiet, login_as):
    wish = wish_titled(CLAIMED)
    grid = login_as("grid")
    assert "/admin/wish/transition/release/" in grid.get(f"/admin/wish/details/?id={wish.id}").get_data(
        as_text=True
    )
    response = grid.post(
        f"/admin/wish/transition/release/?id={wish.id}", data={"reason": "党员外出培训一个月"}
    )
    assert response.status_code == 302
    assert wish_titled(CLAIMED).status == "published"
    notices = told_once("claim_released")
    assert set(notices) == {"member"}
    title, body, link = notices["member"]
    assert title == f"您认领的“{CLAIMED}”已被撤销认领" and "党员外出培训一个月" in body
    assert login_as("member").get(link).status_code == 200
    assert told("wish_published") == [] and told("new_wish") == []  # back on the board: not news

    member = login_as("member")
    assert member.post(f"/wishes/{wish.id}/claim").status_code == 303
    assert member.post(f"/wishes/{wish.id}/release", data={"release-reason": "临时出差"}).status_code == 303
    assert len(told("claim_released")) == 1  # the member gave it back: they know


def test_a_rolled_back_step_tells_nobody(quiet):
    jobs = notify_jobs()
    wishes.publish_wish(user("grid"), wish_titled(SUBMITTED))
    assert notify_jobs() > jobs  # recorded with the step …
    db.session.rollback()  # … and gone with it
    assert notify_jobs() == jobs and every_notice() == 0
    assert wish_titled(SUBMITTED).status == "submitted"

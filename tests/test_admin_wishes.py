"""Micro-wishes in the back office: the review queue, transitions, assisted posting, editing and categories."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog, Resident, User, Wish, WishCategory, WishStep
from app.models.base import utcnow
from app.models.choices import WishAction, WishStatus
from app.services import wishes

GRID_A = "610404001001001"  # the demo grid worker "grid", the demo resident and member
GRID_B = "610404001001002"  # the demo grid worker "grid2"


pytestmark = pytest.mark.usefixtures("english")


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def post(title: str, grid: str = GRID_A, **values) -> Wish:
    """A submitted wish, posted through the service and committed."""
    if grid == GRID_A:
        wish = wishes.post_wish(user("resident"), title=title, description="", category_code="life", **values)
    else:
        resident = db.session.scalars(
            select(Resident).where(Resident.grid_code == grid).order_by(Resident.id)
        ).first()
        wish = wishes.post_wish(
            user("grid2"),
            title=title,
            description="",
            category_code="life",
            resident_id=resident.id,
            **values,
        )
    db.session.commit()
    return wish


def reload(wish: Wish) -> Wish:
    db.session.expire_all()
    return db.session.get(Wish, wish.id)


def listed_ids(page: str) -> list[int]:
    """The wish ids a list page links to, in the order shown."""
    ids = []
    for i in re.findall(r"/details/\?id=(\d+)", page):
        if int(i) not in ids:
            ids.append(int(i))
    return ids


def text(response) -> str:
    return response.get_data(as_text=True)


# --- the review queue ------------------------------------------------------------------------------
def test_grid_worker_sees_the_review_queue_of_their_grid_oldest_first_with_overdue_flagged(login_as):
    old, new = post("楼下垃圾桶坏了"), post("想学智能手机")
    other = post("别的网格的心愿", grid=GRID_B)
    db.session.get(Wish, old.id).respond_by = utcnow() - timedelta(hours=2)
    db.session.get(Wish, old.id).created_at = utcnow() - timedelta(days=2)
    db.session.commit()
    page = text(login_as("grid").get("/admin/wish_review/"))
    ids = listed_ids(page)
    submitted_here = set(
        db.session.scalars(select(Wish.id).where(Wish.status == "submitted", Wish.grid_code == GRID_A))
    )
    assert set(ids) == submitted_here and other.id not in ids
    assert ids[0] == old.id and ids.index(old.id) < ids.index(new.id)
    assert page.count("og-overdue") == 1 and "overdue" in page
    assert f"/admin/wish_review/transition/reject/?id={old.id}" in page


def test_grid_worker_publishes_from_the_queue_with_the_bulk_action(login_as):
    one, two = post("帮忙换灯泡"), post("帮忙取快递")
    response = login_as("grid").post(
        "/admin/wish_review/action/",
        data={"action": "publish", "rowid": [one.id, two.id]},
        follow_redirects=True,
    )
    assert "2 wishes published." in text(response)
    assert reload(one).status == reload(two).status == WishStatus.PUBLISHED
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.model == "Wish", AuditLog.action == "update")
        )
        == 2
    )


def test_bulk_publish_reports_which_wishes_failed_and_why(login_as):
    fresh = post("帮忙换灯泡")
    done = post("已经发布的心愿", publish=False)
    wishes.publish_wish(user("grid"), done)
    db.session.commit()
    response = login_as("grid").post(
        "/admin/wish/action/", data={"action": "publish", "rowid": [fresh.id, done.id]}, follow_redirects=True
    )
    page = text(response)
    assert "1 wish published." in page
    assert "Not published" in page and "已经发布的心愿" in page
    assert reload(fresh).status == WishStatus.PUBLISHED


def test_grid_worker_publishes_from_the_details_page(login_as):
    wish = post("帮忙搬家具")
    client = login_as("grid")
    details = text(client.get(f"/admin/wish/details/?id={wish.id}"))
    assert 'data-wish-action="publish"' in details and 'data-wish-action="reject"' in details
    response = client.post(f"/admin/wish/transition/publish/?id={wish.id}")
    assert (
        response.status_code == 302 and f"/admin/wish/details/?id={wish.id}" in response.headers["Location"]
    )
    wish = reload(wish)
    assert wish.status == WishStatus.PUBLISHED
    assert [s.action for s in wish.steps] == [WishAction.POST, WishAction.PUBLISH]
    assert wish.steps[-1].actor.username == "grid"


def test_publishing_twice_is_refused_with_a_message_not_an_error(login_as):
    wish = post("帮忙搬家具")
    client = login_as("grid")
    client.post(f"/admin/wish/transition/publish/?id={wish.id}")
    response = client.post(f"/admin/wish/transition/publish/?id={wish.id}", follow_redirects=True)
    assert response.status_code == 200 and "that step is not possible" in text(response)
    assert (
        db.session.scalar(select(func.count()).select_from(WishStep).where(WishStep.wish_id == wish.id)) == 2
    )


def test_reject_without_a_reason_is_refused_and_changes_nothing(login_as):
    wish = post("帮忙修电脑")
    client = login_as("grid")
    form = text(client.get(f"/admin/wish_review/transition/reject/?id={wish.id}"))
    assert 'name="reason"' in form and "required" in form
    page = text(client.post(f"/admin/wish_review/transition/reject/?id={wish.id}", data={"reason": "   "}))
    assert "Reason is required." in page
    wish = reload(wish)
    assert wish.status == WishStatus.SUBMITTED and len(wish.steps) == 1


def test_reject_with_a_reason_records_it_in_the_history(login_as):
    wish = post("帮忙修电脑")
    client = login_as("grid")
    response = client.post(
        f"/admin/wish_review/transition/reject/?id={wish.id}", data={"reason": "属于商业服务，不在微心愿范围"}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/wish_review/")
    wish = reload(wish)
    assert wish.status == WishStatus.REJECTED and wish.reject_reason == "属于商业服务，不在微心愿范围"
    assert (
        wish.steps[-1].action == WishAction.REJECT and wish.steps[-1].note == "属于商业服务，不在微心愿范围"
    )
    details = text(client.get(f"/admin/wish/details/?id={wish.id}"))
    assert "属于商业服务，不在微心愿范围" in details and 'data-wish-action="publish"' not in details


# --- scope and roles -------------------------------------------------------------------------------
def test_another_grid_worker_cannot_see_or_publish_the_wish(login_as):
    wish = post("帮忙搬家具")
    client = login_as("grid2")
    assert wish.id not in listed_ids(text(client.get("/admin/wish/")))
    assert client.get(f"/admin/wish/details/?id={wish.id}").status_code == 404
    assert client.get(f"/admin/wish/transition/reject/?id={wish.id}").status_code == 404
    assert client.post(f"/admin/wish/transition/publish/?id={wish.id}").status_code == 404
    client.post("/admin/wish_review/action/", data={"action": "publish", "rowid": [wish.id]})
    assert reload(wish).status == WishStatus.SUBMITTED


def test_community_admin_sees_the_wishes_of_every_grid_of_the_community(login_as):
    mine, theirs = post("网格一的心愿"), post("网格二的心愿", grid=GRID_B)
    ids = listed_ids(text(login_as("community").get("/admin/wish/?page_size=100")))
    assert {mine.id, theirs.id} <= set(ids)


@pytest.mark.parametrize("username", ["member", "resident", "dept"])
def test_people_without_staff_rights_get_403_on_the_wish_pages(login_as, username):
    wish = db.session.scalars(select(Wish)).first()
    client = login_as(username)
    for url in ("/admin/wish/", "/admin/wish_review/", f"/admin/wish/details/?id={wish.id}"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/admin/wish/transition/publish/?id={wish.id}").status_code == 403


# --- assisted posting (帮办代办) --------------------------------------------------------------------
def test_grid_worker_posts_a_wish_for_a_resident_and_publishes_it_at_once(login_as):
    resident = db.session.scalars(
        select(Resident).where(Resident.grid_code == GRID_A, Resident.user_id.is_(None)).order_by(Resident.id)
    ).first()
    category = db.session.scalar(select(WishCategory).where(WishCategory.code == "elderly"))
    response = login_as("grid").post(
        "/admin/wish/new/",
        data={
            "resident": resident.id,
            "category": category.id,
            "title": "老人需要代买药品",
            "description": "每月一次",
            "publish": "y",
        },
    )
    assert response.status_code == 302
    wish = db.session.scalar(select(Wish).where(Wish.title == "老人需要代买药品"))
    assert f"/admin/wish/details/?id={wish.id}" in response.headers["Location"]
    assert wish.resident_id == resident.id and wish.owner_id is None and wish.grid_code == GRID_A
    assert wish.posted_by.username == "grid" and wish.assisted
    assert wish.status == WishStatus.PUBLISHED
    assert [s.action for s in wish.steps] == [WishAction.POST, WishAction.PUBLISH]
    assert (
        db.session.scalar(
            select(AuditLog.action).where(AuditLog.model == "Wish", AuditLog.object_id == str(wish.id))
        )
        == "create"
    )


def test_assisted_wish_without_publish_now_waits_for_review(login_as):
    resident = db.session.scalars(
        select(Resident).where(Resident.grid_code == GRID_A).order_by(Resident.id)
    ).first()
    category = db.session.scalar(select(WishCategory).where(WishCategory.code == "life"))
    login_as("grid").post(
        "/admin/wish/new/", data={"resident": resident.id, "category": category.id, "title": "代办心愿"}
    )
    wish = db.session.scalar(select(Wish).where(Wish.title == "代办心愿"))
    assert wish.status == WishStatus.SUBMITTED and len(wish.steps) == 1


def test_posting_for_a_resident_of_another_grid_saves_nothing(login_as):
    stranger = db.session.scalars(
        select(Resident).where(Resident.grid_code == GRID_B).order_by(Resident.id)
    ).first()
    category = db.session.scalar(select(WishCategory).where(WishCategory.code == "life"))
    before = db.session.scalar(select(func.count()).select_from(Wish))
    response = login_as("grid").post(
        "/admin/wish/new/",
        data={"resident": stranger.id, "category": category.id, "title": "越界代办", "publish": "y"},
    )
    assert response.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Wish)) == before


def test_the_create_form_offers_residents_of_the_own_grid_only(login_as):
    client = login_as("grid")
    assert client.get("/admin/wish/new/").status_code == 200
    found = client.get("/admin/wish/ajax/lookup/?name=resident&query=").get_json()
    grids = {db.session.get(Resident, pk).grid_code for pk, _label in found}
    assert found and grids == {GRID_A}


# --- editing ---------------------------------------------------------------------------------------
def test_a_plain_edit_never_changes_the_status(login_as):
    wish = post("帮忙修水管")
    response = login_as("grid").post(
        f"/admin/wish/edit/?id={wish.id}",
        data={
            "title": "帮忙修厨房水管",
            "description": "漏水",
            "category": wish.category_id,
            "status": "confirmed",
            "claimed_by": "1",
            "rating": "good",
        },
    )
    assert response.status_code == 302
    wish = reload(wish)
    assert wish.title == "帮忙修厨房水管"
    assert wish.status == WishStatus.SUBMITTED and wish.claimed_by_id is None and wish.rating is None
    assert len(wish.steps) == 1


def test_a_claimed_wish_can_no_longer_be_edited(login_as):
    wish = db.session.scalar(select(Wish).where(Wish.status == WishStatus.CLAIMED))
    client = login_as("grid")
    assert client.get(f"/admin/wish/edit/?id={wish.id}").status_code == 302
    client.post(f"/admin/wish/edit/?id={wish.id}", data={"title": "改名", "category": wish.category_id})
    assert reload(wish).title != "改名"


def test_nobody_deletes_a_wish(login_as):
    wish = post("帮忙修水管")
    client = login_as("admin")
    client.post("/admin/wish/delete/", data={"id": wish.id})
    client.post("/admin/wish/action/", data={"action": "delete", "rowid": [wish.id]})
    assert reload(wish) is not None


# --- staff acting for a resident without an account ------------------------------------------------
def test_staff_confirm_with_a_rating_for_a_resident_without_an_account(login_as):
    wish = post("独居老人需要打扫", grid=GRID_B, publish=True)
    member = user("member")  # checked in to the same community
    wishes.claim_wish(member, wish)
    wishes.complete_wish(member, wish, "打扫完毕", "2")
    db.session.commit()
    client = login_as("grid2")
    assert 'data-wish-action="confirm"' in text(client.get(f"/admin/wish/details/?id={wish.id}"))
    client.post(
        f"/admin/wish/transition/confirm/?id={wish.id}", data={"rating": "good", "comment": "老人很满意"}
    )
    wish = reload(wish)
    assert wish.status == WishStatus.CONFIRMED and wish.rating == "good"


def test_staff_cancel_an_assisted_wish_but_not_a_residents_own(login_as):
    assisted = post("代办的心愿", grid=GRID_B)
    client = login_as("community")
    client.post(f"/admin/wish/transition/cancel/?id={assisted.id}", data={"note": "老人已自行解决"})
    assert reload(assisted).status == WishStatus.CANCELLED
    own = post("居民自己的心愿")
    assert 'data-wish-action="cancel"' not in text(client.get(f"/admin/wish/details/?id={own.id}"))
    response = client.post(f"/admin/wish/transition/cancel/?id={own.id}", follow_redirects=True)
    assert "Only the resident who posted this wish may do this." in text(response)
    assert reload(own).status == WishStatus.SUBMITTED


def test_member_actions_are_not_offered_in_the_back_office(login_as):
    wish = db.session.scalar(select(Wish).where(Wish.status == WishStatus.PUBLISHED))
    assert login_as("admin").post(f"/admin/wish/transition/claim/?id={wish.id}").status_code == 404


# --- categories ------------------------------------------------------------------------------------
def test_category_admin_lists_the_seeded_categories_and_admin_adds_one(login_as):
    client = login_as("admin")
    page = text(client.get("/admin/wishcategory/"))
    assert all(name in page for name in ("生活帮扶", "助老助残", "法律咨询"))
    response = client.post(
        "/admin/wishcategory/new/", data={"code": "pets", "name": "宠物照看", "position": "8", "active": "y"}
    )
    assert response.status_code == 302
    assert db.session.scalar(select(WishCategory.name).where(WishCategory.code == "pets")) == "宠物照看"


def test_grid_worker_reads_categories_but_cannot_add_one(login_as):
    client = login_as("grid")
    assert client.get("/admin/wishcategory/").status_code == 200
    client.post("/admin/wishcategory/new/", data={"code": "pets", "name": "宠物照看", "position": "8"})
    assert db.session.scalar(select(WishCategory.id).where(WishCategory.code == "pets")) is None


def test_a_category_in_use_cannot_be_deleted(login_as):
    category = db.session.scalar(select(WishCategory).where(WishCategory.code == "repair"))
    response = login_as("admin").post(
        "/admin/wishcategory/delete/", data={"id": category.id}, follow_redirects=True
    )
    assert "Nothing was saved" in text(response)
    db.session.expire_all()
    assert db.session.get(WishCategory, category.id) is not None


def test_a_bad_category_code_is_refused(login_as):
    login_as("admin").post(
        "/admin/wishcategory/new/", data={"code": "宠物", "name": "宠物照看", "position": "8"}
    )
    assert db.session.scalar(select(WishCategory.id).where(WishCategory.name == "宠物照看")) is None


def test_the_wish_list_filters_by_status_category_and_assisted_posting(login_as):
    client = login_as("community")
    legal = db.session.scalar(select(WishCategory).where(WishCategory.code == "legal"))
    in_legal = set(db.session.scalars(select(Wish.id).where(Wish.category_id == legal.id)))
    published = set(db.session.scalars(select(Wish.id).where(Wish.status == WishStatus.PUBLISHED)))
    assisted = set(db.session.scalars(select(Wish.id).where(Wish.owner_id.is_(None))))
    # filter indexes: 0 status, 1 category, 2-4 street/community/grid, 5 assisted
    assert set(listed_ids(text(client.get(f"/admin/wish/?flt0_1={legal.id}")))) == in_legal
    assert set(listed_ids(text(client.get("/admin/wish/?flt0_0=published")))) == published
    assert set(listed_ids(text(client.get("/admin/wish/?flt0_5=1")))) == assisted and assisted
    assert set(listed_ids(text(client.get("/admin/wish/?flt0_4=" + GRID_B)))) == assisted

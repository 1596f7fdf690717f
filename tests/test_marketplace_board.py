"""Micro-wishes on the public board: listing, filters, paging, its query count, and claiming from it."""

from decimal import Decimal

import pytest
from sqlalchemy import select
from test_marketplace_wishes import (
    refused_back_to_the_wish,
    step_count,
    text_of,
    user,
    wish_titled,
)

from app.extensions import db
from app.models import Member, User, Wish
from app.models.choices import Role, WishStatus
from app.services import wishes as service
from app.services.users import create_user

OTHER_COMMUNITY_GRID = "610404001002001"  # 渭阳街道 / a second community, not the demo member's
PUBLISHED = ("陪老人去医院复查", "咨询租房合同纠纷", "独居老人需要打扫卫生")


pytestmark = pytest.mark.usefixtures("english")


def publish_new(
    title: str,
    category: str = "life",
    poster: str = "resident",
    publisher: str = "grid",
    grid_code: str | None = None,
) -> Wish:
    """A wish posted by a resident and published by grid staff, committed."""
    wish = service.post_wish(
        user(poster), title=title, description="", category_code=category, grid_code=grid_code
    )
    service.publish_wish(user(publisher), wish)
    db.session.commit()
    return wish


@pytest.fixture
def far_member(app, demo):
    """A checked-in member of another community, logged in."""
    from tests.conftest import AuthActions

    create_user("far_member", Role.MEMBER, "far-member-pass", area_code=OTHER_COMMUNITY_GRID, name="远方党员")
    db.session.commit()
    client = app.test_client()
    AuthActions(client).login("far_member", "far-member-pass")
    return client


# --- the board -----------------------------------------------------------------------------------


def test_visitor_sees_published_wishes_with_the_owner_masked(client, demo):
    page = text_of(client.get("/"))
    for title in PUBLISHED:
        assert title in page
    assert "修理漏水的水龙头" not in page  # submitted, awaiting review
    assert "孩子周末数学辅导" not in page  # claimed: off the board
    assert "陈秀英" not in page and "陈**" in page


def test_board_lists_the_newest_published_wish_first(client, demo):
    publish_new("最新的心愿")
    page = text_of(client.get("/"))
    assert page.index("最新的心愿") < page.index("陪老人去医院复查")


def test_rejected_wish_never_reaches_the_board(client, demo):
    wish = service.post_wish(user("resident"), title="不合适的心愿", description="", category_code="other")
    service.reject_wish(user("grid"), wish, "不属于微心愿范围")
    db.session.commit()
    assert "不合适的心愿" not in text_of(client.get("/"))
    assert client.get(f"/wishes/{wish.id}").status_code == 404


def test_board_says_so_when_nothing_is_published(client, demo):
    for wish in db.session.scalars(select(Wish).where(Wish.status == WishStatus.PUBLISHED)):
        service.cancel_wish(user("grid2") if wish.owner_id is None else user("resident"), wish)
    db.session.commit()
    page = text_of(client.get("/"))
    assert "No wishes are waiting for help right now." in page
    assert 'class="card wish-card"' not in page


@pytest.mark.parametrize(
    "query, shown, hidden",
    [
        ("grid=610404001001002", ["独居老人需要打扫卫生"], ["陪老人去医院复查"]),
        ("grid=610404001001001", ["陪老人去医院复查", "咨询租房合同纠纷"], ["独居老人需要打扫卫生"]),
        ("street=610404001&community=610404001001", list(PUBLISHED), []),
        ("street=610404002", [], list(PUBLISHED)),
        ("community=610404001002", [], list(PUBLISHED)),
        ("category=legal", ["咨询租房合同纠纷"], ["陪老人去医院复查", "独居老人需要打扫卫生"]),
        ("grid=610404001001001&category=health", ["陪老人去医院复查"], ["咨询租房合同纠纷"]),
    ],
)
def test_filters_narrow_the_board(client, demo, query, shown, hidden):
    page = text_of(client.get(f"/?{query}"))
    for title in shown:
        assert title in page
    for title in hidden:
        assert title not in page


def test_community_choices_follow_the_chosen_street(client, demo):
    page = text_of(client.get("/?street=610404001"))
    assert 'value="610404001001"' in page  # 文汇社区, under 渭阳街道
    assert 'value="610404002001"' not in page  # a community of another street
    grids = text_of(client.get("/?grid=610404001001002"))
    assert 'value="610404001001002" selected' in grids and 'value="610404001001" selected' in grids


def test_a_new_street_drops_the_old_community_and_grid(client, demo):
    page = text_of(client.get("/?street=610404002&community=610404001001&grid=610404001001001"))
    assert 'value="610404002" selected' in page
    assert "陪老人去医院复查" not in page  # the stale grid no longer filters 渭阳街道 in


@pytest.mark.parametrize(
    "query",
    [
        "street=abc",
        "grid=999999999999999",
        "category=nope",
        "community=%00",
        "page=abc",
        "street=610404001&grid=610404003001001",
    ],
)
def test_nonsense_filters_are_ignored(client, demo, query):
    response = client.get(f"/?{query}")
    assert response.status_code == 200
    assert "陪老人去医院复查" in text_of(response)


def test_board_pages_through_wishes(app, client, demo, monkeypatch):
    monkeypatch.setitem(app.config, "BOARD_PAGE_SIZE", 2)
    publish_new("第四个心愿")  # four published in all: two pages
    first, second = text_of(client.get("/")), text_of(client.get("/?page=2"))
    assert "第四个心愿" in first and "独居老人需要打扫卫生" in first
    assert "陪老人去医院复查" not in first and 'href="/?page=2"' in first
    assert "陪老人去医院复查" in second and "咨询租房合同纠纷" in second
    assert 'href="/?page=1"' in second and 'href="/?page=3"' not in second
    assert client.get("/?page=3").status_code == 404
    assert client.get("/?page=-1").status_code == 404


def test_page_links_keep_the_filters(app, client, demo, monkeypatch):
    monkeypatch.setitem(app.config, "BOARD_PAGE_SIZE", 1)
    page = text_of(client.get("/?grid=610404001001001"))
    assert "page=2" in page and "grid=610404001001001" in page.split('rel="next"')[1].split(">")[0]


def queries_for(client, path: str) -> int:
    """How many SQL statements one request runs."""
    from sqlalchemy import event

    statements = []

    def count(*args):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(statements)


def test_board_queries_do_not_grow_with_the_number_of_wishes(login_as):
    member = login_as("member")
    few = queries_for(member, "/")
    grids = ["610404001002001", "610404002001001", "610404002002001", "610404003001001"]
    categories = ["life", "elderly", "repair", "education", "health", "legal", "other"]
    for n in range(4):
        create_user(f"neighbour{n}", Role.RESIDENT, "neighbour-pass", area_code=grids[n], name=f"邻居{n}")
    for n in range(8):  # other residents, grids, communities and categories than the demo's
        publish_new(f"心愿{n}", categories[n % 7], f"neighbour{n % 4}", "admin", grids[n % 4])
    assert "心愿7" in text_of(member.get("/"))
    assert queries_for(member, "/") == few


# --- claiming from the board ---------------------------------------------------------------------


def test_member_sees_claim_buttons_only_for_their_community(login_as):
    page = text_of(login_as("member").get("/"))
    for title in ("陪老人去医院复查", "咨询租房合同纠纷", "独居老人需要打扫卫生"):  # all in 文汇社区
        assert f"/wishes/{wish_titled(title).id}?confirm=claim" in page


def test_visitors_and_residents_see_no_claim_button(client, demo, login_as):
    assert "confirm=claim" not in text_of(client.get("/"))
    assert "confirm=claim" not in text_of(login_as("resident").get("/"))


def test_member_of_another_community_cannot_claim(far_member):
    wish = wish_titled("陪老人去医院复查")
    assert f"/wishes/{wish.id}?confirm=claim" not in text_of(far_member.get("/"))
    before = step_count()
    response = far_member.post(f"/wishes/{wish.id}/claim")
    assert "community you are checked in to" in refused_back_to_the_wish(far_member, response, wish)
    assert wish_titled("陪老人去医院复查").status == WishStatus.PUBLISHED and step_count() == before


def test_member_claims_completes_and_resident_confirms(login_as):
    member, resident = login_as("member"), login_as("resident")
    wish = wish_titled("陪老人去医院复查")
    hours_before = db.session.scalar(select(Member.service_hours).join(User).where(User.username == "member"))

    response = member.post(f"/wishes/{wish.id}/claim")
    assert response.status_code == 303 and response.headers["Location"] == f"/wishes/{wish.id}"
    assert "You have claimed this wish." in text_of(member.get(f"/wishes/{wish.id}"))
    assert wish_titled("陪老人去医院复查").status == WishStatus.CLAIMED

    response = member.post(
        f"/wishes/{wish.id}/complete", data={"complete-note": "陪同复查完毕", "complete-hours": "2.5"}
    )
    assert response.status_code == 303
    assert wish_titled("陪老人去医院复查").status == WishStatus.DONE

    page = text_of(resident.get(f"/wishes/{wish.id}"))
    assert "Confirm and rate" in page and "陪同复查完毕" in page
    response = resident.post(
        f"/wishes/{wish.id}/confirm", data={"confirm-rating": "good", "confirm-comment": "谢谢"}
    )
    assert response.status_code == 303
    done = wish_titled("陪老人去医院复查")
    assert done.status == WishStatus.CONFIRMED and done.rating == "good"
    hours_after = db.session.scalar(select(Member.service_hours).join(User).where(User.username == "member"))
    assert hours_after == hours_before + Decimal("2.5")
    claims = text_of(member.get("/my/claims"))
    assert str(hours_after) in claims and "陪老人去医院复查" in claims


@pytest.mark.parametrize(
    "hours, message",
    [
        ("", "Enter the hours as a number"),
        ("abc", "Enter the hours as a number"),
        ("0", "between 0.5 and 24"),
        ("25", "between 0.5 and 24"),
        ("1.25", "one decimal place"),
    ],
)
def test_completing_with_bad_hours_is_refused(login_as, hours, message):
    member = login_as("member")
    wish = wish_titled("孩子周末数学辅导")  # claimed by the demo member
    before = step_count()
    response = member.post(
        f"/wishes/{wish.id}/complete", data={"complete-note": "辅导了一次", "complete-hours": hours}
    )
    assert response.status_code == 422
    assert message in text_of(response)
    assert wish_titled("孩子周末数学辅导").status == WishStatus.CLAIMED and step_count() == before


def test_completing_without_saying_what_was_done_is_refused(login_as):
    response = login_as("member").post(
        f"/wishes/{wish_titled('孩子周末数学辅导').id}/complete",
        data={"complete-note": "  ", "complete-hours": "1"},
    )
    assert response.status_code == 422 and "What was done is required." in text_of(response)


def test_second_claim_of_a_claimed_wish_says_already_claimed(app, login_as):
    create_user("member2", Role.MEMBER, "member2-pass", area_code="610404001001002", name="刘党员")
    db.session.commit()
    from tests.conftest import AuthActions

    second = app.test_client()
    AuthActions(second).login("member2", "member2-pass")
    wish = wish_titled("咨询租房合同纠纷")
    assert login_as("member").post(f"/wishes/{wish.id}/claim").status_code == 303
    response = second.post(f"/wishes/{wish.id}/claim")
    assert "already claimed" in refused_back_to_the_wish(second, response, wish)
    assert wish_titled("咨询租房合同纠纷").claimed_by.name == "王建国"


def test_member_releases_a_claimed_wish_back_to_the_board(client, login_as):
    wish = wish_titled("孩子周末数学辅导")
    response = login_as("member").post(f"/wishes/{wish.id}/release", data={"release-reason": "临时出差"})
    assert response.status_code == 303
    assert wish_titled("孩子周末数学辅导").status == WishStatus.PUBLISHED
    assert "孩子周末数学辅导" in text_of(client.get("/"))


def test_anonymous_claim_goes_to_login_and_writes_nothing(client, demo):
    wish = wish_titled("陪老人去医院复查")
    response = client.post(f"/wishes/{wish.id}/claim")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert wish_titled("陪老人去医院复查").status == WishStatus.PUBLISHED


def test_unknown_action_is_not_found(login_as):
    wish = wish_titled("陪老人去医院复查")
    assert login_as("grid").post(f"/wishes/{wish.id}/publish").status_code == 404
    assert login_as("member").post(f"/wishes/{wish.id}/explode").status_code == 404

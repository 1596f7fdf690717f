"""Micro-wishes through the public site: the board, a wish's page and actions, posting, my wishes and claims."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Member, User, Wish, WishStep
from app.models.choices import Role, WishStatus
from app.services import wishes as service
from app.services.users import create_user

OTHER_COMMUNITY_GRID = "610404001002001"  # 渭阳街道 / a second community, not the demo member's
PUBLISHED = ("陪老人去医院复查", "咨询租房合同纠纷", "独居老人需要打扫卫生")


pytestmark = pytest.mark.usefixtures("english")


def text_of(response) -> str:
    return response.get_data(as_text=True)


def refused_back_to_the_wish(client, response, wish: Wish) -> str:
    """A refusal other than bad values goes back to the wish's page (303) and says why there; that page's text."""
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/wishes/{wish.id}")
    return text_of(client.get(f"/wishes/{wish.id}"))


def wish_titled(title: str) -> Wish:
    db.session.expire_all()
    return db.session.scalar(select(Wish).where(Wish.title == title))


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def wish_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Wish))


def step_count() -> int:
    return db.session.scalar(select(func.count()).select_from(WishStep))


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
        assert f"/wishes/{wish_titled(title).id}/claim" in page


def test_visitors_and_residents_see_no_claim_button(client, demo, login_as):
    assert "/claim" not in text_of(client.get("/"))
    assert "/claim" not in text_of(login_as("resident").get("/"))


def test_member_of_another_community_cannot_claim(far_member):
    wish = wish_titled("陪老人去医院复查")
    assert f"/wishes/{wish.id}/claim" not in text_of(far_member.get("/"))
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
    response = login_as("member").post(f"/wishes/{wish.id}/release", data={"release-note": "临时出差"})
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


# --- a wish's page -------------------------------------------------------------------------------


def test_wish_page_shows_details_and_history_without_notes_for_the_public(client, demo):
    wish = wish_titled("帮父亲买降压药")  # confirmed, rated good, 1.5 hours
    page = text_of(client.get(f"/wishes/{wish.id}"))
    assert "帮父亲买降压药" in page and "Confirmed" in page and "Good" in page and "1.5" in page
    for action in ("Posted", "Published", "Claimed", "Completed"):
        assert action in page
    assert "陈**" in page and "陈秀英" not in page
    assert "已按约定完成。" not in page  # the member's note is for the people involved
    assert "Review by" not in page  # deadlines are for the owner and staff


def test_wish_page_shows_notes_and_deadlines_to_the_owner(login_as):
    page = text_of(login_as("resident").get(f"/wishes/{wish_titled('楼道声控灯不亮').id}"))
    assert "已按约定完成。" in page and "Review by" in page
    assert "Confirm and rate" in page and "It is not done yet" in page


def test_assisted_wish_is_badged(client, demo):
    page = text_of(client.get(f"/wishes/{wish_titled('独居老人需要打扫卫生').id}"))
    assert "Posted on behalf of the resident" in page


def test_submitted_wish_is_hidden_from_the_public_and_shown_to_its_owner(client, login_as):
    wish = wish_titled("修理漏水的水龙头")
    assert client.get(f"/wishes/{wish.id}").status_code == 404
    assert login_as("member").get(f"/wishes/{wish.id}").status_code == 404
    owner_view = login_as("resident").get(f"/wishes/{wish.id}")
    assert owner_view.status_code == 200 and "Awaiting review" in text_of(owner_view)
    assert "Cancel this wish" in text_of(owner_view)


def test_unknown_wish_is_not_found(client, demo):
    assert client.get("/wishes/99999").status_code == 404


def test_staff_see_a_link_to_the_wish_in_the_back_office(login_as):
    wish = wish_titled("陪老人去医院复查")
    assert f'href="/admin/wish/details/?id={wish.id}"' in text_of(login_as("grid").get(f"/wishes/{wish.id}"))
    assert "/admin/wish/details/" not in text_of(login_as("resident").get(f"/wishes/{wish.id}"))


def test_resident_disputes_a_done_wish(login_as):
    resident = login_as("resident")
    wish = wish_titled("楼道声控灯不亮")
    empty = resident.post(f"/wishes/{wish.id}/dispute", data={"dispute-reason": ""})
    assert empty.status_code == 422 and "Reason is required." in text_of(empty)
    response = resident.post(f"/wishes/{wish.id}/dispute", data={"dispute-reason": "五楼的灯还是不亮"})
    assert response.status_code == 303
    assert wish_titled("楼道声控灯不亮").status == WishStatus.CLAIMED
    assert "五楼的灯还是不亮" in text_of(login_as("member").get(f"/wishes/{wish.id}"))


def test_confirming_needs_a_rating(login_as):
    wish = wish_titled("楼道声控灯不亮")
    response = login_as("resident").post(f"/wishes/{wish.id}/confirm", data={"confirm-comment": "好"})
    assert response.status_code == 422 and "Choose a rating" in text_of(response)
    assert wish_titled("楼道声控灯不亮").status == WishStatus.DONE


def test_resident_cannot_confirm_someone_elses_wish(app, login_as):
    create_user("neighbour", Role.RESIDENT, "neighbour-pass", area_code="610404001001001", name="张邻居")
    db.session.commit()
    from tests.conftest import AuthActions

    neighbour = app.test_client()
    AuthActions(neighbour).login("neighbour", "neighbour-pass")
    wish = wish_titled("楼道声控灯不亮")
    assert "Confirm and rate" not in text_of(neighbour.get(f"/wishes/{wish.id}"))
    response = neighbour.post(f"/wishes/{wish.id}/confirm", data={"confirm-rating": "poor"})
    assert response.status_code == 303
    assert wish_titled("楼道声控灯不亮").status == WishStatus.DONE


def test_confirming_twice_is_a_conflict(login_as):
    resident = login_as("resident")
    wish = wish_titled("楼道声控灯不亮")
    assert resident.post(f"/wishes/{wish.id}/confirm", data={"confirm-rating": "average"}).status_code == 303
    again = resident.post(f"/wishes/{wish.id}/confirm", data={"confirm-rating": "good"})
    assert "is now “Confirmed”; that step is not possible" in refused_back_to_the_wish(resident, again, wish)
    assert wish_titled("楼道声控灯不亮").rating == "average"


# --- posting -------------------------------------------------------------------------------------


def test_resident_posts_a_wish_that_waits_for_review(client, login_as):
    resident = login_as("resident")
    form = text_of(resident.get("/wishes/new"))
    assert '<option selected value="610404001001001">' in form  # the resident's home grid
    response = resident.post(
        "/wishes/new",
        data={
            "title": "帮忙换灯泡",
            "category": "repair",
            "grid_code": "610404001001001",
            "description": "客厅灯泡坏了",
        },
    )
    wish = wish_titled("帮忙换灯泡")
    assert response.status_code == 303 and response.headers["Location"] == f"/wishes/{wish.id}"
    assert wish.status == WishStatus.SUBMITTED and wish.owner_id == user("resident").id
    assert "awaits review by your grid worker" in text_of(resident.get(f"/wishes/{wish.id}"))
    assert "帮忙换灯泡" in text_of(resident.get("/my/wishes"))
    assert "帮忙换灯泡" not in text_of(client.get("/"))


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"title": ""}, "Title is required."),
        ({"title": "   "}, "Title is required."),
        ({"description": "长" * 10_000}, "Description must be at most 2000 characters long."),
        ({"category": "astrology"}, "Choose one of the wish categories."),
        ({"category": ""}, "Choose one of the wish categories."),
        ({"grid_code": "610404999999999"}, "Choose an existing grid."),
    ],
)
def test_bad_wish_is_refused_and_nothing_is_written(login_as, overrides, message):
    before = wish_count()
    data = {"title": "帮忙换灯泡", "category": "repair", "grid_code": "610404001001001", "description": ""}
    response = login_as("resident").post("/wishes/new", data={**data, **overrides})
    assert response.status_code == 422
    assert message in text_of(response)
    assert wish_count() == before


def test_script_in_a_title_is_shown_as_text(client, login_as):
    resident = login_as("resident")
    resident.post(
        "/wishes/new",
        data={
            "title": "<script>alert(1)</script>",
            "category": "other",
            "grid_code": "610404001001001",
            "description": "<b>bold</b>",
        },
    )
    wish = wish_titled("<script>alert(1)</script>")
    service.publish_wish(user("grid"), wish)
    db.session.commit()
    for page in (
        text_of(client.get("/")),
        text_of(client.get(f"/wishes/{wish.id}")),
        text_of(resident.get("/my/wishes")),
    ):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "<script>alert(1)" not in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in text_of(client.get(f"/wishes/{wish.id}"))


@pytest.mark.parametrize("username", ["member", "grid"])
def test_only_residents_may_post_here(login_as, username):
    before = wish_count()
    response = login_as(username).post("/wishes/new", data={"title": "x", "category": "life"})
    assert response.status_code == 403
    assert "Only residents post wishes here" in text_of(response)
    assert wish_count() == before


def test_posting_needs_login(client, demo):
    response = client.get("/wishes/new")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- my wishes, my claims ------------------------------------------------------------------------


def test_my_wishes_lists_every_status_with_its_deadline(login_as):
    page = text_of(login_as("resident").get("/my/wishes"))
    for title in ("帮父亲买降压药", "楼道声控灯不亮", "孩子周末数学辅导", "修理漏水的水龙头"):
        assert title in page
    assert "独居老人需要打扫卫生" not in page  # someone else's
    assert "Awaiting review" in page and "Due " in page


def test_my_wishes_shows_an_overdue_review(login_as):
    wish = wish_titled("修理漏水的水龙头")
    wish.respond_by = wish.created_at.replace(year=2020)
    db.session.commit()
    assert "Overdue since" in text_of(login_as("resident").get("/my/wishes"))


def test_my_claims_shows_sections_hours_and_the_members_certificates(login_as):
    page = text_of(login_as("member").get("/my/claims"))
    assert "孩子周末数学辅导" in page and "楼道声控灯不亮" in page and "帮父亲买降压药" in page
    assert "1.5" in page  # the confirmed demo wish's hours
    assert 'data-serial="OG-' in page  # its service certificate, with a download link
    assert "Service certificates appear here when residents confirm your work." not in page


def test_a_member_without_certificates_is_told_where_they_will_appear(client, auth, demo):
    create_user("new-member", "member", "a-long-password", area_code="610404001001001")
    db.session.commit()
    auth.login("new-member", "a-long-password")
    page = text_of(client.get("/my/claims"))
    assert "Service certificates appear here when residents confirm your work." in page


@pytest.mark.parametrize("path, username", [("/my/claims", "resident"), ("/my/wishes", "member")])
def test_my_pages_are_for_their_role(login_as, path, username):
    assert login_as(username).get(path).status_code == 403


def test_navigation_offers_each_role_its_pages(client, demo, login_as):
    resident, member = text_of(login_as("resident").get("/")), text_of(login_as("member").get("/"))
    assert (
        'href="/wishes/new"' in resident
        and 'href="/my/wishes"' in resident
        and 'href="/my/claims"' not in resident
    )
    assert 'href="/my/claims"' in member and 'href="/wishes/new"' not in member
    assert 'href="/my/' not in text_of(client.get("/"))

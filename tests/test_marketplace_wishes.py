"""Micro-wishes through the public site: a wish's page and actions, posting, my wishes and claims.

The board and claiming from it are tested in tests/test_marketplace_board.py, with the helpers defined here.
"""

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import User, Wish, WishStep
from app.models.choices import Role, WishStatus
from app.services import wishes as service
from app.services.users import create_user

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
    assert "已按约定完成。" in page
    assert "Review by" not in page and "Done by" not in page  # done: no deadline runs any more
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

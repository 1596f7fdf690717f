"""The site maps a service's refusal once (marketplace/errors.py): the person reads the same message the API gives.

A refused action posted from a page is flashed on the subject's page (303, post/redirect/get); values that do
not pass show the form again with the messages on its fields (422). Nothing is written either way. These
tests read the product's default language, Chinese.
"""

import html
import re

import pytest
from sqlalchemy import func, select
from test_api_wishes import Caller

from app.extensions import db
from app.models import AuditLog, Wish, WishStep
from app.models.choices import Role, WishStatus
from app.services.errors import Conflict
from app.services.users import create_user
from marketplace.errors import refused

SAME_COMMUNITY_GRID = "610404001001002"


def wish_titled(title: str) -> Wish:
    db.session.expire_all()
    return db.session.scalar(select(Wish).where(Wish.title == title))


def written() -> tuple[int, int]:
    """Wish history rows and audit rows: what any step writes."""
    db.session.expire_all()
    return (
        db.session.scalar(select(func.count()).select_from(WishStep)),
        db.session.scalar(select(func.count()).select_from(AuditLog)),
    )


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def person(app, demo, client):
    """A factory: (site client logged in, API caller) for a user made for the test."""

    def make(username: str, role: Role, area_code: str, name: str):
        create_user(username, role, f"{username}-pass", area_code=area_code, name=name)
        db.session.commit()
        site = app.test_client()
        assert (
            site.post("/login", data={"username": username, "password": f"{username}-pass"}).status_code
            == 303
        )
        return site, Caller(client, username, f"{username}-pass")

    return make


def api_refusal(caller, wish: Wish, action: str, status: int, **body) -> str:
    answer = caller.post(f"/api/v1/wishes/{wish.id}/{action}", json=body or None)
    assert answer.status_code == status, answer.get_json()
    return answer.get_json()["error"]["message"]


def site_refusal(site, wish: Wish, action: str, **form) -> str:
    """Post the action from the wish's page: refused, back on that page (303) with the message shown."""
    answer = site.post(f"/wishes/{wish.id}/{action}", data=form)
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(f"/wishes/{wish.id}")
    return text_of(site.get(f"/wishes/{wish.id}"))


def test_claiming_a_claimed_wish_shows_the_apis_message_on_the_wish_page(person, login_as):
    wish = wish_titled("孩子周末数学辅导")  # claimed by the demo member
    site, api = person("member2", Role.MEMBER, SAME_COMMUNITY_GRID, "刘党员")
    message = api_refusal(api, wish, "claim", 409)
    assert re.search(r"[\u4e00-\u9fff]", message)  # Chinese, as the site speaks
    before = written()
    page = site_refusal(site, wish, "claim")
    assert message in page
    assert written() == before
    assert wish_titled("孩子周末数学辅导").claimed_by.name == "王建国"


def test_confirming_someone_elses_wish_shows_the_apis_message(person):
    wish = wish_titled("楼道声控灯不亮")  # done, the demo resident's
    site, api = person("neighbour", Role.RESIDENT, "610404001001001", "张邻居")
    message = api_refusal(api, wish, "confirm", 403, rating="poor")
    before = written()
    assert message in site_refusal(site, wish, "confirm", **{"confirm-rating": "poor"})
    assert written() == before and wish_titled("楼道声控灯不亮").status == WishStatus.DONE


def test_an_action_at_a_wrong_status_shows_the_apis_message(login_as, client):
    resident, api = login_as("resident"), Caller(client, "resident")
    wish = wish_titled("楼道声控灯不亮")
    assert resident.post(f"/wishes/{wish.id}/confirm", data={"confirm-rating": "average"}).status_code == 303
    message = api_refusal(api, wish, "confirm", 409, rating="good")
    before = written()
    assert message in site_refusal(resident, wish, "confirm", **{"confirm-rating": "good"})
    assert written() == before and wish_titled("楼道声控灯不亮").rating == "average"


def test_values_that_do_not_pass_show_the_form_again_with_the_apis_field_message(login_as, client):
    member, api = login_as("member"), Caller(client, "member")
    wish = wish_titled("孩子周末数学辅导")
    answer = api.post(f"/api/v1/wishes/{wish.id}/complete", json={"note": "  ", "hours": "1.5"})
    assert answer.status_code == 422
    fields = answer.get_json()["error"]["fields"]
    message = fields["note"][0] if isinstance(fields["note"], list) else fields["note"]
    before = written()
    response = member.post(
        f"/wishes/{wish.id}/complete", data={"complete-note": "  ", "complete-hours": "1.5"}
    )
    assert response.status_code == 422
    page = text_of(response)
    assert message in page and 'value="1.5"' in page  # the message on the form, what was typed kept
    assert "site-header" in page  # the site's own page, not a bare error
    assert written() == before and wish_titled("孩子周末数学辅导").status == WishStatus.CLAIMED


def test_a_wish_the_service_refuses_shows_the_posting_form_again(login_as):
    resident = login_as("resident")
    before = written()
    count = db.session.scalar(select(func.count()).select_from(Wish))
    response = resident.post(
        "/wishes/new",
        data={
            "title": "帮忙修水管",
            "description": "厨房",
            "category": "no-such",
            "grid_code": "610404001001001",
        },
    )
    assert response.status_code == 422
    page = text_of(response)
    assert "帮忙修水管" in page and "<form" in page
    assert db.session.scalar(select(func.count()).select_from(Wish)) == count and written() == before


def test_a_refusal_with_no_form_or_subject_page_is_a_page_of_the_site(app, demo):
    """The one mapping's last resort (a page that names neither): the message and status, in the site's layout."""
    with app.test_request_context("/wishes/1"):
        response = refused(Conflict("此操作现在不可进行。"))
    assert response.status_code == 409
    page = text_of(response)
    assert "此操作现在不可进行。" in page and "无法完成此操作" in page and "site-header" in page


def test_the_back_office_maps_a_refusal_of_any_save_once(app, demo):
    """A service refusing inside one of Flask-Admin's generic saves: its message flashed, the session rolled
    back, the form shown again ("handled"); a refused create form marks its fields (admin.base.form_refused)."""
    from flask import get_flashed_messages
    from wtforms import Form, StringField

    from admin.base import OneGridModelView, form_refused
    from app.services.errors import Invalid

    class Posted(Form):
        title = StringField()
        grid = StringField()

    with app.test_request_context("/admin/wish/new/", method="POST"):
        assert OneGridModelView.handle_view_exception(None, Conflict("此记录已被他人修改。")) is True
        form = Posted()
        form.validate()  # as Flask-Admin has before it saves: the fields' error lists exist
        assert (
            form_refused(form, Invalid({"grid_code": "请选择网格。"}), {"grid_code": "grid"}, "title")
            is False
        )
        assert form.grid.errors == ["请选择网格。"]
        flashed = get_flashed_messages(with_categories=True)
    assert ("error", "此记录已被他人修改。") in flashed
    assert any(category == "error" and "请选择网格。" in text for category, text in flashed[1:])

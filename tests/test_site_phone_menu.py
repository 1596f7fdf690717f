"""At 390 px a logged-in resident's and member's menu is one row; a claim takes one extra, confirming tap
(no script needed); the note above 放弃认领 is in a fieldset named by that button (Playwright, Chromium)."""

import html

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Wish
from tests.test_board_phone import PHONE, browser, log_in, page_width, phone, site  # noqa: F401

pytestmark = pytest.mark.usefixtures("site")


def nav_rows(page) -> int:
    tops = page.evaluate(
        "[...document.querySelectorAll('.site-nav > a, .site-nav > form')]"
        ".map(e => Math.round(e.getBoundingClientRect().top))"
    )
    return len(set(tops))


@pytest.mark.parametrize("username", ["resident", "member"])
def test_the_menu_keeps_one_row_at_390_px(phone, site, username):  # noqa: F811
    from app.services.demo import DEMO_PASSWORDS

    log_in(phone, site, username, DEMO_PASSWORDS[username][0])
    for path in ("/", "/account"):
        phone.goto(site + path)
        assert nav_rows(phone) == 1, path
        assert page_width(phone) <= PHONE["width"]
    # every entry is still reachable: the row scrolls sideways inside itself
    logout = phone.locator(".site-nav .link-button")
    logout.scroll_into_view_if_needed()
    assert logout.is_visible()


def test_a_claim_asks_for_confirmation_first(phone, site):  # noqa: F811
    from app.services.demo import DEMO_PASSWORDS

    log_in(phone, site, "member", DEMO_PASSWORDS["member"][0])
    phone.goto(site + "/")
    title = phone.locator(".wish-card:has(.claim-link) h3").first.inner_text()
    with phone.expect_navigation():
        phone.locator(".wish-card .claim-link").first.click()
    assert phone.locator(".flash-success").count() == 0  # nothing claimed yet
    assert phone.locator("#confirm-claim-title").is_visible()
    with phone.expect_navigation():  # 取消: back to the wish, still unclaimed
        phone.locator("#confirm-claim a.button").click()
    assert "confirm" not in phone.url and phone.locator("[data-claim-start]").is_visible()
    with phone.expect_navigation():
        phone.locator("[data-claim-start]").click()
    with phone.expect_navigation():
        phone.locator("#confirm-claim button[type=submit]").click()
    assert phone.locator(".flash-success").is_visible() and title in phone.content()


def test_the_release_note_belongs_to_its_button(login_as):
    member = login_as("member")
    wish = db.session.scalar(select(Wish).where(Wish.title == "孩子周末数学辅导"))  # claimed by the member
    page = html.unescape(member.get(f"/wishes/{wish.id}").get_data(as_text=True))
    form = page.split('class="action-form action-release"', 1)[1].split("</form>", 1)[0]
    assert "<fieldset" in form and "<legend>放弃认领</legend>" in form
    assert (
        form.index("<legend>")
        < form.index("<textarea")
        < form.index('type="submit"')
        < form.index("</fieldset>")
    )

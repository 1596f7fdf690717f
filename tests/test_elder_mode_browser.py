"""长辈模式 in Chromium at 390 px: one tap makes the body text ≥ 18 px and the tap targets ≥ 48 px; it stays
after a reload, and after logging in on another browser (context); the back office wears it too."""

import pytest

from tests.test_board_phone import PHONE, browser, log_in, page_width, site  # noqa: F401

pytestmark = pytest.mark.usefixtures("site")


def font_px(page) -> float:
    return float(page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)"))


def smallest_target(page, selector: str) -> float:
    return float(
        page.evaluate(
            f"Math.min(...[...document.querySelectorAll({selector!r})]"
            ".filter(e => e.offsetParent).map(e => e.getBoundingClientRect().height))"
        )
    )


def new_phone(browser):  # noqa: F811
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    return context, context.new_page()


def test_one_tap_then_it_stays_after_reload_and_on_another_device(browser, site):  # noqa: F811
    from app.services.demo import DEMO_PASSWORDS

    password = DEMO_PASSWORDS["resident"][0]
    context, phone = new_phone(browser)
    log_in(phone, site, "resident", password)
    phone.goto(site + "/my/wishes")
    assert font_px(phone) < 18
    with phone.expect_navigation():
        phone.locator(".elder-toggle").click()
    assert "/my/wishes" in phone.url
    assert font_px(phone) >= 18
    assert smallest_target(phone, ".site-nav a, .elder-toggle, main .button") >= 48
    assert page_width(phone) <= PHONE["width"]
    phone.reload()
    assert font_px(phone) >= 18
    context.close()

    other, tablet = new_phone(browser)  # another device: no cookie until the account is known
    tablet.goto(site + "/")
    assert font_px(tablet) < 18
    log_in(tablet, site, "resident", password)
    tablet.goto(site + "/")
    assert font_px(tablet) >= 18
    with tablet.expect_navigation():  # and back, with one tap
        tablet.locator(".elder-toggle").click()
    assert font_px(tablet) < 18
    other.close()


def test_the_back_office_switches_too(browser, site):  # noqa: F811
    from app.services.demo import DEMO_PASSWORDS

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in(page, site, "admin", DEMO_PASSWORDS["admin"][0])
    page.goto(site + "/admin/")
    assert page.evaluate("document.documentElement.lang") == "zh-Hans-CN"
    assert font_px(page) < 18
    with page.expect_navigation():
        page.locator("button.elder-toggle").click()
    assert "/admin/" in page.url and font_px(page) >= 18
    assert page.evaluate("document.documentElement.classList.contains('elder')")
    context.close()

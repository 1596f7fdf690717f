"""The grid's red station in a real browser on a phone-sized screen (Playwright driving the system Chromium)."""

from tests.test_board_phone import MIN_TAP, PHONE, browser, page_width, phone, site  # noqa: F401  (fixtures)

GRID = "610404001001001"  # 文汇社区第一网格


def test_station_fits_a_phone_with_the_team_first_and_phones_easy_to_tap(phone, site, tmp_path):  # noqa: F811
    phone.goto(f"{site}/grids/{GRID}")
    assert page_width(phone) <= PHONE["width"]
    team = phone.locator(".team-list li")
    assert team.count() >= 5
    assert team.first.bounding_box()["y"] < PHONE["height"]  # the team shows without scrolling
    for call in phone.locator('a[href^="tel:"]').all():
        box = call.bounding_box()
        assert box["height"] >= MIN_TAP and box["x"] + box["width"] <= PHONE["width"], call.inner_text()
    assert phone.locator(".unit-list .unit").count() >= 2  # the covering units
    supervision = phone.locator(".supervision .number")
    assert supervision.is_visible() and supervision.inner_text().startswith("029-")
    shot = tmp_path / "station-phone.png"
    phone.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes().startswith(b"\x89PNG")


def test_board_grid_filter_leads_to_the_station(phone, site):  # noqa: F811
    phone.goto(f"{site}/?grid={GRID}")
    link = phone.locator("[data-station-link]")
    assert link.bounding_box()["height"] >= MIN_TAP
    with phone.expect_navigation():
        link.click()
    assert phone.url.endswith(f"/grids/{GRID}")
    assert page_width(phone) <= PHONE["width"]

"""A member records a household visit on /my/visits in a real browser at phone width (390 px)."""

from urllib.parse import urlsplit

from tests.test_board_phone import MIN_TAP, PHONE, browser, log_in, page_width, phone, site  # noqa: F401 (fixtures)


def test_a_member_records_a_visit_from_a_phone(phone, site, tmp_path):  # noqa: F811 (the fixtures above)
    log_in(phone, site, "member", "onegrid-member")
    phone.goto(f"{site}/my/visits")
    assert page_width(phone) <= PHONE["width"]  # nothing sticks out sideways
    rows = phone.locator("[data-household]")
    assert rows.count() == 4
    overdue_before = int(phone.locator("[data-visits=overdue]").inner_text())
    assert overdue_before == 2  # the demo: two of the member's four households are behind
    first_overdue = phone.locator("[data-household]:has([data-overdue])").first
    household = first_overdue.get_attribute("data-household")
    first_overdue.locator("a").click()  # the row's link preselects it in the form
    phone.wait_for_load_state()
    assert phone.locator("#household_id").input_value() == household
    button = phone.locator("#visit-form button[type=submit]")
    box = button.bounding_box()
    assert box["height"] >= MIN_TAP and box["x"] + box["width"] <= PHONE["width"]
    phone.fill("#note", "了解老人身体情况")
    phone.fill("#findings", "楼道灯不亮")
    phone.screenshot(path=str(tmp_path / "visits-form.png"), full_page=True)
    button.click()
    phone.wait_for_load_state()
    assert urlsplit(phone.url).path == "/my/visits"
    assert phone.locator(".flash-success").count() == 1
    assert int(phone.locator("[data-visits=overdue]").inner_text()) == overdue_before - 1
    assert phone.locator(f"[data-household='{household}'] [data-overdue]").count() == 0
    assert page_width(phone) <= PHONE["width"]
    # the row now reads today's date as its last visit (the district's day, as the server formats it)
    assert "never" not in phone.locator(f"[data-household='{household}']").inner_text()
    phone.screenshot(path=str(tmp_path / "visits-after.png"), full_page=True)

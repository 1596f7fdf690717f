"""The back office on a phone (390 px, Chromium): the lists a grid worker uses are cards, nothing scrolls
sideways, row actions and dispatch boxes are 44 px tap targets, chart legends are whole."""

import pytest

from tests.test_board_phone import MIN_TAP, PHONE, browser, log_in, page_width, phone, site  # noqa: F401 (fixtures)

GRID_LISTS = (
    "/admin/resident/",
    "/admin/household/",
    "/admin/wish_review/",
    "/admin/event/",
    "/admin/event_queue/",
)
CALLBACKS = "/admin/callback/?flt0_0=all"

TAP_TARGETS = (
    ".list-buttons-column a.icon, .list-buttons-column form.icon button, .list-buttons-column .btn, "
    ".list-buttons-column summary, td.og-check label, .og-cards .model-list td .btn, "
    ".og-cards th.list-checkbox-column input"
)


def boxes(page, selector: str) -> list[dict]:
    """The visible elements' boxes of `selector`."""
    return [b for b in (e.bounding_box() for e in page.locator(selector).all()) if b and b["width"] > 0]


@pytest.mark.parametrize("path", (*GRID_LISTS, CALLBACKS))
def test_a_grid_workers_lists_are_cards_on_a_phone(phone, site, path, tmp_path):  # noqa: F811
    log_in(phone, site, "grid", "onegrid-grid")
    response = phone.goto(site + path)
    assert response.status == 200
    assert page_width(phone) <= PHONE["width"], path  # no sideways scrolling of the page
    rows = phone.locator(".og-cards table.model-list tbody tr:not(:has(td[colspan]))")
    assert rows.count() >= 1, path  # the demo has rows in each of them
    assert phone.locator(
        ".og-cards table.model-list th.column-header"
    ).first.is_hidden()  # cards, not a table
    first = rows.first
    assert first.bounding_box()["width"] <= PHONE["width"]
    labelled = first.locator("td[data-label]").first
    assert labelled.get_attribute("data-label")  # each cell names its column
    targets = [b for b in boxes(phone, TAP_TARGETS)]
    assert targets, path
    small = [b for b in targets if b["height"] < MIN_TAP or b["width"] < MIN_TAP]
    assert not small, (path, small[:3])
    assert all(b["x"] >= 0 and b["x"] + b["width"] <= PHONE["width"] for b in targets), path
    phone.screenshot(path=str(tmp_path / (path.strip("/").replace("/", "-") + ".png")), full_page=True)


def test_row_action_icons_say_what_they_do_on_a_phone(phone, site):  # noqa: F811
    log_in(phone, site, "grid", "onegrid-grid")
    phone.goto(site + "/admin/resident/")
    link = phone.locator(".list-buttons-column a.icon").first
    assert link.get_attribute("title") and link.locator(".og-row-label").is_visible()


def test_dispatch_boxes_are_44_px_rows_that_tick(phone, site):  # noqa: F811
    log_in(phone, site, "street", "onegrid-street")
    phone.goto(site + "/admin/event_queue/")
    offered = None
    for href in phone.locator("a[href*='/admin/event_queue/details/']").evaluate_all(
        "ls => ls.map(l => l.href)"
    ):
        phone.goto(href)
        if phone.locator("[data-event-action=dispatch]").count():
            offered = phone.locator("[data-event-action=dispatch]").get_attribute("href")
            break
    assert offered, "the demo's street queue holds an event to dispatch"
    phone.goto(site + offered if offered.startswith("/") else offered)
    assert page_width(phone) <= PHONE["width"]
    rows = phone.locator(".og-tap-check")
    assert rows.count() >= 2
    for label in phone.locator(".og-tap-check label").all():
        box = label.bounding_box()
        assert box["height"] >= MIN_TAP and box["width"] >= MIN_TAP
    box = phone.locator(".og-tap-check label").nth(1)
    checkbox = phone.locator(".og-tap-check input").nth(1)
    was = checkbox.is_checked()
    box.tap()
    assert checkbox.is_checked() != was  # tapping the row ticks its box


def test_chart_legends_are_whole_on_a_phone(phone, site, tmp_path):  # noqa: F811
    log_in(phone, site, "community", "onegrid-community")
    phone.goto(site + "/admin/")
    phone.wait_for_selector(".og-chart svg")
    assert page_width(phone) <= PHONE["width"]
    cut = phone.evaluate(
        """() => {
          const cut = [];
          document.querySelectorAll('.og-chart').forEach(chart => {
            const frame = chart.getBoundingClientRect();
            chart.querySelectorAll('svg text').forEach(t => {
              const b = t.getBoundingClientRect();
              if (b.width && (b.left < frame.left - 1 || b.right > frame.right + 1 ||
                              b.top < frame.top - 1 || b.bottom > frame.bottom + 1)) cut.push(t.textContent);
            });
          });
          return cut;
        }"""
    )
    assert not cut, cut
    phone.screenshot(path=str(tmp_path / "home-community.png"), full_page=True)

"""Under the content security policy, in a real browser: no page raises a violation, and every script still works."""

import re

import pytest

from app.services.demo import DEMO_PASSWORDS
from tests.test_board_phone import browser, log_in, site  # noqa: F401  (the live demo site and Chromium)

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
# records what the policy blocks; Playwright adds it to each document before the page's own scripts
LISTEN = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__violations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sample || ''));
});
"""


class Watched:
    """A browser page whose CSP violations (as events and in the console) and script errors are all kept."""

    def __init__(self, page):
        self.page = page
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.problems.append(f"script error: {e}"))

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.problems.append(f"console: {message.text}")

    def visit(self, url: str) -> None:
        self.collect()
        response = self.page.goto(url)
        assert "script-src" in response.headers.get("content-security-policy", ""), url  # the policy is on
        self.page.wait_for_load_state("networkidle")

    def collect(self) -> None:
        """Move the current document's violations into `problems` (they go when the document does)."""
        try:
            found = self.page.evaluate("window.__violations || []")
        except Exception:  # the page is navigating: its violations also reached the console
            return
        self.problems.extend(f"violation: {v}" for v in found)
        self.page.evaluate("window.__violations && (window.__violations.length = 0)")

    def assert_clean(self) -> None:
        self.collect()
        assert self.problems == []


@pytest.fixture(params=list(VIEWPORTS))
def watched(browser, request):  # noqa: F811
    context = browser.new_context(viewport=VIEWPORTS[request.param])
    context.add_init_script(LISTEN)
    watched = Watched(context.new_page())
    watched.page.set_default_timeout(10_000)
    yield watched
    context.close()


def first_id(page, site, list_url: str) -> str:  # noqa: F811
    """The id of the first row of a back-office list, read from its details link."""
    page.goto(site + list_url)
    href = page.locator("a[href*='details/?id=']").first.get_attribute("href")
    return re.search(r"id=(\d+)", href).group(1)


def test_the_site_pages_raise_no_violation_and_their_script_runs(watched, site):  # noqa: F811
    page = watched.page
    watched.visit(site + "/login")
    watched.visit(site + "/")
    assert page.evaluate("document.documentElement.classList.contains('js')")  # board.js ran
    with page.expect_navigation():
        page.select_option("#f-street", "610404001")  # the filter submits itself (board.js)
    assert "street=610404001" in page.url
    wish = page.locator(".wish-card a[href*='/wishes/']").first.get_attribute("href")
    watched.visit(site + wish)
    assert page.locator("h1").count() == 1
    log_in(page, site, "member", DEMO_PASSWORDS["member"][0])
    watched.visit(site + "/")
    watched.assert_clean()


def test_the_back_office_pages_raise_no_violation_and_their_script_runs(watched, site):  # noqa: F811
    page = watched.page
    log_in(page, site, "grid", DEMO_PASSWORDS["grid"][0])

    watched.visit(site + "/admin/")  # a grid worker's home is their queue: no charts (the admin's are below)
    assert page.locator("[data-queue]").count() > 0 and page.locator("[data-chart]").count() == 0

    watched.visit(site + "/admin/grid_map/")  # the map, also ECharts
    page.wait_for_selector("#og-map svg path")

    watched.visit(site + "/admin/resident/")
    page.locator("a.nav-link.active[href^='javascript:']").first.click()  # the list's own tab goes nowhere
    page.locator(".field-filters").locator("xpath=preceding-sibling::a[1]").click()  # "Add filter"
    page.locator("a.dropdown-item.filter").first.click()  # bs4_filters.js adds a filter row
    assert page.locator("#filter_form .filters tr").count() == 1
    page.locator("input.action-rowtoggle").check()  # actions.js ticks every row
    assert (
        page.locator("input.action-checkbox:checked").count()
        == page.locator("input.action-checkbox").count()
        > 0
    )

    resident = first_id(page, site, "/admin/resident/")
    watched.visit(f"{site}/admin/resident/edit/?id={resident}")
    page.click("#birth_date")  # the date picker opens
    assert page.locator(".daterangepicker").first.is_visible()
    page.keyboard.press("Escape")
    page.click("#s2id_household .select2-choice")  # the ajax lookup of households (select2)
    page.keyboard.type("6")  # household numbers start with their grid's code
    page.wait_for_selector("#select2-drop li.select2-result-selectable")
    page.keyboard.press("Enter")
    assert page.input_value("#household")  # a household was picked from the server's answer

    watched.visit(f"{site}/admin/resident/details/?id={resident}")
    with page.expect_navigation():
        page.locator("form[action$='/reveal/'] button[type=submit]").click()
    assert page.locator("[data-revealed]").count() == 2
    watched.assert_clean()


def test_list_actions_and_row_deletes_still_ask_before_they_run(watched, site):  # noqa: F811
    page = watched.page
    log_in(page, site, "admin", DEMO_PASSWORDS["admin"][0])
    questions: list[str] = []
    answers = {"yes": False}

    def answer(dialog):
        questions.append(dialog.message)
        dialog.accept() if answers["yes"] else dialog.dismiss()

    page.on("dialog", answer)
    watched.visit(site + "/admin/")  # the dashboard draws its charts with ECharts
    page.wait_for_selector("[data-chart] svg")
    assert page.locator("[data-chart] svg").count() == page.locator("[data-chart]").count() > 0
    watched.visit(site + "/admin/wish/")
    with_selected = page.locator(".dropdown-menu:has([data-model-action])").locator(
        "xpath=preceding-sibling::a[1]"
    )
    with_selected.click()
    page.locator("[data-model-action]").first.click()  # nothing ticked: actions.js says so
    assert len(questions) == 1
    page.locator("input.action-checkbox").first.check()
    with_selected.click()
    page.locator("[data-model-action]").first.click()  # ticked: it asks first, and the answer is no
    assert len(questions) == 2

    watched.visit(site + "/admin/resident/")
    counted = page.locator("a.nav-link.active[href^='javascript:']").first  # "List (155)"
    before = counted.inner_text()
    page.locator("form[data-confirm] button").first.click()  # delete a row? no
    assert len(questions) == 3
    page.wait_for_load_state("networkidle")
    assert re.search(r"\(\d+\)", before) and counted.inner_text() == before  # nothing was deleted
    answers["yes"] = True
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/admin/resident/delete/")):
        page.locator("form[data-confirm] button").first.click()  # delete a row? yes: the form is sent
    assert len(questions) == 4
    page.wait_for_load_state("networkidle")
    watched.assert_clean()

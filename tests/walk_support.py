"""The checks the walk tests (tests/test_walk.py) run on every page a role visits, in a real Chromium.

Each check returns a list of problems (text naming the page and the element); the walk collects them all and fails
at the end of the role's walk, so one run lists everything that is wrong.
"""

import os
import re
from pathlib import Path

import pytest

from tests import test_board_phone as board_phone
from tests.conftest import IN_CI, require_service

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "instance" / "walk"  # README, "Tests": the screenshots of every step
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
MIN_TAP = 44  # px: the smallest tap target on the lists a grid worker uses on a phone
PHONE = 390
FRACTION = re.compile(r"\d\d:\d\d:\d\d\.\d")

# Latin words a Chinese page may show: proper nouns, codes, units, file kinds and the demo's user names.
ALLOWED_WORDS = {
    word.lower()
    for word in """
    OneGrid API PDF QR CSV XLSX XLS ID URL SMS WeChat GeoJSON JSON HTTP HTTPS HTML PNG JPG JPEG GIF WEBP Excel
    Word WPS Android iOS iPhone OpenStreetMap Leaflet OSM Beijing CST UTC GMT WGS GCJ app App admin street
    community grid grid2 dept member resident hotline captain leader onegrid kwh kWh km cm mm kg com cn org www
    Bearer token webhook Webhook SLA PIN OTP VIP NFC GPS MB KB GB TB UTF GBK ECharts
    """.split()  # noqa: SIM905 (a word list reads best as words)
}
WORD = re.compile(r"(?<![A-Za-z0-9_.@/-])[A-Za-z]{3,}(?![A-Za-z0-9_@/-])")


def serve_demo(tmp_path_factory):
    """The demo district served over HTTP from a file-based SQLite database, for the browser; yields
    (its URL, the app)."""
    with board_phone.serve_demo(tmp_path_factory, "walk") as served:
        yield served


def require_browser_tools(sync_playwright) -> None:
    require_service(sync_playwright is not None, "the playwright package is not installed")
    require_service(os.path.exists(CHROMIUM), f"no Chromium at {CHROMIUM}")
    if not AXE.exists():
        reason = f"axe-core is not installed at {AXE}: run `npm ci --no-audit --no-fund` (make test does)"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)


OVERFLOW_JS = "() => [document.documentElement.scrollWidth, window.innerWidth]"

# Every visible control in the main content whose centre, once scrolled into view, is taken by another element.
COVERED_JS = """
() => {
  const main = document.querySelector('main, [role=main], #main, .content') || document.body;
  const sel = 'a[href], button, input:not([type=hidden]), select, textarea, [role=button]';
  const out = [];
  const label = (el) => (el.innerText || el.value || el.getAttribute('aria-label') || el.name || el.id
    || el.outerHTML).trim().slice(0, 60);
  for (const el of main.querySelectorAll(sel)) {
    if (!el.checkVisibility({opacityProperty: false, visibilityProperty: true})) continue;
    const style = getComputedStyle(el);
    if (style.pointerEvents === 'none' || el.closest('[inert], [aria-hidden=true]')) continue;
    if (style.clip !== 'auto' || style.clipPath.startsWith('inset(50%')) continue;  // visually hidden
    el.scrollIntoView({block: 'center', inline: 'center'});
    const r = el.getClientRects()[0];  // a link wrapped over two lines: its first line
    if (!r || r.width <= 1 || r.height <= 1) continue;
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) continue;  // clipped by a scrolling container
    const hit = document.elementFromPoint(x, y);
    if (!hit || hit === el || el.contains(hit)) continue;
    if (el.labels && [...el.labels].some((l) => l === hit || l.contains(hit))) continue;
    if (hit.tagName === 'LABEL' && hit.control === el) continue;
    out.push(`${el.tagName.toLowerCase()} "${label(el)}" is covered by ${hit.tagName.toLowerCase()}`
      + `${hit.id ? '#' + hit.id : ''}${hit.className && typeof hit.className === 'string'
        ? '.' + hit.className.trim().split(/\\s+/).join('.') : ''} "${label(hit)}"`);
  }
  window.scrollTo(0, 0);
  return out;
}
"""

# The visible text of the page: text nodes shown on screen, placeholders and button values.
TEXT_JS = """
() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, parent = node.parentElement;
    if (!parent || !node.textContent.trim()) continue;
    if (parent.closest('script, style, noscript, template, code, pre, kbd, samp, [translate=no]')) continue;
    const lang = parent.closest('[lang]');  // a language's own name in its switch (lang="en") is not English text
    if (lang && !lang.lang.startsWith('zh')) continue;
    if (!parent.checkVisibility({opacityProperty: true, visibilityProperty: true})) continue;
    out.push(node.textContent.trim());
  }
  for (const el of document.querySelectorAll('[placeholder], input[type=submit][value], input[type=button][value]')) {
    if (el.checkVisibility()) out.push(el.getAttribute('placeholder') || el.value);
  }
  return out;
}
"""

# Tap targets in the main content smaller than the minimum in either direction.
TAPS_JS = """
(min) => {
  const main = document.querySelector('main, [role=main], #main, .content') || document.body;
  const sel = 'a[href], button, input:not([type=hidden]), select, textarea, [role=button]';
  const out = [];
  for (const el of main.querySelectorAll(sel)) {
    if (!el.checkVisibility({opacityProperty: true, visibilityProperty: true})) continue;
    const style = getComputedStyle(el);
    if (style.clip !== 'auto' || style.clipPath.startsWith('inset(50%')) continue;  // visually hidden
    // a checkbox or radio counts with its label, which takes the tap too
    const box = (el.labels && el.labels.length ? el.labels[0] : el).getBoundingClientRect();
    if (box.width < 1 || box.height < 1) continue;
    if (box.width < min || box.height < min) {
      const name = (el.innerText || el.value || el.getAttribute('aria-label') || el.name || '').trim().slice(0, 40);
      out.push(`${el.tagName.toLowerCase()} "${name}" is ${Math.round(box.width)}x${Math.round(box.height)} px`);
    }
  }
  return out;
}
"""

AXE_JS = """
async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} - `
    + v.nodes.slice(0, 5).map((n) => n.target.join(' ')).join(', ') + (v.nodes.length > 5 ? ', ...' : ''));
}
"""


def english_words(texts: list[str]) -> list[str]:
    """The Latin words of 3+ letters outside the allow-list, with the text they stand in."""
    found = []
    for text in texts:
        cleaned = re.sub(r"https?://\S+|\S+@\S+|\S+\.(?:pdf|png|jpg|xlsx|csv|json)\b", " ", text)
        words = [w for w in WORD.findall(cleaned) if w.lower() not in ALLOWED_WORDS]
        if words:
            found.append(f"{', '.join(sorted(set(words)))} in {text[:80]!r}")
    return found


class Walker:
    """One role's walk in one browser page at one width: visits, checks every page, screenshots every step."""

    def __init__(self, page, base: str, role: str, width: int, mode: str = "normal"):
        self.page, self.base, self.role, self.width, self.mode = page, base, role, width, mode
        self.step = 0
        self.problems: list[str] = []
        self.folder = SHOTS / role / (f"{width}" if mode == "normal" else f"{width}-{mode}")
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()

    def visit(self, path: str, name: str, *, lists: bool = False) -> None:
        """Open a page of the app and check it."""
        response = self.page.goto(self.base + path)
        self.page.wait_for_load_state("load")
        status = response.status if response else 0
        if status >= 400 or status == 0:
            self.problems.append(f"{name} ({path}): HTTP {status}")
        self.check(name, lists=lists)

    def check(self, name: str, *, lists: bool = False) -> None:
        """Check the page now shown (after a visit or a form's answer) and take its screenshot."""
        page = self.page
        self.step += 1
        where = f"[{self.role} {self.width}px {self.mode}] {self.step:02d}-{name} ({page.url.replace(self.base, '')})"
        page.screenshot(path=str(self.folder / f"{self.step:02d}-{name}.png"), full_page=True)
        found: list[str] = []
        if self.width <= PHONE:
            scroll_width, inner = page.evaluate(OVERFLOW_JS)
            if scroll_width > inner:
                found.append(f"scrolls sideways: {scroll_width} px wide in {inner} px")
        found += [f"fraction of a second: {m}" for m in FRACTION.findall(page.inner_text("body"))]
        if self.mode == "elder" and not page.evaluate("document.documentElement.classList.contains('elder')"):
            found.append("长辈模式 is off: <html> has no class 'elder'")
        lang = page.evaluate("document.documentElement.lang || ''")
        if not lang or lang.startswith("zh"):  # the app's pages are Chinese unless they say otherwise
            found += [f"English text: {w}" for w in english_words(page.evaluate(TEXT_JS))]
        found += [f"covered: {c}" for c in page.evaluate(COVERED_JS)]
        if lists and self.width <= PHONE:
            found += [f"small tap target: {t}" for t in page.evaluate(TAPS_JS, MIN_TAP)]
        page.add_script_tag(path=str(AXE))
        found += [f"axe {v}" for v in page.evaluate(AXE_JS, AXE_TAGS)]
        self.problems += [f"{where}: {f}" for f in found]

    def log_in(self, username: str, password: str) -> None:
        self.page.goto(self.base + "/login")
        self.page.fill("#username", username)
        self.page.fill("#password", password)
        with self.page.expect_navigation():
            self.page.click("main form button[type=submit]")

    def assert_clean(self) -> None:
        assert not self.problems, f"{len(self.problems)} problems:\n" + "\n".join(self.problems)

"""The report's landing page as a reader sees it: headless Chromium, and nothing over the table.

Snakemake's report draws the workflow description beside the rule graph; a wide claims table ran
on under the graph. ``landing_layout`` opens a report in Chromium (Debian's ``chromium`` and
``chromium-driver``, driven by selenium), keeps a screenshot and lists every visible element
that covers the claims table. tests/test_e2e.py runs it on the report of the end-to-end run;
the tests here check the checker on small pages, in seconds.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Where the screenshots are kept (ignored by git): $TEACHWHY_TEST_ARTIFACTS, else tests/artifacts.
ARTIFACTS = Path(os.environ.get("TEACHWHY_TEST_ARTIFACTS") or ROOT / "tests" / "artifacts")
# The widths a reader's window has: a laptop and a desktop screen.
WIDTHS = (1400, 1900)
HEIGHT = 1000
CLAIMS_TABLE = "table.teachwhy-claims, table"

# Every visible element that is neither inside the table nor one of its ancestors and whose
# box overlaps the table's box by more than half a pixel each way; the table's own box; the
# rule graph's drawing (null when not shown); the window. Boxes are in viewport pixels:
# [left, top, right, bottom].
_LAYOUT_JS = """
const table = document.querySelector(arguments[0]);
if (!table) return null;
const box = el => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
const shown = el => {
  const r = el.getBoundingClientRect();
  if (r.width <= 0 || r.height <= 0) return false;
  if (el.checkVisibility) return el.checkVisibility({opacityProperty: true, visibilityProperty: true});
  const s = getComputedStyle(el);
  return s.display !== 'none' && s.visibility !== 'hidden' && Number(s.opacity) > 0;
};
const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
  + (typeof el.className === 'string' && el.className.trim()
     ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
const t = box(table);
const covering = [];
for (const el of document.body.querySelectorAll('*')) {
  if (el === table || table.contains(el) || el.contains(table) || !shown(el)) continue;
  const b = box(el);
  const w = Math.min(t[2], b[2]) - Math.max(t[0], b[0]);
  const h = Math.min(t[3], b[3]) - Math.max(t[1], b[1]);
  if (w > 0.5 && h > 0.5) {
    covering.push({element: name(el), box: b.map(Math.round),
                   text: (el.textContent || '').trim().slice(0, 60)});
  }
}
const graph = document.querySelector('#rulegraph canvas, #rulegraph svg');
return {table: t.map(Math.round), covering: covering,
        graph: graph && shown(graph) ? box(graph).map(Math.round) : null,
        window: [window.innerWidth, window.innerHeight]};
"""
# The report is ready once its loading screen is gone and the rule graph is drawn.
_READY_JS = """
const loading = document.querySelector('#loading-screen');
const graph = document.querySelector('#rulegraph canvas, #rulegraph svg');
if ((loading && getComputedStyle(loading).display !== 'none') || !graph) return null;
const table = document.querySelector(arguments[0]);
const r = el => { const b = el.getBoundingClientRect(); return [b.left, b.top, b.width, b.height]; };
return JSON.stringify([r(graph), table ? r(table) : null]);
"""


def browser_paths() -> tuple[str, str]:
    """Chromium and its driver, or a skip that says what to install."""
    pytest.importorskip("selenium", reason="selenium is not installed (envs/requirements.txt)")
    chromium = next(
        (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p),
        None,
    )
    driver = shutil.which("chromedriver")
    if chromium is None or driver is None:
        pytest.skip(
            "the report layout test needs Chromium and its driver "
            "(Debian: apt-get install chromium chromium-driver; .ci/run installs them as root)"
        )
    return chromium, driver


def open_browser(width: int, height: int = HEIGHT):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = browser_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        f"--window-size={width},{height}",
    ):
        options.add_argument(arg)
    # A driver path given: selenium does not look for (or download) one of its own.
    return webdriver.Chrome(service=Service(driver), options=options)


def wait_until_drawn(browser, table: str = CLAIMS_TABLE, timeout: float = 60) -> None:
    """Until the loading screen is gone, the rule graph drawn, and the layout still."""
    last, deadline = None, time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = browser.execute_script(_READY_JS, table)
        if now is not None and now == last:
            return
        last = now
        time.sleep(0.5)
    raise AssertionError(f"the report did not finish drawing in {timeout:.0f} s")


def landing_layout(page: Path, width: int, shot: Path, table: str = CLAIMS_TABLE) -> dict:
    """Open ``page`` at ``width`` px, save a screenshot to ``shot``, and return the table's
    box, the elements that cover it and the window size (see _LAYOUT_JS)."""
    browser = open_browser(width)
    try:
        browser.get(page.resolve().as_uri())
        wait_until_drawn(browser, table)
        layout = browser.execute_script(_LAYOUT_JS, table)
        shot.parent.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(shot))
    finally:
        browser.quit()
    assert layout is not None, f"{page}: no claims table"
    return layout


def layout_problems(layout: dict) -> list[str]:
    """What keeps a reader from reading the table: an element over it, or a part of it out of
    reach (left of or above the page's origin, or wider than the window)."""
    left, top, right, _ = layout["table"]
    width, _ = layout["window"]
    problems = [
        f"{c['element']} {c['box']} covers the table {layout['table']}"
        + (f" ({c['text']!r})" if c["text"] else "")
        for c in layout["covering"]
    ]
    if left < 0 or top < 0:
        problems.append(f"the table {layout['table']} starts out of reach (left or above 0)")
    if right > width + 0.5:
        problems.append(f"the table {layout['table']} runs past the window's width {width}")
    return problems


# --- the checker, on small pages ----------------------------------------------------------------

_GRAPH = '<div id="rulegraph" style="{style}"><canvas width="200" height="300"></canvas></div>'
_PAGE = """<!doctype html><html><body style="margin:0">
<div id="loading-screen" style="display:none"></div>
<div style="display:flex; gap:12px">
  <div style="max-width:300px"><p>Claims</p>
    <table class="teachwhy-claims" style="width:600px"><tr><td>c07</td><td>reproduced</td></tr></table>
  </div>
  {graph}
</div></body></html>"""


@pytest.mark.parametrize(
    ("graph_style", "covered"),
    [("", True), ("position:relative; left:400px", False), ("display:none", False)],
    ids=["graph over the table", "graph beside it", "graph hidden"],
)
def test_the_checker_finds_what_covers_a_table(tmp_path, graph_style, covered):
    browser_paths()
    page = tmp_path / "page.html"
    page.write_text(_PAGE.format(graph=_GRAPH.format(style=graph_style)))
    layout = landing_layout(page, 1400, tmp_path / "page.png")
    problems = layout_problems(layout)
    assert bool(problems) is covered, problems
    if covered:
        assert any(p.startswith("div#rulegraph") for p in problems)
        assert any(p.startswith("canvas") for p in problems)
    assert (tmp_path / "page.png").read_bytes()[:4] == b"\x89PNG"


def test_a_table_out_of_reach_is_a_problem():
    layout = {"table": [10, -40, 500, 300], "covering": [], "window": [1400, 900]}
    assert layout_problems(layout) == [
        "the table [10, -40, 500, 300] starts out of reach (left or above 0)"
    ]
    layout = {"table": [300, 10, 1500, 300], "covering": [], "window": [1400, 900]}
    assert "past the window's width 1400" in layout_problems(layout)[0]

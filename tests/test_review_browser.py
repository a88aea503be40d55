"""The review app in headless Chromium: an editor changes a word, saves with Ctrl+S, builds,
and finds the word and the "gecorrigeerd" status on the published page; axe-core finds no
violations; the keyboard reaches every control and the doubtful words."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import CHROMIUM
from test_site_browser import AXE_OPTIONS, IN_CI, wait_until

from pipeline.build import run as build_archive
from pipeline.review.server import review_in_background

axe_api = pytest.importorskip("axe_playwright_python.sync_playwright")

pytestmark = pytest.mark.skipif(not CHROMIUM.exists() and not IN_CI,
                                reason=f"no Chromium at {CHROMIUM}")
SLUG = "kijk-in-de-kernen"
PAGE = f"/aflevering/{SLUG}/"


@pytest.fixture
def archive(one_episode_built, tmp_path) -> Path:
    root = tmp_path / "archive"
    shutil.copytree(one_episode_built, root)
    return root


@pytest.fixture
def app(archive):
    server, url = review_in_background(archive)
    yield url
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(new_page):
    """A page in a fresh browser context; no script error may happen on it."""
    page = new_page()
    yield page
    assert page.js_errors == []


def test_an_editor_corrects_a_word_saves_with_ctrl_s_and_the_build_publishes_it(page, app,
                                                                                 archive):
    page.goto(app + PAGE)
    first = page.locator(".seg .text").first
    word = first.locator(".w").first
    word.dblclick()  # selects the word, as an editor would to replace it
    page.keyboard.type("Redactiewoord")
    assert "Niet opgeslagen" in page.locator("#status").inner_text()
    page.keyboard.press("Control+s")
    wait_until(page, "document.getElementById('status').textContent.startsWith('Opgeslagen')")

    result = build_archive(archive)
    assert result.ok, [str(p) for p in result.problems]
    published = (archive / "site" / "afleveringen" / SLUG / "index.html").read_text()
    assert "Redactiewoord" in published
    assert "gecorrigeerd" in published.lower()
    page.goto(app + "/")
    assert "gecorrigeerd door een redacteur" in page.locator("table").inner_text()


def test_unsaved_changes_are_named_and_leaving_them_asks_first(page, app):
    page.goto(app + PAGE)
    page.locator(".seg .text").first.click()
    page.keyboard.type(" extra")
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    page.close(run_before_unload=True)
    page.wait_for_timeout(300)
    assert asked == ["beforeunload"]


def test_a_save_over_a_changed_master_is_refused_with_a_clear_message(page, app, archive):
    page.goto(app + PAGE)
    page.locator(".seg .text").first.click()
    page.keyboard.type(" extra")
    master = archive / "transcripts" / f"{SLUG}.json"
    master.write_bytes(master.read_bytes().replace(b'"language"', b'"language" ', 1))
    page.keyboard.press("Control+s")
    wait_until(page, "document.getElementById('status').textContent.includes('niet opgeslagen')")
    assert page.locator("#status").get_attribute("role") == "alert"


def test_the_keyboard_goes_from_doubtful_word_to_doubtful_word_and_plays_from_there(page, app):
    page.goto(app + PAGE)
    doubtful = page.locator(".w.doubt")
    assert doubtful.count() >= 2, "the demo's recogniser doubts some words"
    page.keyboard.press("Alt+ArrowDown")
    page.keyboard.press("Alt+ArrowDown")
    selected = page.evaluate("window.getSelection().toString()")
    second = doubtful.nth(1)
    assert selected == second.inner_text()
    start = float(second.get_attribute("data-s"))
    assert abs(page.evaluate("document.getElementById('speler').currentTime") - start) < 0.3
    page.keyboard.press("Alt+ArrowUp")
    assert page.evaluate("window.getSelection().toString()") == doubtful.nth(0).inner_text()


def test_every_control_is_reached_by_tab_with_a_visible_focus(page, app):
    page.goto(app + PAGE)
    controls = page.evaluate("""() => Array.from(document.querySelectorAll(
        'main button, main select, main input, main summary, main [contenteditable]')).length""")
    reached, outlines = set(), set()
    for _ in range(controls + 40):
        page.keyboard.press("Tab")
        name = page.evaluate("""() => { const e = document.activeElement;
            const i = Array.from(document.querySelectorAll(
              'main button, main select, main input, main summary, main [contenteditable]'))
              .indexOf(e);
            return i < 0 ? null : [i, getComputedStyle(e).outlineStyle]; }""")
        if name is not None:
            reached.add(name[0])
            outlines.add(name[1])
    assert len(reached) == controls
    assert "none" not in outlines


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("path", ["/", PAGE])
def test_axe_finds_no_violations_on_the_review_pages(new_page, app, path, scheme):
    page = new_page(color_scheme=scheme)
    page.goto(app + path)
    results = axe_api.Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()

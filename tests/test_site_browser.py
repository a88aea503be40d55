"""The transcript site in headless Chromium: WCAG 2.2 AA checks on the built demo site.

The demo archive is copied to a temporary folder and built once per session with the real
pipeline (Whisper included); its site/ is served from 127.0.0.1 in a thread (Pagefind needs
http, not file://). Every page type is checked with axe-core (target-size enabled) in light and
dark colour schemes, at 320 px, at 200 % text and with WCAG text spacing, by keyboard, without
JavaScript, and with the Nu Html Checker. A site built from crafted metadata (tests/test_site.py)
checks that markup in titles, descriptions and transcripts never runs.

Screenshots for docs/screenshots/: WIJK_SCREENSHOTS=docs/screenshots pytest -k screenshots
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import zlib
from pathlib import Path
from unittest import mock

import pytest
from conftest import CHROMIUM

from pipeline.archive import load_archive
from pipeline.build import run as build_archive
from pipeline.publish import search
from pipeline.publish.layout import SiteLayout
from pipeline.publish.site import render_site
from pipeline.serve import serve_in_background

playwright_api = pytest.importorskip("playwright.sync_api")
axe_api = pytest.importorskip("axe_playwright_python.sync_playwright")

REPO = Path(__file__).resolve().parent.parent
VNU = REPO / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
AUDIO_PAGE = "afleveringen/kijk-in-de-kernen/"
VIDEO_PAGE = "afleveringen/choku-gym-poelenburg/"
ELSEWHERE_PAGE = "afleveringen/de-oude-bieb-lewenborg/"
CASE_PAGE = "casussen/b2-voorst-kijk-in-de-kernen/"
SEARCH_PAGE = "zoeken/?q=Kernen"
LOCAL_SLUGS = ["kijk-in-de-kernen", "krachtstation-kanaleneiland",
               "kneuterigheid-verdient-een-standbeeld", "de-achilleshiel-van-geld-en-tijd",
               "choku-gym-poelenburg"]
AXE_OPTIONS = {"resultTypes": ["violations"], "rules": {"target-size": {"enabled": True}}}

# Outside CI a missing browser skips these tests; in CI (CI=true) the set-up must have installed
# it, so a missing one fails rather than hiding a broken install step.
IN_CI = bool(os.environ.get("CI"))
pytestmark = pytest.mark.skipif(not CHROMIUM.exists() and not IN_CI,
                                reason=f"no Chromium at {CHROMIUM} "
                                "(make system-deps installs Debian's chromium)")


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory) -> Path:
    """The demo archive built with the real pipeline; its site/ folder."""
    root = tmp_path_factory.mktemp("sitedemo") / "archive"
    root.mkdir()
    shutil.copy(REPO / "archive.yaml", root / "archive.yaml")
    shutil.copytree(REPO / "episodes", root / "episodes")
    result = build_archive(root)
    assert result.ok, [str(p) for p in result.problems]
    config = load_archive(root)
    layout = SiteLayout(root, config.base_url)
    # build.run renders the site once it is wired in; rendering again changes nothing then.
    site = render_site(root, config, result.episodes, result.transcripts, layout, result.tags)
    assert not site.problems, site.problems
    return layout.folder


@pytest.fixture(scope="session")
def demo_url(demo_site):
    server, url = serve_in_background(demo_site)
    yield url
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def crafted_url(tmp_path_factory):
    from test_site import crafted_site  # the crafted archive of the fast site tests

    folder, _, _ = crafted_site(tmp_path_factory.mktemp("crafted") / "archive")
    server, url = serve_in_background(folder)
    yield url
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def sharded_site(tmp_path_factory):
    """The crafted archive with a search shard per page: (url, site folder)."""
    from test_site import crafted_site

    with mock.patch.object(search, "SHARD_PAGES", 1):
        folder, _, _ = crafted_site(tmp_path_factory.mktemp("sharded") / "archive")
    server, url = serve_in_background(folder)
    yield url, folder
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def parted_url(tmp_path_factory):
    """The crafted archive with a case page in parts (casussen/<id>/deel-N/)."""
    from test_site import parted_site

    server, url = serve_in_background(parted_site(tmp_path_factory.mktemp("parted") / "archive"))
    yield url
    server.shutdown()
    server.server_close()


def lesson_page(site: Path) -> str:
    lessons = sorted(p.parent.name for p in (site / "lessen").glob("*/index.html"))
    assert lessons, "the demo tags at least one lesson"
    return f"lessen/{lessons[0]}/"


def page_types(site: Path) -> dict[str, str]:
    return {"home": "", "episode-audio": AUDIO_PAGE, "episode-video": VIDEO_PAGE,
            "episode-elsewhere": ELSEWHERE_PAGE, "case": CASE_PAGE, "lesson": lesson_page(site),
            "search": SEARCH_PAGE, "about": "over/", "episodes": "afleveringen/",
            "cases": "casussen/", "lessons": "lessen/"}


PAGE_TYPES = ["home", "episode-audio", "episode-video", "episode-elsewhere", "case", "lesson",
              "search", "about", "episodes", "cases", "lessons"]


def wait_until(page, expression: str, timeout: float = 15.0) -> None:
    """Poll a JavaScript expression until it is truthy (page.wait_for_function evaluates
    strings with eval, which the site's Content-Security-Policy rightly forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {expression}")
        page.wait_for_timeout(50)


def open_page(page, base: str, path: str) -> None:
    page.goto(base + path)
    page.wait_for_load_state("load")
    if path.startswith("zoeken/?q="):
        page.wait_for_selector("#zoekresultaten[data-ready]")


# --- axe-core ---------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("kind", PAGE_TYPES)
def test_axe_finds_no_violations(new_page, demo_site, demo_url, kind, scheme):
    page = new_page(color_scheme=scheme)
    open_page(page, demo_url, page_types(demo_site)[kind])
    results = axe_api.Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()
    assert page.js_errors == []


PARTED_CASE = "casussen/b2-voorst-kijk-in-de-kernen/"


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("path", [PARTED_CASE, PARTED_CASE + "deel-1/"])
def test_a_topic_in_parts_has_no_violations_and_no_sideways_scroll(new_page, parted_url, path,
                                                                    scheme):
    """A long case's page, with its links to older parts, and an older part."""
    page = new_page(color_scheme=scheme)
    open_page(page, parted_url, path)
    assert page.locator("nav.parts a").count() >= 1  # the parts are linked both ways
    results = axe_api.Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()
    narrow = new_page(width=320, height=640, color_scheme=scheme)
    open_page(narrow, parted_url, path)
    assert narrow.evaluate(CLIPPED) == []
    assert page.js_errors == [] and narrow.js_errors == []


# --- reflow, text size, text spacing -----------------------------------------------------------

CLIPPED = """() => {
  const problems = [];
  const root = document.scrollingElement;
  if (root.scrollWidth > window.innerWidth + 1) problems.push('page scrolls sideways: ' + root.scrollWidth);
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('.visually-hidden, [hidden], audio, video, noscript')) continue;
    const style = getComputedStyle(el);
    if (style.display === 'none' || !el.getClientRects().length) continue;
    const box = el.getBoundingClientRect();
    if (box.right > window.innerWidth + 1 && box.width > 0) problems.push('beyond the viewport: ' + el.outerHTML.slice(0, 80));
    const clips = v => v === 'hidden' || v === 'clip';
    if ((clips(style.overflowX) && el.scrollWidth > el.clientWidth + 1) ||
        (clips(style.overflowY) && el.scrollHeight > el.clientHeight + 1) ||
        style.textOverflow === 'ellipsis' && el.scrollWidth > el.clientWidth + 1)
      problems.push('clipped: ' + el.outerHTML.slice(0, 80));
  }
  return problems;
}"""
TEXT_SPACING = """() => {
  for (const el of document.querySelectorAll('*')) {
    el.style.setProperty('line-height', '1.5', 'important');
    el.style.setProperty('letter-spacing', '0.12em', 'important');
    el.style.setProperty('word-spacing', '0.16em', 'important');
  }
  for (const p of document.querySelectorAll('p')) p.style.setProperty('margin-bottom', '2em', 'important');
}"""


@pytest.mark.parametrize("kind", PAGE_TYPES)
def test_nothing_scrolls_sideways_at_320px(new_page, demo_site, demo_url, kind):
    page = new_page(width=320, height=640)
    open_page(page, demo_url, page_types(demo_site)[kind])
    assert page.evaluate(CLIPPED) == []


@pytest.mark.parametrize("kind", PAGE_TYPES)
def test_200_percent_text_and_text_spacing_clip_nothing(new_page, demo_site, demo_url, kind):
    """1.4.4: the reader's text size at 200 % (everything is in rem); 1.4.12 text spacing."""
    for width in (1280, 320):
        page = new_page(width=width)
        open_page(page, demo_url, page_types(demo_site)[kind])
        if width == 1280:
            page.evaluate("() => { document.documentElement.style.fontSize = '200%'; }")
            assert page.evaluate(CLIPPED) == [], "200% text"
        page.evaluate(TEXT_SPACING)
        assert page.evaluate(CLIPPED) == [], f"text spacing at {width} px"


# --- keyboard -----------------------------------------------------------------------------------

FOCUS_STATE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  el.dataset.reached = '1';
  const box = el.getBoundingClientRect();
  const style = getComputedStyle(el);
  const media = el.matches('audio, video');  // the browser's own controls draw their focus
  const ring = media || (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2) ||
               style.boxShadow !== 'none';
  let covered = false;
  const player = document.querySelector('.player');
  if (player && !player.contains(el) && getComputedStyle(player).position === 'sticky') {
    const bar = player.getBoundingClientRect();
    covered = box.top < bar.bottom - 1 && box.bottom > bar.top + 1;
  }
  const line = el.getClientRects()[0] || box;  // a link may wrap: test its first line
  const inView = line.top >= 0 && line.bottom <= innerHeight && line.left >= 0 && line.right <= innerWidth;
  const x = line.left + Math.min(line.width / 2, 8), y = line.top + line.height / 2;
  const hit = document.elementFromPoint(x, y);
  const onTop = media || !!hit && (el === hit || el.contains(hit) || hit.contains(el));
  return {what: el.outerHTML.slice(0, 90), ring, inView, covered, onTop};
}"""
UNREACHED = """() => [...document.querySelectorAll(
    'a[href], button, input, select, textarea, summary, audio[controls], video[controls], [tabindex]')]
  .filter(el => el.tabIndex >= 0 && el.getClientRects().length && !el.closest('[hidden]'))
  .filter(el => !el.dataset.reached).map(el => el.outerHTML.slice(0, 90))"""


@pytest.mark.parametrize("kind", ["home", "episode-audio", "episode-video", "case", "search"])
def test_keyboard_reaches_every_control_with_visible_unobscured_focus(new_page, demo_site,
                                                                      demo_url, kind):
    page = new_page(width=1280, height=720)
    open_page(page, demo_url, page_types(demo_site)[kind])
    problems, seen = [], 0
    for _ in range(250):
        page.keyboard.press("Tab")
        state = page.evaluate(FOCUS_STATE)
        if state is None:
            if seen:
                break
            continue
        seen += 1
        for check in ("ring", "inView", "onTop"):
            if not state[check]:
                problems.append((check, state["what"]))
        if state["covered"]:
            problems.append(("under the sticky player", state["what"]))
    assert seen > 5
    assert problems == []
    assert page.evaluate(UNREACHED) == []


def test_skip_link_is_first_and_moves_focus_to_the_content(new_page, demo_url):
    page = new_page()
    open_page(page, demo_url, AUDIO_PAGE)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "inhoud"


# --- without JavaScript -------------------------------------------------------------------------


def _segment_texts(site: Path, slug: str) -> list[str]:
    master = json.loads((site.parent / "transcripts" / f"{slug}.json").read_text(encoding="utf-8"))
    return [" ".join(s["text"].split()) for s in master["segments"] if not s["flags"]]


@pytest.mark.parametrize("slug", LOCAL_SLUGS)
def test_full_transcript_without_javascript(new_page, demo_site, demo_url, slug):
    page = new_page(java_script_enabled=False)
    open_page(page, demo_url, f"afleveringen/{slug}/")
    shown = " ".join(page.inner_text("#transcriptie").split())
    for text in _segment_texts(demo_site, slug):
        assert text in shown
    assert page.is_hidden(".tools")
    assert page.locator("a.ts").count() == len(_segment_texts(demo_site, slug))


# --- the enhancements -------------------------------------------------------------------------


def test_video_captions_track_loads(new_page, demo_url):
    page = new_page()
    open_page(page, demo_url, VIDEO_PAGE)
    track = page.locator("video track")
    assert track.get_attribute("kind") == "captions" and track.get_attribute("srclang") == "nl"
    wait_until(page, "(() => { const t = document.querySelector('video').textTracks[0];"
                     " t.mode = 'showing'; return t.cues && t.cues.length > 0; })()")
    first = page.evaluate("document.querySelector('video').textTracks[0].cues[0]"
                          ".getCueAsHTML().textContent")
    assert first.startswith("Ivan Nikolov: ")  # the speaker's name, in the text


def test_clicking_a_timestamp_seeks_and_highlights(new_page, demo_url):
    page = new_page()
    open_page(page, demo_url, AUDIO_PAGE)
    wait_until(page, "document.querySelector('audio').readyState >= 1")
    page.click("#t-35 a.ts")
    wait_until(page, "Math.abs(document.querySelector('audio').currentTime - 35.5) < 1")
    page.evaluate("document.querySelector('audio').pause()")
    assert "is-current" in page.get_attribute("#t-35", "class")
    assert page.evaluate("location.hash") == "#t-35"


def test_auto_scroll_is_optional_and_off_for_reduced_motion(new_page, demo_url):
    page = new_page()
    open_page(page, demo_url, AUDIO_PAGE)
    assert page.is_checked("#meescrollen")
    calm = new_page(reduced_motion="reduce")
    open_page(calm, demo_url, AUDIO_PAGE)
    assert not calm.is_checked("#meescrollen")


def test_search_within_the_transcript(new_page, demo_url):
    page = new_page()
    open_page(page, demo_url, AUDIO_PAGE)
    page.fill("#zoek-hier", "kernen")
    wait_until(page, "document.querySelectorAll('#transcriptie mark').length >= 2")
    assert "gevonden" in page.inner_text("#zoek-hier-status")
    page.click("button[data-find=next]")
    assert page.locator("#transcriptie mark.is-active").count() == 1


def test_archive_search_links_to_the_passage(new_page, demo_url):
    page = new_page()
    open_page(page, demo_url, SEARCH_PAGE)
    links = page.locator(".result a.passage-link[href*='#t-']")
    assert links.count() >= 1
    href = links.first.get_attribute("href")
    assert re.search(r"/afleveringen/[^/]+/#t-\d+$", href), href
    links.first.click()
    page.wait_for_load_state("load")
    anchor = href.rsplit("#", 1)[1]
    assert page.locator(f"#{anchor}").count() == 1
    assert "Kernen" in page.inner_text(f"#{anchor}") or "kernen" in page.inner_text(f"#{anchor}")


def test_archive_search_finds_pages_in_every_shard(new_page, sharded_site):
    url, folder = sharded_site
    shards = json.loads((folder / "pagefind" / "shards.json").read_text())["shards"]
    assert len(shards) >= 2  # gesprek and choku are in different shards
    page = new_page()
    open_page(page, url, "zoeken/?q=in")
    found = page.eval_on_selector_all(".result h2 a", "links => links.map(a => a.pathname)")
    assert {"/afleveringen/gesprek/", "/afleveringen/choku/"} <= set(found), found
    assert page.js_errors == []


def test_print_shows_the_transcript_without_player_or_navigation(new_page, demo_url):
    page = new_page()
    open_page(page, demo_url, AUDIO_PAGE)
    page.emulate_media(media="print")
    for hidden in (".player", ".site-header", ".tools", ".site-footer"):
        assert page.is_hidden(hidden), hidden
    assert page.is_visible("#transcriptie") and page.is_visible("section.status")


# --- crafted metadata never runs as markup ------------------------------------------------------


@pytest.mark.parametrize("path", ["", "afleveringen/gesprek/", "casussen/b2-voorst-kijk-in-de-kernen/",
                                  "lessen/b1-l2/", "afleveringen/"])
def test_markup_in_metadata_and_transcripts_stays_text(new_page, crafted_url, path):
    page = new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    open_page(page, crafted_url, path)
    page.wait_for_timeout(200)
    assert page.evaluate("window.__xss === undefined")
    assert dialogs == []
    assert page.locator("script").count() == 1 and page.locator("[onerror]").count() == 0
    assert "window.__xss" in page.inner_text("main")


# --- HTML validity --------------------------------------------------------------------------------


@pytest.mark.skipif(not VNU.exists() and not IN_CI,
                    reason="vnu.jar missing: run `npm ci --ignore-scripts`")
def test_html_validates(demo_site, tmp_path_factory):
    from test_site import crafted_site

    crafted, _, _ = crafted_site(tmp_path_factory.mktemp("vnu") / "archive")
    files = [str(p) for site in (demo_site, crafted) for p in sorted(site.rglob("*.html"))
             if "pagefind" not in p.parts]
    done = subprocess.run(["java", "-jar", str(VNU), "--errors-only", *files],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


# --- screenshots for docs/screenshots (only when asked) -------------------------------------------

SHOTS = {"home": "", "episode-audio": AUDIO_PAGE, "episode-video": VIDEO_PAGE,
         "episode-elsewhere": ELSEWHERE_PAGE, "case": CASE_PAGE, "search": SEARCH_PAGE,
         "about": "over/"}


@pytest.mark.skipif(not os.environ.get("WIJK_SCREENSHOTS"), reason="set WIJK_SCREENSHOTS=DIR")
def test_screenshots(new_page, demo_site, demo_url):
    folder = Path(os.environ["WIJK_SCREENSHOTS"])
    folder.mkdir(parents=True, exist_ok=True)
    shots = {**SHOTS, "lesson": lesson_page(demo_site)}
    for width, height, scheme in ((1280, 1000, "light"), (390, 844, "light"), (1280, 1000, "dark")):
        page = new_page(width=width, height=height, color_scheme=scheme)
        for name, path in shots.items():
            if scheme == "dark" and name not in ("episode-audio", "home"):
                continue
            open_page(page, demo_url, path)
            full = page.evaluate("document.scrollingElement.scrollHeight")
            clip = {"x": 0, "y": 0, "width": width, "height": min(full, 1400 if width > 600 else 1700)}
            png = page.screenshot(full_page=True, clip=clip)
            target = folder / f"{name}-{width}{'-dark' if scheme == 'dark' else ''}.png"
            target.write_bytes(recompress_png(png))


def recompress_png(png: bytes) -> bytes:
    """The same image with its pixel data deflated at level 9 (Chromium favours speed)."""
    signature, position, chunks = png[:8], 8, []
    data = b""
    while position < len(png):
        length = int.from_bytes(png[position:position + 4], "big")
        kind = png[position + 4:position + 8]
        body = png[position + 8:position + 8 + length]
        position += 12 + length
        if kind == b"IDAT":
            data += body
            continue
        if kind == b"IEND" and data:
            chunks.append((b"IDAT", zlib.compress(zlib.decompress(data), 9)))
        chunks.append((kind, body))
    out = signature
    for kind, body in chunks:
        out += len(body).to_bytes(4, "big") + kind + body
        out += zlib.crc32(kind + body).to_bytes(4, "big")
    return out

"""Shared fixtures. Tests never touch $HOME: model caches go to the repo's .cache/ folder."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"

# Joining the embedded Whisper weights takes seconds; share them across test runs.
os.environ.setdefault("WIJK_CACHE_DIR", str(REPO / ".cache" / "wijkarchief"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def repo_dir() -> Path:
    return REPO


ARCHIVE_YAML = """\
title: Testarchief
description: Een archief voor de tests.
base_url: https://wijkarchief.example.org/
author: Movisie
owner: {name: Movisie, email: podcast@example.org}
image: episodes/artwork/cover.jpg
categories: [Society & Culture]
"""


@pytest.fixture
def make_archive(tmp_path: Path, data_dir: Path):
    """An archive under tmp_path: archive.yaml, cover art, and the given episode files.

    `files` maps a path under episodes/ to bytes, a str (text), or a Path to copy.
    """

    def make(files: dict[str, bytes | str | Path] | None = None, config: str = ARCHIVE_YAML) -> Path:
        root = tmp_path / "archive"
        (root / "episodes" / "artwork").mkdir(parents=True, exist_ok=True)
        (root / "archive.yaml").write_text(config, encoding="utf-8")
        cover = REPO / "episodes" / "artwork" / "wij-in-de-wijk.jpg"
        (root / "episodes" / "artwork" / "cover.jpg").write_bytes(cover.read_bytes())
        for name, content in (files or {}).items():
            target = root / "episodes" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, Path):
                target.write_bytes(content.read_bytes())
            elif isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        return root

    return make


def correct_first_word(master: Path, word: str) -> None:
    """An editor's hand correction of a master: its first word replaced by `word`."""
    data = json.loads(master.read_text(encoding="utf-8"))
    first = data["segments"][0]
    first["text"] = f" {word}" + first["text"][len(first["words"][0]["text"]):]
    first["words"][0]["text"] = f" {word}"
    master.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


@pytest.fixture(scope="session")
def one_episode_built(tmp_path_factory, repo_dir) -> Path:
    """An archive with one demo episode (47 s, two speakers), built once per session with the
    real pipeline. Tests that change it work on a copy."""
    from pipeline.build import run as build_archive

    root = tmp_path_factory.mktemp("one-episode") / "archive"
    (root / "episodes").mkdir(parents=True)
    shutil.copy(repo_dir / "archive.yaml", root / "archive.yaml")
    shutil.copytree(repo_dir / "episodes" / "artwork", root / "episodes" / "artwork")
    for name in ("2021-09-16-kijk-in-de-kernen.mp3", "2021-09-16-kijk-in-de-kernen.yaml"):
        shutil.copy(repo_dir / "episodes" / name, root / "episodes" / name)
    result = build_archive(root)
    assert result.ok, [str(p) for p in result.problems]
    return root


# --- a real browser: Debian's Chromium driven by Playwright (never `playwright install`) ------

CHROMIUM = Path(os.environ.get("WIJK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    os.environ.setdefault("WIJK_SERVE_QUIET", "1")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser):
    """Pages in fresh contexts: new_page(width=1280, color_scheme="light", **context options)."""
    contexts = []

    def make(width: int = 1280, height: int = 800, **options):
        context = browser.new_context(viewport={"width": width, "height": height}, **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.js_errors = errors  # type: ignore[attr-defined]
        return page

    yield make
    for context in contexts:
        context.close()

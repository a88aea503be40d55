"""Podcasting 2.0 JSON chapters (format version 1.2.0): `site/chapters/<slug>.json`.

Spec: Podcastindex-org/podcast-namespace, docs/examples/chapters/jsonChapters.md. The feed links
the file with `<podcast:chapters type="application/json+chapters">`.

    {"version": "1.2.0", "title": "...", "chapters": [{"startTime": 0, "title": "Welkom"}, ...]}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipeline.fsutil import write_text
from pipeline.model import Chapter, Episode
from pipeline.publish.layout import SiteLayout

CHAPTERS_VERSION = "1.2.0"


def render_chapters(episode: Episode) -> dict[str, Any]:
    """The chapters object for an episode, chapters in ascending startTime."""
    marks = sorted(episode.chapters, key=lambda chapter: chapter.start)
    return {
        "version": CHAPTERS_VERSION,
        "title": episode.title,
        "chapters": [_chapter(chapter) for chapter in marks],
    }


def _chapter(chapter: Chapter) -> dict[str, Any]:
    entry: dict[str, Any] = {"startTime": _seconds(chapter.start), "title": chapter.title}
    if chapter.end is not None and chapter.end > chapter.start:
        entry["endTime"] = _seconds(chapter.end)
    if chapter.url:
        entry["url"] = chapter.url
    return entry


def _seconds(value: float) -> int | float:
    """Milliseconds are precise enough; whole seconds are written without ".0"."""
    rounded = round(value, 3)
    return int(rounded) if rounded == int(rounded) else rounded


def chapters_json(episode: Episode) -> str:
    """The file's text: stable key order and formatting, so rebuilds give the same bytes."""
    return json.dumps(render_chapters(episode), ensure_ascii=False, indent=2) + "\n"


def write_chapters(episode: Episode, layout: SiteLayout) -> Path | None:
    """Write the episode's chapters file; None (and no stale file left) when it has none.

    The file is rewritten only when its content changes, so unchanged rebuilds keep its mtime.
    """
    path = layout.path(layout.chapters(episode.slug))
    if not episode.chapters:
        path.unlink(missing_ok=True)  # chapters removed from the sidecar: the feed drops the link
        return None
    text = chapters_json(episode)
    if not (path.is_file() and path.read_text(encoding="utf-8") == text):
        write_text(path, text)
    return path

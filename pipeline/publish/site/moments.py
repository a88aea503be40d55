"""The passages each episode page found, kept per episode in `.cache/moments/` for the case
and lesson pages that list the episode, and what the memo keeps of a page's mentions.
"""

from __future__ import annotations

from collections.abc import Container
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from pipeline.fsutil import prune_cache, write_cache_text
from pipeline.publish.site.views import (
    TOPIC_MOMENTS,
    Mention,
    Moment,
)

# What the memo keeps of a mention: kind, topic id, editor (0 or 1), moment count. A page's
# records are kept in the memo as one JSON text, read only when the page is kept: ten thousand
# pages of dozens of records each as Python lists would be most of a build's memory.
MentionRecord = tuple[str, str, int, int]


def mention_record(mention: Mention) -> MentionRecord:
    return (mention.topic.kind, mention.topic.id, int(mention.editor), mention.count)


def mention_records(text: Any) -> list[MentionRecord] | None:
    """A page's records from the memo's text; None if it is not that (the page is made again)."""
    try:
        return [(str(kind), str(topic), int(editor), int(count))
                for kind, topic, editor, count in orjson.loads(text)]
    except (TypeError, ValueError):  # orjson.JSONDecodeError is a ValueError
        return None


class MomentStore:
    """The moments each episode's page found, as case and lesson pages show them (the first
    TOPIC_MOMENTS per topic), in `.cache/moments/<slug>.json`: written with the episode's page,
    read when a case or lesson page that lists the episode is rendered. Only a cache: a
    missing file shows the episode on those pages without its passages until it is rendered
    again."""

    FOLDER = Path(".cache") / "moments"

    def __init__(self, root: Path) -> None:
        self.folder = root / self.FOLDER

    def save(self, slug: str, mentions: list[Mention]) -> dict[str, list[list[Any]]]:
        """Keep the moments of the episode's page that topic pages show; returns them."""
        shown = {m.topic.name: [list(moment) for moment in m.moments[:TOPIC_MOMENTS]]
                 for m in mentions if m.moments}
        write_cache_text(self.folder / f"{slug}.json", orjson.dumps(shown).decode())
        return shown

    def has(self, slug: str) -> bool:
        return (self.folder / f"{slug}.json").is_file()

    def load(self, slug: str) -> dict[str, list[Moment]]:
        return load_moments(self.folder / f"{slug}.json")

    def prune(self, slugs: Container[str]) -> None:
        """Forget episodes that are gone; let go of what this build read."""
        load_moments.cache_clear()
        prune_cache(self.folder, ".json", slugs)


@lru_cache(maxsize=256)  # an episode is on up to dozens of topic pages; the newest on most
def load_moments(path: Path) -> dict[str, list[Moment]]:
    try:
        data = orjson.loads(path.read_bytes())
        return {name: [Moment(*moment) for moment in moments] for name, moments in data.items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}

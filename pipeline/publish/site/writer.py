"""Writing the site's pages: the Jinja environment, a writer that only rewrites changed files,
and the home, overview, topic and episode pages; stale pages removed.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup, escape

from pipeline.archive import ArchiveConfig
from pipeline.cache.listings import FileSet, Listings
from pipeline.cache.memo import BuildMemo, digest_of
from pipeline.fsutil import entries_under, write_stream_if_changed
from pipeline.publish.layout import FEED, SiteLayout
from pipeline.publish.site.views import (
    Block,
    EpisodeView,
    Topic,
    TopicPart,
    relative_url,
)
from pipeline.text import clock, dutch_date, dutch_list
from pipeline.transcripts.writers import VttWriter

if TYPE_CHECKING:
    from pipeline.publish.site.pages import PageDone


TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")
OWN_FOLDERS = ("afleveringen", "casussen", "lessen", "zoeken", "over", "static")
LATEST = 5  # episodes and videos on the home page
TOPIC_PART = 50  # episodes per older part of a case or lesson page


@dataclass
class SiteResult:
    """What render_site did: pages and files written, left as they were, removed."""

    written: int = 0
    unchanged: int = 0
    removed: int = 0
    search_indexed: int = 0  # search index shards re-indexed
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        search = f"{self.search_indexed} search index shard(s) updated" if self.search_indexed \
            else "search index unchanged"
        return (f"site: {self.written} page(s) and file(s) written, {self.unchanged} unchanged, "
                f"{self.removed} removed; {search}")


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """Autoescaped templates: every value is text unless a template says otherwise. One per
    process: templates are compiled once (Jinja still reloads one whose file changed)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["clock"] = clock
    env.filters["dutch_date"] = dutch_date
    env.filters["dutch_list"] = dutch_list
    env.globals["paragraph"] = paragraph_markup
    return env


def paragraph_markup(block: Block, media_url: str | None, listen: str) -> Markup:
    """A paragraph of the transcript: each segment a span with its anchor and a timestamp that
    links into the media file (`#t=95`, else to the anchor), a name at each change of speaker,
    sound descriptions marked. Built here rather than in the template, where a thousand
    segments take ten times as long; every text goes through escape()."""
    segments = []
    for segment in block.segments:
        href = f"{media_url}#t={segment.second}" if media_url else f"#{segment.anchor}"
        pieces = []
        for piece in segment.pieces:
            text = f'<span class="cue">{escape(piece.text)}</span>' if piece.cue \
                else str(escape(piece.text))
            name = f'<span class="speaker">{escape(piece.speaker)}:</span> ' if piece.speaker else ""
            pieces.append(name + text)
        segments.append(
            f'<span class="seg" id="{escape(segment.anchor)}" data-start="{segment.start:.2f}" '
            f'data-end="{segment.end:.2f}"><a class="ts" data-pagefind-ignore href="{escape(href)}">'
            f'<span class="visually-hidden">{escape(listen)} vanaf </span>{escape(clock(segment.start))}'
            f'</a> {" ".join(pieces)}</span>')
    speaker = f'<span class="speaker">{escape(block.speaker)}:</span> ' if block.speaker else ""
    return Markup(f'<p class="block block-{escape(block.kind)}">{speaker}{" ".join(segments)}</p>')


class PageWriter:
    """Streams templates to disk and copies assets, counting what changed. Without a memo
    (an episode page's writer), pages are always rendered."""

    def __init__(self, layout: SiteLayout, config: ArchiveConfig, result: SiteResult,
                 memo: BuildMemo | None = None, files: set[str] | FileSet | None = None) -> None:
        self.layout = layout
        self.config = config
        self.result = result
        self.memo = memo
        self.env = environment()
        # Every file this build wrote or kept, under site/: a page's few, or the whole site's
        # in the listings (pipeline.cache.listings: on disk).
        self.files = files if files is not None else set()
        self.versions = _static_versions()

    def page(self, template: str, relative: PurePosixPath, section: str, key: str | None = None,
             stream: bool = False, **context: Any) -> None:
        """Render `template` to site/`relative`; keep the old file if nothing changed.

        With a `key` (a digest of everything the page shows), a page the last build made from
        the same key, and still as it left it, is kept without rendering it. `stream`: write
        the page as it is rendered, for a page as long as the archive (whole is faster)."""
        target = self.layout.path(relative)
        if key is not None and self.memo is not None and \
                self.memo.unchanged("views", str(relative), key, target):
            self.keep(relative)
            return
        self._render(template, relative, section, stream, **context)
        if key is not None and self.memo is not None:
            self.memo.made("views", str(relative), key, target)

    def _render(self, template: str, relative: PurePosixPath, section: str, stream: bool,
                **context: Any) -> None:
        def url(target: PurePosixPath | str) -> str:
            return relative_url(relative, target)

        def asset(name: str) -> str:
            return f"{url(self.layout.asset(name))}?v={self.versions[name]}"

        context |= dict(page=relative, url=url, asset=asset, section=section, config=self.config,
                        layout=self.layout, feed_url=self.layout.url(FEED))
        if not stream:
            self.text(relative, self.env.get_template(template).render(**context))
            return
        parts = self.env.get_template(template).generate(**context)
        self._dump(relative, (part.encode("utf-8") for part in parts))

    def add(self, done: PageDone) -> None:
        """Count the files a page renderer (perhaps in another process) wrote or kept."""
        self.files.update(done.files)
        self.result.written += done.written
        self.result.unchanged += done.unchanged

    def keep(self, relative: PurePosixPath) -> None:
        """A file this build leaves as the last one wrote it (not stale)."""
        self.files.add(str(relative))
        self.result.unchanged += 1

    def text(self, relative: PurePosixPath, content: str) -> None:
        self._dump(relative, [content.encode("utf-8")])

    def static(self) -> None:
        """Copy pipeline/static/ unchanged (bytes) into site/static/."""
        for name in _static_names():
            source = STATIC / name
            self._dump(self.layout.asset(name), [source.read_bytes()])

    def _dump(self, relative: PurePosixPath, parts: Iterable[bytes]) -> None:
        """Write through a temporary file beside the target; replace the target only if
        different (not flushed to disk: a page lost in a power cut is made again)."""
        self.files.add(str(relative))
        if write_stream_if_changed(self.layout.path(relative), parts, durable=False):
            self.result.written += 1
        else:
            self.result.unchanged += 1


@lru_cache(maxsize=1)
def _static_versions() -> dict[str, str]:
    """A digest of each static file, for cache-busting links (`site.css?v=...`)."""
    return {name: _digest(STATIC / name) for name in _static_names()}


def _static_names() -> list[str]:
    return sorted(str(p.relative_to(STATIC).as_posix()) for p in STATIC.rglob("*") if p.is_file())


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10]


def _list_key(site_key: str | None, listed: list[Any]) -> str | None:
    """The key of a page that lists episodes: their page keys, in order (None: no key)."""
    return None if site_key is None else digest_of(site_key, listed)


def render_lists(writer: PageWriter, layout: SiteLayout, listings: Listings,
                  tagged: list[Topic], key: str | None) -> None:
    """Home and the overviews; `listings` are streamed (the episode list) a card at a time."""
    audio = listings.latest(video=False, count=LATEST)
    video = listings.latest(video=True, count=LATEST)
    cases = [t for t in tagged if t.kind == "case"]
    lessons = [t for t in tagged if t.kind == "lesson"]
    cover = layout.cover(Path(writer.config.image))
    has_cover = layout.path(cover).is_file()
    key = _list_key(key, [has_cover])
    writer.page("home.html", layout.home_page(), "home", key=key, latest_audio=audio,
                latest_video=video, episode_count=len(listings),
                cover=cover if has_cover else None)
    writer.page("episodes.html", layout.episodes_index(), "afleveringen", key=key, stream=True,
                episodes=listings)
    writer.page("topics.html", layout.cases_index(), "case", key=key, topics=cases, kind="case")
    writer.page("topics.html", layout.lessons_index(), "lesson", key=key, topics=lessons,
                kind="lesson")
    writer.page("search.html", layout.search_page(), "zoeken", key=key)
    writer.page("about.html", layout.about_page(), "over", key=key)


def topic_parts(topic: Topic, layout: SiteLayout) -> Iterator[TopicPart]:
    """The pages of a case or lesson: its own page with the newest TOPIC_PART to
    2 * TOPIC_PART - 1 episodes, then older parts of TOPIC_PART each, counted from the oldest
    episode. A new episode changes the topic's own page only: older parts stay as they are.
    One part at a time: a part's mentions are read when its page is rendered."""
    count = topic.episode_count
    older = max(0, count // TOPIC_PART - 1)
    for number in range(older + 1):
        page = layout.topic_part(topic.page, number) if number else topic.page
        newest = count - number * TOPIC_PART  # where an older part starts, counted from the newest
        span = range(0, count - older * TOPIC_PART) if number == 0 else \
            range(newest, newest + TOPIC_PART)
        yield TopicPart(number, page, span, topic, older)


def render_topic(writer: PageWriter, topic: Topic, known: str | None) -> None:
    """Each part of a topic, kept while the episodes it shows (and its neighbours) are."""
    assert topic.listings is not None
    for part in topic_parts(topic, writer.layout):
        # The topic's own page counts every episode and moment; an older part only its own.
        shown = range(topic.episode_count) if part.number == 0 else part.span
        key = None if known is None else \
            topic.listings.listed_digest(topic.name, shown, known, part.number, part.links)
        writer.page("topic.html", part.page, topic.kind, key=key, topic=topic, part=part,
                    part_size=TOPIC_PART)


def render_episode(writer: PageWriter, view: EpisodeView) -> None:
    writer.page("episode.html", view.page, "afleveringen", view=view)
    if view.captions is not None and view.transcript is not None:
        writer.text(view.captions, VttWriter(show_names=True).render(view.transcript))


def remove_stale(layout: SiteLayout, keep: Container[str]) -> int:
    """Remove files in the site's own folders that this build did not write; prune folders."""
    removed = 0
    inside = len(str(layout.folder)) + 1  # an entry's path, less this: its name under site/
    for name in OWN_FOLDERS:
        for entry in entries_under(layout.folder / name):  # each folder after its files
            if entry.is_dir():
                if not entry.is_symlink() and _empty(entry.path):
                    os.rmdir(entry.path)
            elif entry.path[inside:] not in keep:
                os.unlink(entry.path)
                removed += 1
    return removed


def _empty(folder: str) -> bool:
    with os.scandir(folder) as entries:
        return next(entries, None) is None

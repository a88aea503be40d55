"""Episode pages, kept or rendered: a plan per episode (kept when its inputs are as last time),
rendered here or by a process per core when there are many.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import chain, islice
from typing import Any

from pipeline.archive import ArchiveConfig
from pipeline.cache.memo import BuildMemo, digest_of
from pipeline.model import Tag, Transcript
from pipeline.processes import collection_paused, end_with_parent, usable_cores
from pipeline.publish.layout import SiteLayout
from pipeline.publish.site.moments import (
    MentionRecord,
    MomentStore,
    mention_record,
    mention_records,
)
from pipeline.publish.site.views import (
    EpisodeView,
    attach_mentions,
    editor_tags,
    topics_of,
    with_transcript,
)
from pipeline.publish.site.writer import (
    PageWriter,
    SiteResult,
    render_episode,
)
from pipeline.tag.stage import TagsOnDisk, TagSource
from pipeline.tag.taxonomy import Taxonomy, load_taxonomy
from pipeline.transcripts.source import TranscriptSource


def _page_key(site_key: str, view: EpisodeView, master: str | None, tags: Any) -> str:
    """Everything an episode page is made from (the code and settings in `site_key`), but the
    transcript and tags themselves (their digests)."""
    return digest_of(site_key, view.episode, master, tags, view.media, view.image,
                     view.downloads, view.captions)


@dataclass
class PageDone:
    """What rendering one episode's page did, and what the overviews need from it."""

    slug: str
    status: str
    mentions: list[MentionRecord]  # each case and lesson it mentions
    files: set[str]
    written: int
    unchanged: int
    shown: dict[str, list[list[Any]]] = field(default_factory=dict)  # moments a topic page shows


@dataclass(slots=True)
class PagePlan:
    """An episode's page, and whether it is kept: `kept` is its mention records as the
    memo's text, or None when the page is to be rendered. `transcribed` and `tagged`: whether
    the episode has a current transcript and tags (None: not known here, the renderer's
    transcripts and tags are asked); a page worker knows only what its plan says. `master`:
    the digest of the episode's master, when known (its reading copy is kept under it)."""

    view: EpisodeView
    key: str | None  # everything the page is made from (None: no key, always rendered)
    kept: str | None
    transcribed: bool | None = None
    tagged: bool | None = None
    master: str | None = None


class Planner:
    """Decides, one episode at a time, whether its page is kept or rendered."""

    def __init__(self, writer: PageWriter, memo: BuildMemo, site_key: str,
                 digests: Mapping[str, str | None] | None, tags: TagSource) -> None:
        self.writer, self.memo, self.site_key = writer, memo, site_key
        self.digests = digests  # the masters' (when known): pages have keys
        self.tags = tags
        self.tag_digests = tags.digests if isinstance(tags, TagsOnDisk) else None
        self.store = MomentStore(writer.layout.root)

    def plan(self, view: EpisodeView) -> PagePlan:
        slug = view.episode.slug
        tagged = slug in self.tag_digests if self.tag_digests is not None else None
        if self.digests is None:
            return PagePlan(view, None, None, tagged=tagged)
        tags_key = self.tag_digests.get(slug) if self.tag_digests is not None else \
            (self.tags[slug] if self.tags is not None and slug in self.tags else None)
        master = self.digests.get(slug)
        key = _page_key(self.site_key, view, master, tags_key)
        return PagePlan(view, key, _kept_page(self.writer, self.memo, view, key,
                                              master is not None, self.store),
                        transcribed=slug in self.digests, tagged=tagged, master=master)


class PageRenderer:
    """Renders one episode page at a time: in this process, or in each worker process."""

    def __init__(self, layout: SiteLayout, config: ArchiveConfig, transcripts: TranscriptSource,
                 tags: TagSource) -> None:
        self.layout, self.config, self.transcripts, self.tags = layout, config, transcripts, tags
        self._taxonomy: Taxonomy | None = None

    def __call__(self, plan: PagePlan) -> PageDone:
        """Render the page, then let the transcript go: the view is left as it came."""
        with collection_paused():  # a 30-minute master is tens of thousands of objects
            return self._render(plan)

    def _render(self, plan: PagePlan) -> PageDone:
        view = plan.view
        slug = view.episode.slug
        writer = PageWriter(self.layout, self.config, SiteResult())
        self._taxonomy = self._taxonomy or load_taxonomy()
        topics = topics_of(self._taxonomy, self.layout)  # fresh: mentions of this page only
        transcript = self._transcript(plan) if plan.transcribed is not False else None
        tags = self._tags(slug) if plan.tagged is not False else None
        with_transcript(self.layout, view, transcript)
        attach_mentions(view, tags if tags is not None else editor_tags(view.episode), topics)
        render_episode(writer, view)
        shown = MomentStore(self.layout.root).save(slug, view.mentions)
        done = PageDone(slug, view.status, [mention_record(m) for m in view.mentions],
                        writer.files, writer.result.written, writer.result.unchanged, shown)
        view.transcript, view.blocks, view.anchors, view.mentions = None, [], {}, []
        view.captions = None
        return done

    def _transcript(self, plan: PagePlan) -> Transcript | None:
        """The page's transcript: its master's reading copy, but the master itself for a
        video page, whose captions file is cut by the words' timings."""
        episode = plan.view.episode
        if plan.master is not None and not plan.view.is_video:
            return self.transcripts.for_page(episode, plan.master)
        return self.transcripts.for_episode(episode)

    def _tags(self, slug: str) -> list[Tag] | None:
        """The episode's tags; None if it has none (a worker's copy of TagsOnDisk has no
        digests: its plan said there are tags)."""
        if self.tags is None:
            return None
        try:
            return self.tags[slug]
        except KeyError:
            return None


PARALLEL_PAGES = 24  # fewer pages than this are rendered here: starting workers costs a second
LOOKAHEAD = 256  # plans read before deciding whether to start workers


_renderer: PageRenderer | None = None  # a worker process's own


def render_pages(renderer: PageRenderer, plans: Iterable[PagePlan],
                 workers: int | None = None) -> Iterator[tuple[PagePlan, PageDone | None]]:
    """Render the pages `plans` don't keep; yields each plan, in their order, with what
    rendering it did (None: kept). `workers`: processes (None: one per core when the first
    LOOKAHEAD plans render at least PARALLEL_PAGES pages). Plans are read as they are needed,
    at most a few hundred ahead; each process loads one transcript at a time; what comes back
    is small (status and mentions)."""
    plans = iter(plans)
    ahead = list(islice(plans, LOOKAHEAD))
    if workers is None:
        many = sum(plan.kept is None for plan in ahead) >= PARALLEL_PAGES
        workers = usable_cores() if many else 1
    if workers <= 1:
        for plan in chain(ahead, plans):
            yield plan, renderer(plan) if plan.kept is None else None
        return
    context = multiprocessing.get_context("spawn")  # not a fork of a process holding locks
    with ProcessPoolExecutor(max_workers=workers, mp_context=context,
                             initializer=_start_renderer, initargs=(os.getpid(), renderer)) as pool:
        waiting: deque[tuple[PagePlan, Future[PageDone] | None]] = deque()
        for plan in chain(ahead, plans):
            waiting.append((plan, None if plan.kept is not None else
                            pool.submit(_render_in_worker, plan)))
            while waiting and (len(waiting) > LOOKAHEAD or _ready(waiting[0][1])):
                yield _finished(waiting.popleft())
        while waiting:
            yield _finished(waiting.popleft())


def _ready(future: Future[PageDone] | None) -> bool:
    return future is None or future.done()


def _finished(waiting: tuple[PagePlan, Future[PageDone] | None]) -> tuple[PagePlan, PageDone | None]:
    plan, future = waiting
    return plan, future.result() if future is not None else None


def _start_renderer(parent: int, renderer: PageRenderer) -> None:
    global _renderer
    end_with_parent(parent)
    _renderer = renderer


def _render_in_worker(plan: PagePlan) -> PageDone:
    assert _renderer is not None
    return _renderer(plan)


def _kept_page(writer: PageWriter, memo: BuildMemo, view: EpisodeView, key: str,
               captioned: bool, store: MomentStore) -> str | None:
    """Keep the page the last build made from the same inputs: its mention records as the
    memo's text (their moments are in the store; parsed when they are wanted, as thousands of
    pages' records in lists would take much memory), or None if it must be made again.
    `captioned`: the episode has a transcript, so a local video has a captions file too."""
    layout = writer.layout
    slug = view.episode.slug
    if not memo.unchanged("pages", slug, key, layout.path(view.page)):
        return None
    entry = memo.get("pages", slug)
    records = mention_records(entry.get("mentions"))
    if records is None or any(count for *_, count in records) and not store.has(slug):
        return None
    captions = layout.episode_captions(slug)
    captioned = captioned and view.is_video
    if captioned and not layout.path(captions).is_file():
        return None
    status = entry["status"]  # "machine", "corrected" or None: one string for thousands
    view.known_status = sys.intern(status) if isinstance(status, str) else None
    writer.keep(view.page)
    if captioned:
        writer.keep(captions)
    return entry["mentions"]

"""The transcript site: static Dutch HTML for deaf and hard-of-hearing readers first.

`render_site` writes, under `site/` (names from pipeline.publish.layout):

    index.html                         home: latest episodes and videos, how to subscribe
    afleveringen/index.html            every episode
    afleveringen/<slug>/index.html     player, status, chapters, tags, downloads, full transcript
    afleveringen/<slug>/ondertiteling.vtt   captions for the page's <track>, names in the text
    casussen/, lessen/                 an overview, and a page per case or lesson with its passages
    zoeken/index.html                  search across the archive (Pagefind, in the browser)
    over/index.html                    about, how transcripts are made, accessibility statement
    static/                            CSS and JavaScript, copied unchanged from static/ beside this module
    pagefind/                          the search index, written by Pagefind after the pages

Every page is complete without JavaScript: the transcript is plain HTML with a real anchor per
segment (`#t-95`) whose timestamp links into the media file (`media/<slug>.mp3#t=95`). The one
script (static/site.js) adds click-to-seek, current-segment highlight, auto-scroll, search in the
transcript and the archive search. Templates are autoescaped: titles, descriptions and transcript
text always appear as text, never as markup. A page is only rewritten when its content changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import closing
from pathlib import Path
from typing import Any

import orjson

from pipeline.archive import ArchiveConfig
from pipeline.cache.catalogue import Catalogue
from pipeline.cache.listings import Listings
from pipeline.cache.memo import BuildMemo, code_digest, digest_of
from pipeline.model import Episode
from pipeline.processes import usable_cores
from pipeline.publish.layout import SiteLayout
from pipeline.publish.search import start_index_search
from pipeline.publish.site.moments import (
    MentionRecord,
    load_moments,
    mention_records,
)
from pipeline.publish.site.pages import (
    PageDone,
    PagePlan,
    PageRenderer,
    Planner,
    render_pages,
)
from pipeline.publish.site.views import (
    EpisodeCard,
    Topic,
    episode_view,
    topics_of,
)
from pipeline.publish.site.writer import (
    PageWriter,
    SiteResult,
    remove_stale,
    render_lists,
    render_topic,
)
from pipeline.tag.stage import TagSource
from pipeline.tag.taxonomy import load_taxonomy
from pipeline.transcripts.source import TranscriptSource
from pipeline.transcripts.store import ReadingCopies


def render_site(root: Path, config: ArchiveConfig, episodes: Iterable[Episode],
                transcripts: TranscriptSource, layout: SiteLayout, tags: TagSource = None,
                memo: BuildMemo | None = None, workers: int | None = None) -> SiteResult:
    """Write every page of the site, copy the assets, remove stale pages, index for search.

    Run after publish_assets (pages link to the media and transcript files it placed) and
    before publish_feed (the feed links an episode page as its HTML transcript if it exists).
    `tags` gives each episode's tags (else only the editor's cases). With the build's
    transcripts (which know each master's digest) and a memo, an episode page whose inputs
    are all as last time is kept without reading its transcript; what the overviews need from
    it comes from the memo (status, mentions) and the MomentStore (passages). One transcript
    is in memory at a time per process; `workers`: processes rendering episode pages (None:
    one per core when there are many).
    """
    result = SiteResult()
    memo = memo or BuildMemo()
    listings = Listings()  # on disk: a card per episode, its topics, the files kept
    writer = PageWriter(layout, config, result, memo, files=listings.files)
    topics = topics_of(load_taxonomy(), layout)
    site_key = digest_of(SITE_CODE, config.model_dump(mode="json"))
    planner = Planner(writer, memo, site_key, transcripts.digests, tags)
    for topic in topics.values():
        topic.store, topic.listings = planner.store, listings
    load_moments.cache_clear()  # a long-running `wijk watch` must not see an older build's

    # 1. One page per episode, each as its transcript, tags and metadata say: pages whose
    #    inputs are as last time are kept, the others rendered (by several processes for many).
    #    Episodes are read from the catalogue newest first, one at a time; what the lists
    #    need of each is put in the listings as a card, with the cases and lessons it is on.
    plans = (planner.plan(episode_view(layout, e, None))
             for e in Catalogue.of(episodes).newest_first())
    renderer = PageRenderer(layout, config, transcripts, tags)
    with closing(render_pages(renderer, plans, workers)) as rendered:  # workers end with it
        for plan, done in rendered:
            _listed(plan, done, writer, memo, topics, listings)
    for name, (episode_count, moment_count) in listings.topic_counts().items():
        kind, _, topic_id = name.partition("/")
        topics[(kind, topic_id)].episode_count = episode_count
        topics[(kind, topic_id)].moment_count = moment_count
    tagged = [t for t in topics.values() if t.episode_count]
    # The search index covers episode pages only: Pagefind runs while the overviews render.
    indexing = start_index_search(layout, EpisodePages(layout, listings),
                                  memo.file_digest, workers=usable_cores())

    # 2. Home and overviews, and one page per case and per lesson: each kept when the pages
    #    of the episodes it lists are (no key, so always rendered, without the memo's digests).
    known = site_key if listings.keyed() else None
    render_lists(writer, layout, listings, tagged,
                  None if known is None else listings.digest(known))
    for topic in tagged:
        render_topic(writer, topic, known)
    writer.static()

    # 3. The search index (only the shards whose pages changed) once Pagefind is done.
    indexed = indexing.result()
    result.search_indexed = indexed.indexed
    result.problems.extend(indexed.problems)

    # 4. Drop pages of episodes, cases and lessons that are gone (not while Pagefind reads).
    result.removed = remove_stale(layout, writer.files)
    planner.store.prune(listings)
    ReadingCopies(root).prune(listings)
    return result


# The code a page's bytes come from: this module and the templates, and what it uses to read a
# master (model, transcripts), to write dates and captions (writers, captions), to order and
# name the cases and lessons (tag, taxonomy). A change to any of them makes every page again.
SITE_CODE = code_digest("publish/site", "publish/layout.py", "model.py", "transcripts/store.py",
                        "transcripts/writers.py", "transcripts/captions.py", "tag/tagger.py",
                        "tag/matching.py", "tag/taxonomy.py", "tag/taxonomy.yaml")


def _listed(plan: PagePlan, done: PageDone | None, writer: PageWriter, memo: BuildMemo,
            topics: dict[tuple[str, str], Topic], listings: Listings) -> None:
    """Once an episode's page is rendered (`done`) or kept: record it, and list what the lists
    and the case and lesson pages show of the episode, with the topics it mentions."""
    view = plan.view
    if done is not None:
        view.known_status, records = done.status, done.mentions
        writer.add(done)
        if plan.key is not None:
            memo.made("pages", done.slug, plan.key, writer.layout.path(view.page),
                      status=done.status, mentions=orjson.dumps(records).decode())
    else:
        records = mention_records(plan.kept) or []
    listings.add(EpisodeCard.of(view, plan.key),
                 _mentioned(records, topics, done.shown if done is not None else None))


def _mentioned(records: list[MentionRecord], topics: dict[tuple[str, str], Topic],
               shown: dict[str, list[list[Any]]] | None) -> list[tuple[str, int, int, str | None]]:
    """The episode's mentions of cases and lessons, from their records, as the listings keep
    them (listed in the order of the cards, which is the order on the topic pages; the
    episode's own page, which lists them too, is done): topic name, editor, moment count, and
    the moments a topic page shows as JSON: those of a page rendered now (`shown`), which a
    full build's topic pages then need not read back one file at a time; for a kept page
    None, they stay in the store until a topic page shows them. Ids the taxonomy no longer
    has are left out."""
    listed = []
    for kind, topic_id, editor, count in records:
        if (kind, topic_id) in topics:
            name = topics[(kind, topic_id)].name
            moments = orjson.dumps(shown.get(name, [])).decode() if shown is not None else None
            listed.append((name, editor, count, moments))
    return listed


class EpisodePages(Mapping[str, str]):
    """Slug -> episode page (text, under site/), made when asked for, of the episodes in the
    listings: what the search index is given, without a slug or path kept per episode."""

    def __init__(self, layout: SiteLayout, listings: Listings) -> None:
        self.layout, self.listings = layout, listings

    def __getitem__(self, slug: str) -> str:
        return str(self.layout.episode_page(slug))

    def __iter__(self) -> Iterator[str]:
        return self.listings.slugs()

    def __len__(self) -> int:
        return len(self.listings)

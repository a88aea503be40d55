"""Publish, the feed: `site/feed.xml`, built with feedgen (the only module that imports it).

One feed for the whole archive, newest episode first (STANDARDS.md, "The feed"):
- Apple's tags: itunes:image, category, explicit (true/false), author, owner, type; per item an
  exact enclosure (byte length of the published file, MIME type), a permanent guid
  (isPermaLink="false"), an RFC 2822 pubDate with time zone, itunes:duration in whole seconds,
  itunes:episode/season/episodeType where known, and the title without an episode number.
- Podcasting 2.0 tags (pipeline.publish.podcast_ext): podcast:guid, locked, medium, person, funding;
  per item podcast:transcript (VTT as captions, SRT, JSON, the HTML episode page), chapters,
  person (hosts and guests), and alternateEnclosure for a video version.
- Videos: a local video is an ordinary item with its video as the enclosure; a video version of
  an audio episode is an alternateEnclosure. A video that lives elsewhere (`video_url`, no file)
  is not in the feed: there is no file to enclose, and an item without an enclosure is not a
  playable episode for podcast apps. The site lists it.
- Reproducible: the same archive gives the same bytes. lastBuildDate and pubDate are the newest
  episode's date, items are sorted by (date, slug), and nothing depends on the clock.

The feed is written as a stream, FEED_CHUNK items at a time (an archive of ten thousand items
built as one XML tree took 70 MB); the bytes are those of rendering it whole. Chunks are
counted from the oldest item and kept, rendered, in `.cache/feed/` (ItemCache): a new episode
changes the newest chunk only, and the others are written as they were.

`render_feed` is pure apart from looking at files under `site/`: which transcripts, chapters,
pages and images exist there, and the byte size of each published media file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import pickle
import re
from collections.abc import Iterable, Iterator
from importlib import metadata
from itertools import islice
from pathlib import Path, PurePosixPath
from stat import S_ISREG

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator
from lxml import etree

from pipeline.archive import ArchiveConfig
from pipeline.cache.catalogue import Catalogue, feed_date
from pipeline.cache.memo import BuildMemo, code_digest, digest_of
from pipeline.fsutil import atomic_open, prune_cache, write_stream_if_changed
from pipeline.ingest.identity import feed_guid
from pipeline.model import Episode, MediaFile
from pipeline.publish.layout import FEED, TRANSCRIPT_TYPES, SiteLayout
from pipeline.publish.podcast_ext import (
    CORRECTIONS,
    EXTENSION,
    AlternateEnclosure,
    ChannelTags,
    CorrectionsEntryExtension,
    CorrectionsExtension,
    Funding,
    ItemTags,
    Person,
    PodcastIndexEntryExtension,
    PodcastIndexExtension,
    TranscriptLink,
)

GENERATOR = "Wijkarchief"
# podcast:transcript, in this order: captions first (Apple Podcasts reads VTT and SRT); simple
# parsers (feedparser, podcastparser) keep only the last one, which is then the readable page.
TRANSCRIPT_FORMATS = ("vtt", "srt", "json")
PAGE_TYPE = "text/html"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")  # what Apple accepts for itunes:image
PERSON_MAX = 128  # podcast:person and podcast:funding text: "do not exceed 128 characters"
# Characters XML 1.0 cannot carry at all (control characters, lone surrogates): lxml would refuse
# them, and they only ever come from damaged tags.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# "Aflevering 4: ...", "Afl. 4 - ...", "Ep. 4 | ...", "#4: ...": Apple wants the number only in
# itunes:episode. A bare "4. ..." is stripped only when it is the episode's own number.
_LABELLED_NUMBER = re.compile(
    r"^\s*(?:aflevering|afl\.?|episode|ep\.?|#)\s*(\d+)\s*[:.\-–—|]?\s*", re.IGNORECASE)
_BARE_NUMBER = re.compile(r"^\s*(\d+)\s*[:.\-–—|]\s+")
FEED_CHUNK = 200  # items rendered at a time
# What made the feed's bytes besides the episodes and settings (feed_key): this code, the
# names and order of what it links, and the libraries that write the XML.
FEED_CODE = code_digest("publish/feed.py", "publish/podcast_ext.py", "publish/layout.py",
                        "cache/catalogue.py", "model.py", "ingest/identity.py")
FEED_LIBRARIES = (metadata.version("feedgen"), etree.LXML_VERSION)
_ITEM_START = b"    <item>"  # as pretty-printed: the channel's children are indented by four
_ITEM_END = b"</item>\n"
_CHANNEL_END = b"  </channel>"


# --- the feed ----------------------------------------------------------------------------------


def render_feed(config: ArchiveConfig, episodes: Iterable[Episode], layout: SiteLayout,
                chunk: int | None = None) -> bytes:
    """The feed's bytes (UTF-8 XML) for the episodes that have a published media file."""
    return b"".join(feed_parts(config, episodes, layout, chunk))


def write_feed(config: ArchiveConfig, episodes: Iterable[Episode], layout: SiteLayout,
               memo: BuildMemo | None = None) -> bool:
    """Write `site/feed.xml` atomically, and only when its bytes change; True if written.

    With a memo, a feed made from the same key (feed_key) by the last build, and still as it
    left it, is kept without rendering it (a tenth of a no-op build); and only the chunks of
    items whose keys are new are rendered (ItemCache)."""
    path = layout.path(FEED)
    if memo is None:
        return write_stream_if_changed(path, feed_parts(config, episodes, layout))
    cache = ItemCache(config, layout)
    key = feed_key(episodes, cache)
    if memo.unchanged("feed", str(FEED), key, path):
        return False
    changed = write_stream_if_changed(path, feed_parts(config, episodes, layout, cache=cache))
    memo.made("feed", str(FEED), key, path)
    cache.prune()
    return changed


def feed_key(episodes: Iterable[Episode], cache: ItemCache) -> str:
    """A digest of everything the feed is made from: its code and libraries, the archive's
    settings (`cache.base`), and each episode in the feed, in order, with what its item learns
    of the files under site/ (item_files: whether each is there, and its size). Made of the
    keys of its chunks of items, which `cache` keeps for feed_parts."""
    digest = hashlib.sha256(cache.base.encode("ascii"))
    for number, items in enumerate(item_chunks(Catalogue.of(episodes))):
        digest.update(cache.key(number, items).encode("ascii"))
    return digest.hexdigest()


class ItemCache:
    """Chunks of items as rendered, in `.cache/feed/<key>.xml`, the key a digest of everything
    the chunk's items are made from. Only a cache: a chunk that is missing or damaged is
    rendered again; prune() drops those the feed no longer has."""

    FOLDER = Path(".cache") / "feed"

    def __init__(self, config: ArchiveConfig, layout: SiteLayout) -> None:
        self.folder = layout.root / self.FOLDER
        self.layout = layout
        self.base = digest_of(FEED_CODE, FEED_LIBRARIES, config.model_dump(mode="json"))
        self.keys: list[str] = []  # each chunk's, in order, once worked out

    def key(self, number: int, items: list[Episode]) -> str:
        """The key of chunk `number` of the feed, holding `items`."""
        if number < len(self.keys):
            return self.keys[number]
        digest = hashlib.sha256(self.base.encode("ascii"))
        site = str(self.layout.folder)
        for episode in items:
            digest.update(pickle.dumps(episode, protocol=pickle.HIGHEST_PROTOCOL))
            for relative in item_files(episode, self.layout):
                digest.update(f"\n{relative} {_file_size(f'{site}/{relative}')}".encode("utf-8"))
        self.keys.append(digest.hexdigest())
        return self.keys[-1]

    def get(self, number: int, items: list[Episode]) -> bytes | None:
        try:
            data = (self.folder / f"{self.key(number, items)}.xml").read_bytes()
        except OSError:
            return None
        return data if data.startswith(_ITEM_START) and data.endswith(_ITEM_END) else None

    def put(self, number: int, items: list[Episode], data: bytes) -> None:
        with atomic_open(self.folder / f"{self.key(number, items)}.xml", "wb",
                         durable=False) as handle:
            handle.write(data)

    def prune(self) -> None:
        """Drop the chunks this feed does not have (after feed_key or feed_parts)."""
        prune_cache(self.folder, ".xml", set(self.keys))


def item_files(episode: Episode, layout: SiteLayout) -> list[PurePosixPath]:
    """Every file under site/ that an episode's item looks at: its page, chapters,
    transcripts and image (whether each is there), and its media files (their sizes)."""
    slug = episode.slug
    return [layout.episode_page(slug), layout.chapters(slug),
            *(layout.transcript(slug, extension) for extension in TRANSCRIPT_FORMATS),
            *(layout.episode_image(slug, suffix) for suffix in IMAGE_SUFFIXES),
            *(layout.media(episode, media) for media in
              [MediaFile(episode.source, episode.media), *episode.alternates])]


def _file_size(path: str) -> int | None:
    """A regular file's size; None if there is none (as is_file sees it)."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_size if S_ISREG(stat.st_mode) else None


def feed_parts(config: ArchiveConfig, episodes: Iterable[Episode], layout: SiteLayout,
               chunk: int | None = None, cache: ItemCache | None = None) -> Iterator[bytes]:
    """The feed in pieces: the channel, then its items `chunk` at a time, then the end.

    feedgen renders a whole feed at once; each chunk is rendered as a feed of its own and its
    items cut out. Items are the channel's last elements, and every `<item>` in the output
    is a tag (text is escaped), so the pieces joined are the bytes of the whole feed. The
    episodes are read from the catalogue a chunk at a time; a chunk `cache` has is not
    rendered again."""
    catalogue = Catalogue.of(episodes)
    newest = next((_published(e) for e in feed_episodes(catalogue) if e.date is not None), None)
    empty = _render(_channel(config, layout, newest))
    end = empty.rindex(_CHANNEL_END)
    yield empty[:end]
    for number, items in enumerate(item_chunks(catalogue, chunk)):
        data = cache.get(number, items) if cache is not None else None
        if data is None:
            generator = _channel(config, layout, newest)
            for episode in items:
                _item(generator.add_entry(order="append"), episode, config, layout)
            data = _render(generator)
            data = data[data.index(_ITEM_START):data.rindex(_CHANNEL_END)]
            if cache is not None:
                cache.put(number, items, data)
        yield data
    yield empty[end:]


def item_chunks(catalogue: Catalogue, chunk: int | None = None) -> Iterator[list[Episode]]:
    """The feed's episodes, newest first, in chunks counted from the oldest: all are `chunk`
    (FEED_CHUNK) long but the first (the newest episodes), so a new episode leaves the others
    as they are."""
    chunk = chunk or FEED_CHUNK
    in_feed = feed_episodes(catalogue)
    size = catalogue.count_in_feed() % chunk or chunk
    while items := list(islice(in_feed, size)):
        yield items
        size = chunk


def _render(generator: FeedGenerator) -> bytes:
    return generator.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)


def feed_episodes(episodes: Iterable[Episode]) -> Iterator[Episode]:
    """The episodes in the feed, newest first (undated ones as of 1970): those with a local
    media file. The first dated one is the newest."""
    return Catalogue.of(episodes).in_feed()


# --- channel -----------------------------------------------------------------------------------


def _channel(config: ArchiveConfig, layout: SiteLayout, newest: dt.datetime | None) -> FeedGenerator:
    """The channel, with `newest` (the newest item's date) as its lastBuildDate and pubDate."""
    generator = FeedGenerator()
    generator.load_extension("podcast")
    generator.register_extension(EXTENSION, PodcastIndexExtension, PodcastIndexEntryExtension)
    generator.register_extension(CORRECTIONS, CorrectionsExtension, CorrectionsEntryExtension)
    title = xml_text(config.title)
    cover = layout.url(layout.cover(Path(config.image)))
    generator.title(title)
    generator.description(xml_text(config.description) or title)
    # feedgen's RSS <link> is the last link given: the self link (atom:link) must come first.
    generator.link(href=layout.url(FEED), rel="self", type="application/rss+xml")
    generator.link(href=xml_text(config.link or config.base_url), rel="alternate")
    generator.language(config.language)
    generator.generator(GENERATOR)
    if config.copyright:
        generator.copyright(xml_text(config.copyright))
    generator.image(url=cover, title=title, link=xml_text(config.link or config.base_url))
    _itunes_channel(generator, config)
    if newest is not None:
        generator.lastBuildDate(newest)
        generator.pubDate(newest)
    corrections: CorrectionsExtension = getattr(generator, CORRECTIONS)
    corrections.explicit, corrections.image, corrections.last_build = config.explicit, cover, newest
    getattr(generator, EXTENSION).tags = _channel_tags(config, layout)
    return generator


def _itunes_channel(generator: FeedGenerator, config: ArchiveConfig) -> None:
    """itunes:author, owner, category, type (image and explicit: see CorrectionsExtension)."""
    itunes = generator.podcast
    itunes.itunes_author(xml_text(config.author))
    itunes.itunes_owner(name=xml_text(config.owner.name), email=config.owner.email)
    itunes.itunes_category(_categories(config.categories))
    itunes.itunes_type(config.type)


def _categories(categories: list[str]) -> list[dict[str, str]]:
    """"Category/Subcategory" -> feedgen's {"cat", "sub"}."""
    result = []
    for category in categories:
        main, _, sub = (part.strip() for part in category.partition("/"))
        main, sub = xml_text(main), xml_text(sub)
        result.append({"cat": main, "sub": sub} if sub else {"cat": main})
    return result


def _channel_tags(config: ArchiveConfig, layout: SiteLayout) -> ChannelTags:
    return ChannelTags(
        guid=feed_guid(layout.url(FEED)),
        owner=config.owner.email,
        locked=config.locked,
        medium="podcast",
        persons=[Person(_short(xml_text(name)), "host") for name in config.hosts],
        funding=[Funding(xml_text(f.url), _short(xml_text(f.text))) for f in config.funding],
    )


# --- items -------------------------------------------------------------------------------------


def _item(entry: FeedEntry, episode: Episode, config: ArchiveConfig, layout: SiteLayout) -> None:
    title = feed_title(episode)
    entry.title(title)
    entry.description(xml_text(episode.description).strip() or title)
    entry.guid(xml_text(episode.guid), permalink=False)
    published = _published(episode)
    if published is not None:
        entry.pubDate(published)
    page = layout.episode_page(episode.slug)
    if layout.path(page).is_file():
        entry.link(href=layout.episode_page_url(episode.slug), rel="alternate")
    main = MediaFile(episode.source, episode.media)
    entry.enclosure(layout.url(layout.media(episode)), str(_size(layout, episode, main)),
                    episode.media.mime_type)
    _itunes_item(entry, episode)
    corrections: CorrectionsEntryExtension = getattr(entry, CORRECTIONS)
    corrections.explicit, corrections.image = episode.explicit, _episode_image(layout, episode)
    getattr(entry, EXTENSION).tags = ItemTags(
        transcripts=transcript_links(episode, layout),
        chapters_url=_chapters_url(episode, layout),
        persons=_item_persons(episode, config),
        alternates=_alternates(episode, layout),
    )


def _itunes_item(entry: FeedEntry, episode: Episode) -> None:
    itunes = entry.podcast
    itunes.itunes_duration(str(duration_seconds(episode)))
    itunes.itunes_episode_type(episode.episode_type)
    if episode.season and episode.season > 0:
        itunes.itunes_season(episode.season)
    if episode.episode and episode.episode > 0:
        itunes.itunes_episode(episode.episode)
    if episode.author:
        itunes.itunes_author(xml_text(episode.author))


def feed_title(episode: Episode) -> str:
    """The title on one line, without a leading episode number (that is itunes:episode)."""
    title = " ".join(xml_text(episode.title).split())
    labelled = _LABELLED_NUMBER.match(title)
    bare = _BARE_NUMBER.match(title)
    if labelled and title[labelled.end():].strip():
        return title[labelled.end():].strip()
    if bare and episode.episode == int(bare.group(1)) and title[bare.end():].strip():
        return title[bare.end():].strip()
    return title


def duration_seconds(episode: Episode) -> int:
    """itunes:duration: whole seconds, rounded."""
    seconds = episode.duration if episode.duration is not None else episode.media.duration
    return max(0, round(seconds))


def transcript_links(episode: Episode, layout: SiteLayout) -> list[TranscriptLink]:
    """One podcast:transcript per published format; the episode page as the HTML transcript."""
    links = []
    for extension in TRANSCRIPT_FORMATS:
        relative = layout.transcript(episode.slug, extension)
        if layout.path(relative).is_file():
            links.append(TranscriptLink(layout.url(relative), TRANSCRIPT_TYPES[extension],
                                        episode.language,
                                        rel="captions" if extension == "vtt" else None))
    if layout.path(layout.episode_page(episode.slug)).is_file():
        links.append(TranscriptLink(layout.episode_page_url(episode.slug), PAGE_TYPE,
                                    episode.language))
    return links


def _chapters_url(episode: Episode, layout: SiteLayout) -> str | None:
    relative = layout.chapters(episode.slug)
    return layout.url(relative) if episode.chapters and layout.path(relative).is_file() else None


def _item_persons(episode: Episode, config: ArchiveConfig) -> list[Person]:
    """Item persons replace the channel's (person.md), so an episode with guests restates its
    hosts: the archive's hosts heard in it (speakers), else all of them."""
    if not episode.guests:
        return []
    names = episode.speakers.values() if isinstance(episode.speakers, dict) else episode.speakers
    hosts = [host for host in config.hosts if host in set(names)] or list(config.hosts)
    guests = [guest for guest in episode.guests if guest not in hosts]
    return ([Person(_short(xml_text(h)), "host") for h in hosts]
            + [Person(_short(xml_text(g)), "guest") for g in guests])


def _alternates(episode: Episode, layout: SiteLayout) -> list[AlternateEnclosure]:
    """The episode's other versions, with the enclosure itself as the default choice."""
    if not episode.alternates:
        return []
    files = [MediaFile(episode.source, episode.media), *episode.alternates]
    return [
        AlternateEnclosure(type=media.info.mime_type, length=_size(layout, episode, media),
                           uri=layout.url(layout.media(episode, media)), title=_label(media),
                           bitrate=media.info.bitrate, height=media.info.height,
                           default=index == 0)
        for index, media in enumerate(files)
    ]


def _label(media: MediaFile) -> str:
    """A short name for an app's version picker ("Video 360p", "Audio")."""
    if media.info.has_video:
        return f"Video {media.info.height}p" if media.info.height else "Video"
    return "Audio"


def _episode_image(layout: SiteLayout, episode: Episode) -> str | None:
    for suffix in IMAGE_SUFFIXES:
        relative = layout.episode_image(episode.slug, suffix)
        if layout.path(relative).is_file():
            return layout.url(relative)
    return None


# --- helpers -----------------------------------------------------------------------------------

def _published(episode: Episode) -> dt.datetime | None:
    """The episode's date, time-zone aware (a naive date is taken as UTC), whole seconds."""
    return None if episode.date is None else feed_date(episode.date)


def _size(layout: SiteLayout, episode: Episode, media: MediaFile) -> int:
    """The published file's exact byte length (the ingested size until publish has copied it)."""
    published = layout.path(layout.media(episode, media))
    return published.stat().st_size if published.is_file() else media.info.size


def xml_text(text: str | None) -> str:
    """Metadata as XML can carry it: characters XML 1.0 forbids are dropped.

    Everything else (<, &, ]]>, quotes) is escaped by lxml when the feed is serialised.
    """
    return _NOT_XML.sub("", text or "")


def _short(text: str) -> str:
    return text if len(text) <= PERSON_MAX else text[: PERSON_MAX - 1].rstrip() + "…"

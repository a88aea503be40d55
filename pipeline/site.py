"""Stage 4b, the transcript site: static Dutch HTML for deaf and hard-of-hearing readers first.

`render_site` writes, under `site/` (names from pipeline.layout):

    index.html                         home: latest episodes and videos, how to subscribe
    afleveringen/index.html            every episode
    afleveringen/<slug>/index.html     player, status, chapters, tags, downloads, full transcript
    afleveringen/<slug>/ondertiteling.vtt   captions for the page's <track>, names in the text
    casussen/, lessen/                 an overview, and a page per case or lesson with its passages
    zoeken/index.html                  search across the archive (Pagefind, in the browser)
    over/index.html                    about, how transcripts are made, accessibility statement
    static/                            CSS and JavaScript, copied unchanged from pipeline/static/
    pagefind/                          the search index, written by Pagefind after the pages

Every page is complete without JavaScript: the transcript is plain HTML with a real anchor per
segment (`#t-95`) whose timestamp links into the media file (`media/<slug>.mp3#t=95`). The one
script (static/site.js) adds click-to-seek, current-segment highlight, auto-scroll, search in the
transcript and the archive search. Templates are autoescaped: titles, descriptions and transcript
text always appear as text, never as markup. A page is only rewritten when its content changed.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import re
import sys
from collections import deque
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, lru_cache
from itertools import chain, groupby, islice
from pathlib import Path, PurePosixPath
from typing import Any, Literal, NamedTuple

import jinja2
import orjson
from markupsafe import Markup, escape

from pipeline.catalogue import Catalogue
from pipeline.config import ArchiveConfig
from pipeline.fsutil import entries_under, prune_cache, write_cache_text, write_stream_if_changed
from pipeline.layout import FEED, SiteLayout
from pipeline.listings import FileSet, Listings
from pipeline.memo import BuildMemo, code_digest, digest_of
from pipeline.model import Episode, Segment, Tag, Transcript
from pipeline.search import start_index_search
from pipeline.tag import summarise
from pipeline.taxonomy import Taxonomy, load_taxonomy
from pipeline.transcripts import ReadingCopies
from pipeline.workers import collection_paused, end_with_parent, usable_cores
from pipeline.writers import VttWriter, dutch_date, is_non_speech

TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")
OWN_FOLDERS = ("afleveringen", "casussen", "lessen", "zoeken", "over", "static")
PAUSE = 3.0  # seconds of silence that start a new paragraph
PARAGRAPH_CHARS = 700  # a paragraph ends at the first segment end after this many characters
EXCERPT_CHARS = 320  # a tagged passage on a case or lesson page
TOPIC_MOMENTS = 3  # passages per episode on a case or lesson page (all are on the episode's page)
TOPIC_PART = 50  # episodes per older part of a case or lesson page
LATEST = 5  # episodes and videos on the home page
_CUE = re.compile(r"[\[(][^\[\]()]*[\])]")  # a sound description: [muziek], (gelach)
_MONTHS = ("januari februari maart april mei juni juli augustus september oktober november "
           "december").split()
FLAG_REASONS = {  # pipeline.guards flag -> what it means, for readers
    "blocklist": "lijkt op een bekende fout van de spraakherkenning (ondertitelingstekst)",
    "repetition": "dezelfde tekst wordt steeds herhaald",
    "no-speech": "op dit moment is geen spraak gehoord",
    "reading-speed": "te veel of te weinig woorden voor de tijd",
}
DOWNLOADS = (  # published transcript extension -> label
    ("txt", "Tekst (TXT)", "leesbare tekst, om te printen of te kopiëren"),
    ("vtt", "Ondertiteling (WebVTT)", "voor videospelers"),
    ("srt", "Ondertiteling (SRT)", "voor videobewerking en spelers"),
    ("json", "Transcriptie (JSON)", "Podcasting 2.0, voor podcast-apps"),
)


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


# --- view models: what the templates show -------------------------------------------------


@dataclass(frozen=True)
class Piece:
    """A run of text inside a segment: words, or a sound description such as [muziek]."""

    text: str
    cue: bool = False
    speaker: str | None = None  # a change of speaker inside the segment: the new name


@dataclass
class SegmentView:
    anchor: str  # the element id: "t-95" (integer seconds), "t-95-2" when a second starts two
    start: float
    end: float
    pieces: list[Piece]
    flags: list[str]

    @property
    def second(self) -> int:
        return int(self.start)

    @property
    def reasons(self) -> list[str]:
        return [FLAG_REASONS.get(flag, flag) for flag in self.flags]


@dataclass
class Block:
    """A paragraph of one speaker, one sound description, or one flagged segment."""

    kind: Literal["speech", "cue", "flagged"]
    segments: list[SegmentView]
    speaker: str | None = None  # shown at the start: a change of speaker


@dataclass(frozen=True)
class Download:
    href: PurePosixPath
    label: str
    detail: str


class Moment(NamedTuple):
    """A tagged passage: where it starts, its anchor, and the words said there."""

    start: float
    anchor: str | None
    excerpt: str
    evidence: str


@dataclass(slots=True)  # made for each part of a topic page that is rendered: kept small
class Mention:
    """One case or lesson in one episode: asserted by the editor, found in the text, or both.

    On the episode's page `moments` are all its moments; on a case or lesson page the first
    TOPIC_MOMENTS, read from the moments store only when that page is rendered (so an archive's
    moments are never all in memory), and `more` counts the others."""

    topic: Topic
    episode: EpisodeView | EpisodeCard  # the episode's own page, or a case or lesson page
    editor: bool = False
    found: list[Moment] | None = None
    count: int = 0  # the episode's moments for this topic
    store: MomentStore | None = None  # where the moments are when not yet read

    @property
    def moments(self) -> list[Moment]:
        if self.found is None:
            stored = self.store.load(self.episode.slug) if self.store else {}
            self.found = stored.get(self.topic.name, [])
        return self.found

    @property
    def more(self) -> int:
        return max(0, self.count - len(self.moments))


@dataclass(slots=True)
class Topic:
    """A case or a lesson, with every episode that mentions it, newest first.

    Which episodes those are is in the build's listings (on disk): a large archive's topics
    list hundreds of thousands of mentions, and a page shows at most 2 * TOPIC_PART of them;
    `mentions` reads those of a page."""

    kind: Literal["case", "lesson"]
    id: str
    title: str
    detail: str
    page: PurePosixPath
    episode_count: int = 0  # episodes that mention it, once they are all listed
    moment_count: int = 0  # passages in them
    listings: Listings | None = None  # where its episodes are
    store: MomentStore | None = None  # where the listed episodes' moments are

    @property
    def name(self) -> str:
        """The topic's key in the moments store and the listings: case/<id> or lesson/<id>."""
        return f"{self.kind}/{self.id}"

    def mentions(self, span: range) -> list[Mention]:
        """The mentions of the episodes at `span` (positions, newest first); their moments come
        with them for pages rendered in this build, else are read from the store when shown."""
        assert self.listings is not None
        return [Mention(self, card, editor=bool(editor), count=count, store=self.store,
                        found=None if shown is None else [Moment(*m) for m in orjson.loads(shown)])
                for card, editor, count, shown in self.listings.mentioned(self.name, span)]


@dataclass
class TopicPart:
    """One page of a case or lesson: number 0 is its own page (the newest episodes), 1 to
    `older` hold older episodes, TOPIC_PART each (1 the oldest)."""

    number: int
    page: PurePosixPath
    span: range  # the positions of its episodes among the topic's, newest first
    topic: Topic
    older: int  # how many older parts the topic has

    @cached_property
    def mentions(self) -> list[Mention]:
        """Read from the listings when the page is rendered (not for a page that is kept)."""
        return self.topic.mentions(self.span)

    @property
    def links(self) -> int | bool:
        """What its links to the other parts show: on the topic's own page, every older part;
        on an older part, whether a newer one follows it (so a part added after it, when the
        topic passes another TOPIC_PART episodes, leaves it as it is)."""
        return self.older if self.number == 0 else self.number < self.older


@dataclass(slots=True)
class EpisodeView:
    episode: Episode
    page: PurePosixPath
    transcript: Transcript | None = None
    blocks: list[Block] = field(default_factory=list)
    anchors: dict[int, str] = field(default_factory=dict)  # segment id -> anchor
    media: PurePosixPath | None = None
    captions: PurePosixPath | None = None
    image: PurePosixPath | None = None
    downloads: list[Download] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    known_status: str | None = None  # the transcript's status once the transcript is let go

    @property
    def slug(self) -> str:
        return self.episode.slug

    @property
    def title(self) -> str:
        return self.episode.title

    @property
    def is_video(self) -> bool:
        return self.episode.kind == "video"

    @property
    def date_text(self) -> str:
        return dutch_day(self.episode.date)

    @property
    def duration_text(self) -> str:
        media = self.episode.media
        duration = self.episode.duration or (media.duration if media else None)
        return minutes_text(duration) if duration else ""

    @property
    def status(self) -> str | None:
        return self.transcript.provenance.status if self.transcript else self.known_status

    @property
    def status_detail(self) -> str:
        """Who or what made the text, and when, in one or two Dutch sentences."""
        if not self.transcript:
            return ""
        provenance = self.transcript.provenance
        # A model given as a local path is named by its folder: no home directories on the site.
        model = PurePosixPath(provenance.model.replace("\\", "/")).name
        engine = f"{provenance.engine}, model {model}"
        made = dutch_date(provenance.created)
        if provenance.status == "corrected":
            when = dutch_date(provenance.corrected)
            return (f"Nagekeken en verbeterd door een redacteur{' op ' + when if when else ''}. "
                    f"Oorspronkelijk gemaakt door spraakherkenning ({engine}).")
        return (f"Gemaakt door spraakherkenning ({engine}){' op ' + made if made else ''}. "
                "Nog niet gecontroleerd door een redacteur: er kunnen fouten in staan.")

    @property
    def speakers(self) -> list[str]:
        """Everyone who speaks, as the editor named them (sidecar), in order."""
        names = self.episode.speakers
        found = list(names.values()) if isinstance(names, dict) else list(names)
        if self.transcript:
            found += list(self.transcript.speakers.values())
        return list(dict.fromkeys(n for n in found if n))

    @property
    def speakers_marked(self) -> bool:
        """Whether the transcript says who speaks when (speaker slots on segments or words)."""
        if not self.transcript:
            return False
        return any(s.speaker or any(w.speaker for w in s.words) for s in self.transcript.segments)

    @property
    def description(self) -> list[str]:
        return [p.strip() for p in re.split(r"\n\s*\n", self.episode.description) if p.strip()]

    @property
    def kicker(self) -> str:
        episode = self.episode
        label = "Video" if self.is_video else "Podcast"
        if episode.season and episode.episode:
            return f"{label} · seizoen {episode.season}, aflevering {episode.episode}"
        if episode.episode:
            return f"{label} · aflevering {episode.episode}"
        return label

    def chapter_anchor(self, start: float) -> str | None:
        """The anchor of the segment being spoken at `start` (a chapter's first words)."""
        return anchor_at(self.blocks, start)


CARD_TEXT = 240  # characters of the description a card keeps: it shows at most 220 (macros.card)


@dataclass(slots=True)  # one per episode, kept in the listings (pipeline.listings)
class EpisodeCard:
    """An episode as the lists and the case and lesson pages show it (macros.card, topic.html).
    An EpisodeView holds the whole Episode; the listings keep a card of every episode instead."""

    slug: str
    title: str
    key: str | None  # the key of the episode's page: lists that show it are keyed on it
    page: str  # the episode's page, under site/
    is_video: bool
    kicker: str
    date_text: str
    duration_text: str
    status: str | None
    description: list[str]  # the first paragraph's first CARD_TEXT characters, if any

    @classmethod
    def of(cls, view: EpisodeView, key: str | None) -> EpisodeCard:
        return cls(view.slug, view.title, key, str(view.page), view.is_video, view.kicker,
                   view.date_text, view.duration_text, view.status,
                   [text[:CARD_TEXT] for text in view.description[:1]])


# --- small formatting helpers -------------------------------------------------------------


def clock(seconds: float) -> str:
    """95 -> "1:35"; 3723 -> "1:02:03"."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def minutes_text(seconds: float) -> str:
    """A duration for people: "47 seconden", "12 minuten", "1 uur 5 minuten"."""
    if seconds < 60:
        return f"{round(seconds)} seconden"
    minutes = round(seconds / 60)
    if minutes < 60:
        return "1 minuut" if minutes == 1 else f"{minutes} minuten"
    hours, rest = divmod(minutes, 60)
    return f"{hours} uur" + (f" {rest} minuten" if rest else "")


def dutch_day(moment: datetime | None) -> str:
    return f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year}" if moment else ""


def size_text(size: int) -> str:
    """Bytes for people, Dutch decimal comma: "1,4 MB"."""
    if size < 1_000_000:
        return f"{max(1, round(size / 1000))} kB"
    return f"{size / 1_000_000:.1f} MB".replace(".", ",")


def relative_url(page: PurePosixPath, target: PurePosixPath | str) -> str:
    """A link from `page` to `target` (both relative to site/); pages link as folders."""
    base = str(page.parent).split("/") if str(page.parent) != "." else []
    parts = str(target).split("/")
    common = 0
    while common < min(len(base), len(parts)) and base[common] == parts[common]:
        common += 1
    link = "/".join([".."] * (len(base) - common) + parts[common:]) or "."
    if link == "index.html" or link.endswith("/index.html"):
        link = link[: -len("index.html")] or "./"
    return link


def dutch_list(names: Sequence[str]) -> str:
    """["A", "B", "C"] -> "A, B en C"."""
    names = list(names)
    return ", ".join(names[:-1]) + " en " + names[-1] if len(names) > 1 else "".join(names)


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """At most `limit` characters, cut at a word boundary with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",.;:") + " …"


# --- the transcript as blocks --------------------------------------------------------------


def segment_anchors(segments: Sequence[Segment]) -> dict[int, str]:
    """One unique element id per segment: "t-<whole seconds>", "-2", "-3" for repeats."""
    used: set[str] = set()
    anchors: dict[int, str] = {}
    for segment in segments:
        base = f"t-{int(segment.start)}"
        anchor, number = base, 1
        while anchor in used:
            number += 1
            anchor = f"{base}-{number}"
        used.add(anchor)
        anchors[segment.id] = anchor
    return anchors


def split_cues(text: str) -> list[Piece]:
    """Words and sound descriptions ([muziek], (gelach)) as separate pieces."""
    pieces: list[Piece] = []
    position = 0
    for match in _CUE.finditer(text):
        if text[position:match.start()].strip():
            pieces.append(Piece(text[position:match.start()].strip()))
        pieces.append(Piece(match.group(), cue=True))
        position = match.end()
    if text[position:].strip():
        pieces.append(Piece(text[position:].strip()))
    return pieces


def speaker_runs(transcript: Transcript, segment: Segment) -> list[tuple[str | None, str]]:
    """The segment's text in runs of one speaker (word-level speakers win over the segment's)."""
    if not segment.words or not any(w.speaker for w in segment.words):
        return [(transcript.speaker_name(segment.speaker), " ".join(segment.text.split()))]
    runs: list[tuple[str | None, list[str]]] = []
    for slot, words in groupby(segment.words, key=lambda w: w.speaker or segment.speaker):
        name = transcript.speaker_name(slot)  # two slots may have one name: one run
        if not runs or runs[-1][0] != name:
            runs.append((name, []))
        runs[-1][1].extend(word.text for word in words)
    return [(name, " ".join("".join(texts).split())) for name, texts in runs]


def _segment_view(runs: list[tuple[str | None, str]], segment: Segment, anchor: str,
                  current: str | None) -> tuple[SegmentView, str | None]:
    """The segment's pieces (from its speaker runs); a name before each change of speaker
    after the first run."""
    pieces: list[Piece] = []
    for index, (name, text) in enumerate(runs):
        shown = name if index > 0 and name is not None and name != current else None
        for number, piece in enumerate(split_cues(text)):
            pieces.append(Piece(piece.text, piece.cue, shown if number == 0 else None))
        current = name if name is not None else current
    view = SegmentView(anchor, segment.start, segment.end, pieces, list(segment.flags))
    return view, current


def transcript_blocks(transcript: Transcript, anchors: dict[int, str]) -> list[Block]:
    """Paragraphs for reading: a new one at a change of speaker, a sound, a pause, or length."""
    blocks: list[Block] = []
    speaker: str | None = None
    for segment in transcript.segments:
        if segment.flagged:
            view = SegmentView(anchors[segment.id], segment.start, segment.end,
                               split_cues(" ".join(segment.text.split())), list(segment.flags))
            blocks.append(Block("flagged", [view]))
            continue
        runs = speaker_runs(transcript, segment)
        first = runs[0][0]
        starts_turn = first is not None and first != speaker
        view, speaker_after = _segment_view(runs, segment, anchors[segment.id],
                                            first if starts_turn else speaker)
        kind = "cue" if is_non_speech(segment.text) else "speech"
        if starts_turn or kind == "cue" or _breaks(blocks, view):
            blocks.append(Block(kind, [view], first if starts_turn and kind == "speech" else None))
        else:
            blocks[-1].segments.append(view)
        speaker = speaker_after if speaker_after is not None else speaker
    return blocks


def _breaks(blocks: list[Block], view: SegmentView) -> bool:
    """Whether `view` starts a new paragraph though the speaker stays the same."""
    if not blocks or blocks[-1].kind != "speech":
        return True
    last = blocks[-1].segments
    length = sum(len(p.text) + 1 for s in last for p in s.pieces)
    return view.start - last[-1].end >= PAUSE or length >= PARAGRAPH_CHARS


def anchor_at(blocks: Iterable[Block], seconds: float) -> str | None:
    """The anchor of the last shown segment starting at or before `seconds` (else the first)."""
    shown = [s for block in blocks if block.kind != "flagged" for s in block.segments]
    before = [s for s in shown if s.start <= seconds + 0.5]
    if before:
        return before[-1].anchor
    return shown[0].anchor if shown else None


# --- episodes ---------------------------------------------------------------------------------


def episode_view(layout: SiteLayout, episode: Episode,
                 transcript: Transcript | None) -> EpisodeView:
    """Everything an episode page shows, with paths relative to site/."""
    view = EpisodeView(episode, layout.episode_page(episode.slug))
    if episode.is_local and episode.media is not None:
        view.media = layout.media(episode)
        view.downloads.append(_media_download(view))
    _with_transcript(layout, view, transcript)
    view.image = _published_image(layout, episode.slug)
    for extension, label, detail in DOWNLOADS:
        relative = layout.transcript(episode.slug, extension)
        if layout.path(relative).is_file():
            view.downloads.append(Download(relative, label, detail))
    return view


def _with_transcript(layout: SiteLayout, view: EpisodeView, transcript: Transcript | None) -> None:
    """Add what the page shows of the transcript: its blocks, anchors and captions track."""
    view.transcript = transcript
    if transcript is not None:
        view.anchors = segment_anchors(transcript.segments)
        view.blocks = transcript_blocks(transcript, view.anchors)
        if view.is_video:
            view.captions = layout.episode_captions(view.episode.slug)


def _media_download(view: EpisodeView) -> Download:
    media = view.episode.media
    assert media is not None and view.media is not None
    what = "Video" if view.is_video else "Audio"
    container = view.media.suffix.lstrip(".").upper()
    return Download(view.media, f"{what} ({container})", size_text(media.size))


def _published_image(layout: SiteLayout, slug: str) -> PurePosixPath | None:
    for suffix in (".jpg", ".png"):
        relative = layout.episode_image(slug, suffix)
        if layout.path(relative).is_file():
            return relative
    return None


# --- cases and lessons ------------------------------------------------------------------------


def topics_of(taxonomy: Taxonomy, layout: SiteLayout) -> dict[tuple[str, str], Topic]:
    """Every case and lesson of the taxonomy, keyed by (kind, id), in the taxonomy's order."""
    topics: dict[tuple[str, str], Topic] = {}
    for case in taxonomy.cases:
        topics[("case", case.id)] = Topic("case", case.id, case.name or case.id,
                                          f"Casus uit bundel {case.bundle[1:]}",
                                          layout.case_page(case.id))
    for lesson in taxonomy.lessons:
        if lesson.title is None:
            continue  # a lesson whose content is unknown: never tagged, no page
        detail = "Les"
        if lesson.number and lesson.bundle:
            detail = f"Les {lesson.number} uit bundel {lesson.bundle[1:]}"
        topics[("lesson", lesson.id)] = Topic("lesson", lesson.id, lesson.title, detail,
                                              layout.lesson_page(lesson.id))
    return topics


def episode_tags(episode: Episode, transcript: Transcript | None) -> list[Tag]:
    """The transcript's tags; for an episode without transcript, the editor's cases."""
    if transcript is not None:
        return list(transcript.tags)
    return [Tag("case", case, 1.0, 0.0, 0.0, "", [], "editor") for case in episode.cases]


def attach_mentions(view: EpisodeView, tags: list[Tag],
                    topics: dict[tuple[str, str], Topic]) -> None:
    """Link the episode and its cases and lessons both ways, strongest first."""
    segments = {s.id: s for s in view.transcript.segments} if view.transcript else {}
    for summary in summarise(tags):
        topic = topics.get((summary.kind, summary.id))
        if topic is None:
            continue  # an id the taxonomy no longer has
        group = [t for t in tags if t.kind == summary.kind and t.id == summary.id]
        moments = [_moment(view, t, segments) for t in sorted(group, key=lambda t: t.start)
                   if t.source == "text"]
        view.mentions.append(Mention(topic, view, editor=any(t.source == "editor" for t in group),
                                     found=moments, count=len(moments)))


def _moment(view: EpisodeView, tag: Tag, segments: dict[int, Segment]) -> Moment:
    shown = [segments[i] for i in tag.segment_ids if i in segments and not segments[i].flagged]
    anchor = view.anchors.get(shown[0].id) if shown else anchor_at(view.blocks, tag.start)
    start = shown[0].start if shown else tag.start
    text = " ".join(s.text for s in shown) or tag.quote
    return Moment(start, anchor, excerpt(text), tag.quote)


# --- rendering ----------------------------------------------------------------------------


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


class _Writer:
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
        # in the listings (pipeline.listings: on disk).
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


def render_site(root: Path, config: ArchiveConfig, episodes: Iterable[Episode], transcripts: Any,
                layout: SiteLayout, tags: Mapping[str, list[Tag]] | None = None,
                memo: BuildMemo | None = None, workers: int | None = None) -> SiteResult:
    """Write every page of the site, copy the assets, remove stale pages, index for search.

    Run after publish_assets (pages link to the media and transcript files it placed) and
    before publish_feed (the feed links an episode page as its HTML transcript if it exists).
    `transcripts` maps slugs to transcripts (`get`); `tags` gives each episode's tags (else the
    transcript's own). With batch.ArchiveTranscripts and a memo, an episode page whose inputs
    are all as last time is kept without reading its transcript; what the overviews need from
    it comes from the memo (status, mentions) and the MomentStore (passages). One transcript
    is in memory at a time per process; `workers`: processes rendering episode pages (None:
    one per core when there are many).
    """
    result = SiteResult()
    memo = memo or BuildMemo()
    listings = Listings()  # on disk: a card per episode, its topics, the files kept
    writer = _Writer(layout, config, result, memo, files=listings.files)
    topics = topics_of(load_taxonomy(), layout)
    site_key = digest_of(SITE_CODE, config.model_dump(mode="json"))
    planner = _Planner(writer, memo, site_key, getattr(transcripts, "digests", None), tags)
    for topic in topics.values():
        topic.store, topic.listings = planner.store, listings
    _load_moments.cache_clear()  # a long-running `wijk watch` must not see an older build's

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
    _render_lists(writer, layout, listings, tagged,
                  None if known is None else listings.digest(known))
    for topic in tagged:
        _render_topic(writer, topic, known)
    writer.static()

    # 3. The search index (only the shards whose pages changed) once Pagefind is done.
    indexed = indexing.result()
    result.search_indexed = indexed.indexed
    result.problems.extend(indexed.problems)

    # 4. Drop pages of episodes, cases and lessons that are gone (not while Pagefind reads).
    result.removed = _remove_stale(layout, writer.files)
    planner.store.prune(listings)
    ReadingCopies(root).prune(listings)
    return result


# The code a page's bytes come from: this module and the templates, and what it uses to read a
# master (model, transcripts), to write dates and captions (writers, captions), to order and
# name the cases and lessons (tag, taxonomy). A change to any of them makes every page again.
SITE_CODE = code_digest(*(Path(__file__).with_name(name) for name in (
    "site.py", "layout.py", "model.py", "transcripts.py", "writers.py", "captions.py", "tag.py",
    "taxonomy.py", "taxonomy.yaml")), TEMPLATES, STATIC)


def _page_key(site_key: str, view: EpisodeView, master: str | None, tags: Any) -> str:
    """Everything an episode page is made from (the code and settings in `site_key`), but the
    transcript and tags themselves (their digests)."""
    return digest_of(site_key, view.episode, master, tags, view.media, view.image,
                     view.downloads, view.captions)


def _list_key(site_key: str | None, listed: list[Any]) -> str | None:
    """The key of a page that lists episodes: their page keys, in order (None: no key)."""
    return None if site_key is None else digest_of(site_key, listed)


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


class _Planner:
    """Decides, one episode at a time, whether its page is kept or rendered."""

    def __init__(self, writer: _Writer, memo: BuildMemo, site_key: str,
                 digests: Mapping[str, str] | None, tags: Any) -> None:
        self.writer, self.memo, self.site_key = writer, memo, site_key
        self.digests = digests  # the masters' (batch.ArchiveTranscripts): pages have keys
        self.tags = tags
        self.tag_digests = getattr(tags, "digests", None)
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

    def __init__(self, layout: SiteLayout, config: ArchiveConfig, transcripts: Any,
                 tags: Mapping[str, list[Tag]] | None) -> None:
        self.layout, self.config, self.transcripts, self.tags = layout, config, transcripts, tags
        self._taxonomy: Taxonomy | None = None

    def __call__(self, plan: PagePlan) -> PageDone:
        """Render the page, then let the transcript go: the view is left as it came."""
        with collection_paused():  # a 30-minute master is tens of thousands of objects
            return self._render(plan)

    def _render(self, plan: PagePlan) -> PageDone:
        view = plan.view
        slug = view.episode.slug
        writer = _Writer(self.layout, self.config, SiteResult())
        self._taxonomy = self._taxonomy or load_taxonomy()
        topics = topics_of(self._taxonomy, self.layout)  # fresh: mentions of this page only
        transcript = self._transcript(plan) if plan.transcribed is not False else None
        tags = self._tags(slug) if plan.tagged is not False else None
        _with_transcript(self.layout, view, transcript)
        attach_mentions(view, tags if tags is not None else episode_tags(view.episode, transcript),
                        topics)
        _render_episode(writer, view)
        shown = MomentStore(self.layout.root).save(slug, view.mentions)
        done = PageDone(slug, view.status, [_mention_record(m) for m in view.mentions],
                        writer.files, writer.result.written, writer.result.unchanged, shown)
        view.transcript, view.blocks, view.anchors, view.mentions = None, [], {}, []
        view.captions = None
        return done

    def _transcript(self, plan: PagePlan) -> Transcript | None:
        """The page's transcript: its master's reading copy, but the master itself for a
        video page, whose captions file is cut by the words' timings."""
        episode = plan.view.episode
        if plan.master is not None and not plan.view.is_video and \
                hasattr(self.transcripts, "for_page"):  # batch.ArchiveTranscripts
            return self.transcripts.for_page(episode, plan.master)
        read = getattr(self.transcripts, "for_episode", None)
        return read(episode) if read is not None else self.transcripts.get(episode.slug)

    def _tags(self, slug: str) -> list[Tag] | None:
        """The episode's tags; None if it has none (a worker's copy of pipeline.tag.TagsOnDisk
        has no digests: its plan said there are tags)."""
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
                             initializer=_start_renderer, initargs=(renderer,)) as pool:
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


def _start_renderer(renderer: PageRenderer) -> None:
    global _renderer
    end_with_parent()
    _renderer = renderer


def _render_in_worker(plan: PagePlan) -> PageDone:
    assert _renderer is not None
    return _renderer(plan)


def _kept_page(writer: _Writer, memo: BuildMemo, view: EpisodeView, key: str,
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
    records = _mention_records(entry.get("mentions"))
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


def _listed(plan: PagePlan, done: PageDone | None, writer: _Writer, memo: BuildMemo,
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
        records = _mention_records(plan.kept) or []
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


# What the memo keeps of a mention: kind, topic id, editor (0 or 1), moment count. A page's
# records are kept in the memo as one JSON text, read only when the page is kept: ten thousand
# pages of dozens of records each as Python lists would be most of a build's memory.
MentionRecord = tuple[str, str, int, int]


def _mention_record(mention: Mention) -> MentionRecord:
    return (mention.topic.kind, mention.topic.id, int(mention.editor), mention.count)


def _mention_records(text: Any) -> list[MentionRecord] | None:
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
        return _load_moments(self.folder / f"{slug}.json")

    def prune(self, slugs: Container[str]) -> None:
        """Forget episodes that are gone; let go of what this build read."""
        _load_moments.cache_clear()
        prune_cache(self.folder, ".json", slugs)


@lru_cache(maxsize=256)  # an episode is on up to dozens of topic pages; the newest on most
def _load_moments(path: Path) -> dict[str, list[Moment]]:
    try:
        data = orjson.loads(path.read_bytes())
        return {name: [Moment(*moment) for moment in moments] for name, moments in data.items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def _render_lists(writer: _Writer, layout: SiteLayout, listings: Listings,
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


def _render_topic(writer: _Writer, topic: Topic, known: str | None) -> None:
    """Each part of a topic, kept while the episodes it shows (and its neighbours) are."""
    assert topic.listings is not None
    for part in topic_parts(topic, writer.layout):
        # The topic's own page counts every episode and moment; an older part only its own.
        shown = range(topic.episode_count) if part.number == 0 else part.span
        key = None if known is None else \
            topic.listings.listed_digest(topic.name, shown, known, part.number, part.links)
        writer.page("topic.html", part.page, topic.kind, key=key, topic=topic, part=part,
                    part_size=TOPIC_PART)


def _render_episode(writer: _Writer, view: EpisodeView) -> None:
    writer.page("episode.html", view.page, "afleveringen", view=view)
    if view.captions is not None and view.transcript is not None:
        writer.text(view.captions, VttWriter(show_names=True).render(view.transcript))


def _remove_stale(layout: SiteLayout, keep: Container[str]) -> int:
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

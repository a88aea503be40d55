"""What the site's templates show: view models of episodes, transcripts as paragraphs, cases
and lessons with the passages that mention them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import groupby
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Literal, NamedTuple

import orjson

from pipeline.cache.listings import Listings
from pipeline.model import Episode, Segment, Tag, Transcript
from pipeline.publish.layout import SiteLayout
from pipeline.tag.tagger import summarise
from pipeline.tag.taxonomy import Taxonomy
from pipeline.text import dutch_date, minutes_text, size_text
from pipeline.transcripts.writers import is_non_speech

if TYPE_CHECKING:
    from pipeline.publish.site.moments import MomentStore


PAUSE = 3.0  # seconds of silence that start a new paragraph
PARAGRAPH_CHARS = 700  # a paragraph ends at the first segment end after this many characters
EXCERPT_CHARS = 320  # a tagged passage on a case or lesson page
TOPIC_MOMENTS = 3  # passages per episode on a case or lesson page (all are on the episode's page)
_CUE = re.compile(r"[\[(][^\[\]()]*[\])]")  # a sound description: [muziek], (gelach)
FLAG_REASONS = {  # pipeline.transcribe.guards flag -> what it means, for readers
    "blocklist": "lijkt op een bekende fout van de spraakherkenning (ondertitelingstekst)",
    "repetition": "dezelfde tekst wordt steeds herhaald",
    "no-speech": "op dit moment is geen spraak gehoord",
}


DOWNLOADS = (  # published transcript extension -> label
    ("txt", "Tekst (TXT)", "leesbare tekst, om te printen of te kopiëren"),
    ("vtt", "Ondertiteling (WebVTT)", "voor videospelers"),
    ("srt", "Ondertiteling (SRT)", "voor videobewerking en spelers"),
    ("json", "Transcriptie (JSON)", "Podcasting 2.0, voor podcast-apps"),
)


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
        return dutch_date(self.episode.date)

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


@dataclass(slots=True)  # one per episode, kept in the listings (pipeline.cache.listings)
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


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """At most `limit` characters, cut at a word boundary with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",.;:") + " …"


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


def episode_view(layout: SiteLayout, episode: Episode,
                 transcript: Transcript | None) -> EpisodeView:
    """Everything an episode page shows, with paths relative to site/."""
    view = EpisodeView(episode, layout.episode_page(episode.slug))
    if episode.is_local and episode.media is not None:
        view.media = layout.media(episode)
        view.downloads.append(_media_download(view))
    with_transcript(layout, view, transcript)
    view.image = _published_image(layout, episode.slug)
    for extension, label, detail in DOWNLOADS:
        relative = layout.transcript(episode.slug, extension)
        if layout.path(relative).is_file():
            view.downloads.append(Download(relative, label, detail))
    return view


def with_transcript(layout: SiteLayout, view: EpisodeView, transcript: Transcript | None) -> None:
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


def editor_tags(episode: Episode) -> list[Tag]:
    """The cases the editor gave the episode: its tags when it has no others."""
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

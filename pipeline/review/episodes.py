"""The archive as the review app sees it: its episodes with a transcript, how far each is
checked, and one episode's transcript laid out for the review page."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.archive import ArchiveConfig
from pipeline.errors import TranscriptError
from pipeline.ingest.identity import Registry
from pipeline.ingest.scan import ingest
from pipeline.model import Episode, Segment, Transcript
from pipeline.review.saving import master_digest
from pipeline.text import clock
from pipeline.transcribe.stage import with_speakers
from pipeline.transcripts.doubt import is_doubtful
from pipeline.transcripts.store import TranscriptStore


@dataclass
class Listed:
    """An episode on the start page."""

    episode: Episode
    transcript: Transcript | None

    @property
    def status(self) -> str:
        if self.transcript is None:
            return "nog geen transcriptie"
        if self.transcript.provenance.status == "corrected":
            return "gecorrigeerd door een redacteur"
        return "automatisch gemaakt"

    @property
    def checked(self) -> str:
        """How much of it an editor has checked, in words."""
        if self.transcript is None:
            return ""
        provenance = self.transcript.provenance
        if provenance.reviewed:
            return "helemaal nagekeken"
        duration = self.episode.duration or 0.0
        until = provenance.reviewed_until or 0.0
        if not until or not duration:
            return "nog niet nagekeken"
        share = min(1.0, until / duration)
        return f"nagekeken tot {clock(until)} van {clock(duration)} ({share:.0%})"


def local_episodes(root: Path, config: ArchiveConfig) -> list[Episode]:
    """The episodes with a media file here, newest first (what ingest finds; nothing written
    but ingest's own cache)."""
    inventory = ingest(root, config, Registry.load(root))
    episodes = [e for e in inventory.episodes if e.source is not None]
    return sorted(episodes, key=lambda e: e.date.timestamp() if e.date else 0.0, reverse=True)


def listing(root: Path, episodes: list[Episode]) -> list[Listed]:
    store = TranscriptStore(root)
    return [Listed(episode, _transcript(store, episode)) for episode in episodes]


def _transcript(store: TranscriptStore, episode: Episode) -> Transcript | None:
    try:
        stored = store.load(episode.slug)
    except TranscriptError:  # a damaged master: listed without transcript, the build reports it
        return None
    return with_speakers(stored.transcript, episode) if stored else None


@dataclass
class WordView:
    text: str
    start: float
    end: float
    doubtful: bool


@dataclass
class SegmentView:
    id: int
    start: float
    end: float
    speaker: str | None
    words: list[WordView]
    flagged: bool


@dataclass
class ReviewPage:
    """What the review page of one episode shows."""

    episode: Episode
    transcript: Transcript
    base: str  # the master's sha256: a save from this page is refused if it changed since
    segments: list[SegmentView]

    @property
    def speakers(self) -> dict[str, str]:
        """Every speaker slot the transcript uses or names, with its name."""
        slots = {s.speaker for s in self.transcript.segments if s.speaker}
        slots |= set(self.transcript.speakers)
        return {slot: self.transcript.speaker_name(slot) or slot
                for slot in sorted(slots, key=_slot_order)}

    @property
    def doubtful_count(self) -> int:
        return sum(w.doubtful for s in self.segments for w in s.words)


def review_page(root: Path, episode: Episode) -> ReviewPage | None:
    """The episode's transcript as the review page shows it; None if it has none."""
    # The digest before the text: should the master change in between, the page shows the
    # newer text under the older digest, and a save from it is refused, never the reverse.
    base = master_digest(root, episode.slug)
    stored = TranscriptStore(root).load(episode.slug)
    if stored is None or base is None:
        return None
    transcript = with_speakers(stored.transcript, episode)
    return ReviewPage(episode, transcript, base, [_segment_view(s) for s in transcript.segments])


def _segment_view(segment: Segment) -> SegmentView:
    words = [WordView(w.text.strip(), w.start, w.end, is_doubtful(w))
             for w in segment.words if w.text.strip()]
    if not words:  # a segment without word timings (a marker, an old correction)
        words = [WordView(segment.text.strip(), segment.start, segment.end, False)]
    return SegmentView(segment.id, segment.start, segment.end, segment.speaker, words,
                       segment.flagged)


def _slot_order(slot: str) -> tuple[int, str]:
    number = slot.removeprefix("SPEAKER_")
    return (int(number), slot) if number.isdigit() else (10**6, slot)

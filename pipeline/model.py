"""The shared data model: what the stages hand each other.

ingest -> Episode; transcribe -> Transcript (Segments of Words); tag -> Tag; publish reads all.
Everything here is plain data with JSON round-tripping; no stage logic lives in this module.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

MediaKind = Literal["audio", "video"]
TranscriptStatus = Literal["machine", "corrected"]
TagKind = Literal["case", "lesson"]


@dataclass(frozen=True, slots=True)
class Chapter:
    """A chapter mark: from ID3 CHAP frames or the sidecar's `chapters`."""

    start: float
    title: str
    end: float | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """Technical facts about a media file, read with mutagen (ffprobe where mutagen can't)."""

    duration: float
    size: int
    mime_type: str
    container: str
    audio_hash: str  # sha256 over the audio packets only: stable when tags are edited
    bitrate: int | None = None  # bits per second
    sample_rate: int | None = None
    channels: int | None = None
    has_video: bool = False
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, slots=True)
class MediaFile:
    """A local media file: the episode's main file, or another version of it (a video)."""

    path: Path
    info: MediaInfo


@dataclass(slots=True)  # ten thousand of them live through a build
class Episode:
    """One podcast episode or video, as ingested from `episodes/`.

    `slug` and `guid` are permanent (see pipeline.ingest.identity): renaming the file or editing the
    title never changes them. `source` is None for a metadata-only video (`video_url`).
    """

    slug: str
    guid: str
    kind: MediaKind
    title: str
    source: Path | None
    sidecar: Path | None = None
    media: MediaInfo | None = None
    description: str = ""
    date: datetime | None = None
    season: int | None = None
    episode: int | None = None
    episode_type: Literal["full", "trailer", "bonus"] = "full"
    explicit: bool = False
    image: Path | None = None  # cover art: sidecar image, else embedded art extracted by publish
    embedded_image: bool = False  # the media file carries cover art
    author: str | None = None
    album: str | None = None
    speakers: list[str] | dict[str, str] = field(default_factory=list)
    guests: list[str] = field(default_factory=list)
    cases: list[str] = field(default_factory=list)  # case ids asserted by the editor
    language: str = "nl"
    chapters: list[Chapter] = field(default_factory=list)
    video_url: str | None = None
    duration: float | None = None  # media.duration, or the sidecar's for a metadata-only video
    alternates: list[MediaFile] = field(default_factory=list)  # same stem, other container

    @property
    def is_local(self) -> bool:
        return self.source is not None


@dataclass(slots=True)
class Word:
    start: float
    end: float
    text: str  # as Whisper gives it, with its leading space
    probability: float = 1.0
    speaker: str | None = None


# Flags that earlier versions set on real speech: kept in old masters, no longer hiding it.
RETIRED_FLAGS = frozenset({"reading-speed"})


@dataclass
class Segment:
    """A stretch of speech: the unit of the transcript, of anchors (#t-95) and of tags."""

    id: int
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    speaker: str | None = None  # a speaker slot ("SPEAKER_1"); names come from Transcript.speakers
    flags: list[str] = field(default_factory=list)  # hallucination flags: see pipeline.transcribe.guards
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    compression_ratio: float | None = None

    @property
    def flagged(self) -> bool:
        """Probably not said (a guard's flag): left out of captions, text and downloads."""
        return any(flag not in RETIRED_FLAGS for flag in self.flags)


@dataclass
class Provenance:
    """Where a transcript came from: enough to know whether it is stale or human-made."""

    engine: str
    model: str
    model_sha256: str | None
    settings: dict[str, Any]
    audio_hash: str
    created: str  # ISO 8601, UTC
    status: TranscriptStatus = "machine"
    corrected: str | None = None  # ISO 8601 of the correction, when status is "corrected"
    reviewed_until: float | None = None  # seconds: how far an editor has checked it (wijk review)
    reviewed: str | None = None  # ISO 8601: when an editor marked the whole transcript checked


@dataclass
class Tag:
    """A case or lesson tag on one passage, with the evidence that triggered it."""

    kind: TagKind
    id: str
    score: float
    start: float
    end: float
    quote: str
    segment_ids: list[int] = field(default_factory=list)
    source: Literal["text", "editor"] = "text"


@dataclass
class Transcript:
    """The master copy of an episode's text: `transcripts/<slug>/<slug>.json`."""

    language: str
    segments: list[Segment]
    provenance: Provenance
    speakers: dict[str, str] = field(default_factory=dict)  # slot -> display name

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if not s.flagged)

    @property
    def is_empty(self) -> bool:
        """No speech: every segment (if any) was flagged as a hallucination."""
        return all(segment.flagged for segment in self.segments)

    def speaker_name(self, slot: str | None) -> str | None:
        """The name to show: the editor's, else "Spreker N" for slot SPEAKER_N."""
        if slot is None:
            return None
        if slot in self.speakers:
            return self.speakers[slot]
        number = slot.removeprefix("SPEAKER_")
        return f"Spreker {int(number)}" if number.isdigit() else slot

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transcript:
        segments = [
            Segment(**{**s, "words": [Word(**w) for w in s.get("words", [])]})
            for s in data["segments"]
        ]
        return cls(
            language=data["language"],
            segments=segments,
            provenance=Provenance(**data["provenance"]),
            speakers=dict(data.get("speakers", {})),
        )

"""One writer per transcript format, all derived from the JSON master (`Transcript`).

Like whisper's `utils.py`: `ResultWriter` subclasses with an `extension`, `render()` to a string
and `write()` to a handle, always UTF-8; `FORMATS` maps a format name to its writer and
`write_formats` writes `<stem>.<extension>` files atomically. Every writer skips flagged
(hallucinated) segments and names speakers as readers should see them ("Spreker 1" until an
editor names the slot). Reader-facing text is Dutch.

    write_formats(transcript, Path("site/afl-1"), "afl-1", ["vtt", "srt", "txt", "json"])
"""

from __future__ import annotations

import html
import json
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import ClassVar, TextIO

from pipeline.fsutil import atomic_open
from pipeline.model import Provenance, Segment, Transcript
from pipeline.text import dutch_date
from pipeline.transcripts.captions import (
    DEFAULT_RULES,
    CaptionRules,
    Cue,
    cut_cues,
    display_speaker,
    format_timestamp,
    starts_turn,
    turn_label,
    words_usable,
)

# --- provenance -------------------------------------------------------------------------


def _model_name(model: str) -> str:
    """A model given as a local path is named by its folder: no home directories in public files."""
    return PurePath(model).name if ("/" in model or "\\" in model) else model


def provenance_lines(provenance: Provenance, what: str = "transcriptie") -> list[str]:
    """Dutch lines telling readers whether the text is machine-made or corrected by an editor.

    W3C WAI: automatic captions do not meet user needs unless confirmed accurate, so readers
    must be able to see which kind they have.
    """
    engine = f"{provenance.engine}, model {_model_name(provenance.model)}"
    made = dutch_date(provenance.created)
    if provenance.status == "corrected":
        when = dutch_date(provenance.corrected)
        return [
            f"{what.capitalize()} gecorrigeerd door een redacteur"
            + (f" ({when})." if when else "."),
            f"Oorspronkelijk automatisch gemaakt met {engine}" + (f" ({made})." if made else "."),
        ]
    return [
        f"Automatisch gemaakte {what} ({engine}" + (f", {made})." if made else ")."),
        "Niet gecontroleerd door een redacteur: er kunnen fouten in staan.",
    ]


# --- passages: speaker-uniform stretches of text ----------------------------------------


@dataclass(frozen=True)
class Passage:
    """Text of one speaker (display name, or None), from one segment or part of one."""

    start: float
    end: float
    text: str
    speaker: str | None


_NON_SPEECH = re.compile(r"[\[(][^\[\]()]*[\])]")


def is_non_speech(text: str) -> bool:
    """A sound description such as "[muziek]" or "(gelach)", not words someone said."""
    return bool(_NON_SPEECH.fullmatch(text.strip()))


def _segment_passages(transcript: Transcript, segment: Segment) -> list[Passage]:
    """One passage per segment, split where word-level speakers change."""
    text = " ".join(segment.text.split())
    if not words_usable(segment):
        speaker = display_speaker(transcript, segment.speaker)
        return [Passage(segment.start, segment.end, text, speaker)]
    passages: list[Passage] = []
    for word in segment.words:
        slot = word.speaker if word.speaker is not None else segment.speaker
        speaker = display_speaker(transcript, slot)
        if passages and passages[-1].speaker == speaker:
            last = passages[-1]
            passages[-1] = Passage(last.start, word.end, last.text + word.text, speaker)
        else:
            passages.append(Passage(word.start, word.end, word.text, speaker))
    if len(passages) == 1:  # keep the segment's own times and spacing
        return [Passage(segment.start, segment.end, text, passages[0].speaker)]
    return [Passage(p.start, p.end, " ".join(p.text.split()), p.speaker) for p in passages]


def passages(transcript: Transcript) -> list[Passage]:
    """The transcript as speaker-uniform passages, flagged segments left out."""
    found: list[Passage] = []
    for segment in transcript.segments:
        if not segment.flagged:
            found += [p for p in _segment_passages(transcript, segment) if p.text]
    return found


# --- writers ------------------------------------------------------------------------------


class ResultWriter(ABC):
    """Renders a transcript in one format; `extension` names the file (`<stem>.<extension>`)."""

    extension: ClassVar[str]
    media_type: ClassVar[str]

    def __init__(self, rules: CaptionRules = DEFAULT_RULES) -> None:
        self.rules = rules

    @abstractmethod
    def render(self, transcript: Transcript) -> str:
        """The whole file as text."""

    def write(self, transcript: Transcript, handle: TextIO) -> None:
        handle.write(self.render(transcript))

    def write_file(self, transcript: Transcript, path: Path) -> Path:
        """Write atomically, UTF-8, so a reader never sees half a file."""
        with atomic_open(path, "w", encoding="utf-8") as handle:
            self.write(transcript, handle)
        return path


class CaptionWriter(ResultWriter):
    """A writer of timed caption cues, cut from the transcript's word timings."""

    def render(self, transcript: Transcript) -> str:
        return self.render_cues(cut_cues(transcript, self.rules), transcript.provenance)

    @abstractmethod
    def render_cues(self, cues: Sequence[Cue], provenance: Provenance | None = None) -> str:
        """The file for these cues (also usable for cues read back from an edited file)."""


def _vtt_escape(text: str) -> str:
    return html.escape(text, quote=False)


class VttWriter(CaptionWriter):
    """WebVTT: header, a NOTE with provenance, cues with `<v Name>` voice spans.

    Browsers do not display voice names; `show_names` also puts "Naam: " in the text at each
    new speaker turn, as in SRT (the cutter reserves room for it either way).
    """

    extension = "vtt"
    media_type = "text/vtt"

    def __init__(self, rules: CaptionRules = DEFAULT_RULES, *, show_names: bool = False) -> None:
        super().__init__(rules)
        self.show_names = show_names

    def render_cues(self, cues: Sequence[Cue], provenance: Provenance | None = None) -> str:
        blocks = ["WEBVTT"]
        if provenance is not None:
            lines = provenance_lines(provenance, "ondertiteling")
            note = [line.replace("-->", "->") for line in lines]
            blocks.append("\n".join(["NOTE", *note]))
        previous: Cue | None = None
        for cue in cues:
            blocks.append(self._cue(cue, previous))
            previous = cue
        return "\n\n".join(blocks) + "\n"

    def _cue(self, cue: Cue, previous: Cue | None) -> str:
        lines = [_vtt_escape(line) for line in cue.lines]
        if cue.speaker is not None:
            if self.show_names and starts_turn(cue, previous):
                lines[0] = _vtt_escape(turn_label(cue.speaker)) + lines[0]
            lines[0] = f"<v {_vtt_escape(cue.speaker)}>" + lines[0]
        timing = f"{format_timestamp(cue.start)} --> {format_timestamp(cue.end)}"
        return "\n".join([timing, *lines])


class SrtWriter(CaptionWriter):
    """SubRip: numbered cues, `HH:MM:SS,mmm`, "Naam: " at each new speaker turn, no HTML."""

    extension = "srt"
    media_type = "application/x-subrip"

    def render_cues(self, cues: Sequence[Cue], provenance: Provenance | None = None) -> str:
        blocks = []
        previous: Cue | None = None
        for number, cue in enumerate(cues, 1):
            lines = srt_lines(cue, previous)
            timing = f"{format_timestamp(cue.start, ',')} --> {format_timestamp(cue.end, ',')}"
            blocks.append("\n".join([str(number), timing, *lines]))
            previous = cue
        return "\n\n".join(blocks) + "\n" if blocks else ""


def srt_lines(cue: Cue, previous: Cue | None) -> list[str]:
    """A cue's lines as SRT shows them: the speaker's name before the first line of a turn."""
    lines = list(cue.lines)
    if cue.speaker is not None and starts_turn(cue, previous) and lines:
        lines[0] = turn_label(cue.speaker) + lines[0]
    return lines


def _clock(seconds: float) -> str:
    return format_timestamp(seconds)[:8]


class TxtWriter(ResultWriter):
    """Plain text to read, print and copy: provenance, then one paragraph per speaker turn.

    Each paragraph starts with its time and speaker: "[00:01:23] Fatima: ...". A new paragraph
    starts at a change of speaker, a sound description such as [muziek], a long pause, or when a
    paragraph gets long (at the end of a segment).
    """

    extension = "txt"
    media_type = "text/plain"
    pause = 3.0  # seconds of silence that start a new paragraph
    paragraph_chars = 800

    def render(self, transcript: Transcript) -> str:
        header = " ".join(provenance_lines(transcript.provenance))
        paragraphs = [self._paragraph(turn) for turn in self.turns(passages(transcript))]
        return "\n\n".join([header, *paragraphs]) + "\n"

    def turns(self, found: Iterable[Passage]) -> list[list[Passage]]:
        """Group passages into paragraphs."""
        turns: list[list[Passage]] = []
        for passage in found:
            if turns and not self._breaks(turns[-1], passage):
                turns[-1].append(passage)
            else:
                turns.append([passage])
        return turns

    def _breaks(self, turn: list[Passage], passage: Passage) -> bool:
        last = turn[-1]
        return (
            passage.speaker != last.speaker
            or is_non_speech(passage.text)
            or is_non_speech(last.text)
            or passage.start - last.end >= self.pause
            or sum(len(p.text) + 1 for p in turn) >= self.paragraph_chars
        )

    @staticmethod
    def _paragraph(turn: list[Passage]) -> str:
        text = " ".join(p.text for p in turn)
        speaker = turn[0].speaker
        label = f"{speaker}: " if speaker is not None and not is_non_speech(text) else ""
        return f"[{_clock(turn[0].start)}] {label}{text}"


class PodcastJsonWriter(ResultWriter):
    """The Podcasting 2.0 JSON transcript: `{"version": "1.0.0", "segments": [...]}`.

    Written as `<stem>.podcast.json` because `<stem>.json` is the master transcript. Spec:
    https://github.com/Podcastindex-org/podcast-namespace/
    blob/main/docs/examples/transcripts/transcripts.md
    """

    extension = "podcast.json"
    media_type = "application/json"

    def render(self, transcript: Transcript) -> str:
        segments = []
        for passage in passages(transcript):
            segment: dict[str, object] = {}
            if passage.speaker is not None:
                segment["speaker"] = passage.speaker
            segment["startTime"] = round(float(passage.start), 3)
            segment["endTime"] = round(float(passage.end), 3)
            segment["body"] = passage.text
            segments.append(segment)
        document = {"version": "1.0.0", "segments": segments}
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


FORMATS: dict[str, type[ResultWriter]] = {
    "vtt": VttWriter,
    "srt": SrtWriter,
    "txt": TxtWriter,
    "json": PodcastJsonWriter,
}


def get_writer(name: str, rules: CaptionRules = DEFAULT_RULES) -> ResultWriter:
    """The writer for a format name ("vtt", "srt", "txt", "json")."""
    try:
        return FORMATS[name](rules)
    except KeyError:
        known = ", ".join(sorted(FORMATS))
        raise ValueError(f"unknown transcript format {name!r}: choose from {known}") from None


def write_formats(
    transcript: Transcript,
    directory: Path,
    stem: str,
    formats: Iterable[str] = tuple(FORMATS),
    rules: CaptionRules = DEFAULT_RULES,
) -> dict[str, Path]:
    """Write `<stem>.<extension>` in `directory` for each format; return format -> path.

    All names are checked before anything is written, so a typo writes nothing.
    """
    writers = {name: get_writer(name, rules) for name in formats}
    return {
        name: writer.write_file(transcript, directory / f"{stem}.{writer.extension}")
        for name, writer in writers.items()
    }

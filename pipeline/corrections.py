"""Corrections made in the captions file, the form that suits editors best.

An editor opens `transcripts/<slug>.vtt` in a subtitle editor (or any text editor), fixes words,
names (`<v Naam>`) or times, and saves. The next build notices that the file is no longer the one
it wrote (`transcripts/written.json` keeps the SHA-256 of every derived file it wrote), reads the
cues back into the master transcript, marks it corrected, keeps the edited file and the previous
master in `transcripts/history/`, and regenerates every derived file from the new master.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import replace
from pathlib import Path

from pipeline.captions import Cue, parse_vtt
from pipeline.fsutil import write_text
from pipeline.model import Segment, Transcript

WRITTEN_FILE = "written.json"


class WrittenLog:
    """What the build last wrote to each derived file: to tell our files from editors' edits.

    `hashes`: file name -> sha256 of what the build wrote. `sources`: slug -> what that
    episode's derived files were made from (a key over the master and the writers), so a
    build, even on a fresh clone, knows they are current without remaking them.
    """

    def __init__(self, folder: Path) -> None:
        self.path = folder / WRITTEN_FILE
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        if isinstance(data.get("files"), dict):
            self.hashes: dict[str, str] = data["files"]
            self.sources: dict[str, dict] = data.get("sources") or {}
        else:  # the first layout: file hashes only
            self.hashes, self.sources = data, {}
        self._dirty = False

    def record(self, name: str, text: str) -> None:
        digest = _sha(text)
        if self.hashes.get(name) != digest:
            self.hashes[name] = digest
            self._dirty = True

    def record_source(self, slug: str, source: dict) -> None:
        if self.sources.get(slug) != source:
            self.sources[slug] = source
            self._dirty = True

    def edited(self, path: Path) -> str | None:
        """The file's text if someone changed it since the build wrote it, else None."""
        known = self.hashes.get(path.name)
        if known is None or not path.exists():
            return None  # never written by us (or not recorded): nothing to compare with
        text = path.read_text(encoding="utf-8", errors="replace")
        return None if _sha(text) == known else text

    def save(self) -> None:
        if self._dirty:
            data = {"files": self.hashes, "sources": self.sources}
            write_text(self.path, json.dumps(data, indent=1, sort_keys=True) + "\n")
            self._dirty = False


def from_captions(text: str, base: Transcript) -> Transcript:
    """A corrected transcript whose segments are the cues of an edited WebVTT file.

    Raises ValueError (with the line number) for a file that isn't valid WebVTT.
    """
    cues = parse_vtt(text)
    slots = _slots_by_name(base)
    segments = [_segment(index, cue, slots, base) for index, cue in enumerate(cues)]
    speakers = dict(base.speakers)
    for name, slot in slots.items():
        if slot not in speakers and not name.startswith("Spreker "):
            speakers[slot] = name
    provenance = replace(base.provenance, status="corrected",
                         corrected=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    return Transcript(language=base.language, segments=segments, provenance=provenance,
                      speakers=speakers, tags=[])


def _segment(index: int, cue: Cue, slots: dict[str, str], base: Transcript) -> Segment:
    slot = None
    if cue.speaker:
        if cue.speaker not in slots:
            slots[cue.speaker] = f"SPEAKER_{len(set(slots.values()) | set(base.speakers)) + 1}"
        slot = slots[cue.speaker]
    return Segment(id=index, start=cue.start, end=cue.end, text=" " + " ".join(cue.lines),
                   speaker=slot)


def _slots_by_name(transcript: Transcript) -> dict[str, str]:
    """Display name -> slot, for the names the transcript already knows."""
    slots = {transcript.speaker_name(s.speaker): s.speaker
             for s in transcript.segments if s.speaker}
    slots.update({name: slot for slot, name in transcript.speakers.items()})
    return slots


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()

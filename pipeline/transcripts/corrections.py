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
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from pipeline.cache.db import CacheTable
from pipeline.fsutil import atomic_open, file_signature
from pipeline.model import Segment, Transcript
from pipeline.transcripts.caption_files import parse_vtt
from pipeline.transcripts.captions import Cue

WRITTEN_FILE = "written.json"


class WrittenLog:
    """What the build last wrote to each derived file: to tell our files from editors' edits.

    `hashes`: file name -> sha256 of what the build wrote. `sources`: slug -> what that
    episode's derived files were made from (a key over the master and the writers), so a
    build, even on a fresh clone, knows they are current without remaking them.

    `transcripts/written.json` is the record (in git: a fresh clone has it). Parsed whole, an
    archive of ten thousand episodes took 26 MB; a build reads it by key from a copy in
    `.cache/written.sqlite` instead, made again whenever the file is not the one it copied
    (by size and modification time). What a build records is kept apart until `save`.
    """

    def __init__(self, folder: Path) -> None:
        self.path = folder / WRITTEN_FILE
        self._copy = CacheTable(folder.parent / COPY_FILE, COPY_VERSION)
        hashes, sources = self._read()
        self.hashes = _Recorded(hashes)
        self.sources = _Recorded(sources)

    def record(self, name: str, text: str) -> None:
        self.hashes.record(name, _sha(text))

    def record_source(self, slug: str, source: dict) -> None:
        self.sources.record(slug, source)

    def edited(self, path: Path) -> str | None:
        """The file's text if someone changed it since the build wrote it, else None."""
        known = self.hashes.get(path.name)
        if known is None or not path.exists():
            return None  # never written by us (or not recorded): nothing to compare with
        text = path.read_text(encoding="utf-8", errors="replace")
        return None if _sha(text) == known else text

    def save(self) -> None:
        """Write the record if this build changed it (the bytes json.dumps(indent=1,
        sort_keys=True) writes, entry by entry), then bring the copy up to date."""
        if not (self.hashes.changed or self.sources.changed):
            return
        with atomic_open(self.path, "w") as handle:
            handle.write('{\n "files": ')
            _write_entries(handle, self.hashes.in_order())
            handle.write(',\n "sources": ')
            _write_entries(handle, self.sources.in_order())
            handle.write("\n}\n")
        for section, recorded in (("files", self.hashes), ("sources", self.sources)):
            for name, value in recorded.changed.items():
                self._copy.put(section, name, value)
            recorded.base_changed()
        self._copy.put(COPY_KEY, WRITTEN_FILE, file_signature(self.path))
        self._copy.commit(prune=False)

    def _read(self) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
        """The record, from the copy (made afresh if it is not of the file as it is now), or
        parsed whole if there is no copy to be had."""
        signature = file_signature(self.path)
        if self._copy.get(COPY_KEY, WRITTEN_FILE) != signature:
            hashes, sources = _parsed(self.path)
            self._copy.clear()
            for section, entries in (("files", hashes), ("sources", sources)):
                for name, value in entries.items():
                    self._copy.put(section, name, value)
            self._copy.put(COPY_KEY, WRITTEN_FILE, signature)
            self._copy.commit(prune=False)
            if self._copy.get(COPY_KEY, WRITTEN_FILE) != signature:
                return hashes, sources  # no copy (a locked or unwritable .cache/)
        return _Copied(self._copy, "files"), _Copied(self._copy, "sources")


COPY_FILE = Path(".cache") / "written.sqlite"
COPY_VERSION = 1
COPY_KEY = "copy of"  # the section naming the file copied, with its size and time


def _parsed(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """written.json's file hashes and sources, parsed whole ({} if missing or damaged)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    if not isinstance(data, dict):
        return {}, {}
    if isinstance(data.get("files"), dict):
        return data["files"], data.get("sources") or {}
    return data, {}  # the first layout: file hashes only


class _Copied(Mapping[str, Any]):
    """One section of the copy in .cache/written.sqlite, read by key."""

    def __init__(self, table: CacheTable, section: str) -> None:
        self.table, self.section = table, section

    def __getitem__(self, name: str) -> Any:
        value = self.table.get(self.section, name)
        if value is None:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return (name for name, _value in self.table.items(self.section))

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _Recorded:
    """A section of the record: as the last build left it (`base`, read by key), and what
    this build recorded over it (`changed`)."""

    def __init__(self, base: Mapping[str, Any]) -> None:
        self.base = base
        self.changed: dict[str, Any] = {}

    def get(self, name: str) -> Any:
        return self.changed[name] if name in self.changed else self.base.get(name)

    def record(self, name: str, value: Any) -> None:
        if self.get(name) != value:
            self.changed[name] = value

    def base_changed(self) -> None:
        """What was recorded is now in the base (saved)."""
        if isinstance(self.base, dict):
            self.base.update(self.changed)
        self.changed = {}

    def in_order(self) -> Iterator[tuple[str, Any]]:
        """Every entry by name, in code point order (json.dumps' sort_keys; SQLite's order of
        UTF-8 text is the same), what this build recorded in place of what was there."""
        base = self.base.table.items(self.base.section) if isinstance(self.base, _Copied) \
            else iter(sorted(self.base.items()))
        changed = sorted(self.changed.items())
        position = 0
        for name, value in base:
            while position < len(changed) and changed[position][0] < name:
                yield changed[position]
                position += 1
            if position < len(changed) and changed[position][0] == name:
                yield changed[position]
                position += 1
            else:
                yield name, value
        yield from changed[position:]


def _write_entries(handle: IO[str], entries: Iterable[tuple[str, Any]]) -> None:
    """A JSON object nested one level down, as json.dumps(indent=1, sort_keys=True) writes it
    (`entries` in key order)."""
    separator = "{\n"
    for name, value in entries:
        text = json.dumps(value, indent=1, sort_keys=True).replace("\n", "\n  ")
        handle.write(f"{separator}  {json.dumps(name)}: {text}")
        separator = ",\n"
    handle.write("{}" if separator == "{\n" else "\n }")


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
                      speakers=speakers)


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

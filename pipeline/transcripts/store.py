"""`transcripts/`: the master copy of every episode's text, and the files derived from it.

Per episode `<slug>`:
- `<slug>.json`  the master: segments, words, speakers, flags, tags and provenance;
- `<slug>.vtt`, `.srt`, `.txt`, `.podcast.json`  derived from the master, rewritten when it changes.

A master marked `corrected` is an editor's work: it is never replaced, only with `force`, and then
the previous version is kept in `transcripts/history/`. An editor who changes a master's text or
speakers without marking it is recognised too: the master records a hash of what the machine
wrote (`machine_hash`), and a master that no longer matches it counts as corrected. Unchanged audio with unchanged settings
is never transcribed again (the master's `cache_key` says what it was made from).

Pages are made from a master's reading copy, `.cache/reading/<slug>.json` (see ReadingCopies):
the same transcript with its words joined into runs of one speaker, a tenth of the master.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Container
from dataclasses import dataclass, replace
from itertools import groupby
from pathlib import Path
from typing import Any

import orjson

from pipeline.archive import TRANSCRIPTS_DIR, TranscriptionSettings
from pipeline.cache.memo import code_digest
from pipeline.errors import TranscriptError
from pipeline.fsutil import (
    prune_cache,
    replace_file,
    write_bytes,
    write_cache_text,
    write_json,
)
from pipeline.model import Episode, Segment, Transcript, Word

HISTORY_DIR = "history"
REMOVED_DIR = "removed"  # transcripts of episodes whose media file is gone
FORMAT = "wijkarchief-transcript/1"
# Settings that change what Whisper writes; threads and device only change how fast.
_CACHE_SETTINGS = ("engine", "model", "language", "beam_size", "compute_type", "vad",
                   "word_timestamps", "condition_on_previous_text", "glossary", "diarize", "batch_size")


@dataclass
class StoredTranscript:
    transcript: Transcript
    cache_key: str | None

    @property
    def corrected(self) -> bool:
        return self.transcript.provenance.status == "corrected"


def cache_key(audio_hash: str, settings: TranscriptionSettings, speakers: int | None = None) -> str:
    """What a machine transcript was made from: the audio, the settings that shape it, and the
    number of speakers the sidecar names (it steers diarization)."""
    shaping = {name: getattr(settings, name) for name in _CACHE_SETTINGS}
    blob = json.dumps({"audio": audio_hash, "settings": shaping, "speakers": speakers},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


class TranscriptStore:
    """Reads and writes masters under `<archive>/transcripts/`."""

    def __init__(self, root: Path) -> None:
        self.folder = root / TRANSCRIPTS_DIR

    def master_path(self, slug: str) -> Path:
        return self.folder / f"{slug}.json"

    def load(self, slug: str) -> StoredTranscript | None:
        """The stored master, None if there is none; TranscriptError if it is damaged."""
        path = self.master_path(slug)
        if not path.exists():
            return None
        try:
            data = _parse_json(path.read_bytes())
            transcript = Transcript.from_dict(data)
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise TranscriptError(
                f"cannot read this transcript ({e.__class__.__name__}: {e}); fix it or "
                "restore it from version control (it is left as it is)", path) from e
        provenance = transcript.provenance
        if provenance.status != "corrected" and data.get("machine_hash") not in (
                None, content_hash(transcript)):
            provenance.status = "corrected"
            provenance.corrected = _modified(path)
        return StoredTranscript(transcript, data.get("cache_key"))

    def is_current(self, stored: StoredTranscript, key: str) -> bool:
        return stored.cache_key == key

    def save(self, episode: Episode, transcript: Transcript, key: str | None,
             force: bool = False) -> Path:
        """Write the master atomically; an editor's correction is only replaced with `force`."""
        path = self.master_path(episode.slug)
        existing = self.load(episode.slug)
        if existing is not None and existing.corrected and transcript.provenance.status != "corrected":
            if not force:
                raise TranscriptError("corrected by an editor: not replaced (use --force)", path)
            self.keep_version(episode.slug)
        write_json(path, master_json(episode, transcript, key))
        return path

    def set_aside(self, slug: str) -> list[Path]:
        """An episode left the archive: move its files to removed/ (never delete them)."""
        moved = []
        for path in sorted(self._files_of(slug)):
            target = self.folder / REMOVED_DIR / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            replace_file(path, target, moved=True)
            moved.append(target)
        return moved

    def _files_of(self, slug: str) -> list[Path]:
        """`<slug>.*` in transcripts/, read entry by entry (glob lists the whole folder:
        tens of thousands of files in a large archive, on every build that has an episode
        whose files were set aside)."""
        try:
            with os.scandir(self.folder) as entries:
                return [Path(entry.path) for entry in entries if entry.name.startswith(f"{slug}.")]
        except FileNotFoundError:
            return []

    def bring_back(self, slug: str) -> bool:
        """An episode came back: restore its set-aside files unless it has new ones."""
        removed = self.folder / REMOVED_DIR
        if self.master_path(slug).exists() or not (removed / f"{slug}.json").exists():
            return False
        for path in sorted(removed.glob(f"{slug}.*")):
            replace_file(path, self.folder / path.name, moved=True)
        return True

    def keep_version(self, slug: str) -> Path:
        """Copy the current master to history/ before it is replaced."""
        return self.keep_file(self.master_path(slug))

    def keep_file(self, source: Path) -> Path:
        """Copy a file to history/<slug>.<UTC time>.<suffix>, byte for byte."""
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        slug, _, suffix = source.name.partition(".")
        target = self.folder / HISTORY_DIR / f"{slug}.{stamp}.{suffix}"
        write_bytes(target, source.read_bytes())
        return target


# A reading copy made by other code (another way to read masters or to join words) is made again.
READING_CODE = code_digest("transcripts/store.py", "model.py")


class ReadingCopies:
    """What an episode page reads of a master: the transcript as `TranscriptStore.load` gives
    it (an editor's correction recognised), with each segment's words joined into runs of one
    speaker, which is all a page shows of them. A 30-minute master is 600 KB, mostly word
    timings, and takes longer to read than the rest of its page takes to make; its copy is a
    tenth of that. Only a cache, kept under the master's digest: a copy of another version of
    the master, or a damaged or missing copy, is made again from the master. Caption files
    need the word timings, so they are always made from the master itself."""

    FOLDER = Path(".cache") / "reading"

    def __init__(self, root: Path) -> None:
        self.folder = root / self.FOLDER

    def load(self, slug: str, master: str) -> Transcript | None:
        """The copy of the master whose digest is `master`; None if there is none."""
        try:
            data = orjson.loads((self.folder / f"{slug}.json").read_bytes())
            if data.pop("master") != master or data.pop("code") != READING_CODE:
                return None
            return Transcript.from_dict(data)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def save(self, slug: str, master: str, transcript: Transcript) -> Transcript:
        """Keep the reading copy of `transcript` (the master whose digest is `master`)."""
        copy = Transcript(transcript.language, [_in_runs(s) for s in transcript.segments],
                          transcript.provenance, dict(transcript.speakers))
        data = {"master": master, "code": READING_CODE, **copy.to_dict()}
        write_cache_text(self.folder / f"{slug}.json", orjson.dumps(data).decode())
        return copy

    def prune(self, slugs: Container[str]) -> None:
        """Forget the copies of episodes that are gone."""
        prune_cache(self.folder, ".json", slugs)


def _in_runs(segment: Segment) -> Segment:
    """The segment with one word per run of words of one speaker slot (none: the segment's)."""
    runs = [list(words) for _, words in groupby(segment.words, key=lambda w: w.speaker)]
    words = [Word(run[0].start, run[-1].end, "".join(w.text for w in run),
                  min(w.probability for w in run), run[0].speaker) for run in runs]
    return replace(segment, words=words)


def master_json(episode: Episode, transcript: Transcript, key: str | None) -> dict[str, Any]:
    """The master file's content: a header saying whose transcript this is, then the data."""
    machine = transcript.provenance.status == "machine"
    data = transcript.to_dict()  # tags are kept beside it, in <slug>.tags.json
    return {
        "format": FORMAT,
        "episode": {"slug": episode.slug, "guid": episode.guid, "title": episode.title,
                    "source": episode.source.name if episode.source else None},
        "cache_key": key,
        "machine_hash": content_hash(transcript) if machine else None,
        **data,
    }


def content_hash(transcript: Transcript) -> str:
    """A hash of what a reader sees: texts, times and speakers (not tags or provenance)."""
    seen = [(s.text, s.speaker, round(s.start, 3), round(s.end, 3)) for s in transcript.segments]
    blob = json.dumps({"segments": seen, "speakers": transcript.speakers}, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def _parse_json(raw: bytes) -> Any:
    """orjson (3x faster on a large master), else json for what orjson refuses (NaN)."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw.decode("utf-8"))


def _modified(path: Path) -> str:
    return dt.datetime.fromtimestamp(int(path.stat().st_mtime), tz=dt.UTC).isoformat()

"""A cache of what ingest learnt about each media file, keyed by path, size and mtime.

Probing and fingerprinting a file runs ffmpeg over all of it; an archive of thousands of
episodes can't afford that on every build. An entry is used only while the file's size and
modification time are unchanged; files with errors are never cached, so they are looked at
again. The cache lives in `<archive>/.cache/ingest.json` and may be deleted at any time.
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

from pipeline.fsutil import read_cache, write_text
from pipeline.mediatags import FileTags
from pipeline.model import Chapter, MediaInfo

CACHE_FILE = Path(".cache") / "ingest.json"
VERSION = 1  # bump when MediaInfo or FileTags change shape or meaning


class MediaCache:
    def __init__(self, path: Path | None = None, entries: dict[str, Any] | None = None) -> None:
        self.path = path
        self.entries = entries or {}
        self._used: set[str] = set()
        self._dirty = False

    @classmethod
    def load(cls, root: Path) -> MediaCache:
        path = root / CACHE_FILE
        return cls(path, read_cache(path, VERSION, "entries"))

    def lookup(self, root: Path, media: Path) -> tuple[MediaInfo, FileTags] | None:
        key = _key(root, media)
        entry = self.entries.get(key)
        stat = media.stat()
        if not entry or entry["size"] != stat.st_size or entry["mtime_ns"] != stat.st_mtime_ns:
            return None
        try:
            info = MediaInfo(**entry["info"])
            tags = FileTags(**{**entry["tags"],
                               "chapters": [Chapter(**c) for c in entry["tags"]["chapters"]]})
        except (TypeError, KeyError):
            return None
        return info, tags

    def store(self, root: Path, media: Path, info: MediaInfo, tags: FileTags) -> None:
        key = _key(root, media)
        stat = media.stat()
        kept = {f.name: getattr(tags, f.name) for f in fields(FileTags) if f.name != "cover"}
        kept["chapters"] = [asdict(c) for c in tags.chapters]
        entry = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "info": asdict(info),
                 "tags": kept}
        self._used.add(key)
        if self.entries.get(key) != entry:
            self.entries[key] = entry
            self._dirty = True

    def save(self) -> None:
        """Write the entries used in this run (files that are gone drop out)."""
        if self.path is None:
            return
        stale = set(self.entries) - self._used
        if not self._dirty and not stale:
            return
        kept = {key: self.entries[key] for key in sorted(self._used)}
        write_text(self.path, json.dumps({"version": VERSION, "entries": kept}) + "\n")


@lru_cache(maxsize=1 << 16)  # looked up three times a build per file; resolving costs syscalls
def _key(root: Path, media: Path) -> str:
    """Entries are keyed by the path inside the archive, so a moved archive keeps its cache."""
    try:
        return media.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(media.resolve())

"""A cache of what ingest learnt about each media file, keyed by path, size and mtime.

Probing and fingerprinting a file runs ffmpeg over all of it; an archive of thousands of
episodes can't afford that on every build. An entry is used only while the file's size and
modification time are unchanged; files with errors are never cached, so they are looked at
again. The cache lives in `<archive>/.cache/ingest.sqlite` (read by key: pipeline.cache.db) and
may be deleted at any time.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from pathlib import Path

from pipeline.cache.db import CacheTable
from pipeline.ingest.tags import FileTags
from pipeline.model import Chapter, MediaInfo

CACHE_FILE = Path(".cache") / "ingest.sqlite"
OLD_CACHE_FILE = Path(".cache") / "ingest.json"  # version 1, before SQLite: taken over once
OLD_VERSION = 1
VERSION = 2  # bump when MediaInfo or FileTags change shape or meaning; 2: version 1 in SQLite
SECTION = "media"


class MediaCache:
    """Without a root, an empty cache in memory."""

    def __init__(self, root: Path | None = None) -> None:
        self.path = root / CACHE_FILE if root is not None else None
        self.table = CacheTable(self.path, VERSION)
        if root is not None:
            self.table.adopt(root / OLD_CACHE_FILE, OLD_VERSION, "entries", section=SECTION)

    @classmethod
    def load(cls, root: Path) -> MediaCache:
        return cls(root)

    def lookup(self, root: Path, media: Path) -> tuple[MediaInfo, FileTags] | None:
        entry = self.table.get(SECTION, _key(root, media))
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
        stat = media.stat()
        kept = {f.name: getattr(tags, f.name) for f in fields(FileTags) if f.name != "cover"}
        kept["chapters"] = [asdict(c) for c in tags.chapters]
        entry = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "info": asdict(info),
                 "tags": kept}
        self.table.put(SECTION, _key(root, media), entry)

    def save(self) -> None:
        """Keep the entries used in this run (files that are gone drop out), and let go."""
        self.table.commit(prune=True)
        self.table.close()


def _key(root: Path, media: Path) -> str:
    """Entries are keyed by the path inside the archive, so a moved archive keeps its cache.
    Worked out from the names alone (ingest finds media files under root/episodes/): no
    system calls, and nothing kept per file."""
    try:
        return media.relative_to(root).as_posix()
    except ValueError:  # not under root: by where it really is
        return str(media.resolve())

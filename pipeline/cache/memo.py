"""What the last build computed, so the next one can skip work whose inputs have not changed.

`.cache/memo.sqlite` holds, per stage, a key for each output: a digest of everything the output
was made from (the master transcript's bytes, the sidecar's fields, the code and templates that
made it). A stage that finds the same key, and its output still as it left it, skips the work.
File contents are digested once and remembered by size and modification time (as git's index
does), so an unchanged archive is checked without reading its transcripts. Entries are read
by key when a stage asks (pipeline.cache.db), so the memo of a large archive is never all in
memory.

Only a cache: a missing or damaged memo means every stage does all its work, which is always
correct. A build's changes are committed together at its end; a build killed before that
leaves the previous memo, whose keys still describe files on disk, or are simply not matched.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

from pipeline.cache.db import CacheTable
from pipeline.fsutil import sha256_file

MEMO_FILE = Path(".cache") / "memo.sqlite"
OLD_MEMO_FILE = Path(".cache") / "memo.json"  # version 3, before SQLite: taken over once
OLD_VERSION = 3  # 2: page entries count moments (in .cache/moments/); 3: mentions as one text
VERSION = 4  # the same entries as version 3, in SQLite


class BuildMemo:
    """The memo of one build; without a root, an empty one in memory (a page worker's)."""

    def __init__(self, root: Path | None = None) -> None:
        self.path = root / MEMO_FILE if root is not None else None
        self.table = CacheTable(self.path, VERSION)
        if root is not None:
            self.table.adopt(root / OLD_MEMO_FILE, OLD_VERSION, "sections")

    @classmethod
    def load(cls, root: Path) -> BuildMemo:
        return cls(root)

    def get(self, section: str, name: str) -> Any:
        return self.table.get(section, name)

    def put(self, section: str, name: str, value: Any) -> None:
        self.table.put(section, name, value)

    def file_digest(self, path: Path) -> str | None:
        """sha256 of the file's bytes (None if it is missing), read only when its size or
        modification time differ from when it was last digested."""
        try:
            stat = path.stat()
        except OSError:
            return None
        stamp = [stat.st_size, stat.st_mtime_ns]
        known = self.get("files", str(path))
        if known and known[:2] == stamp:
            return known[2]
        digest = sha256_file(path)  # a megabyte at a time: a large archive's feed is 11 MB
        self.put("files", str(path), [*stamp, digest])
        return digest

    def unchanged(self, section: str, name: str, key: str, output: Path) -> bool:
        """Whether `output` was made from `key` by the last build and is still as it left it."""
        entry = self.get(section, name)
        return bool(entry) and entry.get("key") == key and \
            entry.get("output") == self.file_digest(output)

    def made(self, section: str, name: str, key: str, output: Path, **extra: Any) -> str | None:
        """Record that `output` now holds what `key` describes (and any `extra` facts); returns
        the output's digest."""
        digest = self.file_digest(output)
        self.put(section, name, {"key": key, "output": digest, **extra})
        return digest

    def save(self) -> None:
        """Keep what this build used; entries of files that are gone drop out."""
        self.table.commit(prune=True)

    def close(self) -> None:
        """Let go of the database without keeping this build's changes (save first)."""
        self.table.close()


def digest_of(*parts: Any) -> str:
    """A stable digest of plain data and dataclasses (paths and dates as text)."""
    blob = json.dumps(parts, sort_keys=True, default=_plain, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


PACKAGE = Path(__file__).resolve().parent.parent  # the pipeline package's folder


def code_digest(*parts: str) -> str:
    """A digest of the package's source files and folders (paths relative to the package):
    outputs made by other code are remade."""
    digest = hashlib.sha256()
    for path in (PACKAGE / part for part in parts):
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix != ".pyc") \
            if path.is_dir() else [path]
        for file in files:
            digest.update(file.name.encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def _plain(value: Any) -> Any:
    """What json can't write: a dataclass as its fields (json recurses into them), else text."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in fields(value)}
    return str(value)

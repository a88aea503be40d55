"""What the last build computed, so the next one can skip work whose inputs have not changed.

`.cache/memo.json` holds, per stage, a key for each output: a digest of everything the output
was made from (the master transcript's bytes, the sidecar's fields, the code and templates that
made it). A stage that finds the same key, and its output still as it left it, skips the work.
File contents are digested once and remembered by size and modification time (as git's index
does), so an unchanged archive is checked without reading its transcripts.

Only a cache: a missing or damaged memo means every stage does all its work, which is always
correct. It is written atomically at the end of a build; a build killed before that leaves the
previous memo, whose keys still describe files on disk, or are simply not matched.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

import orjson

from pipeline.fsutil import read_cache, write_bytes

MEMO_FILE = Path(".cache") / "memo.json"
VERSION = 3  # 2: page entries count moments (in .cache/moments/); 3: their mentions as one text


class BuildMemo:
    def __init__(self, path: Path | None = None, data: dict[str, Any] | None = None) -> None:
        self.path = path
        self.sections: dict[str, dict[str, Any]] = data or {}
        self._used: set[tuple[str, str]] = set()
        self._dirty = False

    @classmethod
    def load(cls, root: Path) -> BuildMemo:
        path = root / MEMO_FILE
        return cls(path, read_cache(path, VERSION, "sections"))

    def get(self, section: str, name: str) -> Any:
        self._used.add((section, name))
        return self.sections.get(section, {}).get(name)

    def put(self, section: str, name: str, value: Any) -> None:
        self._used.add((section, name))
        entries = self.sections.setdefault(section, {})
        if entries.get(name) != value:
            entries[name] = value
            self._dirty = True

    def drop(self, section: str, name: str) -> None:
        if self.sections.get(section, {}).pop(name, None) is not None:
            self._dirty = True

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
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
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
        """Write what this build used; entries of files that are gone drop out."""
        if self.path is None:
            return
        for section, entries in self.sections.items():
            for name in [name for name in entries if (section, name) not in self._used]:
                del entries[name]
                self._dirty = True
        if not self._dirty:
            return
        write_bytes(self.path, orjson.dumps({"version": VERSION, "sections": self.sections},
                                            option=orjson.OPT_SORT_KEYS) + b"\n")
        self._dirty = False


def digest_of(*parts: Any) -> str:
    """A stable digest of plain data and dataclasses (paths and dates as text)."""
    blob = json.dumps(parts, sort_keys=True, default=_plain, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def code_digest(*paths: Path) -> str:
    """A digest of source files and folders: outputs made by other code are remade."""
    digest = hashlib.sha256()
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            digest.update(file.name.encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def _plain(value: Any) -> Any:
    """What json can't write: a dataclass as its fields (json recurses into them), else text."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in fields(value)}
    return str(value)

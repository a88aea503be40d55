"""Stage 4c, the search index: Pagefind over the episode pages, in shards.

Pagefind indexes a whole site at once, and its time per page grows with the number of pages
(15 ms a page for 64 pages, 30 ms for 1,000 on one core here). So episode pages are spread
over shards by a hash of their slug, each shard a Pagefind index of its own in
`site/pagefind/<shard>/`, and the browser merges them (Pagefind's `mergeIndex`). A build
re-indexes only the shards whose pages changed, a few at a time on separate cores: adding
one episode to a large archive re-indexes about SHARD_PAGES pages, not all of them.

`site/pagefind/shards.json` lists the shards for the search page's script, each with a key
(a digest of its pages' slugs and bytes) that says what it was indexed from. The number of
shards is a power of two that grows with the archive, so it changes (and everything is
re-indexed) only each time the archive doubles.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath

from pipeline.cache.catalogue import private_database
from pipeline.fsutil import read_cache, write_text
from pipeline.publish.layout import SiteLayout

SHARD_PAGES = 64  # pages per shard aimed at: about a second of Pagefind each
MAX_SHARDS = 64  # the browser fetches from every shard for each search
SHARDS_FILE = "shards.json"
VERSION = 1
UNUSED = ("pagefind-ui.js", "pagefind-ui.css", "pagefind-modular-ui.js", "pagefind-modular-ui.css",
          "pagefind-component-ui.js", "pagefind-component-ui.css", "pagefind-highlight.js")
TIMEOUT = 600  # seconds for one shard


@dataclass
class Indexed:
    """What indexing did: shards re-indexed, shards kept, problems (one line each)."""

    indexed: int = 0
    kept: int = 0
    problems: list[str] = field(default_factory=list)


def shard_count(pages: int) -> int:
    """The smallest power of two that keeps shards at about SHARD_PAGES pages (at most MAX)."""
    count = 1
    while count * SHARD_PAGES < pages and count < MAX_SHARDS:
        count *= 2
    return count


def shard_of(slug: str, count: int) -> str:
    """A shard's name: stable for a slug as long as the number of shards is the same."""
    number = int.from_bytes(hashlib.sha256(slug.encode("utf-8")).digest()[:4], "big") % count
    return f"{count:02x}-{number:02x}"


def plan_shards(pages: Mapping[str, PurePosixPath | str]) -> dict[str, Shard]:
    """Episode pages (slug -> page) grouped by shard, by name; empty shards are left out."""
    count = shard_count(len(pages))
    db = private_database()  # which shard each slug is in: not a list per shard in memory
    db.execute("CREATE TABLE members (shard TEXT, slug TEXT, PRIMARY KEY (shard, slug)) "
               "WITHOUT ROWID")
    db.executemany("INSERT OR IGNORE INTO members VALUES (?, ?)",
                   ((shard_of(slug, count), slug) for slug in pages))
    names = [name for (name,) in db.execute("SELECT DISTINCT shard FROM members ORDER BY shard")]
    lock = threading.Lock()  # shards are indexed from several threads; one connection
    return {name: Shard(db, lock, name, pages) for name in names}


class Shard(Mapping[str, PurePosixPath | str]):
    """One shard's pages (slug -> page), by slug, read from the plan when asked for."""

    def __init__(self, db: sqlite3.Connection, lock: threading.Lock, name: str,
                 pages: Mapping[str, PurePosixPath | str]) -> None:
        self._db, self._lock, self.name, self._pages = db, lock, name, pages

    def _slugs(self) -> list[str]:
        with self._lock:
            rows = self._db.execute("SELECT slug FROM members WHERE shard = ? ORDER BY slug",
                                    (self.name,)).fetchall()
        return [slug for (slug,) in rows]

    def __getitem__(self, slug: str) -> PurePosixPath | str:
        with self._lock:
            found = self._db.execute("SELECT 1 FROM members WHERE shard = ? AND slug = ?",
                                     (self.name, slug)).fetchone()
        if found is None:
            raise KeyError(slug)
        return self._pages[slug]

    def __iter__(self) -> Iterator[str]:
        return iter(self._slugs())

    def __len__(self) -> int:
        return len(self._slugs())

    def items(self) -> Iterator[tuple[str, PurePosixPath | str]]:  # type: ignore[override]
        return ((slug, self._pages[slug]) for slug in self._slugs())

    def values(self) -> Iterator[PurePosixPath | str]:  # type: ignore[override]
        return (self._pages[slug] for slug in self._slugs())


def index_search(layout: SiteLayout, pages: Mapping[str, PurePosixPath | str],
                 digest: Callable[[Path], str | None], workers: int = 1) -> Indexed:
    """Bring site/pagefind/ up to date with the episode pages (slug -> page under site/)."""
    return start_index_search(layout, pages, digest, workers).result()


def start_index_search(layout: SiteLayout, pages: Mapping[str, PurePosixPath | str],
                       digest: Callable[[Path], str | None], workers: int = 1) -> Future[Indexed]:
    """Start bringing site/pagefind/ up to date; the caller may go on with other pages.

    `digest` gives a file's content digest (the build memo's, which only reads files whose
    size or time changed); it is only called here, before this returns. Shards whose key is
    as recorded and whose folder is there are kept; the others are indexed by Pagefind,
    `workers` at a time, in the background; folders of shards no longer planned go.
    """
    folder = layout.path(layout.search_index())
    shards = plan_shards(pages)
    keys = {name: _shard_key(layout, members, digest) for name, members in shards.items()}
    recorded = _recorded(folder / SHARDS_FILE)
    stale = [name for name, key in keys.items()
             if recorded.get(name) != key or not (folder / name / "pagefind.js").is_file()]
    _remove_unplanned(folder, set(keys))
    background = ThreadPoolExecutor(max_workers=1)
    future = background.submit(_index_shards, layout, shards, keys, stale, recorded, workers)
    background.shutdown(wait=False)
    return future


def _index_shards(layout: SiteLayout, shards: dict[str, Shard],
                  keys: dict[str, str], stale: list[str], recorded: dict[str, str],
                  workers: int) -> Indexed:
    result = Indexed(kept=len(keys) - len(stale))
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        outcomes = dict(zip(stale, pool.map(
            lambda name: _index_shard(layout, name, shards[name]), stale)))
    for name, problem in outcomes.items():
        if problem is None:
            result.indexed += 1
        else:
            result.problems.append(f"search index not built for shard {name}: {problem}")
    # A shard that failed keeps its last index, if any, so search still finds its older
    # pages; listed without a key, it is indexed again next build.
    folder = layout.path(layout.search_index())
    indexed: dict[str, str] = {}
    for name, key in keys.items():
        if outcomes.get(name) is None:  # kept, or indexed now
            indexed[name] = key
        elif (folder / name / "pagefind.js").is_file():
            indexed[name] = ""
    if indexed != recorded:
        write_text(folder / SHARDS_FILE, json.dumps(
            {"version": VERSION, "shards": [{"name": name, "key": key}
                                            for name, key in indexed.items()]},
            indent=1) + "\n")
    return result


def _shard_key(layout: SiteLayout, members: Mapping[str, PurePosixPath | str],
               digest: Callable[[Path], str | None]) -> str:
    parts = [f"{slug}:{digest(layout.path(page))}" for slug, page in members.items()]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:20]


def _recorded(path: Path) -> dict[str, str]:
    """The shards the last build indexed, by name, with their keys ({} if unknown)."""
    try:
        return {shard["name"]: shard["key"] for shard in read_cache(path, VERSION, "shards")}
    except (KeyError, TypeError):
        return {}


def _remove_unplanned(folder: Path, planned: set[str]) -> None:
    """Drop what is not a planned shard: shards of another count, an unsharded old index."""
    if not folder.is_dir():
        return
    for entry in folder.iterdir():
        if entry.name in planned or entry.name == SHARDS_FILE:
            continue
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def _index_shard(layout: SiteLayout, name: str,
                 members: Mapping[str, PurePosixPath | str]) -> str | None:
    """Run Pagefind over one shard's pages (Dutch stemming from <html lang="nl">); the
    problem as one line, or None. The shard's old folder is replaced only on success."""
    output = layout.search_index() / name
    fresh = layout.search_index() / f".{name}.new"
    shutil.rmtree(layout.path(fresh), ignore_errors=True)
    command = [*_pagefind(), "--site", str(layout.folder), "--output-subdir", str(fresh),
               "--glob", _glob(members.values()), "--silent"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as e:
        return str(e)
    if done.returncode != 0 or not layout.path(fresh / "pagefind.js").is_file():
        lines = (done.stderr or done.stdout).strip().splitlines()
        return f"Pagefind failed (is pagefind[bin] installed?): {lines[-1] if lines else '?'}"
    for unused in UNUSED:
        layout.path(fresh / unused).unlink(missing_ok=True)
    shutil.rmtree(layout.path(output), ignore_errors=True)
    layout.path(fresh).rename(layout.path(output))
    return None


@lru_cache(maxsize=1)
def _pagefind() -> list[str]:
    """The command that runs Pagefind: its binary from the pagefind[bin] package (started
    directly: `python -m pagefind` costs an interpreter start per shard, 70 ms of CPU), else
    through Python, which says what is missing."""
    try:
        from pagefind.service import get_executable
        binary = get_executable()
    except ImportError:
        binary = None
    return [str(binary)] if binary is not None else [sys.executable, "-m", "pagefind"]


def _glob(pages: Iterable[PurePosixPath | str]) -> str:
    """One Pagefind glob (relative to site/) matching exactly these pages."""
    paths = sorted(str(page) for page in pages)
    return paths[0] if len(paths) == 1 else "{" + ",".join(paths) + "}"

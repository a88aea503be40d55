"""Permanent identity: each episode's slug and GUID never change once published.

How it works (documented in the README):
- A new episode's GUID is a UUIDv5 of the feed's podcast:guid and the hash of its audio packets
  (`audio:<hash>`), or of its `video_url` for a video that lives elsewhere. Retagging or renaming
  the file keeps the audio hash, so even before the first build the GUID is stable.
- Its slug is made once from the file name (stem), made unique within the archive.
- `wijk build` records both in `transcripts/registry.json`. From then on an episode is found in
  the registry by its audio hash, else its video URL, else its file stem, so renaming a file,
  retitling it, or replacing its audio with a better encoding under the same name keeps the slug
  and the GUID. A sidecar `guid:` pins the GUID an episode had on a previous host.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
import uuid
from collections.abc import Collection, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

from pipeline.cache.db import open_cache
from pipeline.errors import ConfigError
from pipeline.fsutil import atomic_open, file_signature

REGISTRY_FILE = Path("transcripts") / "registry.json"
# The Podcasting 2.0 namespace's UUID for podcast:guid (podcast-namespace docs, "guid" tag).
PODCAST_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")


@dataclass(slots=True)  # one per episode ever built is loaded by every build
class Identity:
    slug: str
    guid: str
    stem: str
    audio_hash: str | None = None
    video_url: str | None = None


def feed_guid(feed_url: str) -> str:
    """podcast:guid: UUIDv5 over the feed URL without scheme and trailing slashes."""
    bare = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", feed_url.strip()).rstrip("/")
    return str(uuid.uuid5(PODCAST_NAMESPACE, bare))


LEADING_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})[-_ ]+(?=.)")  # '2021-09-16-kijk-in-de-kernen'


def without_date(stem: str) -> str:
    """'2021-09-16-kijk-in-de-kernen' -> 'kijk-in-de-kernen': the date says nothing the feed doesn't."""
    return LEADING_DATE.sub("", stem)


def date_in_name(stem: str) -> str | None:
    """'2021-09-16-kijk-in-de-kernen' -> '2021-09-16' (not checked to be a real date)."""
    found = LEADING_DATE.match(stem)
    return found.group(1) if found else None


def slugify(text: str) -> str:
    """ASCII, lowercase, dash-separated: 'Kijk in de Kernen!' -> 'kijk-in-de-kernen'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:80].rstrip("-") or "aflevering"


INDEXED = ("audio_hash", "video_url", "stem", "guid", "slug")
COPY_FILE = Path(".cache") / "registry.sqlite"
COPY_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS identities (
    position INTEGER PRIMARY KEY,  -- registry.json's order, then the order recorded in
    slug TEXT NOT NULL,
    guid TEXT NOT NULL,
    stem TEXT NOT NULL,
    audio_hash TEXT,
    video_url TEXT
);
CREATE INDEX IF NOT EXISTS by_audio_hash ON identities (audio_hash);
CREATE INDEX IF NOT EXISTS by_video_url ON identities (video_url);
CREATE INDEX IF NOT EXISTS by_stem ON identities (stem);
CREATE INDEX IF NOT EXISTS by_guid ON identities (guid);
CREATE INDEX IF NOT EXISTS by_slug ON identities (slug);
CREATE TABLE IF NOT EXISTS copy_of (signature TEXT);  -- registry.json's size and time
"""
FIELDS = "slug, guid, stem, audio_hash, video_url"


class Registry:
    """The slug and GUID of every episode ever built, kept in transcripts/registry.json.

    Looked up by audio hash, video URL, stem, GUID and slug (the first identity, in the file's
    order, with each value). Parsed whole, ten thousand identities took 8 MB while the file
    was read and 4 MB after; a build reads them by key from a copy in `.cache/registry.sqlite`
    instead, made again whenever the file is not the one it copied (by size and modification
    time), or from a copy in memory when `.cache/` can't be used. What a build records stays
    in an open transaction until `save` writes the file."""

    def __init__(self, root: Path, db: sqlite3.Connection | None = None) -> None:
        self.path = root / REGISTRY_FILE
        self._db = db or _database(None)
        self._dirty = False

    @classmethod
    def load(cls, root: Path) -> Registry:
        path = root / REGISTRY_FILE
        db = _database(root / COPY_FILE)
        try:
            if db is not None and _copied(db) != file_signature(path):
                _copy(db, path)
        except sqlite3.DatabaseError:  # locked by another process, or damaged: in memory
            db.close()
            db = None
        if db is None:
            db = _database(None)
            assert db is not None  # a database in memory can always be had
            _copy(db, path)
        return cls(root, db)

    @property
    def identities(self) -> Iterator[Identity]:
        """Every identity, in the file's order, then the order recorded in."""
        rows = self._db.execute(f"SELECT {FIELDS} FROM identities ORDER BY position")
        return (Identity(*row) for row in rows)

    def __len__(self) -> int:
        return self._db.execute("SELECT count(*) FROM identities").fetchone()[0]

    def _first(self, key: str, value: str | None) -> tuple[int, Identity] | None:
        """The first identity whose `key` is `value`, with its position."""
        if value is None:
            return None
        assert key in INDEXED
        row = self._db.execute(f"SELECT position, {FIELDS} FROM identities WHERE {key} = ? "
                               "ORDER BY position LIMIT 1", (value,)).fetchone()
        return None if row is None else (row[0], Identity(*row[1:]))

    def find(self, audio_hash: str | None, video_url: str | None, stem: str) -> Identity | None:
        for key, value in (("audio_hash", audio_hash), ("video_url", video_url), ("stem", stem)):
            found = self._first(key, value)
            if found is not None:
                return found[1]
        return None

    def resolve(self, *, stem: str, feed_url: str, audio_hash: str | None = None,
                video_url: str | None = None, pinned_guid: str | None = None,
                taken: Collection[str] = ()) -> Identity:
        """The episode's identity: the registered one, or a new (unregistered) one."""
        known = self.find(audio_hash, video_url, stem)
        if known is not None:
            return Identity(slug=known.slug, guid=pinned_guid or known.guid, stem=stem,
                            audio_hash=audio_hash, video_url=video_url)
        key = f"audio:{audio_hash}" if audio_hash else f"video:{video_url or stem}"
        guid = pinned_guid or str(uuid.uuid5(uuid.UUID(feed_guid(feed_url)), key))
        return Identity(slug=self._free_slug(slugify(without_date(stem)), taken), guid=guid,
                        stem=stem, audio_hash=audio_hash, video_url=video_url)

    def _free_slug(self, slug: str, taken: Collection[str]) -> str:
        candidate, number = slug, 2
        while candidate in taken or self._first("slug", candidate) is not None:
            candidate, number = f"{slug}-{number}", number + 1
        return candidate

    def record(self, identity: Identity) -> None:
        """Remember (or update: new stem or audio) an episode's identity."""
        found = [first for first in (self._first("guid", identity.guid),
                                     self._first("slug", identity.slug)) if first is not None]
        if found:
            position, known = min(found, key=lambda first: first[0])
            if known != identity:
                self._change(f"UPDATE identities SET ({FIELDS}) = (?, ?, ?, ?, ?) "
                             "WHERE position = ?", (*_fields(identity), position))
            return
        self._change(f"INSERT INTO identities ({FIELDS}) VALUES (?, ?, ?, ?, ?)",
                     _fields(identity))

    def _change(self, sql: str, parameters: tuple) -> None:
        if not self._db.in_transaction:
            self._db.execute("BEGIN IMMEDIATE")
        self._db.execute(sql, parameters)
        self._dirty = True

    def save(self) -> None:
        """Write registry.json (sorted by slug) if anything was recorded, then number the
        copy's identities in the file's new order and mark it as the file's copy."""
        if not self._dirty and self.path.exists():
            return
        if not self._db.in_transaction:
            self._db.execute("BEGIN IMMEDIATE")
        rows = self._db.execute(f"SELECT {FIELDS} FROM identities ORDER BY slug, position")
        with atomic_open(self.path, "w") as handle:
            _write_registry(handle, (asdict(Identity(*row)) for row in rows))
        for statement in (  # not executescript: that would commit first
                f"CREATE TEMP TABLE sorted AS SELECT {FIELDS} FROM identities "
                "ORDER BY slug, position",
                "DELETE FROM identities",
                f"INSERT INTO identities ({FIELDS}) SELECT {FIELDS} FROM sorted ORDER BY rowid",
                "DROP TABLE sorted"):
            self._db.execute(statement)
        _mark_copied(self._db, file_signature(self.path))
        self._db.execute("COMMIT")
        self._dirty = False


def _fields(identity: Identity) -> tuple[str | None, ...]:
    return (identity.slug, identity.guid, identity.stem, identity.audio_hash, identity.video_url)


def _database(path: Path | None) -> sqlite3.Connection | None:
    """The copy's database at `path` (None: in memory), or None if it can't be had."""
    return open_cache(path, COPY_VERSION, SCHEMA, ("identities", "copy_of"))


def _copied(db: sqlite3.Connection) -> str | None:
    row = db.execute("SELECT signature FROM copy_of").fetchone()
    return None if row is None else row[0]


def _mark_copied(db: sqlite3.Connection, signature: str) -> None:
    db.execute("DELETE FROM copy_of")
    db.execute("INSERT INTO copy_of VALUES (?)", (signature,))


def _copy(db: sqlite3.Connection, path: Path) -> None:
    """Copy registry.json (none: no identities) into `db`, in the file's order."""
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("DELETE FROM identities")
        db.executemany(f"INSERT INTO identities ({FIELDS}) VALUES (?, ?, ?, ?, ?)",
                       (_fields(identity) for identity in _parsed(path)))
        _mark_copied(db, file_signature(path))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _parsed(path: Path) -> list[Identity]:
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [Identity(**entry) for entry in data["episodes"]]
    except (ValueError, KeyError, TypeError) as e:
        raise ConfigError(f"damaged episode registry ({e}); restore it from git", path) from e


def _write_registry(handle: IO[str], episodes: Iterable[dict]) -> None:
    """The bytes json.dumps({"format": 1, "episodes": [...]}, ensure_ascii=False, indent=2)
    writes, an episode at a time, and a newline."""
    handle.write('{\n  "format": 1,\n  "episodes": ')
    separator = "[\n"
    for episode in episodes:
        text = json.dumps(episode, ensure_ascii=False, indent=2).replace("\n", "\n    ")
        handle.write(f"{separator}    {text}")
        separator = ",\n"
    handle.write("[]" if separator == "[\n" else "\n  ]")
    handle.write("\n}\n")

"""The archive's episodes on disk, read back one at a time by every stage after ingest.

Ten thousand Episodes (paths, media facts, sidecar fields) would be tens of megabytes held
through the whole build. Ingest puts each episode here as it is read; the later stages read
them back in the order they need (oldest first for transcription and tagging, newest first
for the site and the feed), so a build's memory does not grow with the archive. The store is
a private temporary SQLite database: SQLite keeps at most its page cache (512 KiB) in memory
and deletes the file when the build ends, or when the process dies.
"""

from __future__ import annotations

import datetime as dt
import pickle
import sqlite3
from collections.abc import Iterable, Iterator, MutableMapping
from typing import overload

from pipeline.model import Episode

# The orders the stages read in. Each is the order the stage used when it sorted a list of
# Episodes in Python; ties fall as they did there (Python's sort is stable).
OLDEST_FIRST = "date IS NOT NULL, date, slug"  # ingest's order: undated first
NEWEST_FIRST = "date IS NULL, date DESC, CASE WHEN date IS NULL THEN title_key END, slug"
FEED_ORDER = "feed_date DESC, slug DESC"  # the feed's: undated as 1970, then the slug backwards
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class Catalogue:
    """Episodes by slug, read in order; `len`, iteration (oldest first) and indexing work as
    they did on the list ingest used to return."""

    def __init__(self, episodes: Iterable[Episode] = ()) -> None:
        self._db = private_database()
        self._db.executescript("""
            CREATE TABLE episodes (
                slug TEXT PRIMARY KEY,
                date REAL,          -- POSIX time; NULL for an undated episode
                feed_date INTEGER,  -- the feed's: whole seconds, 1970 when undated
                title_key TEXT,     -- the title in lower case: undated episodes by title
                in_feed INTEGER,    -- 1: a local media file the feed can enclose
                data BLOB           -- the pickled Episode
            ) WITHOUT ROWID;
            CREATE TABLE facts (   -- what a stage learnt of an episode: see column()
                name TEXT,
                slug TEXT,
                value TEXT,
                PRIMARY KEY (name, slug)
            ) WITHOUT ROWID;
        """)
        self._left_out: frozenset[str] = frozenset()
        for episode in episodes:
            self.add(episode)

    @classmethod
    def of(cls, episodes: Iterable[Episode]) -> Catalogue:
        """`episodes` as a catalogue (itself when it is one)."""
        return episodes if isinstance(episodes, Catalogue) else cls(episodes)

    def add(self, episode: Episode) -> None:
        """Add an episode, or replace the one with its slug."""
        date = episode.date.timestamp() if episode.date is not None else None
        in_feed_at = feed_date(episode.date if episode.date is not None else _EPOCH).timestamp()
        self._db.execute("INSERT OR REPLACE INTO episodes VALUES (?, ?, ?, ?, ?, ?)", (
            episode.slug, date, int(in_feed_at), episode.title.lower(),
            int(episode.is_local and episode.media is not None),
            pickle.dumps(episode, protocol=pickle.HIGHEST_PROTOCOL)))

    def column(self, name: str) -> Column:
        """A value per episode kept beside the catalogue (a digest of its master or its tags,
        by slug), for the rest of the build: ten thousand in a dict would stay in memory."""
        return Column(self._db, name)

    def without(self, slugs: Iterable[str]) -> Catalogue:
        """The same episodes less those of `slugs` (a few: episodes that vanished mid-build)."""
        left_out = self._left_out | frozenset(slugs)
        if left_out == self._left_out:
            return self
        view = object.__new__(Catalogue)
        view._db, view._left_out = self._db, left_out
        return view

    def get(self, slug: str) -> Episode | None:
        if slug in self._left_out:
            return None
        row = self._db.execute("SELECT data FROM episodes WHERE slug = ?", (slug,)).fetchone()
        return pickle.loads(row[0]) if row else None

    def __contains__(self, slug: object) -> bool:
        return isinstance(slug, str) and slug not in self._left_out and self._has(slug)

    def __len__(self) -> int:
        total = self._db.execute("SELECT count(*) FROM episodes").fetchone()[0]
        return total - sum(1 for slug in self._left_out if self._has(slug))

    def __iter__(self) -> Iterator[Episode]:
        return self.in_order(OLDEST_FIRST)

    def newest_first(self) -> Iterator[Episode]:
        """By date, newest first; undated episodes last, by title (the site's lists)."""
        return self.in_order(NEWEST_FIRST)

    def in_feed(self) -> Iterator[Episode]:
        """The episodes with a local media file, newest first (the feed's items)."""
        return self.in_order(FEED_ORDER, "in_feed = 1")

    def count_in_feed(self) -> int:
        """How many episodes in_feed() gives."""
        rows = self._db.execute("SELECT slug FROM episodes WHERE in_feed = 1")
        return sum(1 for (slug,) in rows if slug not in self._left_out)

    def in_order(self, order: str, where: str = "1") -> Iterator[Episode]:
        """Each episode in `order` (one of this module's), read as it is reached."""
        rows = self._db.execute(f"SELECT slug, data FROM episodes WHERE {where} ORDER BY {order}")
        for slug, data in rows:
            if slug not in self._left_out:
                yield pickle.loads(data)

    @overload
    def __getitem__(self, index: int) -> Episode: ...
    @overload
    def __getitem__(self, index: slice) -> list[Episode]: ...

    def __getitem__(self, index: int | slice) -> Episode | list[Episode]:
        if isinstance(index, slice):
            return list(self)[index]
        position = index + len(self) if index < 0 else index
        for number, episode in enumerate(self):
            if number == position:
                return episode
        raise IndexError(index)

    def _has(self, slug: str) -> bool:
        return self._db.execute("SELECT 1 FROM episodes WHERE slug = ?", (slug,)).fetchone() \
            is not None


class Column(MutableMapping[str, str | None]):
    """Slug -> text, in the catalogue's database (Catalogue.column)."""

    def __init__(self, db: sqlite3.Connection, name: str) -> None:
        self._db, self.name = db, name

    def __getitem__(self, slug: str) -> str | None:
        row = self._db.execute("SELECT value FROM facts WHERE name = ? AND slug = ?",
                               (self.name, slug)).fetchone()
        if row is None:
            raise KeyError(slug)
        return row[0]

    def __setitem__(self, slug: str, value: str | None) -> None:
        self._db.execute("INSERT OR REPLACE INTO facts VALUES (?, ?, ?)", (self.name, slug, value))

    def __delitem__(self, slug: str) -> None:
        if self._db.execute("DELETE FROM facts WHERE name = ? AND slug = ?",
                            (self.name, slug)).rowcount == 0:
            raise KeyError(slug)

    def __contains__(self, slug: object) -> bool:
        return self._db.execute("SELECT 1 FROM facts WHERE name = ? AND slug = ?",
                                (self.name, slug)).fetchone() is not None

    def __iter__(self) -> Iterator[str]:
        rows = self._db.execute("SELECT slug FROM facts WHERE name = ? ORDER BY slug",
                                (self.name,))
        return (slug for (slug,) in rows)

    def pairs(self) -> Iterator[tuple[str, str | None]]:
        """(slug, value) by slug, in one query (items() would ask again for each value)."""
        rows = self._db.execute("SELECT slug, value FROM facts WHERE name = ? ORDER BY slug",
                                (self.name,))
        return iter(rows)

    def __len__(self) -> int:
        return self._db.execute("SELECT count(*) FROM facts WHERE name = ?",
                                (self.name,)).fetchone()[0]

    def clear(self) -> None:
        self._db.execute("DELETE FROM facts WHERE name = ?", (self.name,))


def private_database() -> sqlite3.Connection:
    """A private temporary database on disk ("" to SQLite), removed when the connection is
    closed or the process ends; nothing in it needs to survive a crash. Its page cache is
    small: what a build keeps here is read in order, or by key once."""
    db = sqlite3.connect("", check_same_thread=False)
    db.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; "
                     "PRAGMA cache_size = -512;")  # KiB; SQLite's default is 2 MB
    return db


def feed_date(date: dt.datetime) -> dt.datetime:
    """The feed's date: whole seconds, time-zone aware (a naive date is taken as UTC)."""
    date = date.replace(microsecond=0)
    return date if date.tzinfo else date.replace(tzinfo=dt.UTC)

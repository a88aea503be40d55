"""What the site's lists show of each episode, kept on disk while a build renders them.

The home page, the episode list and every case and lesson page list episodes newest first,
and at the end of a build every file under site/ it neither wrote nor kept is removed. A build
kept a card of every episode, each case's and lesson's episodes and a set of every file in
memory for that: at ten thousand episodes, tens of megabytes. `Listings` keeps them in a
private temporary SQLite database instead (as pipeline.cache.catalogue keeps the episodes), read
back in order, a page's worth at a time.
"""

from __future__ import annotations

import hashlib
import pickle
import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any

from pipeline.cache.catalogue import private_database


class Listings:
    """Cards in the order they are added (the site adds them newest first), the topics each
    episode is mentioned in, and the files a build wrote or kept under site/."""

    def __init__(self) -> None:
        self._db = private_database()
        self._db.executescript("""
            CREATE TABLE cards (
                position INTEGER PRIMARY KEY,  -- 0: the newest episode
                slug TEXT UNIQUE,
                video INTEGER,                 -- 1: a video
                key TEXT,                      -- its page's key (NULL: none)
                card BLOB                      -- the pickled card
            );
            CREATE TABLE mentions (
                topic TEXT,                    -- case/<id> or lesson/<id>
                position INTEGER,              -- the card's
                editor INTEGER,                -- 1: asserted by the editor
                moments INTEGER,               -- passages found in the text
                shown TEXT,                    -- those a topic page shows (JSON), if known
                PRIMARY KEY (topic, position)
            ) WITHOUT ROWID;
        """)
        self.count = 0  # cards added
        self.files = FileSet(self._db)

    # -- cards -------------------------------------------------------------------------------

    def add(self, card: Any, mentions: Iterable[tuple[str, int, int, str | None]] = ()) -> None:
        """The next card (older than those before it), with the topics it is on: (topic name,
        editor 0 or 1, moment count, the moments shown or None) each. `card` has `slug`,
        `is_video` and `key`."""
        position = self.count
        self._db.execute("INSERT INTO cards VALUES (?, ?, ?, ?, ?)", (
            position, card.slug, int(card.is_video), card.key,
            pickle.dumps(card, protocol=pickle.HIGHEST_PROTOCOL)))
        self._db.executemany("INSERT OR REPLACE INTO mentions VALUES (?, ?, ?, ?, ?)",
                             [(topic, position, editor, moments, shown)
                              for topic, editor, moments, shown in mentions])
        self.count += 1

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[Any]:
        """Every card, newest first."""
        return self._cards("SELECT card FROM cards ORDER BY position")

    def latest(self, video: bool, count: int) -> list[Any]:
        """The newest `count` cards of videos (or of audio episodes)."""
        return list(self._cards("SELECT card FROM cards WHERE video = ? ORDER BY position "
                                "LIMIT ?", int(video), count))

    def __contains__(self, slug: object) -> bool:
        """Whether an episode of this slug is listed."""
        return self._db.execute("SELECT 1 FROM cards WHERE slug = ?", (slug,)).fetchone() \
            is not None

    def slugs(self) -> Iterator[str]:
        """Every card's slug, in no particular order."""
        return (slug for (slug,) in self._db.execute("SELECT slug FROM cards"))

    def keyed(self) -> bool:
        """Whether every card's page has a key."""
        return self._db.execute("SELECT 1 FROM cards WHERE key IS NULL LIMIT 1").fetchone() \
            is None

    def digest(self, *before: Any) -> str:
        """A digest of `before` (text) and every card's page key, in order: what lists of all
        episodes are made from."""
        digest = hashlib.sha256(repr(before).encode("utf-8"))
        for (key,) in self._db.execute("SELECT key FROM cards ORDER BY position"):
            digest.update(f"\n{key}".encode("ascii"))
        return digest.hexdigest()

    # -- the topics' episodes ----------------------------------------------------------------

    def topic_counts(self) -> dict[str, tuple[int, int]]:
        """Each topic mentioned: (episodes, moments)."""
        rows = self._db.execute("SELECT topic, count(*), sum(moments) FROM mentions "
                                "GROUP BY topic")
        return {topic: (episodes, moments) for topic, episodes, moments in rows}

    def mentioned(self, topic: str,
                  span: range) -> Iterator[tuple[Any, int, int, str | None]]:
        """The topic's episodes at `span` (positions among its own, newest first): (card,
        editor, moment count, the moments shown or None) each."""
        rows = self._mentions("c.card, m.editor, m.moments, m.shown", topic, span)
        return ((pickle.loads(card), editor, moments, shown)
                for card, editor, moments, shown in rows)

    def listed_digest(self, topic: str, span: range, *before: Any) -> str:
        """A digest of `before` (text) and the page key and editor flag of each of the topic's
        episodes at `span`, in order: what a topic page's list is made from. Read a row at a
        time (a topic's own page digests all of its episodes: thousands)."""
        digest = hashlib.sha256(repr(before).encode("utf-8"))
        for key, editor in self._mentions("c.key, m.editor", topic, span):
            digest.update(f"\n{key} {editor}".encode("utf-8"))
        return digest.hexdigest()

    def _mentions(self, columns: str, topic: str, span: range) -> sqlite3.Cursor:
        """`columns` of the topic's mentions (m) and their cards (c) at `span`."""
        return self._db.execute(
            f"SELECT {columns} FROM mentions m JOIN cards c ON c.position = m.position "
            "WHERE m.topic = ? ORDER BY m.position LIMIT ? OFFSET ?",
            (topic, len(span), span.start))

    def _cards(self, query: str, *parameters: Any) -> Iterator[Any]:
        return (pickle.loads(card) for (card,) in self._db.execute(query, parameters))


class FileSet:
    """Paths under site/ (text), as a set kept in a SQLite database: `db` (the listings'), or
    a private temporary one of its own."""

    def __init__(self, db: sqlite3.Connection | None = None) -> None:
        self._db = db if db is not None else private_database()
        self._db.execute("CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY) WITHOUT ROWID")

    def add(self, path: str) -> None:
        self._db.execute("INSERT OR IGNORE INTO files VALUES (?)", (path,))

    def update(self, paths: Iterable[str]) -> None:
        self._db.executemany("INSERT OR IGNORE INTO files VALUES (?)", ((p,) for p in paths))

    def __contains__(self, path: object) -> bool:
        return self._db.execute("SELECT 1 FROM files WHERE path = ?", (path,)).fetchone() \
            is not None

    def __len__(self) -> int:
        return self._db.execute("SELECT count(*) FROM files").fetchone()[0]


"""A cache on disk that is read by key: JSON values by (section, name) in one SQLite table.

The build memo and the ingest cache hold a few entries per episode. Read whole as JSON, an
archive of ten thousand episodes kept 70 MB of them in memory for the whole build; here each
entry is read when it is asked for, and memory stays the same whatever the archive's size.

Only a cache: a missing, damaged or locked database, or one of another version, means work is
done again, never a failed build. Changes become visible together when `commit` is called (a
killed process leaves the last committed state). Entries not read or written since the table
was opened can be pruned then: the row ids of those used go to a temporary table (on disk),
a few thousand at a time.
"""

from __future__ import annotations

import sqlite3
from array import array
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from pipeline.fsutil import read_cache

USED_BATCH = 4096  # row ids kept in memory before they go to the temporary table
SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    section TEXT NOT NULL,
    name TEXT NOT NULL,
    value BLOB NOT NULL,
    UNIQUE (section, name)
);
CREATE TEMP TABLE IF NOT EXISTS used (id INTEGER PRIMARY KEY);
"""


class CacheTable:
    """JSON values by (section, name); `path` None keeps them in memory (a worker's own)."""

    def __init__(self, path: Path | None, version: int, busy_seconds: float = 5.0) -> None:
        self.path = path
        self.version = version
        self._busy = busy_seconds
        self._db: sqlite3.Connection | None = None
        self._used = array("q")  # row ids read or written since the last commit, not yet
        # handed to the temporary table `used` (USED_BATCH at a time: memory stays the same)
        self._open()

    def _open(self) -> None:
        """Connect (open_cache) and begin the first transaction; without a database every
        entry is missing."""
        self._db = open_cache(self.path, self.version, SCHEMA, ("entries",), self._busy,
                              begin=True)

    def get(self, section: str, name: str) -> Any:
        """The value, or None; the entry counts as used."""
        row = self._query("SELECT rowid, value FROM entries WHERE section = ? AND name = ?",
                          (section, name))
        if row is None:
            return None
        self._use(row[0])
        try:
            return orjson.loads(row[1])
        except ValueError:
            return None

    def put(self, section: str, name: str, value: Any) -> bool:
        """Store `value` (plain JSON data); whether it differs from what was there."""
        data = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        row = self._query("SELECT rowid, value FROM entries WHERE section = ? AND name = ?",
                          (section, name))
        if row is not None and row[1] == data:
            self._use(row[0])
            return False
        written = self._query("INSERT INTO entries VALUES (?, ?, ?) ON CONFLICT (section, name) "
                              "DO UPDATE SET value = excluded.value RETURNING rowid",
                              (section, name, data))
        if written is not None:
            self._use(written[0])
        return True

    def items(self, section: str) -> Iterator[tuple[str, Any]]:
        """Every entry of `section`, by name (code point order), read as it is reached; not
        counted as used."""
        if self._db is None:
            return iter(())
        try:
            rows = self._db.execute("SELECT name, value FROM entries WHERE section = ? "
                                    "ORDER BY name", (section,))
        except sqlite3.Error as error:
            self._give_up(error)
            return iter(())
        return ((name, orjson.loads(value)) for name, value in rows)

    def clear(self) -> None:
        """Drop every entry (made visible by the next commit)."""
        self._execute("DELETE FROM entries")

    def adopt(self, old: Path, version: int, key: str,
              section: str | None = None) -> None:
        """Take over the entries of the JSON cache this table replaces (`{"version": version,
        key: {section: {name: value}}}`, or `{name: value}` for one `section`) and remove it,
        so an archive's first build after an update neither probes nor renders it all again.
        Nothing to do when there is no such file."""
        if not old.exists():
            return
        data = read_cache(old, version, key)
        sections = {section: data} if section is not None else data
        if self._db is not None and isinstance(sections, dict):
            for name, entries in sections.items():
                for entry, value in entries.items() if isinstance(entries, dict) else ():
                    self.put(name, entry, value)
            self.commit(prune=False)
        old.unlink(missing_ok=True)

    def commit(self, prune: bool = True) -> None:
        """Make this run's changes permanent; with `prune`, entries it did not use drop out."""
        if self._db is None:
            return
        try:
            if prune:
                self._hand_over_used()
                self._db.execute("DELETE FROM entries WHERE rowid NOT IN (SELECT id FROM used)")
            self._db.execute("DELETE FROM used")
            self._db.execute("COMMIT")
            self._db.execute("BEGIN")
        except sqlite3.Error as error:
            self._give_up(error)
        self._used = array("q")

    def _use(self, rowid: int) -> None:
        self._used.append(rowid)
        if len(self._used) >= USED_BATCH:
            self._hand_over_used()

    def _hand_over_used(self) -> None:
        if self._db is not None and self._used:
            try:
                self._db.executemany("INSERT OR IGNORE INTO used VALUES (?)",
                                     ((rowid,) for rowid in self._used))
            except sqlite3.Error as error:
                self._give_up(error)
        self._used = array("q")

    def close(self) -> None:
        """Let go of the database; what was not committed is left out."""
        if self._db is not None:
            self._db.close()
            self._db = None

    def _query(self, sql: str, parameters: tuple[Any, ...]) -> tuple[Any, ...] | None:
        if self._db is None:
            return None
        try:
            return self._db.execute(sql, parameters).fetchone()
        except sqlite3.Error as error:
            self._give_up(error)
            return None

    def _execute(self, sql: str, parameters: tuple[Any, ...] = ()) -> None:
        if self._db is None:
            return
        try:
            self._db.execute(sql, parameters)
        except sqlite3.Error as error:
            self._give_up(error)

    def _give_up(self, error: sqlite3.Error) -> None:
        """Locked by another process, or damaged since it was opened: go on without it (every
        entry is then missing, so work is done again, and nothing of this run is kept). A
        damaged file is removed, so the next run starts afresh."""
        self.close()
        damaged = isinstance(error, sqlite3.DatabaseError) and \
            not isinstance(error, sqlite3.OperationalError)
        if damaged and self.path is not None:
            remove_database(self.path)


def open_cache(path: Path | None, version: int, schema: str, tables: Iterable[str],
               busy_seconds: float = 5.0, begin: bool = False) -> sqlite3.Connection | None:
    """A cache's database at `path` (None: in memory) with `schema` (a script), its `tables`
    dropped first if it is of another `version`, and started afresh (once) if the file is
    damaged; None if it is locked or its folder can't be written, so the caller goes on
    without it. `begin`: with a transaction begun."""
    for attempt in range(2):
        try:
            return _connect(path, version, schema, tables, busy_seconds, begin)
        except (sqlite3.OperationalError, OSError):
            return None
        except sqlite3.DatabaseError:  # not a database, or damaged: start afresh once
            if path is None or attempt:
                return None
            remove_database(path)
    return None


def _connect(path: Path | None, version: int, schema: str, tables: Iterable[str],
             busy_seconds: float, begin: bool) -> sqlite3.Connection:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(":memory:" if path is None else str(path), timeout=busy_seconds,
                         isolation_level=None, check_same_thread=False)
    try:
        db.execute("PRAGMA synchronous = OFF")  # a cache: a power cut only costs work again
        db.execute("PRAGMA temp_store = FILE")
        db.execute("PRAGMA cache_size = -512")  # KiB, not 2 MB: read by key, once each
        if db.execute("PRAGMA user_version").fetchone()[0] != version:
            for table in tables:
                db.execute(f"DROP TABLE IF EXISTS {table}")
            db.execute(f"PRAGMA user_version = {int(version)}")
        db.executescript(schema)
        if begin:
            db.execute("BEGIN")
    except BaseException:
        db.close()
        raise
    return db


def remove_database(path: Path) -> None:
    """A database's file and the files SQLite keeps beside it."""
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)

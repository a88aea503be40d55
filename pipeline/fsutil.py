"""Atomic file writes: a reader (or a killed build) never sees half a file."""

from __future__ import annotations

import filecmp
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Container, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import orjson

_UMASK = os.umask(0o022)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK  # what open() would give a new file: site/ must be readable by a web server

Stamp = tuple[int, int]  # a file's size and modification time (ns)
Note = Callable[[str, Stamp | None, Stamp | None], None]  # path, before, after (None: no file)
_listeners: list[Note] = []  # see noting_replacements


def stamp(path: str | Path) -> Stamp | None:
    """A file's size and modification time; None if there is none."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_size, found.st_mtime_ns


@contextmanager
def noting_replacements(note: Note) -> Iterator[None]:
    """Call `note(path, before, after)` for every file this process puts in place (or moves
    away) with `replace_file` while the block runs: how a build tells its own writes from an
    editor's (pipeline.cache.fingerprint)."""
    _listeners.append(note)
    try:
        yield
    finally:
        _listeners.remove(note)


def replace_file(source: str | Path, target: str | Path, moved: bool = False) -> None:
    """os.replace, noted. `moved`: `source` is a file of its own moved away, not a temporary."""
    if not _listeners:
        os.replace(source, target)
        return
    before, leaving = stamp(target), stamp(source) if moved else None
    os.replace(source, target)
    after = stamp(target)
    for note in _listeners:
        note(str(target), before, after)
        if moved:
            note(str(source), leaving, None)


def temporary_beside(path: Path) -> tuple[int, str]:
    """A new temporary file in `path`'s folder (created if needed), with the mode an ordinary
    new file gets (mkstemp's own 0600 would make published pages unreadable to a web server)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.fchmod(fd, FILE_MODE)
    return fd, tmp


@contextmanager
def atomic_open(path: Path, mode: str = "w", encoding: str | None = "utf-8",
                durable: bool = True) -> Iterator[IO[Any]]:
    """Open a temporary file beside `path`; on success fsync (if `durable`) and rename it over
    `path`."""
    fd, tmp = temporary_beside(path)
    binary = "b" in mode
    try:
        with os.fdopen(fd, mode, encoding=None if binary else encoding) as handle:
            yield handle
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        replace_file(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_cache_text(path: Path, text: str) -> None:
    """Atomic like write_text but not flushed to disk: for caches of thousands of small files,
    where a file lost in a power cut only means work done again."""
    with atomic_open(path, "w", durable=False) as handle:
        handle.write(text)


def write_text(path: Path, text: str) -> None:
    with atomic_open(path, "w") as handle:
        handle.write(text)


def write_bytes(path: Path, data: bytes) -> None:
    with atomic_open(path, "wb", encoding=None) as handle:
        handle.write(data)


def read_cache(path: Path, version: int, key: str) -> dict[str, Any]:
    """`data[key]` of a JSON cache file written with `{"version": version, key: ...}`; empty
    when the file is missing, damaged or of another version (it is only a cache)."""
    try:
        data = orjson.loads(path.read_bytes())  # a large archive's memo is tens of MB
        return data[key] if data.get("version") == version else {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n")


def file_signature(path: Path) -> str:
    """A file's size and modification time, to tell whether it is still the one copied or
    read before ("missing" if there is none): its stamp as text."""
    found = stamp(path)
    return "missing" if found is None else f"{found[0]} {found[1]}"


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def write_stream_if_changed(path: Path, parts: Iterable[bytes], durable: bool = True) -> bool:
    """Write `parts` atomically, only when the bytes differ from the file's (which then keeps
    its modification time); True if written. Nothing is held whole in memory. `durable`: on
    disk (fsync) before it replaces the file."""
    fd, temporary = temporary_beside(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.writelines(parts)
            handle.flush()
            changed = not (path.is_file() and filecmp.cmp(temporary, path, shallow=False))
            if changed and durable:
                os.fsync(handle.fileno())
        if changed:
            replace_file(temporary, path)
        return changed
    finally:
        Path(temporary).unlink(missing_ok=True)


def write_text_if_changed(path: Path, text: str) -> bool:
    """Write only when the content differs, so unchanged outputs keep their mtime."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    write_text(path, text)
    return True


@contextmanager
def archive_lock(root: Path, wait: bool = False) -> Iterator[None]:
    """Hold the archive's build lock; a second build waits (`wait`) or raises LockedError.

    flock is released by the kernel when the holder dies, even by kill -9, so a crashed build
    never leaves the archive locked.
    """
    import fcntl

    from pipeline.errors import LockedError

    path = root / ".cache" / "build.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            if not wait:
                raise LockedError(f"another build is running on this archive ({holder}); "
                                  "try again when it has finished", root) from None
            fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        yield


def remove_temporaries(folder: Path) -> int:
    """Delete the temporary files of writes that a killed process never finished."""
    count = 0
    for entry in entries_under(folder):
        name = entry.name
        if name.startswith(".") and name[1:].endswith(".tmp") and entry.is_file():
            os.unlink(entry.path)
            count += 1
    return count


def prune_cache(folder: Path, suffix: str, keep: Container[str]) -> None:
    """Delete the files `<name><suffix>` in a cache folder whose name is not in `keep`, read
    an entry at a time (a cache of thousands of episodes)."""
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                name, found = os.path.splitext(entry.name)
                if found == suffix and name not in keep:
                    Path(entry.path).unlink(missing_ok=True)
    except FileNotFoundError:
        return


def entries_under(folder: str | Path, enter: Callable[[os.DirEntry[str]], bool] = lambda _: True
                  ) -> Iterator[os.DirEntry[str]]:
    """Everything under `folder`, an entry at a time, each folder after what is in it:
    os.walk lists a whole folder at once, and a site has folders of thousands. Folders for
    which `enter` is false, and symlinked ones, are given but not entered; unreadable
    folders are passed over."""
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False) and enter(entry):
                    yield from entries_under(entry.path, enter)
                yield entry
    except OSError:
        return

"""Stage 1, ingest: every media file (and metadata-only video) in `episodes/` becomes an Episode.

Tags are read with mutagen (ffprobe for what mutagen can't), the `<stem>.yaml` sidecar is merged
over them (the sidecar wins), and each episode gets its permanent slug and GUID. A bad file is
reported as one Problem line and skipped; the other episodes are still ingested. Nothing in
`episodes/` is ever written.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import time
from collections.abc import Iterable, Iterator, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path

import orjson

from pipeline.archive import EPISODES_DIR, ArchiveConfig, Sidecar, load_sidecar
from pipeline.cache.catalogue import Catalogue, Column, private_database
from pipeline.errors import (
    ConfigError,
    DuplicateError,
    MediaError,
    Problem,
    WijkError,
    shown_path,
)
from pipeline.fsutil import entries_under
from pipeline.ingest import media
from pipeline.ingest.identity import Identity, Registry, date_in_name, without_date
from pipeline.ingest.probecache import MediaCache
from pipeline.ingest.tags import FileTags, read_tags
from pipeline.model import Chapter, Episode, MediaFile, MediaInfo
from pipeline.processes import usable_cores

SIDECAR_SUFFIXES = (".yaml", ".yml")
LONG_TITLE = 150  # characters; Apple truncates titles in lists well before this
# Files editors' tools leave behind while saving or copying: never episodes, never errors.
TEMPORARY = re.compile(r"(^~\$|^\.|~$|\.(part|partial|crdownload|download|tmp|swp|swx|bak)$)",
                       re.IGNORECASE)


# What inspecting a media file gave: its info and tags, or the error to report for it.
Inspected = tuple[MediaInfo, FileTags] | WijkError | OSError


@dataclass
class Inventory:
    """The result of ingest: good episodes, and a line for every problem. What registering
    needs of each episode (its identity, the names seen) is kept beside the catalogue."""

    episodes: Catalogue = field(default_factory=Catalogue)  # on disk, oldest first
    problems: list[Problem] = field(default_factory=list)
    cache: MediaCache = field(default_factory=MediaCache)
    inspected: dict[Path, Inspected] = field(default_factory=dict)  # probed ahead, in parallel
    identities: Identities = field(init=False)  # by slug
    stems: Column = field(init=False)  # every name seen, good or bad (the keys)

    def __post_init__(self) -> None:
        self.identities = Identities(self.episodes.column("identity"))
        self.stems = self.episodes.column("stem")

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.fatal]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.fatal]


class Identities(MutableMapping[str, Identity]):
    """Identities by slug, in a column beside the catalogue (as JSON)."""

    def __init__(self, column: Column) -> None:
        self.column = column

    def __getitem__(self, slug: str) -> Identity:
        text = self.column[slug]
        assert text is not None
        return Identity(**orjson.loads(text))

    def __setitem__(self, slug: str, identity: Identity) -> None:
        self.column[slug] = orjson.dumps(identity).decode()  # orjson writes dataclasses

    def __delitem__(self, slug: str) -> None:
        del self.column[slug]

    def __contains__(self, slug: object) -> bool:
        return slug in self.column

    def __iter__(self) -> Iterator[str]:
        return iter(self.column)

    def __len__(self) -> int:
        return len(self.column)

    def every(self) -> Iterator[Identity]:
        """Each identity, by slug, in one query."""
        return (Identity(**orjson.loads(text)) for _slug, text in self.column.pairs() if text)

    def clear(self) -> None:
        self.column.clear()


@dataclass(slots=True)
class _Entry:
    """The files sharing one stem: media files and at most one sidecar, by their names inside
    episodes/ (in order)."""

    stem: str
    media: list[str]
    sidecars: list[str]


class _Found:
    """The files found under episodes/, in a private database (ten thousand names held in
    lists took 3 MB through ingest), read back as entries, in order, as often as asked.

    The order is the one ingest always had: the files sorted as paths (part by part), and
    each stem's entry where its first file comes. A name's sort key is its UTF-8 with NUL for
    "/" (no name holds a NUL), which SQLite compares as Python compares the parts."""

    def __init__(self, names: Iterable[str]) -> None:
        self._db = private_database()
        self._db.execute("CREATE TABLE found (stem BLOB, key BLOB, wanted INTEGER)")
        self._db.executemany("INSERT INTO found VALUES (?, ?, ?)", map(_found_row, names))
        self._db.execute("""
            CREATE TABLE entries AS SELECT stem, key FROM (
                SELECT stem, key, wanted, min(key) OVER (PARTITION BY stem) AS first FROM found)
            WHERE wanted ORDER BY first, key""")
        self._db.execute("DROP TABLE found")

    def __iter__(self) -> Iterator[_Entry]:
        rows = self._db.execute("SELECT stem, key FROM entries ORDER BY rowid")
        for _stem, group in itertools.groupby(rows, key=lambda row: row[0]):
            names = [_text(key).replace("\0", "/") for _stem, key in group]
            yield _Entry(stem=_split(names[0])[1],
                         media=[name for name in names if _suffix(name) in media.MEDIA_EXTENSIONS],
                         sidecars=[name for name in names if _suffix(name) in SIDECAR_SUFFIXES])


def _found_row(relative: str) -> tuple[bytes, bytes, bool]:
    folder, stem, suffix = _split(relative)
    wanted = suffix.lower() in media.MEDIA_EXTENSIONS or suffix.lower() in SIDECAR_SUFFIXES
    return _bytes(f"{folder}/{stem}"), _bytes(relative.replace("/", "\0")), wanted


def _bytes(text: str) -> bytes:
    """UTF-8, names that aren't (kept by Python as lone surrogates) included, in order."""
    return text.encode("utf-8", "surrogatepass")


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogatepass")


def _paths(folder: Path, names: list[str]) -> list[Path]:
    return [folder / name for name in names]


def _split(relative: str) -> tuple[str, str, str]:
    """A name inside episodes/ as its folder, stem and suffix, as Path would split it (but
    without interning every part: thousands of names)."""
    folder, _, name = relative.rpartition("/")
    dot = name.rfind(".")
    if 0 < dot < len(name) - 1:
        return folder, name[:dot], name[dot:]
    return folder, name, ""


def _suffix(relative: str) -> str:
    return _split(relative)[2].lower()


def ingest(root: Path, config: ArchiveConfig, registry: Registry | None = None) -> Inventory:
    """Read every episode under `root/episodes/`, in a stable order."""
    registry = registry or Registry.load(root)
    inventory = Inventory(cache=MediaCache.load(root))
    seen_audio = inventory.episodes.column("audio")  # audio hash -> the first file with it
    folder = root / EPISODES_DIR
    entries = find_entries(folder)
    inventory.inspected = _inspect_new(root, entries, inventory.cache)
    for entry in entries:
        inventory.stems[entry.stem] = None
        try:
            episode, identity = read_entry(root, entry, config, registry, inventory, seen_audio)
        except MediaError as error:
            inventory.problems.append(_still_copying(root, error) or Problem.from_error(root, error))
            continue
        except WijkError as error:
            inventory.problems.append(Problem.from_error(root, error))
            continue
        except FileNotFoundError as error:  # moved away while we were reading it
            inventory.problems.append(Problem(shown_path(root, Path(error.filename or folder)),
                                              "vanished while it was being read"))
            continue
        inventory.episodes.add(episode)
        inventory.identities[episode.slug] = identity
    inventory.cache.save()
    return inventory


def _inspect_new(root: Path, entries: Iterable[_Entry],
                 cache: MediaCache) -> dict[Path, Inspected]:
    """Probe every media file the cache doesn't know, a few at a time (ffprobe and ffmpeg are
    separate processes, so threads keep every core busy). Errors are kept for their episode."""
    folder = root / EPISODES_DIR
    new = [path for entry in entries for path in _paths(folder, entry.media)
           if not _cached(root, path, cache)]
    if len(new) < 2:
        return {}
    with ThreadPoolExecutor(max_workers=min(len(new), usable_cores() + 1)) as pool:
        return dict(zip(new, pool.map(_inspect_or_error, new)))


def _cached(root: Path, path: Path, cache: MediaCache) -> bool:
    try:
        return cache.lookup(root, path) is not None
    except OSError:
        return False  # gone or unreadable: reading it again reports it


def _inspect_or_error(path: Path) -> Inspected:
    try:
        return _inspect(path)
    except (WijkError, OSError) as error:
        return error


def _still_copying(root: Path, error: MediaError, wait: float = 0.5) -> Problem | None:
    """A file that is growing is being copied in: say so rather than calling it damaged."""
    path = error.path
    try:
        before = path.stat().st_size
        time.sleep(wait)
        growing = path.stat().st_size != before
    except (OSError, AttributeError):
        return None
    if not growing:
        return None
    return Problem(shown_path(root, path), "still being copied (its size is changing); it will "
                   "be built once the copy has finished", fatal=True)


def find_entries(folder: Path) -> _Found:
    """Group the files under `folder` by stem; ignore temp files and everything not media."""
    if not folder.is_dir():
        raise ConfigError("no episodes/ folder: create it and drop media files into it", folder)
    return _Found(_names_under(folder))


def _names_under(folder: Path) -> Iterator[str]:
    """The files under `folder` (not temporary ones, not in hidden folders), by their names
    relative to it, an entry at a time. Symlinked folders are not entered; unreadable ones
    are passed over."""
    inside = len(str(folder)) + 1  # an entry's path, less this: its name under `folder`
    for entry in entries_under(folder, enter=lambda entry: not entry.name.startswith(".")):
        try:
            if entry.is_file() and not TEMPORARY.search(entry.name):
                yield entry.path[inside:]
        except OSError:
            continue


def read_entry(root: Path, entry: _Entry, config: ArchiveConfig, registry: Registry,
               inventory: Inventory, seen_audio: Column) -> tuple[Episode, Identity]:
    """One episode from its media file(s) and sidecar; raises WijkError for the problem line."""
    folder = root / EPISODES_DIR
    sidecars = _paths(folder, entry.sidecars)
    if len(sidecars) > 1:
        raise ConfigError("two sidecars for one episode: keep either .yaml or .yml", sidecars[1])
    sidecar_path = sidecars[0] if sidecars else None
    sidecar = load_sidecar(sidecar_path) if sidecar_path else Sidecar()
    if not entry.media:
        return _remote_video(root, entry.stem, sidecar_path, sidecar, config, registry, inventory)
    files = [_read_media(root, path, inventory, seen_audio)
             for path in _by_preference(_paths(folder, entry.media))]
    main, tags = files[0]
    identity = registry.resolve(stem=entry.stem, feed_url=_feed_url(config),
                                audio_hash=main.info.audio_hash, pinned_guid=sidecar.guid,
                                taken=inventory.identities.keys())
    episode = _episode(root, identity, entry.stem, main, tags, sidecar, sidecar_path)
    if len(episode.title) > LONG_TITLE:
        inventory.problems.append(Problem(shown_path(root, sidecar_path or main.path),
                                          f"the title is {len(episode.title)} characters long; "
                                          f"podcast apps show about {LONG_TITLE}", fatal=False))
    if _stated_date(sidecar, tags, entry.stem) is None:
        inventory.problems.append(Problem(shown_path(root, main.path), "no date in the tags, the "
                                          "file name or a sidecar: using the file's modification "
                                          "time; add 'date:' to the sidecar", fatal=False))
    episode.alternates = [media_file for media_file, _tags in files[1:]]
    return episode, identity


def _by_preference(paths: list[Path]) -> list[Path]:
    """The main file of an episode is its audio-only container; a video is an alternate."""
    video_suffixes = {".mp4", ".m4v", ".mov", ".webm", ".mkv"}
    return sorted(paths, key=lambda p: (p.suffix.lower() in video_suffixes, p.name))


def _read_media(root: Path, path: Path, inventory: Inventory,
                seen_audio: Column) -> tuple[MediaFile, FileTags]:
    cached = inventory.cache.lookup(root, path)  # found: kept as it is (counted as used)
    info, tags = cached or _inspected(path, inventory)
    if cached is None:
        inventory.cache.store(root, path, info, tags)
    first = seen_audio.get(info.audio_hash)
    if first is not None:
        raise DuplicateError(f"same audio as {shown_path(root, Path(first))}: remove one of them",
                             path)
    seen_audio[info.audio_hash] = str(path)
    for warning in tags.warnings:
        inventory.problems.append(Problem(shown_path(root, path), warning, fatal=False))
    return MediaFile(path=path, info=info), tags


def _inspected(path: Path, inventory: Inventory) -> tuple[MediaInfo, FileTags]:
    """What _inspect_new found for `path` (raising what it raised), or inspect it now."""
    found = inventory.inspected.pop(path, None)
    if isinstance(found, BaseException):
        raise found
    return found or _inspect(path)


def _inspect(path: Path) -> tuple[MediaInfo, FileTags]:
    """Probe, fingerprint and read the tags of one file: the costly part of ingest."""
    size = path.stat().st_size
    if size == 0:
        raise MediaError("file is empty (0 bytes): copy it again", path)
    probe = media.probe(path)
    media.check_container(path, probe)
    scan = media.scan_audio(path)
    media.check_whole(path, probe.declared_duration, scan)
    tags = read_tags(path, probe.tags)
    info = MediaInfo(
        duration=round(tags.duration or probe.declared_duration or scan.duration, 3),
        size=size,
        mime_type=media.mime_type(path, probe.has_video),
        container=probe.family,
        audio_hash=scan.audio_hash,
        bitrate=tags.bitrate or probe.bitrate,
        sample_rate=probe.sample_rate or tags.sample_rate,
        channels=probe.channels or tags.channels,  # mutagen reads MP4 stsd, often wrong
        has_video=probe.has_video,
        width=probe.width,
        height=probe.height,
    )
    return info, tags


def _episode(root: Path, identity: Identity, stem: str, main: MediaFile, tags: FileTags,
             sidecar: Sidecar, sidecar_path: Path | None) -> Episode:
    """Merge the sidecar over the file's own tags."""
    return Episode(
        slug=identity.slug,
        guid=identity.guid,
        kind="video" if main.info.has_video else "audio",
        title=sidecar.title or tags.title or _title_from_stem(stem),
        source=main.path,
        sidecar=sidecar_path,
        media=main.info,
        description=sidecar.description or tags.description or "",
        date=_stated_date(sidecar, tags, stem) or _file_date(main.path),
        season=sidecar.season or tags.season,
        episode=sidecar.episode or tags.episode,
        episode_type=sidecar.episode_type or "full",
        explicit=bool(sidecar.explicit),
        image=_sidecar_path(root, sidecar_path, sidecar.image, "image"),
        embedded_image=tags.has_cover,
        author=tags.artist,
        album=tags.album,
        speakers=sidecar.speakers or [],
        guests=sidecar.guests or [],
        cases=sidecar.cases or [],
        language=sidecar.language or "nl",
        chapters=_chapters(sidecar) or tags.chapters,
        video_url=sidecar.video_url,
        duration=main.info.duration,
    )


def _remote_video(root: Path, stem: str, sidecar_path: Path | None, sidecar: Sidecar,
                  config: ArchiveConfig, registry: Registry,
                  inventory: Inventory) -> tuple[Episode, Identity]:
    """A sidecar without a media file: a video that lives elsewhere (video_url + duration)."""
    if not sidecar.video_url:
        raise ConfigError("sidecar without a media file: add the audio or video file beside it "
                          "(same name), or give video_url and duration", sidecar_path)
    if not re.match(r"https?://", sidecar.video_url):
        raise ConfigError(f"video_url must be an http(s) address: {sidecar.video_url!r}", sidecar_path)
    if sidecar.duration is None:
        raise ConfigError("a video without a media file needs duration (HH:MM:SS)", sidecar_path)
    identity = registry.resolve(stem=stem, feed_url=_feed_url(config), video_url=sidecar.video_url,
                                pinned_guid=sidecar.guid, taken=inventory.identities.keys())
    episode = Episode(
        slug=identity.slug, guid=identity.guid, kind="video",
        title=sidecar.title or _title_from_stem(stem), source=None, sidecar=sidecar_path,
        description=sidecar.description or "",
        date=sidecar.published or _file_date(sidecar_path),
        season=sidecar.season, episode=sidecar.episode,
        episode_type=sidecar.episode_type or "full", explicit=bool(sidecar.explicit),
        image=_sidecar_path(root, sidecar_path, sidecar.image, "image"),
        speakers=sidecar.speakers or [], guests=sidecar.guests or [], cases=sidecar.cases or [],
        language=sidecar.language or "nl", chapters=_chapters(sidecar),
        video_url=sidecar.video_url, duration=sidecar.duration,
    )
    return episode, identity


def _sidecar_path(root: Path, sidecar_path: Path | None, value: str | None, key: str) -> Path | None:
    """A path from a sidecar, relative to it; it must exist and stay inside the archive."""
    if value is None or sidecar_path is None:
        return None
    target = (sidecar_path.parent / value).resolve()
    if not target.is_relative_to(root.resolve()):
        raise ConfigError(f"key '{key}': path {value!r} leaves the archive folder", sidecar_path)
    if not target.is_file():
        raise ConfigError(f"key '{key}': file {value!r} not found", sidecar_path)
    return target


def _chapters(sidecar: Sidecar) -> list[Chapter]:
    marks = sorted(sidecar.chapters or [], key=lambda c: float(c.start))
    return [Chapter(start=float(c.start), title=c.title, url=c.url) for c in marks]


def _feed_url(config: ArchiveConfig) -> str:
    return config.base_url + "feed.xml"


def _title_from_stem(stem: str) -> str:
    words = without_date(stem).replace("_", " ").replace("-", " ")
    return (words.strip() or stem).capitalize()


def _parse_date(text: str | None) -> dt.datetime | None:
    """ID3/MP4/Vorbis dates: '2021', '2021-09-16', '2021-09-16T10:00:00Z', RFC 2822."""
    if not text:
        return None
    text = text.strip()
    for candidate in (text.replace("Z", "+00:00"), text[:10]):
        try:
            value = dt.datetime.fromisoformat(candidate)
        except ValueError:
            continue
        if len(candidate) == 10:
            value = value.replace(hour=12)
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None


def _stated_date(sidecar: Sidecar, tags: FileTags, stem: str) -> dt.datetime | None:
    """The episode's date as the sidecar gives it, else the file's tags, else a date leading
    the file name; None if none does (the file's modification time is the last resort)."""
    return sidecar.published or _parse_date(tags.date) or _parse_date(date_in_name(stem))


def _file_date(path: Path | None) -> dt.datetime | None:
    """Last resort for an undated episode: the file's modification time (UTC, whole seconds)."""
    if path is None:
        return None
    return dt.datetime.fromtimestamp(int(path.stat().st_mtime), tz=dt.UTC)

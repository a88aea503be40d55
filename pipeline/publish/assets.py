"""Stage 4, publish: put everything a listener or reader fetches into `site/`.

Media, cover art, transcripts and chapters are copied under their permanent names (see
pipeline.publish.layout); a file is only rewritten when its content changed, and every write is atomic.
Files of episodes that are gone are removed from `site/` (their transcripts stay in
`transcripts/`). The feed is written last, so it never points at a file not yet in place.
"""

from __future__ import annotations

import filecmp
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from pipeline.archive import TRANSCRIPTS_DIR, ArchiveConfig
from pipeline.cache.catalogue import Catalogue
from pipeline.cache.listings import FileSet
from pipeline.cache.memo import BuildMemo
from pipeline.errors import Problem, shown_path
from pipeline.fsutil import replace_file, temporary_beside, write_bytes
from pipeline.ingest.tags import read_tags
from pipeline.model import Episode, MediaFile
from pipeline.publish.chapters import write_chapters
from pipeline.publish.feed import write_feed
from pipeline.publish.layout import SiteLayout

# transcripts/<slug>.<source suffix> -> site/transcripts/<slug>.<published extension>
TRANSCRIPT_COPIES = {"vtt": "vtt", "srt": "srt", "txt": "txt", "podcast.json": "json"}
_IMAGE_SUFFIX = {"image/jpeg": ".jpg", "image/jpg": ".jpg", "image/png": ".png"}


@dataclass
class Published:
    """What publish wrote: every file it placed, and how many it had to (re)write."""

    episodes: Catalogue = field(default_factory=Catalogue)  # those whose files are all in place
    problems: list[Problem] = field(default_factory=list)
    files: FileSet = field(default_factory=FileSet)  # paths under site/: thousands, on disk
    written: int = 0
    removed: int = 0


def publish_assets(root: Path, config: ArchiveConfig, episodes: Iterable[Episode]) -> Published:
    """Copy media, art and transcripts into site/; drop files no episode owns any more.

    An episode whose file vanished since ingest (moved away mid-build) is one problem line and
    is left out of what is published; the others go ahead.
    """
    layout = SiteLayout(root, config.base_url)
    published = Published()
    cover = root / config.image
    _place(layout, layout.cover(cover), cover, published)
    catalogue = Catalogue.of(episodes)
    vanished: list[str] = []
    for episode in catalogue:
        try:
            _place_episode(root, layout, episode, published)
        except FileNotFoundError as e:
            published.problems.append(Problem(shown_path(root, Path(e.filename or root)),
                                              "vanished during the build; build again once it "
                                              "is back"))
            vanished.append(episode.slug)
    published.episodes = catalogue.without(vanished)
    _remove_stale(layout, published, folders=("media", "images", "transcripts", "chapters"))
    return published


def _place_episode(root: Path, layout: SiteLayout, episode: Episode, published: Published) -> None:
    for media in _media_files(episode):
        _place(layout, layout.media(episode, media), media.path, published)
    _place_episode_image(layout, episode, published)
    for source_suffix, extension in TRANSCRIPT_COPIES.items():
        source = root / TRANSCRIPTS_DIR / f"{episode.slug}.{source_suffix}"
        if source.exists():
            _place(layout, layout.transcript(episode.slug, extension), source, published)
    if write_chapters(episode, layout) is not None:
        published.files.add(str(layout.chapters(episode.slug)))


def publish_feed(root: Path, config: ArchiveConfig, episodes: Iterable[Episode],
                 memo: BuildMemo | None = None) -> bool:
    """The feed last: every file it links to is in place by now. True if it changed."""
    return write_feed(config, episodes, SiteLayout(root, config.base_url), memo)


def _media_files(episode: Episode) -> list[MediaFile]:
    if episode.source is None or episode.media is None:
        return []
    return [MediaFile(episode.source, episode.media), *episode.alternates]


def _place_episode_image(layout: SiteLayout, episode: Episode, published: Published) -> None:
    """The sidecar's image, else the cover art embedded in the media file."""
    if episode.image is not None:
        _place(layout, layout.episode_image(episode.slug, episode.image.suffix), episode.image,
               published)
    elif episode.embedded_image and episode.source is not None:
        tags = read_tags(episode.source, {})
        suffix = _IMAGE_SUFFIX.get((tags.cover_mime or "").lower())
        if tags.cover and suffix:
            relative = layout.episode_image(episode.slug, suffix)
            published.files.add(str(relative))
            target = layout.path(relative)
            if not target.exists() or target.read_bytes() != tags.cover:
                write_bytes(target, tags.cover)
                published.written += 1


def _place(layout: SiteLayout, relative: PurePosixPath, source: Path, published: Published) -> None:
    """Copy `source` to site/`relative` unless an identical copy is already there."""
    published.files.add(str(relative))
    target = layout.path(relative)
    original = source.stat()  # FileNotFoundError: it vanished (publish_assets says so)
    try:
        copy = target.stat()
    except FileNotFoundError:
        copy = None
    if copy is not None and _same(source, original, target, copy):
        return
    fd, temporary = temporary_beside(target)
    os.close(fd)
    try:
        shutil.copyfile(source, temporary)
        # The same modification time lets the next build skip the file.
        os.utime(temporary, ns=(original.st_atime_ns, original.st_mtime_ns))
        replace_file(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    published.written += 1


def _same(source: Path, original: os.stat_result, target: Path, copy: os.stat_result) -> bool:
    """Same size and modification time (copies keep it: one stat of each), else the same
    bytes."""
    if original.st_size != copy.st_size:
        return False
    return original.st_mtime_ns == copy.st_mtime_ns or filecmp.cmp(source, target, shallow=False)


def _remove_stale(layout: SiteLayout, published: Published, folders: tuple[str, ...]) -> None:
    for name in folders:
        folder = layout.folder / name
        if not folder.is_dir():
            continue
        with os.scandir(folder) as entries:  # one at a time: tens of thousands
            for entry in entries:
                if entry.is_file() and f"{name}/{entry.name}" not in published.files:
                    os.unlink(entry.path)
                    published.removed += 1

"""Embedded metadata read with mutagen: ID3, MP4 atoms, Vorbis comments, FLAC pictures.

Matroska/WebM (which mutagen can't read) fall back to the container tags ffprobe reports.
Text that isn't valid UTF-8 is never passed on: it is reported and ignored.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mutagen
from mutagen.flac import Picture

from pipeline.model import Chapter

REPLACEMENT = "\ufffd"


@dataclass
class FileTags:
    """The metadata a media file carries about itself."""

    title: str | None = None
    artist: str | None = None
    album: str | None = None
    date: str | None = None
    description: str | None = None
    episode: int | None = None
    season: int | None = None
    chapters: list[Chapter] = field(default_factory=list)
    cover: bytes | None = None  # not kept in the ingest cache: see has_cover
    cover_mime: str | None = None
    has_cover: bool = False
    duration: float | None = None
    bitrate: int | None = None
    sample_rate: int | None = None
    channels: int | None = None
    warnings: list[str] = field(default_factory=list)


# Per tag format: our field -> the keys that may hold it, in order of preference.
_ID3 = {"title": ["TIT2"], "artist": ["TPE1", "TPE2"], "album": ["TALB"],
        "date": ["TDRC", "TDRL", "TYER"], "description": ["TDES", "COMM"],
        "episode": ["TRCK"], "season": ["TPOS"]}
_MP4 = {"title": ["\xa9nam"], "artist": ["\xa9ART", "aART"], "album": ["\xa9alb"],
        "date": ["\xa9day"], "description": ["ldes", "desc", "\xa9cmt"],
        "episode": ["tves", "trkn"], "season": ["tvsn", "disk"]}
_VORBIS = {"title": ["title"], "artist": ["artist", "albumartist"], "album": ["album"],
           "date": ["date", "year"], "description": ["description", "comment"],
           "episode": ["episode", "tracknumber"], "season": ["season", "discnumber"]}
_FFPROBE = {"title": ["title"], "artist": ["artist", "album_artist"], "album": ["album"],
            "date": ["date", "creation_time"], "description": ["description", "comment"],
            "episode": ["episode_id", "track"], "season": ["season_number", "disc"]}


def read_tags(path: Path, container_tags: dict[str, str]) -> FileTags:
    """Read what the file says about itself; never raises for odd tags, only warns."""
    try:
        audio = mutagen.File(path)
    except Exception as e:  # mutagen raises many types for damaged headers; ffprobe has the final say
        audio = None
        result = FileTags(warnings=[f"tags unreadable ({e.__class__.__name__}); ignored them"])
    else:
        result = FileTags()
    if audio is not None:
        _read_info(audio, result)
    tags = getattr(audio, "tags", None) if audio is not None else None
    if tags is not None and hasattr(tags, "getall"):  # ID3 (mp3, wav, aac)
        _read_fields(result, lambda key: _id3_text(tags, key), _ID3)
        result.chapters = _id3_chapters(tags)
        _id3_cover(tags, result)
    elif tags is not None and type(tags).__name__ == "MP4Tags":
        _read_fields(result, lambda key: _first(tags.get(key)), _MP4)
        result.chapters = _mp4_chapters(audio)
        _mp4_cover(tags, result)
    elif tags is not None:  # Vorbis comments (ogg, opus, flac)
        _read_fields(result, lambda key: _first(tags.get(key)), _VORBIS)
        result.chapters = _vorbis_chapters(tags)
        _vorbis_cover(audio, tags, result)
    # ffprobe decodes tags mutagen can't (Matroska) and shows invalid UTF-8 that mutagen drops.
    _read_fields(result, container_tags.get, _FFPROBE)
    result.has_cover = result.cover is not None
    return result


def _read_info(audio: Any, result: FileTags) -> None:
    info = audio.info
    result.duration = _number(getattr(info, "length", None), float)
    result.bitrate = _number(getattr(info, "bitrate", None), int) or None
    result.sample_rate = _number(getattr(info, "sample_rate", None), int)
    result.channels = _number(getattr(info, "channels", None), int)


def _read_fields(result: FileTags, lookup: Any, keys: dict[str, list[str]]) -> None:
    """Fill each still-empty field from the first key that holds valid text."""
    for name, candidates in keys.items():
        if getattr(result, name) is not None:
            continue
        for key in candidates:
            value = lookup(key)
            if value is None or str(value).strip() == "":
                continue
            text = str(value).strip()
            if REPLACEMENT in text:
                warning = f"tag '{key}' is not valid UTF-8 text; ignored it"
                if warning not in result.warnings:
                    result.warnings.append(warning)
                continue
            parsed = _ordinal(text) if name in ("episode", "season") else text
            if parsed is not None:
                setattr(result, name, parsed)
                break


def _first(values: Any) -> Any:
    if isinstance(values, list):
        values = values[0] if values else None
    if isinstance(values, tuple):  # MP4 trkn/disk: (number, total)
        values = values[0]
    return values


def _id3_text(tags: Any, key: str) -> str | None:
    frames = tags.getall(key)
    for frame in frames:
        text = str(frame.text[0]) if getattr(frame, "text", None) else None
        if text:
            return text
    return None


def _id3_chapters(tags: Any) -> list[Chapter]:
    chapters = []
    for frame in tags.getall("CHAP"):
        title_frames = [f for f in frame.sub_frames.values() if f.FrameID == "TIT2"]
        url_frames = [f for f in frame.sub_frames.values() if f.FrameID == "WXXX"]
        title = str(title_frames[0].text[0]) if title_frames else frame.element_id
        chapters.append(Chapter(
            start=frame.start_time / 1000, end=frame.end_time / 1000, title=title,
            url=url_frames[0].url if url_frames else None,
        ))
    return sorted(chapters, key=lambda c: c.start)


def _id3_cover(tags: Any, result: FileTags) -> None:
    pictures = sorted(tags.getall("APIC"), key=lambda p: p.type != 3)  # front cover first
    if pictures:
        result.cover, result.cover_mime = pictures[0].data, pictures[0].mime


def _mp4_chapters(audio: Any) -> list[Chapter]:
    chapters = getattr(audio, "chapters", None)
    if not chapters:
        return []
    return [Chapter(start=float(c.start), title=str(c.title)) for c in chapters]


def _mp4_cover(tags: Any, result: FileTags) -> None:
    covers = tags.get("covr")
    if covers:
        cover = covers[0]
        result.cover = bytes(cover)
        result.cover_mime = "image/png" if cover.imageformat == cover.FORMAT_PNG else "image/jpeg"


def _vorbis_chapters(tags: Any) -> list[Chapter]:
    """CHAPTERnnn=HH:MM:SS.mmm with CHAPTERnnnNAME=title (the Vorbis chapter convention)."""
    chapters = []
    for key, values in tags.items() if hasattr(tags, "items") else []:
        match = re.fullmatch(r"chapter(\d+)", key.lower())
        if not match:
            continue
        name = tags.get(f"{key}NAME") or tags.get(f"{key.lower()}name") or [key]
        start = _clock(values[0] if isinstance(values, list) else values)
        if start is not None:
            chapters.append(Chapter(start=start, title=str(_first(name))))
    return sorted(chapters, key=lambda c: c.start)


def _vorbis_cover(audio: Any, tags: Any, result: FileTags) -> None:
    pictures = list(getattr(audio, "pictures", []) or [])
    for encoded in tags.get("metadata_block_picture", []) or []:
        try:
            pictures.append(Picture(base64.b64decode(encoded)))
        except Exception:  # a damaged picture block is not worth failing the episode
            result.warnings.append("embedded picture is damaged; ignored it")
    if pictures:
        picture = sorted(pictures, key=lambda p: p.type != 3)[0]
        result.cover, result.cover_mime = picture.data, picture.mime


def _ordinal(text: str) -> int | None:
    """'4', '4/12' or '04' -> 4; anything else (or 0) -> None."""
    match = re.match(r"\s*(\d+)", text)
    number = int(match.group(1)) if match else 0
    return number or None


def _clock(text: str) -> float | None:
    match = re.fullmatch(r"(\d+):(\d{2}):(\d{2}(?:\.\d+)?)", str(text).strip())
    if not match:
        return None
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _number(value: Any, kind: type) -> Any:
    try:
        return kind(value) if value is not None else None
    except (TypeError, ValueError):
        return None

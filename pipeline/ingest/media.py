"""Talking to ffmpeg: probe a media file, fingerprint its audio, check it is whole.

Only this module runs ffprobe/ffmpeg for ingest. Failures become MediaError with the tool's own
message (whisper's audio.py does the same with ffmpeg's stderr).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from pipeline.errors import MediaError, WijkError

# Extension -> (the ffprobe format family its content must have, MIME type for the feed).
CONTAINERS: dict[str, tuple[str, str]] = {
    ".mp3": ("mp3", "audio/mpeg"),
    ".m4a": ("mp4", "audio/mp4"),
    ".aac": ("aac", "audio/aac"),
    ".ogg": ("ogg", "audio/ogg"),
    ".opus": ("ogg", "audio/opus"),
    ".flac": ("flac", "audio/flac"),
    ".wav": ("wav", "audio/wav"),
    ".mp4": ("mp4", "video/mp4"),
    ".m4v": ("mp4", "video/x-m4v"),
    ".mov": ("mp4", "video/quicktime"),
    ".webm": ("matroska", "video/webm"),
    ".mkv": ("matroska", "video/x-matroska"),
}
MEDIA_EXTENSIONS = frozenset(CONTAINERS)
_FAMILY_NAMES = {  # ffprobe's format_name -> the family it belongs to
    "mp3": "mp3", "mov,mp4,m4a,3gp,3g2,mj2": "mp4", "aac": "aac", "ogg": "ogg", "flac": "flac",
    "wav": "wav", "matroska,webm": "matroska",
}
_FAMILY_LABEL = {
    "mp3": "MP3", "mp4": "MP4/M4A", "aac": "AAC (ADTS)", "ogg": "Ogg", "flac": "FLAC",
    "wav": "WAV", "matroska": "Matroska/WebM",
}
_FAMILY_EXTENSION = {"mp3": ".mp3", "mp4": ".m4a or .mp4", "aac": ".aac", "ogg": ".ogg or .opus",
                     "flac": ".flac", "wav": ".wav", "matroska": ".mkv or .webm"}
# A stream ending this much before the container says it should is a truncated file.
TRUNCATION_TOLERANCE = 1.0


@dataclass(frozen=True)
class Probe:
    """What ffprobe and one pass over the audio packets tell about a file."""

    family: str
    declared_duration: float | None
    bitrate: int | None
    sample_rate: int | None
    channels: int | None
    has_video: bool
    width: int | None
    height: int | None
    tags: dict[str, str]


@dataclass(frozen=True)
class AudioScan:
    audio_hash: str
    duration: float  # end of the last audio packet
    damaged: str | None  # ffmpeg's complaint while reading the packets, if any


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise WijkError(f"'{name}' is not installed: install ffmpeg (Debian: apt-get install ffmpeg)")
    return path


def probe(path: Path) -> Probe:
    """ffprobe the container and its streams; MediaError if it isn't media."""
    result = subprocess.run(
        [require_tool("ffprobe"), "-v", "error", "-print_format", "json",
         "-show_format", "-show_streams", str(path)],
        capture_output=True, text=True, errors="replace",
    )
    if result.returncode != 0:
        raise MediaError(f"not a readable media file ({_first_line(result.stderr, path)})", path)
    info = json.loads(result.stdout or "{}")
    fmt = info.get("format", {})
    streams = info.get("streams", [])
    audio = [s for s in streams if s.get("codec_type") == "audio"]
    video = [s for s in streams if s.get("codec_type") == "video"
             and not s.get("disposition", {}).get("attached_pic")]
    if not audio:
        raise MediaError("has no audio stream" + (" (video only)" if video else ""), path)
    first = audio[0]
    picture = video[0] if video else {}
    # The audio stream's own length where the container records one; the container's only for
    # audio-only files (a video may rightly run on after its sound ends).
    declared = _float(first.get("duration")) or (None if video else _float(fmt.get("duration")))
    return Probe(
        family=_FAMILY_NAMES.get(fmt.get("format_name", ""), fmt.get("format_name", "unknown")),
        declared_duration=declared,
        bitrate=_int(fmt.get("bit_rate")),
        sample_rate=_int(first.get("sample_rate")),
        channels=_int(first.get("channels")),
        has_video=bool(video),
        width=_int(picture.get("width")),
        height=_int(picture.get("height")),
        tags={k.lower(): str(v) for k, v in fmt.get("tags", {}).items()},
    )


def scan_audio(path: Path) -> AudioScan:
    """Read every audio packet (no decoding): a tag-independent hash and the real end time.

    The hash covers packet sizes, timings and CRCs, so retagging or renaming a file keeps it,
    while any change to the audio itself changes it.
    """
    result = subprocess.run(
        [require_tool("ffmpeg"), "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0",
         "-c", "copy", "-f", "framecrc", "-"],
        capture_output=True,
    )
    stderr = result.stderr.decode("utf-8", "replace")
    if result.returncode != 0:
        raise MediaError(f"cannot read the audio ({_first_line(stderr, path)})", path)
    digest = hashlib.sha256()
    timebase, end = Fraction(1), Fraction(0)
    for line in result.stdout.splitlines():
        if line.startswith(b"#tb 0:"):
            timebase = Fraction(line.split(b":", 1)[1].strip().decode())
        elif line and not line.startswith(b"#"):
            digest.update(line)
            fields = [f.strip() for f in line.split(b",")]
            end = max(end, (int(fields[2]) + int(fields[3])) * timebase)
    damaged = _first_line(stderr, path) if stderr.strip() else None
    return AudioScan(audio_hash=digest.hexdigest(), duration=float(end), damaged=damaged)


def check_container(path: Path, found: Probe) -> None:
    """The content must be what the extension says (a renamed .mp3 is not an .ogg)."""
    expected, _mime = CONTAINERS[path.suffix.lower()]
    if found.family != expected:
        label = _FAMILY_LABEL.get(found.family, found.family)
        hint = _FAMILY_EXTENSION.get(found.family)
        rename = f": rename it to {hint}" if hint else ""
        raise MediaError(
            f"the extension says {_FAMILY_LABEL[expected]} but the content is {label}{rename}", path)


def check_whole(path: Path, declared: float | None, scan: AudioScan) -> None:
    """A file whose audio stops well before its declared length was cut off mid-copy."""
    if declared and scan.duration + TRUNCATION_TOLERANCE < declared:
        raise MediaError(
            f"truncated: the file says {declared:.1f} s but the audio stops at {scan.duration:.1f} s",
            path)
    if scan.damaged and "partial file" in scan.damaged:
        raise MediaError(f"truncated or damaged ({scan.damaged})", path)


def mime_type(path: Path, has_video: bool) -> str:
    """The enclosure MIME type; an .mp4/.m4v without video is served as audio/mp4."""
    mime = CONTAINERS[path.suffix.lower()][1]
    if mime.startswith("video/") and not has_video and path.suffix.lower() in {".mp4", ".m4v"}:
        return "audio/mp4"
    return mime


def _first_line(stderr: str, path: Path) -> str:
    """ffmpeg's first complaint, without the file name it repeats."""
    for line in stderr.splitlines():
        line = line.replace(str(path) + ": ", "").strip()
        if line:
            return line.split("] ", 1)[-1] if line.startswith("[") else line
    return "no details from ffmpeg"


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None

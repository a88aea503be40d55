"""archive.yaml and the `<stem>.yaml` sidecars, validated strictly.

Both are parsed with yaml.safe_load into pydantic models with extra="forbid"; every problem is
collected and reported at once, each naming the file, the key path and what is wrong.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline.errors import ConfigError

ARCHIVE_FILE = "archive.yaml"
# The archive's folders: editors' media in, master transcripts (kept in git), the built site.
EPISODES_DIR = "episodes"
TRANSCRIPTS_DIR = "transcripts"
SITE_DIR = "site"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Owner(Strict):
    name: str
    email: str

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
            raise ValueError(f"not an e-mail address: {value!r}")
        return value


class Funding(Strict):
    url: str
    text: str


class TranscriptionSettings(Strict):
    """Whisper settings; the defaults are the good ones for Dutch podcasts (DESIGN.md)."""

    engine: Literal["faster-whisper", "openai-whisper"] = "faster-whisper"
    model: str = "base"  # a name, or a path to a local model directory
    language: str = "nl"
    beam_size: int = Field(5, ge=1, le=20)
    compute_type: str = "auto"  # auto: int8 on CPU, float16 on CUDA
    device: Literal["auto", "cpu", "cuda"] = "auto"
    threads: int = Field(0, ge=0)  # 0: one per core
    vad: bool = True
    word_timestamps: bool = True
    condition_on_previous_text: bool = False
    glossary: list[str] = Field(default_factory=list)
    diarize: bool = True  # find who speaks when (pipeline.transcribe.diarize)
    # faster-whisper decodes this many VAD chunks at once (BatchedInferencePipeline): twice the
    # throughput on a 2-core CPU at equal or better WER (docs/benchmarks.md). 0 or 1: one at a time.
    batch_size: int = Field(8, ge=0, le=64)
    # Episodes transcribed at once, each in its own worker process; 0: one per core, as
    # memory allows (pipeline.transcribe.workers.default_workers). Changes speed only, not the text.
    workers: int = Field(0, ge=0)


class ArchiveConfig(Strict):
    """The archive's own settings: `archive.yaml` at the archive root."""

    title: str
    description: str = Field(max_length=4000)
    base_url: str
    language: str = "nl"
    author: str
    owner: Owner
    image: str  # relative to the archive root; square, 1400-3000 px
    categories: list[str] = Field(min_length=1)  # "Category" or "Category/Subcategory"
    explicit: bool = False
    type: Literal["episodic", "serial"] = "episodic"
    link: str | None = None
    copyright: str | None = None
    locked: bool = True
    hosts: list[str] = Field(default_factory=list)
    funding: list[Funding] = Field(default_factory=list)
    transcription: TranscriptionSettings = Field(default_factory=TranscriptionSettings)

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not re.match(r"https?://[^/\s]+", value):
            raise ValueError(f"must start with http:// or https:// and a host: {value!r}")
        return value.rstrip("/") + "/"

    @field_validator("description")
    @classmethod
    def _description_bytes(cls, value: str) -> str:
        if len(value.encode("utf-8")) > 4000:
            raise ValueError("longer than 4000 bytes (Apple Podcasts' limit)")
        return value


class SidecarChapter(Strict):
    start: float | str  # seconds, or "MM:SS" / "HH:MM:SS(.mmm)"
    title: str
    url: str | None = None

    @field_validator("start")
    @classmethod
    def _start(cls, value: float | str) -> float:
        return parse_timestamp(value)


class Sidecar(Strict):
    """`episodes/<stem>.yaml`: everything optional; the sidecar wins over the file's tags."""

    title: str | None = None
    description: str | None = None
    date: dt.datetime | dt.date | None = None
    season: int | None = Field(None, ge=1)
    episode: int | None = Field(None, ge=1)
    episode_type: Literal["full", "trailer", "bonus"] | None = None
    explicit: bool | None = None
    image: str | None = None
    speakers: list[str] | dict[str, str] | None = None
    guests: list[str] | None = None
    cases: list[str] | None = None
    language: str | None = None
    chapters: list[SidecarChapter] | None = None
    video_url: str | None = None
    duration: float | str | None = None
    guid: str | None = None  # keep the GUID an episode had on a previous host

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: float | str | None) -> float | None:
        return None if value is None else parse_timestamp(value)

    @property
    def published(self) -> dt.datetime | None:
        """The date as an aware datetime (a bare date is taken as noon UTC)."""
        if self.date is None:
            return None
        value = self.date
        if not isinstance(value, dt.datetime):
            value = dt.datetime.combine(value, dt.time(12, 0))
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def parse_timestamp(value: float | int | str) -> float:
    """Seconds from a number or a "[HH:]MM:SS[.mmm]" string."""
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"negative time: {value}")
        return float(value)
    match = re.fullmatch(r"(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:[.,]\d+)?)", value.strip())
    if not match:
        raise ValueError(f"not a time (seconds or HH:MM:SS): {value!r}")
    hours, minutes, seconds = match.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds.replace(",", "."))

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's: ten times faster


def read_yaml(path: Path) -> Any:
    """safe_load a YAML file; unreadable, non-UTF-8 or malformed YAML is a ConfigError."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"not UTF-8 text (byte {e.start})", path) from e
    except OSError as e:
        raise ConfigError(f"cannot read: {e.strerror}", path) from e
    try:
        return yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError(f"malformed YAML{where}: {problem}", path) from e


def validate(model: type[BaseModel], data: Any, path: Path) -> Any:
    """Validate `data` against `model`; all problems in one error, each with its key path."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"expected a mapping of keys, got {type(data).__name__}", path)
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise ConfigError("; ".join(_describe(e.errors())), path) from e


# pydantic names the member of a union that failed ("speakers.list[str]"); editors need the key.
_UNION_MEMBER = re.compile(r"^(str|int|float|bool|date|datetime|list\[.*\]|dict\[.*\])$")


def _describe(errors: list[Any]) -> list[str]:
    """One message per key, in the order pydantic found them."""
    by_key: dict[str, list[str]] = {}
    for error in errors:
        parts = [str(p) for p in error["loc"] if not _UNION_MEMBER.match(str(p))]
        where = ".".join(parts) or "(top level)"
        if error["type"] == "extra_forbidden":
            message = f"unknown key '{where}'"
        elif error["type"] == "missing":
            message = f"missing key '{where}'"
        else:
            message = error["msg"].removeprefix("Value error, ")
        by_key.setdefault(where, [])
        if message not in by_key[where]:
            by_key[where].append(message)
    lines = []
    for where, messages in by_key.items():
        plain = [m for m in messages if not m.startswith(("unknown key", "missing key"))]
        lines += [m for m in messages if m.startswith(("unknown key", "missing key"))]
        if plain:
            lines.append(f"key '{where}': " + " or ".join(plain))
    return lines


def load_archive(root: Path) -> ArchiveConfig:
    path = root / ARCHIVE_FILE
    if not path.is_file():
        raise ConfigError(f"no {ARCHIVE_FILE} here: is this an archive folder?", root)
    config = validate(ArchiveConfig, read_yaml(path), path)
    image = (root / config.image).resolve()
    if not image.is_relative_to(root.resolve()):
        raise ConfigError(f"key 'image': path {config.image!r} leaves the archive folder", path)
    if not image.is_file():
        raise ConfigError(f"key 'image': file {config.image!r} not found", path)
    return config


def load_sidecar(path: Path) -> Sidecar:
    return validate(Sidecar, read_yaml(path), path)

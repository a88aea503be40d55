"""Errors for people: one clear line naming the file and the problem.

Expected failures derive from WijkError (a click.ClickException, so the CLI prints the message
without a traceback); real bugs keep their traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click


class WijkError(click.ClickException):
    """Base class for every expected failure."""

    def __init__(self, message: str, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else None
        super().__init__(f"{path}: {message}" if path is not None else message)


class ConfigError(WijkError):
    """archive.yaml or a sidecar is invalid."""


class MediaError(WijkError):
    """A media file can't be read, is empty, truncated, or not what its extension says."""


class DuplicateError(WijkError):
    """Two media files carry the same audio."""


class ModelError(WijkError):
    """A Whisper model is missing, incomplete, or fails its checksum."""


class TranscriptError(WijkError):
    """A transcript file on disk is malformed, or would overwrite an editor's correction."""


class LockedError(WijkError):
    """Another build holds the archive lock."""


@dataclass(frozen=True)
class Problem:
    """One line for the editor: which file, what is wrong. Warnings don't skip the episode."""

    path: Path
    message: str
    fatal: bool = True

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"

    @classmethod
    def from_error(cls, root: Path, error: WijkError, path: Path | None = None) -> Problem:
        """The error as a line about the file it names (or `path`), relative to the archive."""
        where = error.path or path or root
        message = error.message
        prefix = f"{error.path}: "
        if error.path is not None and message.startswith(prefix):
            message = message[len(prefix):]
        return cls(shown_path(root, where), message)


def shown_path(root: Path, path: Path) -> Path:
    """Paths in messages are relative to the archive, as the editor sees them."""
    try:
        return path.resolve().relative_to(root.resolve())
    except ValueError:
        return path

"""Where the later stages read transcripts from: one typed interface, read when asked for.

The build's own source is `transcribe.stage.ArchiveTranscripts` (masters on disk, one at a time
in memory, with each master's digest so unchanged outputs are kept); `TranscriptsInMemory`
serves transcripts held in a dict (small tools and tests), whose outputs are always made.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from pipeline.model import Episode, Transcript


class TranscriptSource(Protocol):
    """Transcripts by episode: what the tag and publish stages read."""

    # The master's digest for each episode with a transcript, by slug; None when not known
    # (then no output is kept on the strength of its inputs being as last time).
    digests: Mapping[str, str | None] | None

    def for_episode(self, episode: Episode) -> Transcript | None:
        """The episode's transcript with its sidecar's speaker names; None if it has none."""
        ...

    def for_page(self, episode: Episode, master: str) -> Transcript | None:
        """What an episode page shows of the master whose digest is `master` (words may be
        joined into runs of one speaker)."""
        ...


class TranscriptsInMemory:
    """A TranscriptSource over transcripts held in memory, by slug."""

    digests: Mapping[str, str | None] | None = None

    def __init__(self, transcripts: Mapping[str, Transcript]) -> None:
        self.transcripts = transcripts

    def for_episode(self, episode: Episode) -> Transcript | None:
        return self.transcripts.get(episode.slug)

    def for_page(self, episode: Episode, master: str) -> Transcript | None:
        return self.for_episode(episode)

"""The main job, `wijk build`: one step per stage, top to bottom."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import click

from pipeline.batch import transcribe_archive
from pipeline.config import load_archive
from pipeline.errors import Problem
from pipeline.identity import Registry
from pipeline.ingest import ingest
from pipeline.layout import SITE_DIR
from pipeline.model import Episode, Transcript
from pipeline.publish import publish_assets, publish_feed
from pipeline.tag import tag_archive


@dataclass
class BuildResult:
    episodes: list[Episode] = field(default_factory=list)
    transcripts: dict[str, Transcript] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    strict: bool = False

    @property
    def ok(self) -> bool:
        return not any(p.fatal or self.strict for p in self.problems)


def run(root: Path, strict: bool = False, force: bool = False) -> BuildResult:
    """Build the archive at `root`. Bad episodes are reported and skipped; the rest publish."""
    config = load_archive(root)
    registry = Registry.load(root)

    # 1. Ingest: media files and sidecars -> Episodes with permanent identities.
    inventory = ingest(root, config, registry)
    for identity in inventory.identities.values():
        registry.record(identity)
    registry.save()
    result = BuildResult(episodes=inventory.episodes, problems=list(inventory.problems),
                         strict=strict)

    # 2. Transcribe what is new or changed; keep current and corrected transcripts.
    batch = transcribe_archive(root, result.episodes, config.transcription, force=force)
    result.transcripts = batch.transcripts
    result.problems += batch.problems
    click.echo(batch.summary())

    # 3. Tag every transcript by case and lesson, with the passages as evidence.
    result.problems += tag_archive(root, result.episodes, result.transcripts)

    # 4. Publish: media, art and transcripts into site/, then the feed that points at them.
    published = publish_assets(root, config, result.episodes)
    feed = publish_feed(root, config, result.episodes)
    click.echo(f"Published to {root / SITE_DIR}: {published.written} file(s) written, "
               f"{published.removed} removed; feed: {feed}")

    _summarise(root, result)
    return result


def _summarise(root: Path, result: BuildResult) -> None:
    for problem in result.problems:
        label = "error" if problem.fatal else "warning"
        click.echo(f"{label}: {problem}", err=True)
    failed = {p.path for p in result.problems if p.fatal}
    click.echo(f"{len(result.episodes)} episode(s) ingested, {len(result.transcripts)} "
               f"transcript(s) in {root / 'transcripts'}; {len(failed)} file(s) with errors.")

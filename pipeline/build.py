"""The main job, `wijk build`: one step per stage, top to bottom."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import click

from pipeline.config import load_archive
from pipeline.identity import Registry
from pipeline.ingest import Problem, ingest
from pipeline.model import Episode


@dataclass
class BuildResult:
    episodes: list[Episode] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    strict: bool = False

    @property
    def ok(self) -> bool:
        return not any(p.fatal or self.strict for p in self.problems)


def run(root: Path, strict: bool = False) -> BuildResult:
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

    _summarise(result)
    return result


def _summarise(result: BuildResult) -> None:
    for problem in result.problems:
        label = "error" if problem.fatal else "warning"
        click.echo(f"{label}: {problem}", err=True)
    failed = sum(p.fatal for p in result.problems)
    click.echo(f"{len(result.episodes)} episode(s) built, {failed} skipped.")

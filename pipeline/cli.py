"""The `wijk` command: a thin layer over the library. Each command parses options, loads the
archive's settings and calls one library function."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from pipeline import build as build_stage
from pipeline.config import load_archive
from pipeline.ingest import Inventory, ingest
from pipeline.report import episode_json, inventory_table

ARCHIVE_OPTION = click.option(
    "--archive", "archive", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
    show_default=True, help="The archive folder (the one holding archive.yaml).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="wijkarchief")
def main() -> None:
    """Wijkarchief: turn a folder of podcast audio and video into an RSS feed and a transcript
    website, with Whisper transcripts tagged by case and lesson."""


@main.command()
@ARCHIVE_OPTION
@click.option("--strict", is_flag=True, help="Treat warnings as failures.")
def build(archive: Path, strict: bool) -> None:
    """Ingest, transcribe what is new, tag, and publish the site and feed.

    Example: wijk build --archive .
    """
    result = build_stage.run(archive, strict=strict)
    if not result.ok:
        sys.exit(1)


@main.command("ingest")
@ARCHIVE_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the inventory as JSON.")
def ingest_command(archive: Path, as_json: bool) -> None:
    """List every episode in episodes/ with its metadata; report bad files.

    Example: wijk ingest --json
    """
    config = load_archive(archive)
    inventory = ingest(archive, config)
    if as_json:
        click.echo(json.dumps(_inventory_json(inventory), ensure_ascii=False, indent=2))
    else:
        click.echo(inventory_table(inventory.episodes))
    _report_problems(inventory)
    if inventory.errors:
        sys.exit(1)


def _inventory_json(inventory: Inventory) -> dict:
    return {
        "episodes": [episode_json(episode) for episode in inventory.episodes],
        "problems": [{"path": str(p.path), "message": p.message, "fatal": p.fatal}
                     for p in inventory.problems],
    }


def _report_problems(inventory: Inventory) -> None:
    for problem in inventory.problems:
        label = "error" if problem.fatal else "warning"
        click.echo(f"{label}: {problem}", err=True)


if __name__ == "__main__":
    main()

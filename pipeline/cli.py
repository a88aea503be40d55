"""The `wijk` command: a thin layer over the library. Each command parses options, loads the
archive's settings and calls one library function."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from pipeline import build as build_stage
from pipeline.archive import load_archive
from pipeline.ingest.report import episode_json, inventory_table
from pipeline.ingest.scan import Inventory, ingest

ARCHIVE_OPTION = click.option(
    "--archive", "archive", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
    show_default=True, help="The archive folder (the one holding archive.yaml).")


class ConsoleHandler(logging.Handler):
    """How the library's messages look in a terminal: news on standard output as it is,
    warnings and errors on standard error as `warning: ...` / `error: ...`."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
        except Exception:  # a bad message must not stop a build
            self.handleError(record)
            return
        if record.levelno >= logging.WARNING:
            label = "error" if record.levelno >= logging.ERROR else "warning"
            click.echo(f"{label}: {message}", err=True)
        else:
            click.echo(message)


def show_messages() -> None:
    """Send the library's messages (logger "pipeline") to the terminal, once per process."""
    library = logging.getLogger("pipeline")
    library.setLevel(logging.INFO)
    if not any(isinstance(h, ConsoleHandler) for h in library.handlers):
        library.addHandler(ConsoleHandler())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="wijkarchief")
def main() -> None:
    """Wijkarchief: turn a folder of podcast audio and video into an RSS feed and a transcript
    website, with Whisper transcripts tagged by case and lesson."""
    show_messages()


@main.command()
@ARCHIVE_OPTION
@click.option("--strict", is_flag=True, help="Treat warnings as failures.")
@click.option("--force", is_flag=True,
              help="Re-transcribe even transcripts an editor corrected (the old one is kept in "
                   "transcripts/history/).")
@click.option("--wait", is_flag=True, help="If another build is running, wait for it.")
@click.option("--recheck", is_flag=True,
              help="Check every stage even when no file changed since the last clean build "
                   "(that is told from file sizes and times).")
@click.option("--workers", type=click.IntRange(min=0), default=None,
              help="Episodes to transcribe at once, each in its own process (default: "
                   "transcription.workers in archive.yaml; 0 there: one per core).")
@click.option("--cluster", metavar="ADDRESS",
              help="Transcribe on a running Dask cluster, e.g. tcp://scheduler:8786 (needs "
                   "wijkarchief[cluster]); results come back into transcripts/ here.")
def build(archive: Path, strict: bool, force: bool, wait: bool, recheck: bool,
          workers: int | None, cluster: str | None) -> None:
    """Ingest, transcribe what is new, tag, and publish the site and feed.

    Example: wijk build --archive .
    """
    result = build_stage.run(archive, strict=strict, force=force, wait=wait, workers=workers,
                             cluster=cluster, recheck=recheck)
    if not result.ok:
        sys.exit(1)


@main.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--engine", type=click.Choice(["faster-whisper", "openai-whisper"]),
              default="faster-whisper", show_default=True)
@click.option("--model", default="base", show_default=True,
              help="A model name (base is embedded) or the path to a local model.")
@click.option("--language", default="nl", show_default=True)
@click.option("--format", "formats", default="txt,vtt,srt,json", show_default=True,
              help="Comma-separated output formats: txt, vtt, srt, json (Podcasting 2.0).")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path),
              default=Path("."), show_default=True, help="Folder for the output files.")
@click.option("--speakers", type=click.IntRange(min=0), default=0, show_default=True,
              help="How many people speak: labels who speaks when, as wijk build does (0: "
                   "estimate it; 1: no speaker labels).")
def transcribe(files: tuple[Path, ...], engine: str, model: str, language: str, formats: str,
               output: Path, speakers: int) -> None:
    """Transcribe any media files, like the whisper CLI, with who speaks when.

    Example: wijk transcribe interview.mp3 --speakers 2 --format vtt,txt -o ondertitels/
    """
    from pipeline.archive import TranscriptionSettings
    from pipeline.transcribe.stage import transcribe_files
    from pipeline.transcripts.writers import FORMATS

    chosen = [name.strip() for name in formats.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in FORMATS]
    if unknown:
        raise click.BadParameter(f"unknown format {', '.join(unknown)}; choose from "
                                 f"{', '.join(FORMATS)}", param_hint="--format")
    settings = TranscriptionSettings(engine=engine, model=model, language=language)
    problems = transcribe_files(list(files), settings, chosen, output, speakers or None)
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    if problems:
        sys.exit(1)


@main.command()
@ARCHIVE_OPTION
def check(archive: Path) -> None:
    """Validate an already-built site: the feed, its enclosures, transcripts and chapters.

    Example: wijk check --archive .
    """
    from pipeline.check import check_site

    problems = check_site(archive, load_archive(archive))
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    if problems:
        sys.exit(1)
    click.echo(f"{archive / 'site'}: feed and linked files are valid.")


@main.command()
@ARCHIVE_OPTION
@click.option("--interval", type=float, default=2.0, show_default=True,
              help="Seconds between looks at episodes/.")
@click.option("--settle", type=float, default=2.0, show_default=True,
              help="Seconds a changed file must stay unchanged before building (copies).")
def watch(archive: Path, interval: float, settle: float) -> None:
    """Keep running: build now, and again whenever files in episodes/ appear, change or vanish.

    Example: wijk watch --archive .
    """
    from pipeline.watch import watch as watch_archive

    load_archive(archive)  # a broken archive.yaml stops here, before watching starts
    try:
        watch_archive(archive, interval=interval, pause=settle)
    except KeyboardInterrupt:
        click.echo("Stopped watching.")


@main.command()
@ARCHIVE_OPTION
@click.option("--port", type=click.IntRange(0, 65535), default=8100, show_default=True,
              help="Port on 127.0.0.1 (only this computer can reach the app).")
def review(archive: Path, port: int) -> None:
    """Review and correct transcripts in the browser: read, listen, fix, Ctrl+S saves.

    Opens nothing by itself: it prints the address to open. Saved corrections are published
    by the next `wijk build`.

    Example: wijk review --archive . --port 8100
    """
    from pipeline.review.server import review as run_review

    load_archive(archive)  # a missing or broken archive.yaml is one clear line
    run_review(archive, port)


@main.command()
@ARCHIVE_OPTION
@click.option("--port", default=8000, show_default=True, help="Port on 127.0.0.1.")
def serve(archive: Path, port: int) -> None:
    """Preview the built site on http://127.0.0.1:PORT/ (Ctrl+C to stop).

    Example: wijk serve --port 8000
    """
    from pipeline.archive import SITE_DIR
    from pipeline.serve import serve as serve_site

    try:
        serve_site(archive / SITE_DIR, port)
    except KeyboardInterrupt:
        click.echo("Stopped.")


@main.command("tag-text")
def tag_text() -> None:
    """Tag texts by case and lesson: JSON lines {"id","text"} on stdin, {"id","cases","lessons"}
    on stdout. A malformed line is reported on stderr and skipped.

    Example: wijk tag-text < passages.jsonl > tags.jsonl
    """
    from pipeline.tag.textstream import tag_text_stream

    errors = _CountingStream(sys.stderr)
    tag_text_stream(sys.stdin, sys.stdout, errors=errors)
    if errors.lines:
        sys.exit(1)


class _CountingStream:
    """A text stream that counts the error lines written through it."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.lines = 0

    def write(self, text: str) -> int:
        self.lines += text.count("\n")
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()


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

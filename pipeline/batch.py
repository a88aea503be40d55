"""Stage 2 over a whole archive: transcribe what is new or changed, keep what is current.

For each local episode the stored master decides: current (same audio, same settings) -> kept;
corrected by an editor -> kept (unless `force`); otherwise the engine transcribes it. The engine
is loaded once, and only when something needs it. Derived files (VTT, SRT, TXT, JSON) are
rewritten from every master, so an edited master shows everywhere after the next build.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import click
from tqdm import tqdm

from pipeline.config import TranscriptionSettings
from pipeline.engines import Engine, get_engine
from pipeline.corrections import WrittenLog, from_captions
from pipeline.diarize import assign_speakers, diarize
from pipeline.errors import Problem, TranscriptError, WijkError, shown_path
from pipeline.model import Episode, Transcript
from pipeline.report import clock
from pipeline.transcribe import transcribe_audio
from pipeline.transcripts import TranscriptStore, cache_key
from pipeline.fsutil import write_text_if_changed
from pipeline.writers import get_writer, write_formats

DERIVED_FORMATS = ("vtt", "srt", "txt", "json")


@dataclass
class BatchResult:
    transcripts: dict[str, Transcript] = field(default_factory=dict)  # by slug
    problems: list[Problem] = field(default_factory=list)
    transcribed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    audio_seconds: float = 0.0
    wall_seconds: float = 0.0
    written: int = 0  # masters and derived files (re)written

    def summary(self) -> str:
        if not self.transcribed:
            return f"Transcription: nothing new ({len(self.kept)} transcript(s) up to date)."
        speed = self.audio_seconds / self.wall_seconds if self.wall_seconds else 0.0
        return (f"Transcribed {len(self.transcribed)} episode(s): {self.audio_seconds / 3600:.2f} h "
                f"of audio in {clock(self.wall_seconds)} ({speed:.1f}x real time); "
                f"{len(self.kept)} kept as they were.")


class _LazyEngine:
    """Load the model on first use: a build with nothing new never pays for it."""

    def __init__(self, settings: TranscriptionSettings) -> None:
        self.settings = settings
        self._engine: Engine | None = None

    def get(self) -> Engine:
        if self._engine is None:
            self._engine = get_engine(self.settings)
        return self._engine


def transcribe_archive(root: Path, episodes: list[Episode], settings: TranscriptionSettings,
                       force: bool = False) -> BatchResult:
    """Bring every local episode's master up to date and regenerate its derived files."""
    store = TranscriptStore(root)
    engine = _LazyEngine(settings)
    written = WrittenLog(store.folder)
    result = BatchResult()
    for episode in episodes:
        if episode.source is None or episode.media is None:
            continue  # a video that lives elsewhere has no audio here to transcribe
        try:
            _take_caption_corrections(store, written, episode)
            transcript = _bring_up_to_date(store, engine, episode, settings, force, result)
            result.written += _write_derived(transcript, store.folder, episode.slug, written)
        except WijkError as error:
            result.problems.append(Problem.from_error(root, error, episode.source))
            continue
        if not any(not segment.flagged for segment in transcript.segments):
            result.problems.append(Problem(shown_path(root, episode.source),
                                           "no speech found: the transcript is empty", fatal=False))
        result.transcripts[episode.slug] = transcript
    written.save()
    return result


def _take_caption_corrections(store: TranscriptStore, written: WrittenLog,
                              episode: Episode) -> None:
    """An editor changed <slug>.vtt: make its cues the (corrected) master transcript."""
    captions = store.folder / f"{episode.slug}.vtt"
    text = written.edited(captions)
    stored = store.load(episode.slug) if text is not None else None
    if text is None or stored is None:
        return
    try:
        corrected = from_captions(text, stored.transcript)
    except ValueError as e:
        raise TranscriptError(f"{e}; your edit is kept as it is, fix the line and build again",
                              captions) from e
    store.keep_file(captions)
    store.keep_version(episode.slug)
    store.save(episode, corrected, stored.cache_key)
    click.echo(f"{episode.slug}: took the corrections made in {captions.name}.", err=True)


def _bring_up_to_date(store: TranscriptStore, engine: _LazyEngine, episode: Episode,
                      settings: TranscriptionSettings, force: bool,
                      result: BatchResult) -> Transcript:
    key = cache_key(episode.media.audio_hash, settings, _speaker_count(episode))
    stored = store.load(episode.slug)
    if stored is not None and (stored.corrected and not force or store.is_current(stored, key)):
        result.kept.append(episode.slug)
        return _with_speakers(stored.transcript, episode)
    started = time.monotonic()
    transcript = _transcribe_one(engine.get(), episode, settings)
    transcript = _label_speakers(transcript, episode, settings)
    elapsed = time.monotonic() - started
    transcript = _with_speakers(transcript, episode)
    store.save(episode, transcript, key, force=force)
    result.written += 1
    result.transcribed.append(episode.slug)
    result.audio_seconds += episode.media.duration
    result.wall_seconds += elapsed
    if not _interactive():
        speed = episode.media.duration / elapsed if elapsed else 0.0
        click.echo(f"transcribed {episode.slug}: {clock(episode.media.duration)} of audio in "
                   f"{elapsed:.1f} s ({speed:.1f}x real time)", err=True)
    return transcript


def _write_derived(transcript: Transcript, folder: Path, slug: str, log: WrittenLog) -> int:
    """VTT, SRT, TXT and JSON from the master; unchanged files are left alone."""
    count = 0
    for name in DERIVED_FORMATS:
        writer = get_writer(name)
        path = folder / f"{slug}.{writer.extension}"
        text = writer.render(transcript)
        count += write_text_if_changed(path, text)
        log.record(path.name, text)
    return count


def _transcribe_one(engine: Engine, episode: Episode,
                    settings: TranscriptionSettings) -> Transcript:
    """Run the engine with a progress bar showing audio position and ETA."""
    total = round(episode.media.duration, 1)
    with tqdm(total=total, unit="s", desc=_shorten(episode.slug, 32), leave=False,
              disable=not _interactive(), bar_format="{desc} {bar} {n:.0f}/{total:.0f} s audio "
              "[{elapsed}<{remaining}]") as bar:

        def progress(position: float) -> None:
            bar.update(max(0.0, min(position, total) - bar.n))

        return transcribe_audio(episode.source, settings, engine=engine, progress=progress,
                                audio_hash=episode.media.audio_hash)


def _speaker_count(episode: Episode) -> int | None:
    """How many speakers the sidecar names as a list (a mapping names detected slots)."""
    names = episode.speakers
    return len(names) if isinstance(names, list) and names else None


def _label_speakers(transcript: Transcript, episode: Episode,
                    settings: TranscriptionSettings) -> Transcript:
    """Who speaks when, for a transcript just made (an editor's master never comes here)."""
    count = _speaker_count(episode)
    if not settings.diarize or count == 1:
        return transcript  # a single named speaker: _with_speakers gives them every segment
    turns = diarize(episode.source, num_speakers=count)
    return assign_speakers(transcript, turns)


def _with_speakers(transcript: Transcript, episode: Episode) -> Transcript:
    """Names from the sidecar: a list names SPEAKER_1, SPEAKER_2... in order of appearance.

    A transcript corrected by an editor keeps the names the editor gave. With a single named
    speaker every segment is theirs (a monologue needs no diarization).
    """
    if transcript.provenance.status == "corrected" and transcript.speakers:
        return transcript
    names = episode.speakers
    if isinstance(names, list):
        transcript.speakers = {f"SPEAKER_{i}": name for i, name in enumerate(names, start=1)}
    else:
        transcript.speakers = dict(names)
    if len(transcript.speakers) == 1:
        [slot] = transcript.speakers
        for segment in transcript.segments:
            segment.speaker = segment.speaker or slot
            for word in segment.words:
                word.speaker = word.speaker or slot
    return transcript


def _interactive() -> bool:
    return sys.stderr.isatty()


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def transcribe_files(files: list[Path], settings: TranscriptionSettings, formats: list[str],
                     output: Path) -> list[Problem]:
    """`wijk transcribe`: any media files, written as `<output>/<stem>.<ext>` per format."""
    from pipeline import media

    engine = _LazyEngine(settings)
    problems = []
    for path in files:
        try:
            media.probe(path)
            scan = media.scan_audio(path)
            started = time.monotonic()
            transcript = transcribe_audio(path, settings, engine=engine.get(),
                                          audio_hash=scan.audio_hash)
            written = write_formats(transcript, output, path.stem, formats)
        except WijkError as error:
            problems.append(Problem.from_error(Path.cwd(), error, path))
            continue
        elapsed = time.monotonic() - started
        click.echo(f"{path}: {clock(scan.duration)} of audio in {elapsed:.1f} s -> "
                   + ", ".join(str(p) for p in written.values()))
    return problems

"""Stage 2 over a whole archive: transcribe what is new or changed, keep what is current.

For each local episode the stored master decides: current (same audio, same settings) -> kept;
corrected by an editor -> kept (unless `force`); otherwise the engine transcribes it. The engine
is loaded once, and only when something needs it. Derived files (VTT, SRT, TXT, JSON) are
remade from a master whenever it (or the sidecar's speaker names, or the writers) changed, so an
edited master shows everywhere after the next build. A master nothing has changed is not even
read: the build memo (pipeline.cache.memo) knows its digest, cache key and status, and later stages
ask `ArchiveTranscripts` for the few transcripts they need.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Iterator, MutableMapping
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from pipeline.archive import TranscriptionSettings
from pipeline.cache.catalogue import Catalogue
from pipeline.cache.memo import BuildMemo, code_digest, digest_of
from pipeline.errors import Problem, TranscriptError, WijkError, shown_path
from pipeline.fsutil import write_text_if_changed
from pipeline.model import Episode, Transcript
from pipeline.text import clock
from pipeline.transcribe.workers import (
    JobResult,
    TranscriptionJob,
    local_pool,
    run_job,
    worker_settings,
)
from pipeline.transcripts.captions import cut_cues
from pipeline.transcripts.corrections import WrittenLog, from_captions
from pipeline.transcripts.store import ReadingCopies, TranscriptStore, cache_key
from pipeline.transcripts.writers import CaptionWriter, get_writer, write_formats

logger = logging.getLogger(__name__)

DERIVED_FORMATS = ("vtt", "srt", "txt", "json")


WRITERS_CODE = code_digest("transcripts/writers.py", "transcripts/captions.py",
                           "transcribe/stage.py", "model.py")


class ArchiveTranscripts:
    """Every episode's current transcript by slug, read from transcripts/ when asked for and
    not kept: however large the archive, one transcript at a time is in memory.

    `digests` has the master's digest for every episode with a transcript (by slug, beside
    the catalogue): later stages key their own outputs on it, so they too can skip unchanged
    episodes without reading them.
    """

    def __init__(self, store: TranscriptStore, episodes: Iterable[Episode]) -> None:
        self.store = store
        self.copies = ReadingCopies(store.folder.parent)
        self._episodes: Catalogue | None = Catalogue.of(episodes)  # None in a worker process
        self.digests: MutableMapping[str, str | None] | None = self._episodes.column("masters")

    def __getstate__(self) -> dict[str, Any]:
        """What a page worker gets: no catalogue and no digests (it is sent each page's
        episode, and the page's plan says whether the episode has a transcript)."""
        return {**self.__dict__, "_episodes": None, "digests": None}

    def __contains__(self, slug: str) -> bool:
        return self.digests is not None and slug in self.digests

    def record(self, slug: str, master: str | None) -> None:
        """The episode has a current transcript: its master's digest."""
        assert self.digests is not None, "recorded in the build's own process"
        self.digests[slug] = master

    def get(self, slug: str) -> Transcript | None:
        """The transcript with the sidecar's speaker names; None if it has none."""
        if self._episodes is None or slug not in self:
            return None  # no transcript: the episode isn't even read
        episode = self._episodes.get(slug)
        return self.for_episode(episode) if episode is not None else None

    def for_episode(self, episode: Episode) -> Transcript | None:
        """`episode`'s transcript with its sidecar's speaker names; None if it has none (in a
        worker process, which has no digests: None if there is no master)."""
        if self.digests is not None and episode.slug not in self.digests:
            return None
        transcript = self._master(episode.slug)
        return with_speakers(transcript, episode) if transcript else None

    def for_page(self, episode: Episode, master: str) -> Transcript | None:
        """As `for_episode`, from the reading copy of the master whose digest is `master`
        (made from the master when there is none): what an episode page shows."""
        transcript = self.copies.load(episode.slug, master)
        if transcript is None:
            transcript = self._master(episode.slug)
            if transcript is None:
                return None
            transcript = self.copies.save(episode.slug, master, transcript)
        return with_speakers(transcript, episode)

    def _master(self, slug: str) -> Transcript | None:
        try:
            stored = self.store.load(slug)
        except TranscriptError:  # damaged since the transcription step read it: next build says so
            return None
        return stored.transcript if stored else None


@dataclass
class BatchResult:
    transcripts: ArchiveTranscripts
    problems: list[Problem] = field(default_factory=list)
    transcribed: list[str] = field(default_factory=list)
    kept: int = 0  # transcripts that were current (a count: thousands of slugs otherwise)
    workers: set[int] = field(default_factory=set)  # the processes that transcribed
    audio_seconds: float = 0.0
    wall_seconds: float = 0.0
    written: int = 0  # masters and derived files (re)written

    def summary(self) -> str:
        if not self.transcribed:
            return f"Transcription: nothing new ({self.kept} transcript(s) up to date)."
        speed = self.audio_seconds / self.wall_seconds if self.wall_seconds else 0.0
        return (f"Transcribed {len(self.transcribed)} episode(s): {self.audio_seconds / 3600:.2f} h "
                f"of audio in {clock(self.wall_seconds)} ({speed:.1f}x real time); "
                f"{self.kept} kept as they were.")


def transcribe_archive(root: Path, episodes: Iterable[Episode], settings: TranscriptionSettings,
                       force: bool = False, memo: BuildMemo | None = None, workers: int = 1,
                       executor: Executor | None = None) -> BatchResult:
    """Bring every local episode's master up to date and regenerate its derived files.

    New episodes are transcribed `workers` at a time in worker processes (1: here, with a
    progress bar), or by `executor` (a Dask cluster's, see pipeline.transcribe.workers) when given.
    """
    store = TranscriptStore(root)
    memo = memo or BuildMemo()
    written = WrittenLog(store.folder)
    result = BatchResult(ArchiveTranscripts(store, episodes))
    todo: list[Episode] = []
    for episode in episodes:
        if episode.source is None or episode.media is None:
            continue  # a video that lives elsewhere has no audio here to transcribe
        try:
            _take_caption_corrections(store, written, episode, memo)
            if not force and _untouched(store, episode, settings, written, memo, result):
                continue
            stored = _still_current(store, episode, settings, force)
            if stored is None:
                todo.append(episode)
                continue
            result.kept += 1
            _finish(store, episode, settings, with_speakers(stored, episode), written, memo, result)
        except WijkError as error:
            result.problems.append(Problem.from_error(root, error, episode.source))
    for episode, outcome in _transcribe(todo, settings, workers, executor, result):
        try:
            if isinstance(outcome, WijkError):
                raise outcome
            transcript = with_speakers(outcome, episode)
            store.save(episode, transcript, _master_key(episode, settings), force=force)
            result.written += 1
            _finish(store, episode, settings, transcript, written, memo, result)
        except WijkError as error:
            result.problems.append(Problem.from_error(root, error, episode.source))
    written.save()
    return result


def _still_current(store: TranscriptStore, episode: Episode, settings: TranscriptionSettings,
                   force: bool) -> Transcript | None:
    """The stored master if it needs no new transcription: same audio and settings, or an
    editor's correction (unless `force`)."""
    stored = store.load(episode.slug)
    if stored is not None and (stored.corrected and not force or
                               store.is_current(stored, _master_key(episode, settings))):
        return stored.transcript
    return None


def _finish(store: TranscriptStore, episode: Episode, settings: TranscriptionSettings,
            transcript: Transcript, written: WrittenLog, memo: BuildMemo,
            result: BatchResult) -> None:
    """Derived files from the master, remembered for the next build; warn about no speech."""
    result.written += write_derived(transcript, store.folder, episode.slug, written)
    _remember(store, episode, settings, transcript, written, memo, result)
    _warn_if_empty(store.folder.parent, episode, transcript.is_empty, result)


def _transcribe(episodes: list[Episode], settings: TranscriptionSettings, workers: int,
                executor: Executor | None,
                result: BatchResult) -> Iterator[tuple[Episode, Transcript | WijkError]]:
    """Each episode with its new transcript (or the error), in the order they finish."""
    if not episodes:
        return
    started = time.monotonic()
    workers = min(workers, len(episodes))  # one new episode: here, with every core
    if executor is None and workers <= 1:
        outcomes = ((e, _here(e, settings)) for e in episodes)
    else:
        outcomes = _elsewhere(episodes, worker_settings(settings, workers),
                              executor or local_pool(workers), on_cluster=executor is not None)
    for episode, outcome in outcomes:
        if isinstance(outcome, JobResult):
            _report(episode, outcome, result)
            outcome = outcome.transcript
        yield episode, outcome
    result.wall_seconds = time.monotonic() - started


def _job(episode: Episode, settings: TranscriptionSettings,
         carry_audio: bool = False) -> TranscriptionJob:
    """`carry_audio`: send the file's bytes (cluster workers may not share this disk)."""
    audio = episode.source.read_bytes() if carry_audio else episode.source
    return TranscriptionJob(slug=episode.slug, name=episode.source.name, audio=audio,
                            audio_hash=episode.media.audio_hash,
                            speakers=_speaker_count(episode), settings=settings)


def _here(episode: Episode, settings: TranscriptionSettings) -> JobResult | WijkError:
    """In this process, with a progress bar showing audio position and ETA."""
    total = round(episode.media.duration, 1)
    with tqdm(total=total, unit="s", desc=_shorten(episode.slug, 32), leave=False,
              disable=not _interactive(), bar_format="{desc} {bar} {n:.0f}/{total:.0f} s audio "
              "[{elapsed}<{remaining}]") as bar:

        def progress(position: float) -> None:
            bar.update(max(0.0, min(position, total) - bar.n))

        try:
            return run_job(_job(episode, settings), progress=progress)
        except WijkError as error:
            return error


def _elsewhere(episodes: list[Episode], settings: TranscriptionSettings, executor: Executor,
               on_cluster: bool) -> Iterator[tuple[Episode, JobResult | WijkError]]:
    """In worker processes or on a cluster: all submitted at once, taken as they finish."""
    try:
        futures = {executor.submit(run_job, _job(e, settings, on_cluster)): e for e in episodes}
        for future in as_completed(futures):
            try:
                yield futures[future], future.result()
            except WijkError as error:
                yield futures[future], error
    finally:
        if not on_cluster:  # our own pool; a cluster's client is closed by its owner
            executor.shutdown(cancel_futures=True)


def _report(episode: Episode, done: JobResult, result: BatchResult) -> None:
    result.transcribed.append(episode.slug)
    result.workers.add(done.worker)
    result.audio_seconds += episode.media.duration
    if not _interactive():
        speed = episode.media.duration / done.seconds if done.seconds else 0.0
        logger.info("transcribed %s: %s of audio in %.1f s (%.1fx real time)", episode.slug,
                    clock(episode.media.duration), done.seconds, speed)


def _derived_key(episode: Episode, settings: TranscriptionSettings, master: str) -> str:
    """What the master's derived files are made from: its bytes, the names, the writers."""
    return digest_of(master, episode.speakers, WRITERS_CODE, _master_key(episode, settings))


def _untouched(store: TranscriptStore, episode: Episode, settings: TranscriptionSettings,
               written: WrittenLog, memo: BuildMemo, result: BatchResult) -> bool:
    """True when the master and its derived files are exactly as the last build left them and
    nothing they depend on changed: then none of them is read or rewritten."""
    master = memo.file_digest(store.master_path(episode.slug))
    entry = written.sources.get(episode.slug)
    if master is None or not entry or entry.get("key") != _derived_key(episode, settings, master):
        return False
    for path in _derived_paths(store.folder, episode.slug):
        if memo.file_digest(path) != written.hashes.get(path.name):
            return False
    result.kept += 1
    result.transcripts.record(episode.slug, master)
    _warn_if_empty(store.folder.parent, episode, bool(entry.get("empty")), result)
    return True


def _remember(store: TranscriptStore, episode: Episode, settings: TranscriptionSettings,
              transcript: Transcript, written: WrittenLog, memo: BuildMemo,
              result: BatchResult) -> None:
    master = memo.file_digest(store.master_path(episode.slug))
    result.transcripts.record(episode.slug, master)
    written.record_source(episode.slug, {"key": _derived_key(episode, settings, master),
                                         "empty": transcript.is_empty})
    for path in _derived_paths(store.folder, episode.slug):  # digested now, not next build
        memo.file_digest(path)


def _warn_if_empty(root: Path, episode: Episode, empty: bool, result: BatchResult) -> None:
    if empty:
        result.problems.append(Problem(shown_path(root, episode.source),
                                       "no speech found: the transcript is empty", fatal=False))


def _take_caption_corrections(store: TranscriptStore, written: WrittenLog,
                              episode: Episode, memo: BuildMemo) -> None:
    """An editor changed <slug>.vtt: make its cues the (corrected) master transcript."""
    captions = store.folder / f"{episode.slug}.vtt"
    if memo.file_digest(captions) == written.hashes.get(captions.name):
        return  # as the build wrote it (or absent and never written)
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
    logger.info("%s: took the corrections made in %s.", episode.slug, captions.name)


def write_derived(transcript: Transcript, folder: Path, slug: str, log: WrittenLog) -> int:
    """VTT, SRT, TXT and JSON from the master; unchanged files are left alone. The caption
    formats share one cutting of the cues (the costly part)."""
    count = 0
    cues = None
    for name, path in zip(DERIVED_FORMATS, _derived_paths(folder, slug)):
        writer = get_writer(name)
        if isinstance(writer, CaptionWriter):
            cues = cues if cues is not None else cut_cues(transcript, writer.rules)
            text = writer.render_cues(cues, transcript.provenance)
        else:
            text = writer.render(transcript)
        count += write_text_if_changed(path, text)
        log.record(path.name, text)
    return count


def _master_key(episode: Episode, settings: TranscriptionSettings) -> str:
    """The cache key a master made now from this episode's audio would carry."""
    return cache_key(episode.media.audio_hash, settings, _speaker_count(episode))


def _derived_paths(folder: Path, slug: str) -> list[Path]:
    """The episode's derived files, in the order of DERIVED_FORMATS."""
    return [folder / f"{slug}.{get_writer(name).extension}" for name in DERIVED_FORMATS]


def _speaker_count(episode: Episode) -> int | None:
    """How many speakers the sidecar names as a list (a mapping names detected slots)."""
    names = episode.speakers
    return len(names) if isinstance(names, list) and names else None


def with_speakers(transcript: Transcript, episode: Episode) -> Transcript:
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
                     output: Path, speakers: int | None = None) -> list[Problem]:
    """`wijk transcribe`: any media files, written as `<output>/<stem>.<ext>` per format, with
    speaker labels as a build makes them (`speakers`: how many; None: estimated)."""
    from pipeline.ingest import media

    problems = []
    for path in files:
        try:
            media.probe(path)
            scan = media.scan_audio(path)
            job = TranscriptionJob(path.stem, path.name, path, scan.audio_hash, speakers,
                                   settings)
            done = run_job(job)
            written = write_formats(done.transcript, output, path.stem, formats)
        except WijkError as error:
            problems.append(Problem.from_error(Path.cwd(), error, path))
            continue
        logger.info("%s: %s of audio in %.1f s -> %s", path, clock(scan.duration), done.seconds,
                    ", ".join(str(p) for p in written.values()))
    return problems

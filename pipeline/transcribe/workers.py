"""Transcribing several episodes at once: on this machine's cores, or on a Dask cluster.

A `TranscriptionJob` is one episode's audio and everything the engine needs; `run_job` turns it
into a labelled Transcript. `run_job` is a plain function of plain data, so any
`concurrent.futures.Executor` can run it: `local_pool` (processes on this machine) or the
executor of a Dask client (`cluster_executor`, for a backlog too big for one machine). Each
worker process loads the engine once, on its first job, and keeps it for the next ones.
Results come back to the build, which alone writes `transcripts/` (under the archive lock).
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.archive import TranscriptionSettings
from pipeline.errors import WijkError
from pipeline.model import Transcript
from pipeline.processes import end_with_parent, usable_cores
from pipeline.transcribe.engines.base import Progress

WORKER_MEMORY = 1.5e9  # bytes one worker may use at its peak (base model, batched decoding)


def default_workers(cores: int | None = None, memory: float | None = None) -> int:
    """How many episodes to transcribe at once: one per core, as many as memory allows.

    Each worker then runs its engine on one thread. Much of an episode's work (decoding the
    audio, finding speech, speaker embeddings) runs on one thread anyway, so whole episodes in
    parallel beat one episode on several threads: 1.49x the throughput with 2 workers on 2
    cores (bench/parallel.py, docs/benchmarks.md). A single new episode still gets every core."""
    cores = cores or usable_cores()
    memory = memory or _available_memory()
    return max(1, min(cores, int(memory // WORKER_MEMORY)))


def _available_memory() -> float:
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 4e9


@dataclass(frozen=True)
class TranscriptionJob:
    """One episode to transcribe. `audio` is a path the worker can read, or the file's bytes
    (for workers on other machines without the archive's disk); `name` gives their format."""

    slug: str
    name: str
    audio: Path | bytes
    audio_hash: str
    speakers: int | None  # how many people speak, when the sidecar names them
    settings: TranscriptionSettings


@dataclass
class JobResult:
    slug: str
    transcript: Transcript
    seconds: float  # wall time of transcription and speaker labels
    worker: int  # the process that did it


_ENGINES: dict[str, Any] = {}  # per worker process: settings -> loaded engine


def engine_for(settings: TranscriptionSettings) -> Any:
    """The engine for these settings, loaded on first use and kept for this process's life."""
    from pipeline.transcribe.engines import get_engine

    key = settings.model_dump_json()
    if key not in _ENGINES:
        _ENGINES[key] = get_engine(settings)
    return _ENGINES[key]


def run_job(job: TranscriptionJob, progress: Progress | None = None) -> JobResult:
    """Transcribe and label one episode; raises WijkError for a file that can't be read."""
    from pipeline.transcribe.diarize import assign_speakers, diarize
    from pipeline.transcribe.recognise import transcribe_audio

    started = time.monotonic()
    engine = engine_for(job.settings)
    with _readable(job) as audio:
        transcript = transcribe_audio(audio, job.settings, engine=engine, progress=progress,
                                      audio_hash=job.audio_hash)
        if job.settings.diarize and job.speakers != 1:
            transcript = assign_speakers(transcript, diarize(audio, num_speakers=job.speakers))
    return JobResult(job.slug, transcript, time.monotonic() - started, os.getpid())


class _readable:
    """The job's audio as a path: its own, or a temporary copy of the bytes it carries."""

    def __init__(self, job: TranscriptionJob) -> None:
        self.job = job
        self.temporary: Path | None = None

    def __enter__(self) -> Path:
        if isinstance(self.job.audio, Path):
            return self.job.audio
        fd, name = tempfile.mkstemp(suffix=Path(self.job.name).suffix, prefix="wijk-job-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(self.job.audio)
        self.temporary = Path(name)
        return self.temporary

    def __exit__(self, *exc: object) -> None:
        if self.temporary is not None:
            self.temporary.unlink(missing_ok=True)


def local_pool(workers: int) -> Executor:
    """Worker processes on this machine, each with its share of the cores for its engine.

    Started with 'spawn': a fresh interpreter per worker, not a fork of a process whose
    libraries (torch, CTranslate2) may hold threads and locks.
    """
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start_worker,
                               initargs=(os.getpid(), _threads_each(workers)))


def _start_worker(parent: int, threads: int) -> None:
    end_with_parent(parent)
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(threads)


def worker_settings(settings: TranscriptionSettings, workers: int) -> TranscriptionSettings:
    """The settings a worker runs with: its share of the cores, unless threads are set."""
    if settings.threads or workers <= 1:
        return settings
    return settings.model_copy(update={"threads": _threads_each(workers)})


def _threads_each(workers: int) -> int:
    """Each of `workers` processes' share of the cores."""
    return max(1, usable_cores() // workers)


@contextmanager
def cluster_executor(address: str | None) -> Iterator[Executor | None]:
    """The executor of a running Dask cluster (its scheduler's address, e.g. tcp://host:8786),
    connected for the time of the `with`; None for no address."""
    if not address:
        yield None
        return
    try:
        from distributed import Client
    except ImportError as e:
        raise WijkError("a cluster needs Dask: pip install 'wijkarchief[cluster]'") from e
    try:
        client = Client(address, timeout=30)
    except (OSError, TimeoutError) as e:
        raise WijkError(f"cannot reach the Dask scheduler at {address}: {e}") from e
    try:
        yield client.get_executor(pure=False)
    finally:
        client.close()

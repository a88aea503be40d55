"""Transcribing several episodes at once: worker processes here, and a real Dask cluster.

The Dask test starts a local cluster of that engine on this machine (a scheduler and two worker
processes, as `dask scheduler` and `dask worker` would on several machines) and builds an
archive through it: the workers transcribe with real Whisper, the results come back into
transcripts/, and the next build finds them current.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pipeline import build
from pipeline.archive import TranscriptionSettings
from pipeline.transcribe.workers import (
    TranscriptionJob,
    default_workers,
    run_job,
    usable_cores,
    worker_settings,
)

pytestmark = pytest.mark.whisper

CLIPS = {"kernen.opus": "nl_kernen.opus", "voorst.opus": "nl_voorst.opus",
         "staart.opus": "nl_staart_ruis.opus"}


@pytest.fixture
def three_clips(make_archive, data_dir):
    files: dict[str, object] = {name: data_dir / "speech" / clip for name, clip in CLIPS.items()}
    for index, name in enumerate(CLIPS, start=1):
        files[name.replace(".opus", ".yaml")] = (f"title: Clip {index}\ndate: 2024-0{index}-01\n"
                                                 "speakers: [Lou Repetur]\n")
    return make_archive(files)


def masters(root: Path) -> dict[str, dict]:
    found = {}
    for name in ("kernen", "voorst", "staart"):
        data = json.loads((root / "transcripts" / f"{name}.json").read_text(encoding="utf-8"))
        found[name] = data
    return found


def test_worker_pool_gives_the_same_transcripts_as_one_at_a_time(three_clips, tmp_path):
    one = build.run(three_clips, workers=1)
    assert one.ok, [str(p) for p in one.problems]
    sequential = masters(three_clips)
    for name in ("transcripts", "site", ".cache"):
        os.system(f"rm -rf '{three_clips / name}'")
    two = build.run(three_clips, workers=2)
    assert two.ok, [str(p) for p in two.problems]
    parallel = masters(three_clips)
    for name in sequential:  # one worker with every core, or two of one thread each
        assert parallel[name]["segments"] == sequential[name]["segments"], name  # words, times,
        assert parallel[name]["speakers"] == sequential[name]["speakers"], name  # speakers
        assert parallel[name]["cache_key"] == sequential[name]["cache_key"]
    again = build.run(three_clips, workers=2, recheck=True)
    assert again.changed == 0


def test_a_job_runs_from_the_file_s_bytes(data_dir):
    """Workers on another machine get the audio itself, not a path they can't open."""
    audio = data_dir / "speech" / "nl_kernen.opus"
    job = TranscriptionJob(slug="kernen", name=audio.name, audio=audio.read_bytes(),
                           audio_hash="test", speakers=1, settings=TranscriptionSettings())
    done = run_job(job)
    assert done.slug == "kernen" and done.worker == os.getpid()
    assert "kleine kernen kennen mensen" in " ".join(s.text for s in done.transcript.segments)


def test_dask_local_cluster_transcribes_a_backlog_into_transcripts(three_clips):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        result = build.run(three_clips, cluster=cluster.scheduler_address)
        assert result.ok, [str(p) for p in result.problems]
        with distributed.Client(cluster) as client:
            workers = set(client.run(os.getpid).values())
    found = masters(three_clips)
    assert set(found) == {"kernen", "voorst", "staart"}
    assert all(m["segments"] for m in found.values())
    # Written here, like any build's transcripts: the next local build has nothing to do.
    again = build.run(three_clips, workers=1, recheck=True)
    assert "kernen" in again.transcripts.digests and again.changed == 0
    assert result.transcribed_by and result.transcribed_by <= workers
    assert os.getpid() not in workers


def test_default_workers_follow_cores_and_memory():
    assert default_workers(cores=2, memory=24e9) == 2
    assert default_workers(cores=16, memory=128e9) == 16
    assert default_workers(cores=16, memory=4e9) == 2  # memory-bound
    assert default_workers(cores=1, memory=1e9) == 1
    settings = TranscriptionSettings()
    assert worker_settings(settings, 1) is settings
    assert worker_settings(settings, 2).threads == max(1, usable_cores() // 2)
    assert worker_settings(settings.model_copy(update={"threads": 3}), 2).threads == 3

"""Parallel transcription: throughput of `wijk build` with 1, 2... worker processes.

    WIJK_CACHE_DIR=.cache/wijkarchief .venv/bin/python bench/parallel.py [--workers 1 2] [--rounds 2]

The archive is the demo's five local episodes plus the three transcription benchmark clips
(tests/data/speech), 3.2 minutes of audio in 8 files. Each run starts from no transcripts in
a fresh Python process and times the transcription step of a real build (model loading
included: each worker loads its engine once), with the archive's default settings
(faster-whisper base int8, batched, speaker labels on). Throughput is audio hours per wall hour.
Rounds alternate the worker counts so that other load on the machine falls on each alike.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SPEECH = REPO / "tests" / "data" / "speech"

RUN = """
import json, sys, time
from pathlib import Path
from pipeline import build
root = Path(sys.argv[1])
started = time.monotonic()
result = build.run(root, workers=int(sys.argv[2]))
total = time.monotonic() - started
audio = sum(e.media.duration for e in result.episodes if e.media and e.source)
print(json.dumps({"build": total, "audio": audio, "ok": result.ok,
                  "workers": len(result.transcribed_by)}))
"""


def make_archive(folder: Path) -> Path:
    root = folder / "archive"
    shutil.copytree(REPO / "episodes", root / "episodes")
    shutil.copyfile(REPO / "archive.yaml", root / "archive.yaml")
    for clip in sorted(SPEECH.glob("*.opus")):
        shutil.copyfile(clip, root / "episodes" / clip.name)
    return root


def run(root: Path, workers: int) -> dict:
    for name in ("transcripts", "site", ".cache"):
        shutil.rmtree(root / name, ignore_errors=True)
    done = subprocess.run([sys.executable, "-c", RUN, str(root), str(workers)],
                          capture_output=True, text=True, cwd=REPO)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    line = json.loads(done.stdout.strip().splitlines()[-1])
    transcribed = [l for l in done.stdout.splitlines() if l.startswith("Transcribed")]
    line["summary"] = transcribed[0] if transcribed else ""
    return line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = make_archive(Path(folder))
        results: dict[int, list[dict]] = {n: [] for n in args.workers}
        for round_ in range(args.rounds):
            for workers in args.workers if round_ % 2 == 0 else reversed(args.workers):
                results[workers].append(run(root, workers))
                print(f"round {round_ + 1}, {workers} worker(s): {results[workers][-1]}",
                      file=sys.stderr, flush=True)
    print("| workers | audio | whole build, wall s (each round) | audio h per wall h | vs 1 worker |")
    print("|---|---|---|---|---|")
    base = None
    for workers, runs in results.items():
        best = min(r["build"] for r in runs)
        audio = runs[0]["audio"]
        speed = audio / best
        base = base or speed
        rounds = ", ".join(f"{r['build']:.1f}" for r in runs)
        print(f"| {workers} | {audio / 60:.1f} min | {rounds} | {speed:.1f} | {speed / base:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

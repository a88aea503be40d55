"""How `wijk build` scales: full, no-op and incremental builds of large synthetic archives.

    .venv/bin/python bench/make_archive.py 1000 /tmp/scale-1000      # once per size
    .venv/bin/python bench/scale.py /tmp/scale-1000 [/tmp/scale-3000 ...] [--cold]

For each archive (made by bench/make_archive.py, so every transcript is already there) it times,
each build in a fresh Python process, with that process's peak memory (max RSS; the search
page renderers and the search indexer, separate processes, are reported apart: the largest):
- full: site/ moved away (transcripts/ and .cache/ kept: every page, caption file, feed and
  search shard is made again, but nothing is transcribed or probed);
- no-op: nothing changed since the last build (the archive's fingerprint says so: no stage
  runs);
- no-op, every stage checked: the same with --recheck, each stage finding its work done (as
  a build does when it has no fingerprint to go by: after a build with errors, or one that saw
  a file change while it ran);
- incremental: one new episode added (media, sidecar, and its transcript as if already
  transcribed, so transcription is excluded; its media file is probed and its derived files,
  tags and page made);
- cold (with --cold): .cache/ removed as well, so every media file is probed and every
  transcript digested again (a fresh checkout on a new build machine).
Then the sizes of site/, its search index and transcripts/. The added episode is removed and
the archive rebuilt at the end, so the benchmark can be run again on the same archive.

Each build is charged with its own work only. The old site/ is moved aside, and removed after
the last archive's last build: right after the 1,000-episode archive's site/ was deleted, creating the full
build's 5,000 temporary files took 3.0 s instead of 0.1 s here, and full builds took 33.7,
34.3 and 35.3 s against 29.3 s with site/ moved aside (same code). Before each build the disk
is synced, so the kernel writes back the last build's files (hundreds of megabytes after a
full build) before the clock starts, not during the build that follows.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import make_archive  # noqa: E402

from pipeline.archive import load_archive  # noqa: E402
from pipeline.ingest.scan import ingest  # noqa: E402

# Runs one build in a fresh interpreter and prints its time and memory as JSON. The build's
# peak is VmHWM, the high-water mark of its own memory since it started: ru_maxrss would keep
# that of the process it was forked from (Linux carries it over exec), which here is this
# benchmark, grown by listing site/. The children's figure is ru_maxrss, so it is at least
# what the build held when it started them.
BUILD = """
import json, resource, sys, time
from pathlib import Path
from pipeline import build

def high_water_mb():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

started = time.monotonic()
result = build.run(Path(sys.argv[1]), recheck="--recheck" in sys.argv)
seconds = time.monotonic() - started
print(json.dumps({"seconds": seconds, "ok": result.ok, "changed": result.changed,
                  "rss_mb": high_water_mb(),
                  "children_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def timed_build(root: Path, *options: str) -> dict:
    os.sync()  # the last build's writes reach the disk now, not while this one is timed
    done = subprocess.run([sys.executable, "-c", BUILD, str(root), *options], capture_output=True,
                          text=True, cwd=REPO)
    if done.returncode not in (0, 1) or not done.stdout.strip():
        raise SystemExit(f"build failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def add_episode(root: Path, minutes: float) -> list[Path]:
    """A new episode with its transcript already made; returns the files to remove later."""
    count = sum(1 for _ in (root / "episodes").glob("*.mp3"))
    number = count + 1
    parts = make_archive.make_parts(root / ".parts")
    media = make_archive.add_media(root, parts, number, count, random.Random(number))
    shutil.rmtree(root / ".parts")
    config = load_archive(root)
    [episode] = [e for e in ingest(root, config).episodes if e.source == media]
    make_archive._write_one((root, episode, minutes, 1, config.transcription))
    now = time.time() + 1  # a new modification time: the build probes the file itself
    os.utime(media, (now, now))
    return [media, media.with_suffix(".yaml"), *root.glob(f"transcripts/{episode.slug}.*")]


def size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def measure(root: Path, cold: bool, minutes: float) -> Iterator[tuple[str, dict]]:
    """Yields each build's row as soon as it is measured (sizes as the archive is then)."""
    episodes = sum(1 for _ in (root / "episodes").glob("*.mp3"))
    timed_build(root)  # brings an archive made by older code up to date first

    def row(name: str, measured: dict) -> tuple[str, dict]:
        sizes = {"site": size_mb(root / "site"), "index": size_mb(root / "site" / "pagefind"),
                 "transcripts": size_mb(root / "transcripts")}
        return f"{episodes} {name}", measured | {"sizes": sizes}

    old_site = set_aside(root)
    (root / "site").rename(old_site)
    yield row("full", timed_build(root))
    yield row("no-op", timed_build(root))
    yield row("no-op, every stage checked (--recheck)", timed_build(root, "--recheck"))
    added = add_episode(root, minutes)
    yield row("incremental (+1)", timed_build(root))
    yield row("no-op after it", timed_build(root))
    for path in added:
        path.unlink()
    timed_build(root)  # back to the archive as generated
    if cold:
        (root / "site").rename(old_site.with_name(old_site.name + "-cold"))
        (root / ".cache").rename(old_site.with_name(old_site.name + "-cache"))
        yield row("cold (probe every file)", timed_build(root))


def reference_seconds() -> float:
    """CPU seconds of a fixed piece of work like a build's (Python objects, JSON, hashing), the
    best of three: this machine's speed varied by a quarter between hours, for the same build."""
    document = json.dumps([{"start": i / 10, "text": f" woord{i}", "speaker": "SPEAKER_1"}
                           for i in range(20_000)])
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        for _ in range(10):
            words = json.loads(document)
            hashlib.sha256(json.dumps(words, sort_keys=True).encode("utf-8")).hexdigest()
        best = min(best, time.process_time() - started)
    return best


def set_aside(root: Path) -> Path:
    """Where `root`'s site/ (and with --cold its .cache/) is moved before the full build: it
    is removed once every archive has been measured."""
    return root.with_name(f".{root.name}-site-before")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("archives", nargs="+", type=Path)
    parser.add_argument("--cold", action="store_true", help="also time a build with no caches")
    parser.add_argument("--minutes", type=float, default=30.0,
                        help="length of the added episode (as the archive was made)")
    args = parser.parse_args()
    remove_set_aside(args.archives)  # what a run that was stopped left (before any build)
    before = reference_seconds()
    print("| archive, build | wall s | files changed | peak RSS MB (build) | peak RSS MB (largest child: page renderer or indexer) "
          "| site/ MB | search index MB | transcripts/ MB |")
    print("|---|---|---|---|---|---|---|---|")
    for root in args.archives:
        for name, row in measure(root, args.cold, args.minutes):
            sizes = row["sizes"]
            print(f"| {name} | {row['seconds']:.2f} | {row['changed']} | {row['rss_mb']:.0f} | "
                  f"{row['children_rss_mb']:.0f} | {sizes['site']:.0f} | {sizes['index']:.1f} | "
                  f"{sizes['transcripts']:.0f} |", flush=True)
    remove_set_aside(args.archives)
    print(f"\nThe machine's speed: a reference workload took {before:.2f} s of CPU before the "
          f"builds and {reference_seconds():.2f} s after (less is quicker).")
    return 0


def remove_set_aside(archives: list[Path]) -> None:
    for root in archives:
        for path in root.parent.glob(f"{set_aside(root).name}*"):
            shutil.rmtree(path)


if __name__ == "__main__":
    sys.exit(main())

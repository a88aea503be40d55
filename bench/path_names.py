"""Memory of a process that makes and lets go of many file paths, as a build does per episode.

    .venv/bin/python bench/path_names.py

Python 3.11's pathlib interns every part of every path it makes (`sys.intern`), and CPython's
table of interned strings grows when enough of them have come and gone: not with how many
are alive at once. A build makes several paths per episode in each stage (media, sidecars,
derived files, pages), so between 1,000 and 10,000 episodes the table grows once. This prints
the process's memory after making and letting go of five names per episode, for archives of
1,000 to 300,000 episodes, in a process that has imported the pipeline (as a build has), so
the step can be told apart from memory that grows with the archive.
"""

from __future__ import annotations

import sys
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import pipeline.build  # noqa: E402, F401  (the build's imports: its interned strings)

NAMES_PER_EPISODE = 5
ARCHIVES = (1_000, 3_000, 10_000, 30_000, 100_000, 300_000)


def memory_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (the high-water mark) of this process, in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    raise SystemExit(f"/proc/self/status has no {field} (Linux only)")


def main() -> int:
    folder = Path("/archive/episodes")
    tracemalloc.start()
    print("| episodes | path names made | RSS MB | peak RSS MB | Python heap MB | its peak MB |")
    print("|---|---|---|---|---|---|")
    print(f"| 0 | 0 | {memory_mb('VmRSS'):.1f} | {memory_mb('VmHWM'):.1f} | 0.00 | 0.00 |")
    made = 0
    for episodes in ARCHIVES:
        while made < episodes * NAMES_PER_EPISODE:
            path = folder / f"aflevering-{made:07d}.mp3"  # made, then let go
            made += 1
        current, peak = tracemalloc.get_traced_memory()
        print(f"| {episodes:,} | {made:,} | {memory_mb('VmRSS'):.1f} | {memory_mb('VmHWM'):.1f} "
              f"| {current / 1e6:.2f} | {peak / 1e6:.2f} |", flush=True)
    del path
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`wijk watch`: rebuild whenever files in episodes/ (or archive.yaml, or a master transcript)
appear, change or vanish.

Polling, not inotify: it works the same on network shares and in containers, and an archive's
folder is small enough to stat every couple of seconds. A file still being copied is waited
for until its size and time stop changing; editors' temporary files are ignored. A failing
build is reported and watching goes on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from pipeline import build
from pipeline.archive import ARCHIVE_FILE, EPISODES_DIR, TRANSCRIPTS_DIR
from pipeline.errors import WijkError
from pipeline.ingest.scan import TEMPORARY

logger = logging.getLogger(__name__)

Snapshot = dict[str, tuple[int, int]]  # relative path -> (size, mtime_ns)


def snapshot(root: Path) -> Snapshot:
    """What the editor can change: episodes/, archive.yaml, the masters and the captions."""
    found: Snapshot = {}
    transcripts = root / TRANSCRIPTS_DIR
    candidates = [root / ARCHIVE_FILE, *sorted(transcripts.glob("*.json")),
                  *sorted(transcripts.glob("*.vtt"))]
    episodes = root / EPISODES_DIR
    if episodes.is_dir():
        candidates += sorted(episodes.rglob("*"))
    for path in candidates:
        if TEMPORARY.search(path.name):
            continue
        try:
            stat = path.stat()
        except FileNotFoundError:  # vanished between listing and stat
            continue
        if path.is_file():
            found[path.relative_to(root).as_posix()] = (stat.st_size, stat.st_mtime_ns)
    return found


def describe(before: Snapshot, after: Snapshot) -> list[str]:
    added = sorted(after.keys() - before.keys())
    removed = sorted(before.keys() - after.keys())
    changed = sorted(k for k in after.keys() & before.keys() if after[k] != before[k])
    return ([f"new: {name}" for name in added] + [f"changed: {name}" for name in changed]
            + [f"gone: {name}" for name in removed])


def settle(root: Path, seen: Snapshot, pause: float) -> Snapshot:
    """Wait until nothing changes for `pause` seconds (a copy in progress has finished)."""
    while True:
        time.sleep(pause)
        now = snapshot(root)
        if now == seen:
            return now
        seen = now


def watch(root: Path, interval: float = 2.0, pause: float = 2.0,
          rounds: Callable[[], bool] = lambda: True) -> None:
    """Build now, then after every settled change, until interrupted (or `rounds` says stop)."""
    logger.info("Watching %s (Ctrl+C to stop).", root / EPISODES_DIR)
    baseline = _build(root)
    while rounds():
        time.sleep(interval)
        current = snapshot(root)
        if current == baseline:
            continue
        current = settle(root, current, pause)
        for line in describe(baseline, current):
            logger.info(line)
        baseline = _build(root)


def _build(root: Path) -> Snapshot:
    """Build, and return the state to compare the next look with.

    Editors' files count as they were before the build, so a file dropped while it ran is
    still seen as new; transcripts/ counts as the build left it, so what it wrote there itself
    doesn't trigger another build.
    """
    before = snapshot(root)
    _run_build(root)
    after = snapshot(root)
    ours = f"{TRANSCRIPTS_DIR}/"
    return ({name: state for name, state in before.items() if not name.startswith(ours)}
            | {name: state for name, state in after.items() if name.startswith(ours)})


def _run_build(root: Path) -> None:
    started = time.monotonic()
    logger.info("%s building...", time.strftime("%H:%M:%S"))
    try:
        result = build.run(root, wait=True)
    except WijkError as error:
        logger.error(error.format_message())
        return
    except Exception:  # a bug must not end the watch; show it in full and keep watching
        logger.exception("the build failed; still watching")
        return
    state = "done" if result.ok else "done, with errors (see above)"
    logger.info("%s %s in %.1f s; watching for changes.", time.strftime("%H:%M:%S"), state,
                time.monotonic() - started)

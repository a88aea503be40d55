"""Processes and cores: how many this process may use, and worker processes that end with
their build. Shared by the stages that run work in parallel (ingest, transcribe, publish)."""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collection_paused() -> Iterator[None]:
    """No automatic garbage collection inside: for work that makes tens of thousands of objects
    and lets them go together, such as reading a master transcript and rendering its page.
    Each of those objects counts towards the next collection, and while a master is alive its
    objects are traversed again and again (up to a third of an episode page's CPU time here);
    what it leaves in cycles is collected at the next collection after it."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def end_with_parent(parent: int, interval: float = 1.0) -> None:
    """Make this worker process exit once the build that started it (process `parent`) is gone.

    A build killed outright (SIGKILL, the OOM killer) cannot stop its pool, and the workers,
    each holding a Whisper model, would wait for work forever: each still holds the task
    queue's write end, so none sees it close. Called in each worker as it starts, with the
    build's pid passed in (a worker that starts after the build died already has another
    parent, so its own parent at start proves nothing); a thread checks every `interval`
    seconds whether the worker still has that parent.
    """
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


"""The archive's fingerprint: whether a build has anything to do, told in a fraction of a second.

A build that ends clean (no error, every output made) leaves `.cache/fingerprint.json`: a
digest of the size and modification time of every file it reads or makes (episodes/,
transcripts/, archive.yaml and any image they name elsewhere in the archive; site/ and the
caches in .cache/), and of the code and the Python that ran it. The next build lists those
files first; if their digest is the same, none of them changed and it runs no stage ("Nothing
changed"; the warnings the last build gave about those files are given again). Listing the
16,000 files of a 1,000-episode archive takes about 0.1 s; the stages' own checks take 2 s.

The digest is the sum of one hash per file, so the order a folder is listed in doesn't matter
and no list of files is kept (a 10,000-episode archive has 150,000). It trusts sizes and times
as the memo does (pipeline.cache.memo) and git's index does.

A build leaves a fingerprint only if the archive's inputs were, when it ended, as when it began
apart from the files it wrote itself, each noted as it was put in place (fsutil.replace_file):
an editor's file dropped, changed or removed while a build ran is built by the next one. site/
is the build's own to write, and is listed as the build leaves it. A build that does work
removes the fingerprint first, so one killed halfway leaves none; `wijk build --recheck`
ignores it.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import sysconfig
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pipeline.archive import ARCHIVE_FILE, EPISODES_DIR, SITE_DIR, TRANSCRIPTS_DIR
from pipeline.errors import Problem
from pipeline.fsutil import Stamp, entries_under, stamp, write_cache_text

FINGERPRINT_FILE = Path(".cache") / "fingerprint.json"
VERSION = 3  # 2: with the warnings; 3: inputs and outputs apart
INPUTS = (ARCHIVE_FILE,)  # beside the folders below
INPUT_FOLDERS = (EPISODES_DIR, TRANSCRIPTS_DIR)  # the editors' files, the masters made from them
OUTPUT_FOLDERS = (SITE_DIR,)
CACHES = ".cache"  # its files (the memo and the other caches), not its folders of copies
NOT_CACHES = {"build.lock", FINGERPRINT_FILE.name}  # rewritten by every build, or this file
CODE = Path(__file__).resolve().parent.parent  # the pipeline package
_MODULUS = 1 << 128
_CLOCK_LAG = 20_000_000  # ns: file times come from a clock that may lag by a tick (to 10 ms)


class Unlisted(Exception):
    """A folder that cannot be fingerprinted (a symlinked folder: what is in it may change
    without anything here changing): such an archive is always checked stage by stage."""


def file_hash(name: str, found: Stamp | None) -> int:
    """One file's share of a digest: `name` (relative to the archive) with its size and time."""
    if found is None:
        return 0
    text = f"{name}\0{found[0]}\0{found[1]}".encode("utf-8", "surrogateescape")
    return int.from_bytes(hashlib.blake2b(text, digest_size=16).digest(), "big")


def tree_sum(base: str, folder: str, label: str = "", skip: Iterable[str] = ()) -> int:
    """The summed file hashes of everything under `base`/`folder`, named from `base`."""
    start, skipped, total = len(base) + 1, set(skip), 0
    for entry in entries_under(os.path.join(base, folder), lambda e: e.name not in skipped):
        if entry.is_dir(follow_symlinks=False):
            continue
        try:
            if entry.is_dir():
                raise Unlisted(entry.path)
            found = entry.stat()
        except FileNotFoundError:  # gone between listing and stat: as if never listed
            continue
        total += file_hash(label + entry.path[start:], (found.st_size, found.st_mtime_ns))
    return total % _MODULUS


def _hex(digest: int) -> str:
    return f"{digest % _MODULUS:032x}"


def files_sum(base: str, names: Iterable[str]) -> int:
    return sum(file_hash(name, stamp(os.path.join(base, name))) for name in names) % _MODULUS


def code_sum() -> int:
    """The code that builds (its templates and taxonomy too), the Python that runs it and its
    installed packages (a folder of packages changes when one is installed or removed)."""
    packages = {sysconfig.get_paths()[kind] for kind in ("purelib", "platlib")}
    running = file_hash(f"<python>{sys.executable} {sys.version}", (0, 0))
    installed = sum(file_hash(f"<packages>{folder}", stamp(folder)) for folder in packages)
    return (tree_sum(str(CODE.parent), CODE.name, "<code>", skip=["__pycache__"])
            + running + installed) % _MODULUS


@dataclass
class Sealed:
    """What the last clean build left with its fingerprint."""

    episodes: int  # published
    warnings: list[Problem]  # about the archive's files, given again while they stay the same


class Fingerprint:
    """The archive's files as a build found them; see the module's docstring."""

    def __init__(self, root: Path) -> None:
        self.base = str(root)
        self.path = root / FINGERPRINT_FILE
        self.started = time.time_ns() - _CLOCK_LAG
        self.inputs = self._inputs()  # None: cannot be fingerprinted
        self.ours = 0  # what this build's own writes added to the inputs' sum

    def up_to_date(self) -> Sealed | None:
        """What the last clean build left, if no file changed since; else None."""
        last = self._last()
        if last is None or self.inputs is None:
            return None
        try:  # the inputs first: when one changed, site/ needn't be listed
            if _hex(self.inputs + files_sum(self.base, last["extras"])) != last["inputs"] \
                    or _hex(self._outputs()) != last["outputs"]:
                return None
        except Unlisted:
            return None
        return Sealed(last["episodes"], [Problem(Path(path), message, fatal=False)
                                         for path, message in last["warnings"]])

    def forget(self) -> None:
        """This build does work: until it ends clean, there is no fingerprint."""
        self.path.unlink(missing_ok=True)

    def note(self, path: str, before: Stamp | None, after: Stamp | None) -> None:
        """A file this build put in place (or moved away): see fsutil.noting_replacements."""
        name = os.path.relpath(path, self.base)
        if name.split(os.sep, 1)[0] in INPUT_FOLDERS:
            self.ours += file_hash(name, after) - file_hash(name, before)

    def seal(self, sealed: Sealed, images: Iterable[Path]) -> bool:
        """Leave the fingerprint of the archive as this clean build leaves it, unless someone
        else changed a file while it ran; True if left. `images`: those archive.yaml and the
        sidecars name (outside the folders listed, they are listed by name)."""
        extras = sorted({name for name in (os.path.relpath(image, self.base) for image in images)
                         if name.split(os.sep, 1)[0] not in INPUT_FOLDERS})
        try:
            now = self._inputs()
            if now is None or (now - self.ours) % _MODULUS != self.inputs:
                return False
            if any((found := stamp(os.path.join(self.base, name))) and found[1] >= self.started
                   for name in extras):  # changed while the build ran
                return False
            inputs, outputs = now + files_sum(self.base, extras), self._outputs()
        except Unlisted:
            return False
        warnings = [[str(problem.path), problem.message] for problem in sealed.warnings]
        write_cache_text(self.path, json.dumps({
            "version": VERSION, "inputs": _hex(inputs), "outputs": _hex(outputs),
            "episodes": sealed.episodes, "warnings": warnings, "extras": extras},
            ensure_ascii=False) + "\n")
        return True

    def _inputs(self) -> int | None:
        try:
            folders = sum(tree_sum(self.base, folder) for folder in INPUT_FOLDERS)
        except Unlisted:
            return None
        return (folders + files_sum(self.base, INPUTS) + code_sum()) % _MODULUS

    def _outputs(self) -> int:
        caches = os.path.join(self.base, CACHES)
        try:
            with os.scandir(caches) as entries:
                names = [f"{CACHES}/{e.name}" for e in entries
                         if e.is_file() and e.name not in NOT_CACHES]
        except FileNotFoundError:
            names = []
        folders = sum(tree_sum(self.base, folder) for folder in OUTPUT_FOLDERS)
        return (folders + files_sum(self.base, names)) % _MODULUS

    def _last(self) -> dict | None:
        try:
            last = json.loads(self.path.read_text(encoding="utf-8"))
            kinds = {"inputs": str, "outputs": str, "episodes": int, "extras": list,
                     "warnings": list}
            if last.get("version") == VERSION and \
                    all(isinstance(last.get(key), kind) for key, kind in kinds.items()):
                return last
        except (OSError, ValueError, AttributeError):  # only a cache: damaged means absent
            pass
        return None

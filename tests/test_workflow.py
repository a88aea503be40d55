"""The editor's day, with real processes and real files: watch, no-op and incremental builds,
two builds at once, and builds killed with SIGKILL at random moments."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lxml import etree

from pipeline.archive import load_archive
from pipeline.check import check_site
from pipeline.fsutil import archive_lock
from pipeline.model import Transcript
from pipeline.transcripts.caption_files import parse_srt, parse_vtt
from tests.conftest import correct_first_word

pytestmark = pytest.mark.whisper
MEDIA = Path(__file__).parent / "data" / "media"


def wijk(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipeline", *args], capture_output=True,
                          text=True, timeout=timeout)


def site_files(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns
            for p in sorted((root / "site").rglob("*")) if p.is_file()}


def assert_consistent(root: Path) -> None:
    """Every visible file in transcripts/ and site/ is whole and readable."""
    for path in sorted((root / "transcripts").rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".json":
            data = json.loads(text)
            if "segments" in data and "provenance" in data:
                Transcript.from_dict(data)
        elif path.suffix == ".vtt":
            parse_vtt(text)
        elif path.suffix == ".srt":
            parse_srt(text)
    feed = root / "site" / "feed.xml"
    if feed.exists():
        etree.fromstring(feed.read_bytes())
    for path in (root / "site").rglob("*.json"):
        if not path.name.startswith("."):
            json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def small_archive(make_archive):
    return make_archive({"eerste.mp3": MEDIA / "speech.mp3",
                         "eerste.yaml": "title: Eerste\ndate: 2024-01-01\n"})


def test_noop_and_incremental_builds(small_archive):
    root = small_archive
    assert wijk("build", "--archive", str(root)).returncode == 0
    before = site_files(root)

    again = wijk("build", "--archive", str(root))
    assert again.returncode == 0
    assert "Nothing changed" in again.stdout and "Transcription" not in again.stdout
    checked = wijk("build", "--archive", str(root), "--recheck")  # every stage looks
    assert checked.returncode == 0
    assert "Nothing changed" in checked.stdout and "Transcription: nothing new" in checked.stdout
    assert site_files(root) == before

    (root / "episodes" / "tweede.ogg").write_bytes((MEDIA / "speech.ogg").read_bytes())
    (root / "episodes" / "tweede.yaml").write_text("title: Tweede\ndate: 2024-02-01\n")
    added = wijk("build", "--archive", str(root))
    assert added.returncode == 0, added.stderr
    assert "Transcribed 1 episode(s)" in added.stdout
    after = site_files(root)
    unchanged = {name for name in before if after.get(name) == before[name]}
    rewritten = set(after) - unchanged
    assert {name for name in before if name.startswith(("site/media/eerste", "site/transcripts/eerste"))} <= unchanged
    assert "site/feed.xml" in rewritten
    assert {"site/media/tweede.ogg", "site/transcripts/tweede.vtt"} <= rewritten
    assert not any("eerste" in name for name in rewritten)


def _outputs(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for folder in ("site", "transcripts")
            for p in sorted((root / folder).rglob("*")) if p.is_file()}


def test_skipping_unchanged_work_never_changes_what_a_build_makes(small_archive):
    """Builds that skip (memo present), rebuild from scratch (memo gone, site gone) and
    follow a hand edit all agree with what a build that does everything makes."""
    from pipeline import build

    root = small_archive
    assert build.run(root).ok
    first = _outputs(root)
    (root / ".cache" / "memo.sqlite").unlink()
    again = build.run(root)
    assert again.changed == 0 and _outputs(root) == first
    shutil.rmtree(root / "site")
    assert build.run(root).ok and _outputs(root) == first

    correct_first_word(root / "transcripts" / "eerste.json", "Wijkarchiefwoord")
    edited = build.run(root)
    assert edited.ok and edited.changed > 0
    for name in ("eerste.txt", "eerste.vtt"):
        assert "Wijkarchiefwoord" in (root / "transcripts" / name).read_text(encoding="utf-8")
    page = (root / "site" / "afleveringen" / "eerste" / "index.html").read_text(encoding="utf-8")
    assert "Wijkarchiefwoord" in page and "redacteur" in page
    # The case and lesson pages made again from the other pages' records in the memo are
    # those a build without a memo makes.
    after_edit = _outputs(root)
    (root / ".cache" / "memo.sqlite").unlink()
    shutil.rmtree(root / "site")
    assert build.run(root).ok and _outputs(root) == after_edit


def test_a_second_build_refuses_while_one_runs(small_archive):
    with archive_lock(small_archive):
        result = wijk("build", "--archive", str(small_archive))
    assert result.returncode == 1
    assert "another build is running on this archive" in result.stderr
    assert "Traceback" not in result.stderr


def test_removed_episode_leaves_site_and_feed_but_its_transcript_is_kept(small_archive):
    root = small_archive
    assert wijk("build", "--archive", str(root)).returncode == 0
    for name in ("eerste.mp3", "eerste.yaml"):
        (root / "episodes" / name).unlink()
    result = wijk("build", "--archive", str(root))
    assert result.returncode == 0, result.stderr
    assert not (root / "site" / "media" / "eerste.mp3").exists()
    assert b"eerste" not in (root / "site" / "feed.xml").read_bytes()
    assert (root / "transcripts" / "removed" / "eerste.json").is_file()


def _watch(root: Path) -> subprocess.Popen[str]:
    # SIGINT as at a terminal: a shell running the suite in the background hands its children
    # SIGINT ignored, and Python then never raises KeyboardInterrupt for it.
    return subprocess.Popen([sys.executable, "-X", "faulthandler", "-m", "pipeline", "watch",
                             "--archive", str(root), "--interval", "0.3", "--settle", "1.0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _wait_for(path: Path, timeout: float = 120) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return True
        time.sleep(0.2)
    return False


def test_watch_picks_up_dropped_and_slowly_copied_files(small_archive):
    root = small_archive
    watcher = _watch(root)
    try:
        assert _wait_for(root / "site" / "media" / "eerste.mp3"), "no initial build"
        (root / "episodes" / "~$tijdelijk.mp3").write_bytes(b"editor temp file")
        shutil.copy(MEDIA / "speech.flac", root / "episodes" / "gedropt.flac")
        assert _wait_for(root / "site" / "media" / "gedropt.flac")

        data = (MEDIA / "speech.m4a").read_bytes()
        target = root / "episodes" / "langzaam.m4a"
        with target.open("wb") as handle:  # a copy over a slow network share
            for start in range(0, len(data), len(data) // 6 + 1):
                handle.write(data[start:start + len(data) // 6 + 1])
                handle.flush()
                time.sleep(0.4)
        assert _wait_for(root / "site" / "media" / "langzaam.m4a")
        assert _wait_for(root / "transcripts" / "langzaam.vtt")
    finally:
        watcher.send_signal(signal.SIGINT)
        output = _stopped(watcher)
    assert "new: episodes/gedropt.flac" in output
    assert "tijdelijk" not in output
    assert "error: episodes/langzaam.m4a" not in output  # never reported half-copied
    assert "Traceback" not in output


def _stopped(watcher: subprocess.Popen[str], timeout: float = 60) -> str:
    """The watcher's output once it has stopped; if it does not stop, its threads' stacks
    (faulthandler on SIGABRT) in the failure, to show where it hangs."""
    try:
        return watcher.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        watcher.send_signal(signal.SIGABRT)
        output, _ = watcher.communicate(timeout=30)
        raise AssertionError(f"wijk watch did not stop on SIGINT:\n{output[-6000:]}") from None


def kill_trials(root: Path, trials: int, seed: int) -> None:
    """Start a build, SIGKILL it at a random moment, check, and let the next build finish."""
    chance = random.Random(seed)
    for _ in range(trials):
        process = subprocess.Popen([sys.executable, "-m", "pipeline", "build", "--archive",
                                    str(root)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(chance.uniform(0.3, 12.0))
        workers = _children(process.pid)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert_consistent(root)
        _assert_gone(workers)  # the killed build's worker processes end too
    finished = wijk("build", "--archive", str(root))
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert_consistent(root)
    assert check_site(root, load_archive(root)) == []
    assert not list(root.rglob(".*.tmp"))
    assert len(list((root / "transcripts").glob("*.vtt"))) == 5


def _stat(pid: str | int) -> list[str] | None:
    """A process's /proc/<pid>/stat fields after its name (state, parent, ...); None if gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _children(pid: int) -> set[int]:
    """The process ids whose parent is `pid` (Linux /proc)."""
    return {int(entry.name) for entry in Path("/proc").glob("[0-9]*")
            if (fields := _stat(entry.name)) is not None and int(fields[1]) == pid}


def _assert_gone(pids: set[int], wait: float = 10.0) -> None:
    """Wait until none of `pids` runs (gone, or a zombie waiting to be reaped)."""
    deadline = time.monotonic() + wait
    while (alive := {pid for pid in pids if (fields := _stat(pid)) is not None
                     and fields[0] != "Z"}) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive, f"worker processes outlived their killed build: {sorted(alive)}"


def _demo_copy(repo_dir: Path, target: Path) -> Path:
    shutil.copytree(repo_dir / "episodes", target / "episodes")
    shutil.copy(repo_dir / "archive.yaml", target / "archive.yaml")
    return target


def test_kill_during_demo_build(repo_dir, tmp_path):
    kill_trials(_demo_copy(repo_dir, tmp_path / "archive"), trials=3, seed=1)


@pytest.mark.slow
def test_kill_during_demo_build_many_times(repo_dir, tmp_path):
    kill_trials(_demo_copy(repo_dir, tmp_path / "archive"), trials=20, seed=2)


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def test_bad_inputs_end_to_end(make_archive, repo_dir, tmp_path, monkeypatch):
    from pipeline import build

    made = tmp_path / "made"
    made.mkdir()
    _ffmpeg("-f", "lavfi", "-i", "color=c=red:s=64x64:d=1", "-an", str(made / "beeld.mp4"))
    _ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=0.3", "-ac", "1", str(made / "kort.mp3"))
    (tmp_path / "geheim.jpg").write_bytes((repo_dir / "episodes" / "artwork" / "wij-in-de-wijk.jpg").read_bytes())
    m4a = (repo_dir / "episodes" / "kneuterigheid-verdient-een-standbeeld.m4a").read_bytes()
    root = make_archive({
        "goed.mp3": MEDIA / "speech.mp3", "goed.yaml": "title: Goed\ndate: 2024-01-01\n",
        "zonder-geluid.mp4": made / "beeld.mp4",
        "kort.mp3": made / "kort.mp3",
        "stilte.opus": Path(__file__).parent / "data" / "speech" / "silence_20s.opus",
        "script.flac": MEDIA / "speech.flac",
        "script.yaml": "title: \"<script>alert(1)</script> ]]> & 'x'\"\n"
                       "description: '<img src=x onerror=alert(1)>'\ndate: 2024-01-02\n",
        "lang.ogg": MEDIA / "speech.ogg", "lang.yaml": "title: " + "lang " * 1000 + "\n",
        "ontsnapt.wav": MEDIA / "speech.wav", "ontsnapt.yaml": "image: ../../geheim.jpg\n",
        "verdwijnt.opus": MEDIA / "speech.opus",
    })
    episodes = root / "episodes"
    before = {p.name: p.read_bytes() for p in episodes.iterdir() if p.is_file()}

    # A file that vanishes after ingest, mid-build.
    original = build.tag_archive

    def vanish_then_tag(*args, **kwargs):
        (episodes / "verdwijnt.opus").rename(tmp_path / "verdwijnt.opus")
        return original(*args, **kwargs)

    monkeypatch.setattr(build, "tag_archive", vanish_then_tag)

    # A file still being copied in while the build runs: it keeps growing until ingest has
    # looked at it (however slow the machine), then the copy finishes.
    import threading

    ingested = threading.Event()
    transcribe = build.transcribe_archive

    def ingest_seen_then_transcribe(*args, **kwargs):
        ingested.set()
        return transcribe(*args, **kwargs)

    monkeypatch.setattr(build, "transcribe_archive", ingest_seen_then_transcribe)
    growing = episodes / "groeiend.m4a"
    growing.write_bytes(m4a[:2000])

    def keep_copying() -> None:
        with growing.open("ab") as handle:
            written = 2000
            while not ingested.wait(0.1):  # a little more every 0.1 s while ingest runs
                step = min(64, len(m4a) - 1 - written)
                handle.write(m4a[written:written + step])
                handle.flush()
                written += step
            handle.write(m4a[written:])

    copier = threading.Thread(target=keep_copying)
    copier.start()
    try:
        result = build.run(root)
    finally:
        ingested.set()
        copier.join()

    lines: dict[str, list[tuple[bool, str]]] = {}
    for problem in result.problems:
        lines.setdefault(str(problem.path), []).append((problem.fatal, problem.message))
    assert not result.ok
    assert (True, "has no audio stream (video only)") in lines["episodes/zonder-geluid.mp4"]
    assert "leaves the archive folder" in lines["episodes/ontsnapt.yaml"][0][1]
    assert "still being copied" in lines["episodes/groeiend.m4a"][0][1]
    assert (True, "vanished during the build; build again once it is back") in \
        lines["episodes/verdwijnt.opus"]
    assert (False, "no speech found: the transcript is empty") in lines["episodes/kort.mp3"]
    assert (False, "no speech found: the transcript is empty") in lines["episodes/stilte.opus"]
    assert "title is 4999 characters long" in lines["episodes/lang.yaml"][0][1]
    assert "episodes/goed.mp3" not in lines and "episodes/script.flac" not in lines

    feed = (root / "site" / "feed.xml").read_bytes()
    etree.fromstring(feed)  # still valid XML
    assert b"<script>" not in feed and b"&lt;script&gt;alert(1)&lt;/script&gt; ]]&gt;" in feed
    published = {p.name for p in (root / "site" / "media").iterdir()}
    assert {"goed.mp3", "script.flac", "lang.ogg", "kort.mp3", "stilte.opus"} <= published
    assert not {"verdwijnt.opus", "zonder-geluid.mp4", "ontsnapt.wav"} & published
    assert not any(p.read_bytes() == (tmp_path / "geheim.jpg").read_bytes()
                   for p in (root / "site").rglob("*.jpg") if p.name != "cover.jpg")
    after = {p.name: p.read_bytes() for p in episodes.iterdir() if p.is_file()}
    assert after.pop("groeiend.m4a") == m4a  # the copy finished, untouched
    before.pop("verdwijnt.opus")
    assert after == before  # nothing an editor made was changed

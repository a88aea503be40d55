"""The archive's fingerprint: a build with nothing changed runs no stage, and every change an
editor (or anyone) makes, before or during a build, is still built."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest

from pipeline import build
from pipeline.cache import fingerprint
from pipeline.cache.fingerprint import FINGERPRINT_FILE, Fingerprint, Sealed
from pipeline.fsutil import noting_replacements, replace_file, write_text
from tests.conftest import ARCHIVE_YAML, correct_first_word

pytestmark = pytest.mark.whisper
MEDIA = Path(__file__).parent / "data" / "media"
PAGE = Path("site") / "afleveringen" / "eerste" / "index.html"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """An archive of one transcribed episode, built once for the module (copied per test)."""
    root = tmp_path_factory.mktemp("built") / "archive"
    (root / "episodes" / "artwork").mkdir(parents=True)
    (root / "art").mkdir()
    cover = Path(__file__).parent.parent / "episodes" / "artwork" / "wij-in-de-wijk.jpg"
    shutil.copyfile(cover, root / "art" / "cover.jpg")  # named by archive.yaml, outside episodes/
    os.utime(root / "art" / "cover.jpg", ns=(0, 10**18))  # not changed as the build began
    (root / "archive.yaml").write_text(
        ARCHIVE_YAML.replace("episodes/artwork/cover.jpg", "art/cover.jpg"), encoding="utf-8")
    shutil.copyfile(MEDIA / "speech.mp3", root / "episodes" / "eerste.mp3")
    (root / "episodes" / "eerste.yaml").write_text("title: Eerste\ndate: 2024-01-01\n")
    assert build.run(root).ok and (root / FINGERPRINT_FILE).exists()
    return root


@pytest.fixture
def archive(built, tmp_path) -> Path:
    root = tmp_path / "archive"
    shutil.copytree(built, root)  # sizes and times kept: the copy is as up to date
    return root


def test_a_build_with_nothing_changed_runs_no_stage(archive, caplog):
    caplog.set_level(logging.INFO, logger="pipeline")
    before = {p: p.stat().st_mtime_ns for p in archive.rglob("*") if p.is_file()}
    result = build.run(archive)
    assert result.up_to_date and result.ok and result.changed == 0 and result.published == 1
    assert "Nothing changed: 1 episode(s)" in caplog.text and "Transcription" not in caplog.text
    caplog.clear()
    lock = archive / ".cache" / "build.lock"
    assert {p: p.stat().st_mtime_ns for p in archive.rglob("*") if p.is_file() and p != lock} \
        == {p: t for p, t in before.items() if p != lock}

    checked = build.run(archive, recheck=True)  # every stage looks, and finds nothing to do
    assert not checked.up_to_date and checked.changed == 0 and len(checked.episodes) == 1
    assert "Transcription: nothing new" in caplog.text
    assert build.run(archive).up_to_date


def _edit_sidecar(root: Path) -> str:
    (root / "episodes" / "eerste.yaml").write_text("title: Eerste, herzien\ndate: 2024-01-01\n")
    return "Eerste, herzien"


def _correct_master(root: Path) -> str:
    correct_first_word(root / "transcripts" / "eerste.json", "Wijkarchiefwoord")
    return "Wijkarchiefwoord"


def _delete_page(root: Path) -> str:
    (root / PAGE).unlink()
    return "Eerste"


def _retitle_archive(root: Path) -> str:
    config = root / "archive.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("Testarchief", "Wijkarchief"))
    return "Wijkarchief"


def _replace_cover(root: Path) -> str:
    cover = root / "art" / "cover.jpg"
    cover.write_bytes(cover.read_bytes() + b"\0")
    return "Eerste"


def _forget_memo(root: Path) -> str:
    (root / ".cache" / "memo.sqlite").unlink()
    return "Eerste"


@pytest.mark.parametrize("change", [_edit_sidecar, _correct_master, _delete_page,
                                    _retitle_archive, _forget_memo])
def test_every_change_is_built(archive, change):
    shown = change(archive)
    result = build.run(archive)
    assert result.ok and not result.up_to_date
    assert shown in (archive / PAGE).read_text(encoding="utf-8")
    assert build.run(archive).up_to_date


def test_an_image_named_outside_the_folders_counts(archive):
    """archive.yaml's cover lives in art/, a folder no stage lists: it is fingerprinted by name."""
    _replace_cover(archive)
    os.utime(archive / "art" / "cover.jpg", ns=(0, 10**18 + 10**9))
    result = build.run(archive)
    assert not result.up_to_date and result.changed > 0
    assert build.run(archive).up_to_date


def test_a_file_dropped_with_an_old_time_is_built(archive):
    """A file moved in keeps its modification time, older than the last build: still new."""
    dropped = archive / "episodes" / "tweede.ogg"
    shutil.copyfile(MEDIA / "speech.ogg", dropped)
    os.utime(dropped, ns=(0, 10**18))
    result = build.run(archive)
    assert result.ok and not result.up_to_date and len(result.episodes) == 2
    assert (archive / "site" / "afleveringen" / "tweede" / "index.html").exists()
    # That build wrote masters and captions itself: that alone does not make the next one work.
    # Its warning (no date) is given again while the file stays as it is.
    again = build.run(archive, strict=True)
    assert again.up_to_date and not again.ok
    assert [str(p) for p in again.problems] == [str(p) for p in result.problems] != []


@pytest.mark.parametrize("change", [_edit_sidecar, _replace_cover])
def test_a_change_made_while_a_build_runs_is_built_next(archive, monkeypatch, change):
    """An editor saves a sidecar (or the cover) while the build publishes: the build may have
    read the old one, so it leaves no fingerprint, and the next build publishes the new one."""
    publish, shown = build.publish_assets, []

    def publish_while_editing(*args, **kwargs):
        published = publish(*args, **kwargs)
        shown.append(change(archive))
        return published

    monkeypatch.setattr(build, "publish_assets", publish_while_editing)
    assert build.run(archive, recheck=True).ok
    assert not (archive / FINGERPRINT_FILE).exists()
    monkeypatch.setattr(build, "publish_assets", publish)
    result = build.run(archive)
    assert not result.up_to_date and result.changed > 0
    assert shown[0] in (archive / PAGE).read_text(encoding="utf-8")


def test_a_build_with_problems_leaves_no_fingerprint(archive, caplog):
    (archive / "episodes" / "kapot.mp3").write_bytes(b"not audio")
    assert not build.run(archive).ok
    assert not (archive / FINGERPRINT_FILE).exists()
    again = build.run(archive)  # the problem is reported again, not hidden by a skip
    assert not again.ok and not again.up_to_date
    assert any("kapot.mp3" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")


def test_a_damaged_fingerprint_means_a_checked_build(archive):
    (archive / FINGERPRINT_FILE).write_text("{not json")
    result = build.run(archive)
    assert not result.up_to_date and result.ok and result.changed == 0
    assert build.run(archive).up_to_date


def test_own_writes_are_told_from_anyone_else_s(tmp_path):
    """The fingerprint's sum, less what its own writes added, is the sum it began with: a file
    written twice, one made and moved away, and one moved in. Anyone else's write breaks it."""
    root = tmp_path / "archive"
    (root / "transcripts").mkdir(parents=True)
    (root / "archive.yaml").write_text(ARCHIVE_YAML)
    write_text(root / "transcripts" / "a.json", "{}")
    write_text(root / "transcripts" / "b.json", "{}")
    marks = Fingerprint(root)
    with noting_replacements(marks.note):
        write_text(root / "transcripts" / "a.json", '{"x": 1}')
        write_text(root / "transcripts" / "a.json", '{"x": 12}')
        write_text(root / "transcripts" / "c.json", "[]")
        replace_file(root / "transcripts" / "c.json", root / "transcripts" / "d.json", moved=True)
        replace_file(root / "transcripts" / "b.json", root / "transcripts" / "removed.json",
                     moved=True)
        write_text(root / "site" / "index.html", "<p>")  # an output: not an input's change
    assert marks.seal(Sealed(0, []), images=[])
    assert Fingerprint(root).up_to_date() == Sealed(0, [])

    marks = Fingerprint(root)
    with noting_replacements(marks.note):
        write_text(root / "transcripts" / "a.json", "{}")
    (root / "transcripts" / "e.json").write_text("{}")  # an editor's, during the build
    assert not marks.seal(Sealed(0, []), images=[])


def test_the_code_and_a_symlinked_folder(tmp_path, monkeypatch):
    """Changed code changes the fingerprint; a symlinked folder can't be fingerprinted."""
    root = tmp_path / "archive"
    (root / "episodes").mkdir(parents=True)
    (root / "archive.yaml").write_text(ARCHIVE_YAML)
    code = tmp_path / "code" / "pipeline"
    code.mkdir(parents=True)
    (code / "site.py").write_text("PAGES = 1\n")
    monkeypatch.setattr(fingerprint, "CODE", code)
    assert Fingerprint(root).seal(Sealed(0, []), images=[])
    assert Fingerprint(root).up_to_date() == Sealed(0, [])
    (code / "site.py").write_text("PAGES = 20\n")  # another size: the same tick may follow
    assert Fingerprint(root).up_to_date() is None

    (tmp_path / "elders").mkdir()
    (root / "episodes" / "gedeeld").symlink_to(tmp_path / "elders")
    assert Fingerprint(root).inputs is None and not Fingerprint(root).seal(Sealed(0, []), [])

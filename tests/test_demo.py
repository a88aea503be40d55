"""End to end on the demo archive: real Whisper, real files, the `wijk build` command itself."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.transcripts.caption_checks import check_cues
from pipeline.transcripts.caption_files import parse_srt, parse_vtt

pytestmark = pytest.mark.whisper
LOCAL_EPISODES = ["kijk-in-de-kernen", "krachtstation-kanaleneiland",
                  "kneuterigheid-verdient-een-standbeeld", "de-achilleshiel-van-geld-en-tijd",
                  "choku-gym-poelenburg"]


def wijk_build(root: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipeline", "build", "--archive", str(root),
                           *options], capture_output=True, text=True, timeout=900)


def copy_demo(repo_dir: Path, target: Path) -> Path:
    target.mkdir(parents=True)
    shutil.copy(repo_dir / "archive.yaml", target / "archive.yaml")
    shutil.copytree(repo_dir / "episodes", target / "episodes")
    return target


@pytest.fixture(scope="module")
def built_demo(repo_dir, tmp_path_factory):
    """The demo archive, copied and built once for this module."""
    root = copy_demo(repo_dir, tmp_path_factory.mktemp("demo") / "archive")
    result = wijk_build(root)
    assert result.returncode == 0, result.stdout + result.stderr
    return root, result


def test_build_transcribes_every_local_episode(built_demo):
    root, result = built_demo
    assert "Transcribed 5 episode(s)" in result.stdout
    for slug in LOCAL_EPISODES:
        for suffix in ("json", "vtt", "srt", "txt", "podcast.json", "tags.json"):
            assert (root / "transcripts" / f"{slug}.{suffix}").is_file(), (slug, suffix)
    master = json.loads((root / "transcripts" / "kijk-in-de-kernen.json").read_text())
    assert master["provenance"]["engine"] == "faster-whisper"
    assert master["provenance"]["status"] == "machine"
    assert master["speakers"] == {"SPEAKER_1": "Lou Repetur", "SPEAKER_2": "Chris Frencken"}
    words = [w for s in master["segments"] for w in s["words"]]
    assert words and all(0 <= w["probability"] <= 1 and w["end"] >= w["start"] for w in words)
    assert "Kijk in de Kernen" in " ".join(s["text"] for s in master["segments"])


@pytest.mark.parametrize("slug", LOCAL_EPISODES)
def test_demo_captions_meet_the_standards(built_demo, slug):
    root, _ = built_demo
    vtt = parse_vtt((root / "transcripts" / f"{slug}.vtt").read_text(encoding="utf-8"))
    srt = parse_srt((root / "transcripts" / f"{slug}.srt").read_text(encoding="utf-8"), strict=True)
    assert vtt and len(vtt) == len(srt)
    assert check_cues(vtt) == []  # every rule, cue by cue (reading speed is a separate warning)
    assert check_cues(srt) == []
    for cue in vtt:
        assert 0.83 <= round(cue.end - cue.start, 3) <= 7.0
        assert len(cue.lines) <= 2 and all(len(line) <= 42 for line in cue.lines)


def _changes(names: list[str]) -> list[str]:
    """The names in order, one per change of speaker."""
    return [name for i, name in enumerate(names) if i == 0 or name != names[i - 1]]


def test_the_conversation_names_the_right_speaker_at_every_change(built_demo):
    """Issue 8: the demo's conversation, transcribed by Whisper and given speakers by the voice
    encoder, names the right person at each change in the captions and on the site."""
    root, _ = built_demo
    reference = json.loads((Path(__file__).parent / "data" / "demo_turns.json")
                           .read_text(encoding="utf-8"))["2021-09-16-kijk-in-de-kernen.mp3"]
    expected = _changes([turn["speaker"] for turn in reference])
    assert len(expected) >= 6  # a conversation, not a monologue
    cues = parse_vtt((root / "transcripts" / "kijk-in-de-kernen.vtt").read_text(encoding="utf-8"))
    spoken = [cue for cue in cues if cue.speaker]
    assert _changes([cue.speaker for cue in spoken]) == expected
    turns = iter(turn for i, turn in enumerate(reference)
                 if i == 0 or turn["speaker"] != reference[i - 1]["speaker"])
    for i, cue in enumerate(spoken):  # a new cue at each change, where the new voice begins
        if i == 0 or cue.speaker != spoken[i - 1].speaker:
            assert abs(cue.start - next(turns)["start"]) < 1.0, cue
    page = next((root / "site").rglob("kijk-in-de-kernen/index.html")).read_text(encoding="utf-8")
    named = re.findall(r'<span class="speaker">([^<]*):</span>', page)
    assert _changes(named) == expected


def test_demo_is_tagged_with_evidence(built_demo):
    root, _ = built_demo
    tags = json.loads((root / "transcripts" / "kneuterigheid-verdient-een-standbeeld.tags.json")
                      .read_text())
    ids = {t["id"] for t in tags["episode"]}
    assert {"b1-denbosch-boefjes-en-baristas", "b1-l4"} <= ids
    passage = next(t for t in tags["passages"] if t["id"] == "b1-l4")
    assert passage["end"] > passage["start"] >= 0 and passage["quote"]
    editor = json.loads((root / "transcripts" / "kijk-in-de-kernen.tags.json").read_text())
    assert {"id": "b2-voorst-kijk-in-de-kernen", "source": "editor"}.items() <= \
        next(t for t in editor["episode"] if t["id"] == "b2-voorst-kijk-in-de-kernen").items()


def test_second_build_transcribes_nothing(built_demo):
    """No file changed: the build sees it from the archive's fingerprint and runs no stage;
    checking stage by stage (--recheck) finds nothing to do either."""
    root, _ = built_demo
    masters = {p: p.stat().st_mtime_ns for p in (root / "transcripts").glob("*.json")}
    quick = wijk_build(root)
    assert quick.returncode == 0, quick.stderr
    assert "Nothing changed: 6 episode(s)" in quick.stdout and "Transcription" not in quick.stdout
    checked = wijk_build(root, "--recheck")
    assert checked.returncode == 0, checked.stderr
    assert "Transcription: nothing new (5 transcript(s) up to date)" in checked.stdout
    assert "Nothing changed: 6 episode(s)" in checked.stdout
    assert {p: p.stat().st_mtime_ns for p in masters} == masters


def test_an_editor_corrects_the_captions_file(built_demo):
    root, _ = built_demo
    folder = root / "transcripts"
    vtt = folder / "kneuterigheid-verdient-een-standbeeld.vtt"
    lines = vtt.read_text(encoding="utf-8").splitlines()
    first_cue = next(i for i, line in enumerate(lines) if "-->" in line)
    lines[first_cue + 1] = "Kneuterigheid verdient écht een standbeeld."
    vtt.write_text("\n".join(lines) + "\n", encoding="utf-8")
    edited = vtt.read_bytes()

    result = wijk_build(root)
    assert result.returncode == 0, result.stderr
    assert "took the corrections made in kneuterigheid-verdient-een-standbeeld.vtt" in result.stdout
    master = json.loads((folder / "kneuterigheid-verdient-een-standbeeld.json").read_text())
    assert master["provenance"]["status"] == "corrected"
    assert "écht een standbeeld" in master["segments"][0]["text"]
    for suffix in ("srt", "txt", "podcast.json"):
        text = (folder / f"kneuterigheid-verdient-een-standbeeld.{suffix}").read_text()
        assert "verdient écht" in text, suffix
    [kept] = (folder / "history").glob("kneuterigheid-verdient-een-standbeeld.*.vtt")
    assert kept.read_bytes() == edited
    assert "écht" in (root / "site" / "transcripts" / "kneuterigheid-verdient-een-standbeeld.vtt"
                      ).read_text()
    page = (root / "site" / "afleveringen" / "kneuterigheid-verdient-een-standbeeld" / "index.html"
            ).read_text(encoding="utf-8")
    assert "verdient écht" in page and "gecorrigeerd" in page.lower()

    # A broken edit is reported with its line, kept as it is, and the rest still builds.
    srt_before = (folder / "kneuterigheid-verdient-een-standbeeld.srt").read_bytes()
    broken = vtt.read_text(encoding="utf-8").replace("-->", "->", 1)
    vtt.write_text(broken, encoding="utf-8")
    result = wijk_build(root)
    assert result.returncode == 1
    [line] = [l for l in result.stderr.splitlines() if l.startswith("error:")]
    assert line.startswith("error: transcripts/kneuterigheid-verdient-een-standbeeld.vtt: line ")
    assert vtt.read_text(encoding="utf-8") == broken
    assert (folder / "kneuterigheid-verdient-een-standbeeld.srt").read_bytes() == srt_before
    vtt.write_text(broken.replace("->", "-->", 1), encoding="utf-8")
    assert wijk_build(root).returncode == 0


def test_a_corrected_master_survives_and_shows_everywhere(built_demo):
    root, _ = built_demo
    path = root / "transcripts" / "krachtstation-kanaleneiland.json"
    master = json.loads(path.read_text(encoding="utf-8"))
    corrected = "In deze aflevering gaan we naar het Krachtstation in Kanaleneiland, in Utrecht."
    master["segments"][0]["text"] = " " + corrected
    path.write_text(json.dumps(master, ensure_ascii=False, indent=2), encoding="utf-8")
    edited = path.read_bytes()

    result = wijk_build(root)
    assert result.returncode == 0, result.stderr
    assert path.read_bytes() == edited  # the editor's file is never rewritten
    for suffix in ("vtt", "srt", "txt"):
        text = (root / "transcripts" / f"krachtstation-kanaleneiland.{suffix}").read_text()
        assert "in Utrecht." in " ".join(text.split()), suffix
    assert "gecorrigeerd" in (root / "transcripts" / "krachtstation-kanaleneiland.txt").read_text()

    # New settings make every transcript stale; the corrected one is still kept without --force.
    config = root / "archive.yaml"
    config.write_text(config.read_text().replace("beam_size: 5", "beam_size: 4"))
    result = wijk_build(root)
    assert result.returncode == 0, result.stderr
    assert path.read_bytes() == edited
    # Both corrected transcripts (this one and the captions-corrected one) are kept.
    assert "Transcribed 3 episode(s)" in result.stdout and "2 kept" in result.stdout

    # With --force it is re-transcribed, and the corrected version is kept in history/.
    result = wijk_build(root, "--force")
    assert result.returncode == 0, result.stderr
    [kept] = (root / "transcripts" / "history").glob("krachtstation-kanaleneiland.*.json")
    assert corrected in kept.read_text(encoding="utf-8")
    assert json.loads(path.read_text())["provenance"]["status"] == "machine"

"""Ingest on real media files: every container, sidecars, identity, and each kind of bad input."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from pipeline.archive import load_archive
from pipeline.errors import ConfigError
from pipeline.ingest.identity import Identity, Registry, feed_guid
from pipeline.ingest.scan import ingest

MEDIA = Path(__file__).parent / "data" / "media"
AUDIO = ["mp3", "m4a", "aac", "ogg", "opus", "flac", "wav"]
VIDEO = ["mp4", "m4v", "mov", "webm", "mkv"]


def ffprobe_duration(path: Path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration",
                          "-of", "csv=p=0", str(path)], capture_output=True, text=True, check=True)
    return float(out.stdout)


def run_wijk(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("extension", AUDIO + VIDEO)
def test_every_container_is_ingested(make_archive, extension):
    source = MEDIA / f"speech.{extension}"
    root = make_archive({f"test-{extension}.{extension}": source})
    inventory = ingest(root, load_archive(root))
    assert inventory.errors == []
    [episode] = inventory.episodes
    assert episode.kind == ("video" if extension in VIDEO else "audio")
    # ADTS (raw .aac) has no tags: the title comes from the file name.
    assert episode.title == ("Test aac" if extension == "aac" else f"Fixture {extension}")
    assert episode.media.size == source.stat().st_size
    assert abs(episode.duration - ffprobe_duration(source)) <= 0.1
    assert episode.media.sample_rate and episode.media.channels == 1
    assert len(episode.media.audio_hash) == 64
    expected_mime = {"mp3": "audio/mpeg", "m4a": "audio/mp4", "aac": "audio/aac",
                     "ogg": "audio/ogg", "opus": "audio/opus", "flac": "audio/flac",
                     "wav": "audio/wav", "mp4": "video/mp4", "m4v": "video/x-m4v",
                     "mov": "video/quicktime", "webm": "video/webm", "mkv": "video/x-matroska"}
    assert episode.media.mime_type == expected_mime[extension]


def test_demo_inventory_matches_ffprobe(repo_dir):
    result = run_wijk("ingest", "--json", cwd=repo_dir)
    assert result.returncode == 0, result.stderr
    inventory = json.loads(result.stdout)
    episodes = {e["slug"]: e for e in inventory["episodes"]}
    assert len(episodes) == 6
    local = [e for e in episodes.values() if e["source"]]
    assert len(local) == 5
    for episode in local:
        assert abs(episode["duration"] - ffprobe_duration(repo_dir / episode["source"])) <= 0.1
    voorst = episodes["kijk-in-de-kernen"]
    assert voorst["title"] == "Kijk in de kernen, digitaal dorpsplein voor de inwoners van Voorst"
    assert voorst["episode"] == 4 and voorst["season"] == 1
    assert voorst["speakers"] == ["Lou Repetur", "Chris Frencken"]
    assert [c["title"] for c in voorst["chapters"]] == [
        "Welkom", "Het digitale dorpsplein", "Wat je nodig hebt"]
    assert voorst["embedded_image"] is True
    assert episodes["choku-gym-poelenburg"]["kind"] == "video"
    remote = episodes["de-oude-bieb-lewenborg"]
    assert remote["source"] is None and remote["video_url"].startswith("https://")
    assert remote["duration"] == 240.0


def test_table_lists_every_episode(repo_dir):
    result = run_wijk("ingest", cwd=repo_dir)
    assert result.returncode == 0, result.stderr
    assert "6 episode(s)" in result.stdout
    assert "kijk-in-de-kernen" in result.stdout and "video (link)" in result.stdout


def test_tags_from_the_file_when_there_is_no_sidecar(repo_dir, make_archive):
    root = make_archive({"ep.mp3": repo_dir / "episodes" / "2021-09-16-kijk-in-de-kernen.mp3"})
    [episode] = ingest(root, load_archive(root)).episodes
    assert episode.title == "Kijk in de kernen (ID3-titel)"
    assert episode.description == "Podcast over Kijk in de Kernen in Voorst."
    assert (episode.episode, episode.season) == (4, 1)
    assert episode.date.date().isoformat() == "2021-09-16"
    assert episode.author == "Movisie" and episode.album == "Wij in de Wijk"
    assert len(episode.chapters) == 3 and episode.chapters[1].start > 0


def test_sidecar_wins_over_tags(repo_dir, make_archive):
    root = make_archive({
        "ep.mp3": repo_dir / "episodes" / "2021-09-16-kijk-in-de-kernen.mp3",
        "ep.yaml": "title: Andere titel\nepisode: 7\nchapters:\n  - {start: '0:05', title: Begin}\n",
    })
    [episode] = ingest(root, load_archive(root)).episodes
    assert episode.title == "Andere titel" and episode.episode == 7
    assert [(c.start, c.title) for c in episode.chapters] == [(5.0, "Begin")]


def test_the_date_from_the_sidecar_the_tags_the_file_name_or_the_file(repo_dir, make_archive):
    """An episode's date: the sidecar's, else the file's tags', else a date leading the file
    name, else (with a warning) the file's modification time."""
    tagged = repo_dir / "episodes" / "2021-09-16-kijk-in-de-kernen.mp3"  # its tags: 2021-09-16
    root = make_archive({
        "2020-05-01-met-sidecar.mp3": MEDIA / "speech.mp3",
        "2020-05-01-met-sidecar.yaml": "date: 2019-01-02\n",
        "2020-05-01-getagd.mp3": tagged,
        "2020-05-01-naam.ogg": MEDIA / "speech.ogg",
        "2020-13-45-geen-datum.opus": MEDIA / "speech.opus",  # no such day
        "zonder-datum.flac": MEDIA / "speech.flac",
    })
    for name in ("2020-13-45-geen-datum.opus", "zonder-datum.flac"):
        os.utime(root / "episodes" / name, (1_600_000_000, 1_600_000_000))
    inventory = ingest(root, load_archive(root))
    dates = {e.slug: e.date.isoformat() for e in inventory.episodes}
    assert dates == {"met-sidecar": "2019-01-02T12:00:00+00:00",
                     "getagd": "2021-09-16T12:00:00+00:00",
                     "naam": "2020-05-01T12:00:00+00:00",
                     "geen-datum": "2020-09-13T12:26:40+00:00",
                     "zonder-datum": "2020-09-13T12:26:40+00:00"}
    warned = sorted(str(p.path) for p in inventory.problems if "no date" in p.message)
    assert warned == ["episodes/2020-13-45-geen-datum.opus", "episodes/zonder-datum.flac"]


def test_audio_and_video_with_one_stem_are_one_episode(make_archive):
    root = make_archive({"ep.m4a": MEDIA / "speech.m4a", "ep.webm": MEDIA / "speech.webm"})
    [episode] = ingest(root, load_archive(root)).episodes
    assert episode.source.name == "ep.m4a" and episode.kind == "audio"
    assert [a.path.name for a in episode.alternates] == ["ep.webm"]


def test_editor_temp_files_are_ignored(make_archive):
    root = make_archive({"ep.mp3": MEDIA / "speech.mp3", "~$ep.mp3": b"x", ".ep.mp3.swp": b"x",
                         "ep2.mp3.part": b"x", "notes.txt": "aantekeningen"})
    inventory = ingest(root, load_archive(root))
    assert [e.source.name for e in inventory.episodes] == ["ep.mp3"]
    assert inventory.errors == []


# --- Identity -------------------------------------------------------------------------------

def test_guid_and_slug_survive_rename_and_retitle(make_archive):
    root = make_archive({"eerste-naam.mp3": MEDIA / "speech.mp3",
                         "eerste-naam.yaml": "title: Eerste titel\n"})
    config = load_archive(root)
    registry = Registry.load(root)
    [before] = ingest(root, config, registry).episodes
    # What `wijk build` does: record identities in transcripts/registry.json.
    registry.record(ingest(root, config, registry).identities[before.slug])
    registry.save()
    assert (root / "transcripts" / "registry.json").is_file()

    episodes = root / "episodes"
    (episodes / "eerste-naam.mp3").rename(episodes / "nieuwe-naam.mp3")
    (episodes / "eerste-naam.yaml").rename(episodes / "nieuwe-naam.yaml")
    (episodes / "nieuwe-naam.yaml").write_text("title: Heel andere titel\n", encoding="utf-8")
    [after] = ingest(root, config, Registry.load(root)).episodes
    assert after.title == "Heel andere titel"
    assert (after.guid, after.slug) == (before.guid, before.slug) == (before.guid, "eerste-naam")


def test_guid_is_stable_before_the_first_build_and_after_retagging(make_archive, tmp_path):
    from mutagen.id3 import ID3, TIT2

    root = make_archive({"ep.mp3": MEDIA / "speech.mp3"})
    config = load_archive(root)
    [first] = ingest(root, config).episodes
    path = root / "episodes" / "ep.mp3"
    tags = ID3(path)
    tags.add(TIT2(encoding=3, text="Nieuwe tag-titel"))
    tags.save(path)
    path.rename(root / "episodes" / "hernoemd.mp3")
    [second] = ingest(root, config).episodes
    assert second.title == "Nieuwe tag-titel"
    assert second.guid == first.guid


def test_sidecar_guid_is_kept(make_archive):
    root = make_archive({"ep.mp3": MEDIA / "speech.mp3",
                         "ep.yaml": "guid: tag:oude-host,2021:aflevering-4\n"})
    [episode] = ingest(root, load_archive(root)).episodes
    assert episode.guid == "tag:oude-host,2021:aflevering-4"


def test_podcast_guid_matches_the_namespace_examples():
    # The examples given in the podcast namespace's description of <podcast:guid>.
    assert feed_guid("https://mp3s.nashownotes.com/pc20rss.xml") == \
        "917393e3-1b1e-5cef-ace4-edaa54e1f810"
    assert feed_guid("podnews.net/rss/") == "9b024349-ccf0-5f69-a609-6b82873eab3c"


# --- Sidecar validation -----------------------------------------------------------------------

@pytest.mark.parametrize("sidecar, message", [
    ("titel: Typfout\n", "unknown key 'titel'"),
    ("title: [niet gesloten\n", "malformed YAML at line"),
    ("season: nul\n", "key 'season'"),
    ("episode: 0\n", "key 'episode'"),
    ("chapters:\n  - {start: 'tien', title: Begin}\n", "key 'chapters.0.start'"),
    ("speakers: 12\n", "key 'speakers'"),
    ("image: ../../../etc/passwd\n", "leaves the archive folder"),
    ("image: bestaat-niet.jpg\n", "file 'bestaat-niet.jpg' not found"),
    ("- gewoon\n- een lijst\n", "expected a mapping"),
])
def test_bad_sidecar_is_one_clear_line(make_archive, sidecar, message):
    root = make_archive({"ep.mp3": MEDIA / "speech.mp3", "ep.yaml": sidecar,
                         "goed.flac": MEDIA / "speech.flac"})
    inventory = ingest(root, load_archive(root))
    [problem] = inventory.errors
    assert str(problem.path) == "episodes/ep.yaml"
    assert message in problem.message
    assert [e.source.name for e in inventory.episodes] == ["goed.flac"]


def test_non_utf8_sidecar(make_archive):
    root = make_archive({"ep.mp3": MEDIA / "speech.mp3", "ep.yaml": b"title: Caf\xe9\n"})
    [problem] = ingest(root, load_archive(root)).errors
    assert "not UTF-8" in problem.message


def test_archive_yaml_is_validated(make_archive):
    from pipeline.errors import ConfigError
    from tests.conftest import ARCHIVE_YAML

    root = make_archive(config=ARCHIVE_YAML + "kleur: blauw\ntranscription: {beam: 3}\n")
    with pytest.raises(ConfigError) as caught:
        load_archive(root)
    text = str(caught.value)
    assert "archive.yaml" in text and "unknown key 'kleur'" in text
    assert "unknown key 'transcription.beam'" in text


def test_remote_video_needs_url_and_duration(make_archive):
    root = make_archive({"film.yaml": "title: Film\nvideo_url: https://example.org/film\n",
                         "los.yaml": "title: Alleen metadata\n"})
    problems = {str(p.path): p.message for p in ingest(root, load_archive(root)).errors}
    assert "needs duration" in problems["episodes/film.yaml"]
    assert "sidecar without a media file" in problems["episodes/los.yaml"]


# --- Bad media, all at once beside the demo episodes -------------------------------------------

def bad_inputs(repo_dir: Path) -> dict[str, bytes | str | Path]:
    mp3 = (repo_dir / "episodes" / "2021-09-16-kijk-in-de-kernen.mp3").read_bytes()
    m4a = (repo_dir / "episodes" / "kneuterigheid-verdient-een-standbeeld.m4a").read_bytes()
    return {
        "leeg.mp3": b"",
        "ruis.mp3": os.urandom(20_000),
        "afgebroken-video.m4a": m4a[: len(m4a) // 2],
        "afgebroken.mp3": mp3[: len(mp3) // 2],
        "verkeerde-extensie.ogg": MEDIA / "speech.mp3",
        "dubbel.flac": repo_dir / "episodes" / "de-achilleshiel-van-geld-en-tijd.flac",
        "typfout.mp3": MEDIA / "speech.mp3",
        "typfout.yaml": "titel: Typfout\n",
        "kapot.wav": MEDIA / "speech.wav",
        "kapot.yaml": "title: 'open\n",
        "ontsnapt.m4a": MEDIA / "speech.m4a",
        "ontsnapt.yaml": "image: ../../buiten.jpg\n",
    }


def test_bad_inputs_beside_the_demo(repo_dir, tmp_path):
    root = tmp_path / "archive"
    shutil.copytree(repo_dir / "episodes", root / "episodes")
    shutil.copy(repo_dir / "archive.yaml", root / "archive.yaml")
    (tmp_path / "buiten.jpg").write_bytes(b"\xff\xd8 not really")
    for name, content in bad_inputs(repo_dir).items():
        target = root / "episodes" / name
        if isinstance(content, Path):
            content = content.read_bytes()
        target.write_bytes(content.encode() if isinstance(content, str) else content)
    before = tree_digest(root / "episodes")

    result = run_wijk("ingest", "--json", "--archive", str(root), cwd=repo_dir)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    by_file = {line.split(": ")[1]: line for line in lines}
    assert set(by_file) == {
        "episodes/leeg.mp3", "episodes/ruis.mp3", "episodes/afgebroken-video.m4a",
        "episodes/afgebroken.mp3", "episodes/verkeerde-extensie.ogg", "episodes/dubbel.flac",
        "episodes/typfout.yaml", "episodes/kapot.yaml", "episodes/ontsnapt.yaml",
    }, result.stderr
    assert len(lines) == len(by_file)  # one line each
    assert "empty (0 bytes)" in by_file["episodes/leeg.mp3"]
    assert "not a readable media file" in by_file["episodes/ruis.mp3"]
    assert "truncated" in by_file["episodes/afgebroken.mp3"]
    assert "not a readable media file" in by_file["episodes/afgebroken-video.m4a"]
    assert "content is MP3: rename it to .mp3" in by_file["episodes/verkeerde-extensie.ogg"]
    assert "same audio as episodes/de-achilleshiel-van-geld-en-tijd.flac" in \
        by_file["episodes/dubbel.flac"]
    assert "unknown key 'titel'" in by_file["episodes/typfout.yaml"]
    assert "malformed YAML" in by_file["episodes/kapot.yaml"]
    assert "leaves the archive folder" in by_file["episodes/ontsnapt.yaml"]

    slugs = {e["slug"] for e in json.loads(result.stdout)["episodes"]}
    assert {"kijk-in-de-kernen", "krachtstation-kanaleneiland", "choku-gym-poelenburg",
            "kneuterigheid-verdient-een-standbeeld", "de-achilleshiel-van-geld-en-tijd",
            "de-oude-bieb-lewenborg"} <= slugs
    assert tree_digest(root / "episodes") == before  # nothing an editor made was touched


def test_non_utf8_tag_is_a_warning_and_the_episode_stays(make_archive):
    from mutagen.id3 import ID3, TIT2

    root = make_archive({"ep.mp3": MEDIA / "speech.mp3"})
    path = root / "episodes" / "ep.mp3"
    tags = ID3(path)
    tags.delall("TIT2")
    tags.add(TIT2(encoding=3, text="Cafe"))
    tags.save(path, v2_version=4)
    data = path.read_bytes()
    path.write_bytes(data.replace(b"Cafe", b"Caf\xe9", 1))  # Latin-1 bytes in a UTF-8 frame

    inventory = ingest(root, load_archive(root))
    [episode] = inventory.episodes
    [warning] = [w for w in inventory.warnings if "UTF-8" in w.message]
    assert "tag 'title' is not valid UTF-8" in warning.message and str(warning.path) == "episodes/ep.mp3"
    assert episode.title == "Ep"  # from the file name, not mojibake


def test_unchanged_files_are_not_probed_again(make_archive, monkeypatch):
    from pipeline.ingest import media

    root = make_archive({"ep.mp3": MEDIA / "speech.mp3", "ander.flac": MEDIA / "speech.flac"})
    config = load_archive(root)
    first = ingest(root, config)
    assert (root / ".cache" / "ingest.sqlite").is_file()

    def no_ffmpeg(path):
        raise AssertionError(f"probed {path} again")

    monkeypatch.setattr(media, "probe", no_ffmpeg)
    second = ingest(root, config)
    assert [e.media for e in second.episodes] == [e.media for e in first.episodes]

    (root / "episodes" / "ep.mp3").write_bytes((MEDIA / "speech.ogg").read_bytes())
    with pytest.raises(AssertionError, match="probed .*ep.mp3 again"):
        ingest(root, config)


def test_the_registry_finds_and_updates_identities_through_its_index(tmp_path):
    registry = Registry(tmp_path)
    registry.record(Identity(slug="a", guid="g1", stem="2020-01-01-a", audio_hash="h1"))
    registry.record(Identity(slug="b", guid="g2", stem="b", audio_hash="h2"))
    assert registry.find("h2", None, "elders").slug == "b"  # audio first
    assert registry.find(None, None, "2020-01-01-a").slug == "a"
    renamed = Identity(slug="a", guid="g1", stem="a-nieuw", audio_hash="h1")
    registry.record(renamed)  # the file was renamed: same slug, new stem
    assert list(registry.identities) == [renamed, Identity("b", "g2", "b", "h2")]
    assert registry.find(None, None, "a-nieuw") == renamed
    assert registry.find(None, None, "2020-01-01-a") is None
    new = registry.resolve(stem="2021-05-05-b", feed_url="https://example.org/feed.xml",
                           audio_hash="h3")
    assert new.slug == "b-2"  # "b" is taken
    registry.record(new)
    assert registry.find("h3", None, "x") == new and len(registry) == 3


def _identities(count: int) -> list[Identity]:
    return [Identity(slug=f"aflevering-{n:03d}", guid=f"guid-{n}", stem=f"2020-01-01-{n}",
                     audio_hash=f"hash-{n}", video_url=None if n % 3 else f"https://v.nl/{n}")
            for n in range(count)]


def test_the_registry_file_has_the_bytes_json_dumps_gives_sorted_by_slug(tmp_path):
    registry = Registry.load(tmp_path)
    registry.save()  # none yet: the file is still written
    empty = {"format": 1, "episodes": []}
    path = tmp_path / "transcripts" / "registry.json"
    assert path.read_text(encoding="utf-8") == json.dumps(empty, indent=2) + "\n"
    identities = _identities(5) + [Identity(slug="één", guid="g", stem="één")]
    for identity in reversed(identities):
        registry.record(identity)
    registry.save()
    expected = {"format": 1, "episodes": [asdict(i) for i in sorted(identities,
                                                                    key=lambda i: i.slug)]}
    assert path.read_text(encoding="utf-8") == \
        json.dumps(expected, ensure_ascii=False, indent=2) + "\n"


def test_the_registry_is_read_from_its_copy_until_the_file_changes(tmp_path):
    registry = Registry.load(tmp_path)
    for identity in _identities(4):
        registry.record(identity)
    registry.save()
    copy = tmp_path / ".cache" / "registry.sqlite"
    assert copy.is_file()
    path = tmp_path / "transcripts" / "registry.json"
    # The copy answers, not the file: made unreadable as JSON with its size and time kept.
    saved, stat = path.read_bytes(), path.stat()
    path.write_bytes(b"x" * len(saved))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    again = Registry.load(tmp_path)
    assert again.find("hash-2", None, "?").slug == "aflevering-002" and len(again) == 4
    # Edited outside the build (a git pull): copied afresh.
    data = json.loads(saved)
    data["episodes"][1]["slug"] = "hernoemd"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    edited = Registry.load(tmp_path)
    assert edited.find("hash-1", None, "?").slug == "hernoemd"
    assert [i.slug for i in edited.identities] == \
        ["aflevering-000", "hernoemd", "aflevering-002", "aflevering-003"]  # the file's order
    path.write_text("{niet af", encoding="utf-8")
    with pytest.raises(ConfigError, match="damaged episode registry"):
        Registry.load(tmp_path)


def test_a_build_killed_before_saving_leaves_the_copy_as_the_file_is(tmp_path):
    registry = Registry.load(tmp_path)
    registry.record(_identities(1)[0])
    registry.save()
    registry.record(Identity(slug="nieuw", guid="g-nieuw", stem="nieuw"))
    registry._db.close()  # what a killed process leaves: the open transaction rolled back
    assert [i.slug for i in Registry.load(tmp_path).identities] == ["aflevering-000"]


def test_the_first_identity_is_the_files_first_after_a_save(tmp_path):
    """Two identities with one stem (a file renamed to another's old name): the first in
    registry.json's order wins, whether the registry was just saved or loaded afresh."""
    registry = Registry.load(tmp_path)
    registry.record(Identity(slug="zomer", guid="g1", stem="gedeeld", audio_hash="h1"))
    registry.record(Identity(slug="lente", guid="g2", stem="gedeeld", audio_hash="h2"))
    assert registry.find(None, None, "gedeeld").slug == "zomer"  # recorded first
    registry.save()  # sorted by slug: "lente" comes first in the file
    assert registry.find(None, None, "gedeeld").slug == "lente"
    assert Registry.load(tmp_path).find(None, None, "gedeeld").slug == "lente"


def test_the_registry_works_without_a_usable_cache_folder(tmp_path):
    (tmp_path / ".cache").write_text("a file where the folder should be", encoding="utf-8")
    registry = Registry.load(tmp_path)
    registry.record(_identities(1)[0])
    registry.save()
    assert Registry.load(tmp_path).find("hash-0", None, "?").slug == "aflevering-000"


def test_a_damaged_copy_of_the_registry_is_made_again(tmp_path):
    registry = Registry.load(tmp_path)
    registry.record(_identities(1)[0])
    registry.save()
    (tmp_path / ".cache" / "registry.sqlite").write_bytes(b"geen database" * 100)
    assert Registry.load(tmp_path).find("hash-0", None, "?").slug == "aflevering-000"

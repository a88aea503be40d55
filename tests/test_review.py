"""The review app: an editor's text taken into the master (timings kept for unchanged words),
saving as a correction (history, derived files, conflicts refused), and what the local server
allows. The browser test is in test_review_browser.py."""

from __future__ import annotations

import http.client
import json
import shutil
from pathlib import Path

import pytest

from pipeline.model import Provenance, Segment, Transcript, Word
from pipeline.review.edits import EditedSegment, apply_review
from pipeline.review.saving import ChangedMeanwhile, Review, master_digest, save_review
from pipeline.review.server import review_in_background
from pipeline.transcripts.store import TranscriptStore


def words(text: str, start: float, step: float = 0.5, speaker: str | None = "SPEAKER_1",
          probability: float = 0.6) -> list[Word]:
    return [Word(round(start + i * step, 3), round(start + (i + 1) * step, 3), " " + token,
                 probability, speaker) for i, token in enumerate(text.split())]


def segment(number: int, text: str, start: float, speaker: str | None = "SPEAKER_1",
            flags: list[str] | None = None) -> Segment:
    spoken = words(text, start, speaker=speaker)
    return Segment(number, spoken[0].start, spoken[-1].end, " " + text, spoken, speaker,
                   flags=list(flags or []))


def master() -> Transcript:
    provenance = Provenance("faster-whisper", "base", None, {}, "hash", "2024-01-01T00:00:00+00:00")
    return Transcript("nl", [segment(0, "Welkom bij de podcast.", 0.0),
                             segment(1, "Vandaag zijn we in Voorst.", 3.0, "SPEAKER_2"),
                             segment(2, "Ondertiteld door de Amara.org gemeenschap", 8.0, None,
                                     ["blocklist"])], provenance, {"SPEAKER_1": "Lou"})


def as_left(transcript: Transcript) -> list[EditedSegment]:
    return [EditedSegment(s.text.strip(), s.speaker, s.id) for s in transcript.segments]


def times(segment: Segment) -> list[tuple[str, float, float]]:
    return [(w.text.strip(), w.start, w.end) for w in segment.words]


def test_an_unchanged_transcript_keeps_every_word_and_time():
    before = master()
    after = apply_review(before, as_left(before), {"SPEAKER_1": "Lou"})
    assert [times(s) for s in after.segments] == [times(s) for s in before.segments]
    assert after.segments[2].flags == ["blocklist"]  # left as it was: still flagged
    assert after.provenance.status == "corrected" and after.provenance.corrected


def test_a_changed_word_takes_the_time_of_the_word_it_replaces_and_the_rest_keep_theirs():
    before = master()
    edited = as_left(before)
    edited[1].text = "Vandaag zijn we in Twello."
    after = apply_review(before, edited, {})
    assert times(after.segments[1])[:4] == times(before.segments[1])[:4]
    assert times(after.segments[1])[4] == ("Twello.", 5.0, 5.5)
    assert after.segments[1].words[4].probability == 1.0  # typed: not doubtful any more
    assert after.segments[1].words[0].probability == 0.6  # untouched: the recogniser's


def test_an_added_word_gets_the_time_between_its_neighbours():
    before = master()
    edited = as_left(before)
    edited[0].text = "Welkom bij de nieuwe podcast."
    after = apply_review(before, edited, {})
    new = dict((w.text.strip(), (w.start, w.end)) for w in after.segments[0].words)
    assert new["de"] == (1.0, 1.5) and new["podcast."] == (1.5, 2.0)
    assert new["nieuwe"] == (1.5, 1.5)  # no time between them: a word with no duration there
    assert [w.start for w in after.segments[0].words] == sorted(w.start for w in
                                                                 after.segments[0].words)


def test_split_join_and_marker():
    before = master()
    edited = [EditedSegment("Welkom bij", "SPEAKER_1", 0),
              EditedSegment("de podcast. Vandaag zijn we in Voorst.", "SPEAKER_2", None),
              EditedSegment("[muziek]", None, 2)]
    after = apply_review(before, edited, {"SPEAKER_2": "Chris"})
    first, second, music = after.segments
    assert (first.start, first.end, first.text) == (0.0, 1.0, " Welkom bij")
    assert (second.start, second.end) == (1.0, 5.5) and second.speaker == "SPEAKER_2"
    assert all(w.speaker == "SPEAKER_2" for w in second.words)
    assert (music.text, music.start, music.end) == (" [muziek]", 8.0, 10.5)  # its 5 words
    assert music.flags == []  # the editor replaced the flagged text
    assert after.speakers == {"SPEAKER_2": "Chris"}


def test_a_deleted_segment_is_gone():
    before = master()
    after = apply_review(before, as_left(before)[:2] + [EditedSegment("", None, 2)], {})
    assert len(after.segments) == 2 and after.is_empty is False


# --- saving and the server, on a built one-episode archive -----------------------------------


@pytest.fixture
def archive(one_episode_built, tmp_path) -> Path:
    root = tmp_path / "archive"
    shutil.copytree(one_episode_built, root)
    return root


SLUG = "kijk-in-de-kernen"


def episode_of(root: Path):
    from pipeline.archive import load_archive
    from pipeline.review.episodes import local_episodes

    [episode] = local_episodes(root, load_archive(root))
    return episode


def review_of(root: Path, change) -> Review:
    stored = TranscriptStore(root).load(SLUG).transcript
    segments = as_left(stored)
    change(segments)
    return Review(master_digest(root, SLUG), segments, dict(stored.speakers), 12.0)


def test_saving_makes_a_correction_keeps_history_and_remakes_the_derived_files(archive):
    episode = episode_of(archive)
    before = (archive / "transcripts" / f"{SLUG}.json").read_bytes()

    def change(segments):
        segments[0].text = "Redactiewoord " + segments[0].text

    review = review_of(archive, change)
    review.speakers = {"SPEAKER_1": "Lou Repetur", "SPEAKER_2": "Spreker 2"}
    digest = save_review(archive, episode, review)
    stored = TranscriptStore(archive).load(SLUG)
    assert stored.transcript.speakers == {"SPEAKER_1": "Lou Repetur"}  # "Spreker 2": unnamed
    assert stored.corrected and stored.transcript.segments[0].text.startswith(" Redactiewoord")
    assert stored.transcript.provenance.reviewed_until == 12.0
    assert digest == master_digest(archive, SLUG)
    [kept] = (archive / "transcripts" / "history").glob(f"{SLUG}.*.json")
    assert kept.read_bytes() == before
    for ending in ("vtt", "srt", "txt", "podcast.json"):
        assert "Redactiewoord" in (archive / "transcripts" / f"{SLUG}.{ending}").read_text()


def test_a_save_based_on_an_older_master_is_refused_and_changes_nothing(archive):
    episode = episode_of(archive)
    review = review_of(archive, lambda segments: None)
    master = archive / "transcripts" / f"{SLUG}.json"
    master.write_bytes(master.read_bytes().replace(b'"language"', b'"language" ', 1))  # a build
    changed = master.read_bytes()
    with pytest.raises(ChangedMeanwhile):
        save_review(archive, episode, review)
    assert master.read_bytes() == changed
    assert not (archive / "transcripts" / "history").exists()


def post(url: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    host = url.removeprefix("http://")
    connection = http.client.HTTPConnection(host, timeout=30)
    connection.request("POST", path, body, headers)
    response = connection.getresponse()
    return response.status, json.loads(response.read() or b"{}")


def test_the_server_serves_this_machine_only_and_saves_only_with_its_token(archive):
    server, url = review_in_background(archive)
    try:
        assert server.server_address[0] == "127.0.0.1"
        token = server.RequestHandlerClass.app.token
        body = json.dumps({"base": master_digest(archive, SLUG), "segments": []}).encode()
        save = f"/aflevering/{SLUG}/opslaan"
        assert post(url, save, body, {})[0] == 403
        assert post(url, save, body, {"X-Review-Token": "guess"})[0] == 403
        evil = {"X-Review-Token": token, "Origin": "http://evil.example"}
        assert post(url, save, body, evil)[0] == 403
        assert post(url, save, b"{not json", {"X-Review-Token": token})[0] == 400
        stale = json.dumps({"base": "0" * 64, "segments": []}).encode()
        status, answer = post(url, save, stale, {"X-Review-Token": token})
        assert status == 409 and "niet opgeslagen" in answer["message"]
        host = url.removeprefix("http://")
        for asked, status, length in (("bytes=0-99", 206, 100), ("bytes=999999999-", 416, 0)):
            connection = http.client.HTTPConnection(host, timeout=30)
            connection.request("GET", f"/media/{SLUG}", headers={"Range": asked})
            response = connection.getresponse()
            assert (response.status, len(response.read())) == (status, length)
        for path in ("/media/..%2Farchive.yaml", "/static/..%2F..%2Fcli.py", "/static/edits.py",
                     "/ondertiteling/..%2Fregistry.vtt", "/media/onbekend"):
            connection = http.client.HTTPConnection(host, timeout=30)
            connection.request("GET", path)
            assert connection.getresponse().status == 404, path
    finally:
        server.shutdown()
        server.server_close()

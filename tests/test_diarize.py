"""Speaker labels: diarization with the real voice encoder on committed audio, and speakers in
every output format.

The demo conversation (episodes/2021-09-16-kijk-in-de-kernen.mp3, reference turns in
tests/data/demo_turns.json) is diarized for real; its transcript is built from the reference
text with words spread over each turn, cut into segments that straddle the changes of speaker,
so the test shows that assign_speakers splits them and that VTT, SRT, text and the Podcasting 2.0
JSON name the right person at every change. DER is checked on one file of the evaluation set
(the full benchmark is bench/diarize.py); the speaker count on two hard files of the
development set.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline.model import Provenance, Segment, Transcript, Word
from pipeline.transcribe import diarize as diarization
from pipeline.transcribe.diarize import (
    Cepstra,
    Turn,
    _turns_in_order,
    assign_speakers,
    diarize,
)
from pipeline.transcripts.caption_files import parse_srt, parse_vtt
from pipeline.transcripts.writers import get_writer

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
DEMO = REPO / "episodes" / "2021-09-16-kijk-in-de-kernen.mp3"
NAMES = {"SPEAKER_1": "Lou Repetur", "SPEAKER_2": "Chris Frencken"}  # the sidecar's list, in order


def _bench():
    """bench/diarize.py, imported by path (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location("bench_diarize", REPO / "bench" / "diarize.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _provenance() -> Provenance:
    return Provenance(engine="test", model="none", model_sha256=None, settings={},
                      audio_hash="x", created="2024-05-01T10:00:00+00:00")


def _words(text: str, start: float, end: float) -> list[Word]:
    """Words of `text` spread over start..end by character count, Whisper-style leading spaces."""
    tokens = text.split()
    total = sum(len(t) + 1 for t in tokens)
    words, clock = [], start
    for token in tokens:
        length = (end - start) * (len(token) + 1) / total
        words.append(Word(round(clock, 3), round(clock + length * 0.9, 3), " " + token))
        clock += length
    return words


def _transcript(words: list[Word], per_segment: int) -> Transcript:
    """Segments of `per_segment` words, cut without regard to who speaks."""
    segments = []
    for index in range(0, len(words), per_segment):
        chunk = words[index : index + per_segment]
        segments.append(Segment(len(segments), chunk[0].start, chunk[-1].end,
                                "".join(w.text for w in chunk), chunk))
    return Transcript(language="nl", segments=segments, provenance=_provenance())


@pytest.fixture(scope="module")
def demo_reference() -> list[dict]:
    return json.loads((DATA / "demo_turns.json").read_text(encoding="utf-8"))[DEMO.name]


@pytest.fixture(scope="module")
def demo_turns() -> list[Turn]:
    return diarize(DEMO)  # the number of speakers estimated, as without a sidecar


@pytest.fixture(scope="module")
def demo_transcript(demo_reference, demo_turns) -> Transcript:
    words = [w for turn in demo_reference for w in _words(turn["text"], turn["start"], turn["end"])]
    transcript = assign_speakers(_transcript(words, per_segment=13), demo_turns)
    transcript.speakers = dict(NAMES)
    return transcript


def _collapse(names: list[str | None]) -> list[str | None]:
    return [name for i, name in enumerate(names) if i == 0 or name != names[i - 1]]


# --- diarization on real audio ------------------------------------------------------------


def test_demo_conversation_has_two_speakers_in_order_of_appearance(demo_reference, demo_turns):
    assert {t.slot for t in demo_turns} == {"SPEAKER_1", "SPEAKER_2"}
    assert demo_turns[0].slot == "SPEAKER_1"  # Lou speaks first, so the sidecar's first name
    slots = _collapse([t.slot for t in demo_turns])
    expected = _collapse(["SPEAKER_1" if t["speaker"] == "Lou Repetur" else "SPEAKER_2"
                          for t in demo_reference])
    assert slots == expected
    for turn, reference in zip(demo_turns, demo_reference):  # a change lands at the pause
        assert abs(turn.start - reference["start"]) < 0.5


def test_given_count_agrees_with_estimate_on_the_demo(demo_turns):
    given = diarize(DEMO, num_speakers=2)
    assert [t.slot for t in given] == [t.slot for t in demo_turns]


def test_der_on_an_evaluation_file():
    bench = _bench()
    entry = bench.load_reference("eval")["eval-twee-kernen.opus"]
    turns = diarize(DATA / "diarization" / "eval" / "eval-twee-kernen.opus")
    assert len({t.slot for t in turns}) == 2
    score = bench.diarization_error(bench.reference_spans(entry), bench.turn_spans(turns))
    assert score.der < 0.10


def test_a_monologue_the_eigengap_splits_in_eight_is_one_speaker():
    turns = diarize(DATA / "diarization" / "dev" / "dev-een-klatt.opus")
    assert {t.slot for t in turns} == {"SPEAKER_1"}


def test_two_close_male_voices_are_counted_as_two():
    """mb-nl2 and nl+klatt: the encoder hears them about as close as one voice's halves; their
    cepstra keep them apart."""
    turns = diarize(DATA / "diarization" / "dev" / "dev-twee-fietsen.opus")
    assert len({t.slot for t in turns}) == 2


def _sound(first: np.ndarray, second: np.ndarray) -> tuple[Cepstra, np.ndarray, np.ndarray]:
    """Cepstra whose windows 0..9 cover `first`'s frames and 10..19 `second`'s."""
    frames = np.vstack([first, second])
    step = len(first) // 10
    windows = [(i * step, (i + 1) * step) for i in range(20)]
    return Cepstra(frames, windows), np.arange(10), np.arange(10, 20)


def test_the_cepstral_difference_tells_two_sounds_from_one():
    rng = np.random.default_rng(8)
    dims = diarization.CEPSTRA
    one = rng.normal(size=(2000, dims))
    sound, a, b = _sound(one[:1000], one[1000:])
    assert sound.difference(a, b) < 0  # one Gaussian: the penalty outweighs the fit
    other = rng.normal(size=(1000, dims)) * np.linspace(0.3, 3.0, dims) + 1.5
    sound, a, b = _sound(one[:1000], other)
    assert sound.difference(a, b) > diarization.MERGE_BIC
    sound, a, b = _sound(one[:1000], one[1000:1000 + dims])  # too few frames to judge
    assert sound.difference(a, b[:1]) == 0.0


def test_close_centroids_are_joined_unless_the_sound_differs():
    rng = np.random.default_rng(9)
    base = rng.normal(size=256)
    near = base + rng.normal(size=256) * 0.3  # centroids well under MERGE_DISTANCE apart
    embeddings = np.vstack([base + rng.normal(size=(10, 256)) * 0.05,
                            near + rng.normal(size=(10, 256)) * 0.05])
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    labels = np.repeat([0, 1], 10)
    dims = diarization.CEPSTRA
    same, _, _ = _sound(rng.normal(size=(1000, dims)), rng.normal(size=(1000, dims)))
    apart, _, _ = _sound(rng.normal(size=(1000, dims)), rng.normal(size=(1000, dims)) * 3 + 2)
    windows = np.arange(20)
    assert set(diarization._merge_doubles(embeddings, labels, windows, same)) == {0}
    assert set(diarization._merge_doubles(embeddings, labels, windows, apart)) == {0, 1}
    assert set(diarization._merge_doubles(embeddings, labels, windows, None)) == {0}


# --- speakers flow into every format --------------------------------------------------------


def test_every_segment_of_the_demo_has_one_speaker(demo_transcript):
    assert [s.id for s in demo_transcript.segments] == list(range(len(demo_transcript.segments)))
    for segment in demo_transcript.segments:
        assert segment.speaker in NAMES
        assert {w.speaker for w in segment.words} == {segment.speaker}
        assert segment.text == "".join(w.text for w in segment.words)
    master = demo_transcript.to_dict()  # the JSON master carries slots per segment and word
    assert all(s["speaker"] and all(w["speaker"] for w in s["words"]) for s in master["segments"])
    assert master["speakers"] == NAMES


def test_vtt_names_the_right_person_at_every_change(demo_reference, demo_transcript):
    cues = parse_vtt(get_writer("vtt").render(demo_transcript))
    assert _collapse([c.speaker for c in cues]) == [t["speaker"] for t in demo_reference]
    for turn in demo_reference:  # the cue that shows a turn's first word names its speaker
        first = turn["text"].split()[0]
        cue = next(c for c in cues if c.end > turn["start"] + 0.1 and first in c.text)
        assert cue.speaker == turn["speaker"]


def test_srt_labels_each_turn_with_the_name(demo_reference, demo_transcript):
    cues = parse_srt(get_writer("srt").render(demo_transcript))
    labelled = [c for c in cues if ": " in c.lines[0] and c.lines[0].split(": ")[0] in NAMES.values()]
    assert [c.lines[0].split(": ")[0] for c in labelled] == [t["speaker"] for t in demo_reference]
    for cue, turn in zip(labelled, demo_reference):
        assert cue.lines[0].split(": ", 1)[1].split()[0] == turn["text"].split()[0]


def test_text_and_podcast_json_name_the_speakers(demo_reference, demo_transcript):
    text = get_writer("txt").render(demo_transcript)
    for name in NAMES.values():
        assert f"{name}: " in text
    document = json.loads(get_writer("json").render(demo_transcript))
    speakers = _collapse([s["speaker"] for s in document["segments"]])
    assert speakers == [t["speaker"] for t in demo_reference]


def test_unnamed_speakers_show_as_spreker_n(demo_transcript):
    unnamed = Transcript(demo_transcript.language, demo_transcript.segments,
                         demo_transcript.provenance)
    cues = parse_vtt(get_writer("vtt").render(unnamed))
    assert _collapse([c.speaker for c in cues])[:2] == ["Spreker 1", "Spreker 2"]


# --- assign_speakers on hand-built transcripts ----------------------------------------------


def _segment(id: int, words: list[tuple[float, float, str]], **extra) -> Segment:
    built = [Word(a, b, text) for a, b, text in words]
    return Segment(id, built[0].start, built[-1].end + 0.2, "".join(w.text for w in built),
                   built, **extra)


def test_a_segment_is_split_where_the_speaker_changes():
    segment = _segment(0, [(0.0, 0.4, " Hoe"), (0.4, 0.8, " gaat"), (0.8, 1.2, " het?"),
                           (1.6, 2.0, " Goed,"), (2.0, 2.4, " dank"), (2.4, 2.8, " je.")],
                       flags=["repetition"], avg_logprob=-0.2)
    later = _segment(1, [(3.0, 3.5, " Mooi.")])
    transcript = Transcript("nl", [segment, later], _provenance())
    turns = [Turn(0.0, 1.3, "SPEAKER_1"), Turn(1.5, 2.9, "SPEAKER_2"), Turn(2.95, 3.6, "SPEAKER_1")]
    result = assign_speakers(transcript, turns)
    assert [(s.id, s.speaker, s.text) for s in result.segments] == [
        (0, "SPEAKER_1", " Hoe gaat het?"),
        (1, "SPEAKER_2", " Goed, dank je."),
        (2, "SPEAKER_1", " Mooi."),
    ]
    first, second, _ = result.segments
    assert (first.start, first.end) == (0.0, 1.2)  # the first piece keeps the segment's start
    assert (second.start, second.end) == (1.6, 3.0)  # the last keeps its end
    assert [(w.start, w.end) for w in first.words + second.words] == [
        (w.start, w.end) for w in segment.words]  # word timings kept
    assert first.flags == second.flags == ["repetition"] and second.avg_logprob == -0.2
    assert transcript.segments[0].speaker is None  # the input is left alone
    assert len(transcript.segments) == 2


def test_words_take_the_turn_they_overlap_most_or_the_nearest():
    segment = _segment(0, [(0.0, 0.5, " Ja"), (0.9, 1.6, " precies"), (5.0, 5.3, " klaar")])
    turns = [Turn(0.0, 1.0, "SPEAKER_1"), Turn(1.0, 2.0, "SPEAKER_2"), Turn(6.0, 7.0, "SPEAKER_1")]
    result = assign_speakers(Transcript("nl", [segment], _provenance()), turns)
    words = [w for s in result.segments for w in s.words]
    assert [w.speaker for w in words] == ["SPEAKER_1", "SPEAKER_2", "SPEAKER_1"]
    assert [s.speaker for s in result.segments] == ["SPEAKER_1", "SPEAKER_2", "SPEAKER_1"]


def test_an_edited_segment_is_not_split_but_gets_its_main_speaker():
    segment = _segment(0, [(0.0, 0.4, " Hoe"), (0.4, 3.0, " gaat"), (3.0, 3.4, " het?")])
    segment.text = " Hoe gaat het met je?"  # an editor changed the text: words no longer spell it
    turns = [Turn(0.0, 0.5, "SPEAKER_2"), Turn(0.5, 4.0, "SPEAKER_1")]
    result = assign_speakers(Transcript("nl", [segment], _provenance()), turns)
    [only] = result.segments
    assert only.speaker == "SPEAKER_1" and only.text == " Hoe gaat het met je?"
    assert {w.speaker for w in only.words} == {"SPEAKER_1"}


def test_no_turns_leaves_speakers_unknown():
    segment = _segment(0, [(0.0, 0.4, " Hallo")])
    result = assign_speakers(Transcript("nl", [segment], _provenance()), [])
    assert result.segments[0].speaker is None


def test_slots_are_numbered_by_first_appearance():
    turns = _turns_in_order([(0.0, 1.0, 4), (1.2, 2.0, 0), (2.5, 3.0, 4), (3.1, 4.0, 2)])
    assert [t.slot for t in turns] == ["SPEAKER_1", "SPEAKER_2", "SPEAKER_1", "SPEAKER_3"]


# --- the metric and the module's manners ----------------------------------------------------


def test_der_maps_speakers_and_honours_the_collar():
    bench = _bench()
    reference = [(0.0, 10.0, "Lou"), (10.0, 20.0, "Chris")]
    swapped = [(0.0, 10.0, "B"), (10.0, 20.0, "A")]
    assert bench.diarization_error(reference, swapped).der == 0.0
    late = [(0.2, 10.0, "A"), (10.2, 20.0, "B")]  # 0.2 s off: inside the 0.25 s collar
    assert bench.diarization_error(reference, late).der == 0.0
    one = [(0.0, 20.0, "A")]
    assert bench.diarization_error(reference, one).der == pytest.approx(0.5, abs=0.01)
    assert bench.diarization_error(reference, []).der == pytest.approx(1.0)


def test_the_voice_encoder_runs_on_one_thread_and_gives_the_threads_back(monkeypatch):
    import torch

    import pipeline.transcribe.diarize as diarization

    seen = []

    def encoder(mels, lengths):
        seen.append(torch.get_num_threads())
        return torch.zeros(len(mels), 256)

    monkeypatch.setattr(diarization, "_ENCODER", encoder)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        diarization._embed(np.zeros((300, 40), np.float32), [(0.0, 1.6), (1.0, 2.6)])
        assert seen == [diarization.ENCODER_THREADS] == [1]
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_importing_diarize_loads_no_heavy_modules():
    code = ("import sys, pipeline.transcribe.diarize; "
            "print(sorted(m for m in ('torch', 'scipy', 'sklearn', 'resemblyzer') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

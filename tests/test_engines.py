"""Real Whisper on committed Dutch clips (tests/data/speech, made by make_clips.sh).

Models load once per module; the default run keeps to short clips (a 2-core CI machine).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.archive import TranscriptionSettings
from pipeline.errors import MediaError, ModelError
from pipeline.transcribe.engines import get_engine
from pipeline.transcribe.engines.base import EngineResult, load_audio
from pipeline.transcribe.recognise import transcribe_audio
from pipeline.transcribe.weights import EMBEDDED_SHA256

SPEECH = Path(__file__).parent / "data" / "speech"
PARITY = dict(compute_type="float32", vad=False, beam_size=5)  # same weights, same input


def normalise(text: str) -> str:
    return " ".join(re.findall(r"[\w']+", text.casefold()))


def wer(reference: str, hypothesis: str) -> float:
    jiwer = pytest.importorskip("jiwer")
    return jiwer.wer(normalise(reference), normalise(hypothesis))


@pytest.fixture(scope="module")
def default_engine():  # type: ignore[no-untyped-def]
    return get_engine(TranscriptionSettings())


def unflagged_text(result_segments: list) -> str:  # type: ignore[type-arg]
    return " ".join(s.text.strip() for s in result_segments if not s.flagged).strip()


@pytest.mark.whisper
def test_dutch_clip_default_settings(default_engine) -> None:  # type: ignore
    clip = SPEECH / "nl_voorst.opus"
    positions: list[float] = []
    transcript = transcribe_audio(
        clip,
        TranscriptionSettings(),
        audio_hash="abc",
        engine=default_engine,
        progress=positions.append,
    )
    score = wer((SPEECH / "nl_voorst.txt").read_text(encoding="utf-8"), transcript.text)
    assert score <= 0.30, f"WER {score:.3f}: {transcript.text}"
    segments = transcript.segments
    assert [s.id for s in segments] == list(range(len(segments)))
    assert all(s.start <= s.end for s in segments)
    assert all(a.start <= b.start for a, b in zip(segments, segments[1:]))
    words = [w for s in segments for w in s.words]
    assert words and all(w.start <= w.end and 0.0 <= w.probability <= 1.0 for w in words)
    assert positions == sorted(positions) and positions[-1] == pytest.approx(23.3, abs=0.1)
    provenance = transcript.provenance
    assert provenance.engine == "faster-whisper"
    assert (provenance.model, provenance.status) == ("base", "machine")
    assert provenance.model_sha256 == EMBEDDED_SHA256
    assert provenance.audio_hash == "abc" and provenance.created.endswith("+00:00")
    settings = provenance.settings
    assert settings["language"] == "nl" and settings["vad"] is True
    assert settings["compute_type"] == "int8" and settings["beam_size"] == 5
    assert settings["condition_on_previous_text"] is False


@pytest.mark.whisper
def test_silence_gives_no_words(default_engine) -> None:  # type: ignore
    result: EngineResult = default_engine.transcribe(SPEECH / "silence_20s.opus")
    transcript = transcribe_audio(
        SPEECH / "silence_20s.opus", TranscriptionSettings(), audio_hash="x", engine=default_engine
    )
    assert result.speech_spans == []
    assert result.duration == pytest.approx(20.0, abs=0.1)
    assert unflagged_text(transcript.segments) == ""


@pytest.mark.whisper
def test_noise_after_speech_gives_no_invented_words(default_engine) -> None:  # type: ignore
    # Speech ends at ~4.4 s; then 10 s of quiet pink noise.
    clip = SPEECH / "nl_staart_ruis.opus"
    settings = TranscriptionSettings()
    transcript = transcribe_audio(clip, settings, audio_hash="x", engine=default_engine)
    kept = [s for s in transcript.segments if not s.flagged and s.text.strip()]
    assert kept and all(s.start < 5.0 for s in kept), [(s.start, s.text) for s in kept]
    reference = (SPEECH / "nl_staart.txt").read_text(encoding="utf-8")
    assert wer(reference, unflagged_text(kept)) <= 0.30


@pytest.mark.whisper
def test_engines_agree_on_the_same_weights_at_float32() -> None:
    clip = SPEECH / "nl_voorst.opus"
    texts = {}
    for engine_name in ("faster-whisper", "openai-whisper"):
        engine = get_engine(TranscriptionSettings(engine=engine_name, **PARITY))
        result = engine.transcribe(clip)
        assert result.provenance_fields["model_sha256"] == EMBEDDED_SHA256
        assert result.provenance_fields["settings"]["compute_type"] == "float32"
        texts[engine_name] = " ".join(" ".join(s.text for s in result.segments).split())
        del engine
    assert texts["faster-whisper"] == texts["openai-whisper"]
    reference = (SPEECH / "nl_voorst.txt").read_text(encoding="utf-8")
    assert wer(reference, texts["faster-whisper"]) <= 0.30


@pytest.mark.whisper
@pytest.mark.slow
def test_reference_engine_default_settings() -> None:
    engine = get_engine(TranscriptionSettings(engine="openai-whisper"))
    positions: list[float] = []
    result = engine.transcribe(SPEECH / "nl_voorst.opus", progress=positions.append)
    text = " ".join(s.text for s in result.segments)
    assert wer((SPEECH / "nl_voorst.txt").read_text(encoding="utf-8"), text) <= 0.30
    assert positions == sorted(positions) and positions[-1] == pytest.approx(23.3, abs=0.1)
    assert all(w.start <= w.end for s in result.segments for w in s.words)


@pytest.mark.whisper
@pytest.mark.slow
def test_glossary_fixes_project_terms() -> None:
    glossary = ["Wij in de Wijk", "opbouwwerker", "buurthuis", "Voorst", "Kijk in de Kernen"]
    settings = TranscriptionSettings(glossary=glossary)
    transcript = transcribe_audio(SPEECH / "nl_voorst.opus", settings, audio_hash="x")
    for term in ("Wij in de Wijk", "Voorst", "buurthuis", "Kijk in de Kernen"):
        assert term in transcript.text
    assert transcript.provenance.settings["prompt"].startswith("Wij in de Wijk, opbouwwerker")


def test_unknown_engine() -> None:
    settings = TranscriptionSettings.model_construct(engine="whisper.cpp")
    with pytest.raises(ModelError, match="unknown engine 'whisper.cpp'"):
        get_engine(settings)


def test_undecodable_audio(tmp_path: Path) -> None:
    bogus = tmp_path / "episode.mp3"
    bogus.write_text("not audio")
    with pytest.raises(MediaError, match="episode.mp3: ffmpeg cannot decode it"):
        load_audio(bogus)


def test_vad_spans_become_whole_frame_clips() -> None:
    from pipeline.transcribe.engines.reference import _clip_timestamps

    # A span ending on the last sample must not round up past whisper's last mel frame.
    assert _clip_timestamps([(0.0, 23.2956875)]) == [0.0, 23.29]
    assert _clip_timestamps([(1.234, 1.239), (2.0, 3.5)]) == [2.0, 3.5]

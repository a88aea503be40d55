"""What every engine shares: the Engine protocol, audio decoding, speech detection and the
decoding settings.

Both adapters decode audio the same way (ffmpeg, 16 kHz mono float32, like openai-whisper) and
find speech with the same VAD (faster-whisper's bundled Silero), so on the same weights at
float32 they see identical input and give the same text.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pipeline.errors import MediaError
from pipeline.model import Segment
from pipeline.processes import usable_cores
from pipeline.transcribe.glossary import decoder_prompt
from pipeline.transcribe.guards import has_repeated_tokens, repeated_segments

if TYPE_CHECKING:
    import numpy as np

    from pipeline.archive import TranscriptionSettings

SAMPLE_RATE = 16_000
Progress = Callable[[float], None]  # called with the audio position reached, in seconds
SpeechSpans = list[tuple[float, float]]

# Hallucination mitigations from STANDARDS.md, shared by both engines.
TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
COMPRESSION_RATIO_THRESHOLD = 2.4
LOG_PROB_THRESHOLD = -1.0
NO_SPEECH_THRESHOLD = 0.6
HALLUCINATION_SILENCE_THRESHOLD = 2.0  # seconds; only effective with word timestamps
# A stretch that decoded into a loop is decoded again on its own, sampling from the start (the
# greedy pass is what looped), with no prompt and no earlier text to fall back into.
LOOP_TEMPERATURES = (0.2, 0.4, 0.6, 0.8, 1.0)
LOOP_SEED = 0  # sampling is seeded: the same audio gives the same transcript
UNINTELLIGIBLE = "[onverstaanbaar]"


@dataclass
class EngineResult:
    """What an engine found in one audio file."""

    segments: list[Segment]  # ids 0..n-1, in time order
    language: str
    duration: float  # seconds of audio
    speech_spans: SpeechSpans | None  # VAD speech regions in seconds; None when unknown
    provenance_fields: dict[str, Any] = field(default_factory=dict)
    # engine, model, model_sha256, settings: the Provenance fields an engine knows about


class Engine(Protocol):
    """A loaded Whisper model that transcribes audio files."""

    name: str

    def transcribe(self, audio: Path, progress: Progress | None = None) -> EngineResult:
        """Transcribe one media file; `progress` gets the audio position in seconds."""
        ...


# --- helpers shared by the adapters ---------------------------------------------------------


def load_audio(path: Path) -> np.ndarray:
    """Decode any media file to 16 kHz mono float32 samples with ffmpeg."""
    import numpy as np

    command = [
        "ffmpeg", "-nostdin", "-threads", "0", "-i", str(path),
        "-vn", "-f", "s16le", "-ac", "1", "-acodec", "pcm_s16le", "-ar", str(SAMPLE_RATE), "-",
    ]  # fmt: skip
    try:
        result = subprocess.run(command, capture_output=True, check=True)
    except FileNotFoundError as e:
        raise MediaError("ffmpeg is not installed (apt-get install ffmpeg)", path) from e
    except subprocess.CalledProcessError as e:
        detail = e.stderr.decode("utf-8", "replace").strip().splitlines()
        raise MediaError(f"ffmpeg cannot decode it: {detail[-1] if detail else e}", path) from e
    samples = np.frombuffer(result.stdout, np.int16).astype(np.float32) / 32768.0
    if samples.size == 0:
        raise MediaError("no audio in this file", path)
    return samples


def detect_speech(samples: np.ndarray) -> SpeechSpans:
    """Speech regions (seconds) found by faster-whisper's Silero VAD with its defaults."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    chunks = get_speech_timestamps(samples, VadOptions(), sampling_rate=SAMPLE_RATE)
    return [(c["start"] / SAMPLE_RATE, c["end"] / SAMPLE_RATE) for c in chunks]


def cpu_threads(settings: TranscriptionSettings) -> int:
    """Threads to use: the setting, or one per core this process may run on."""
    return settings.threads or usable_cores()


def effective_compute_type(settings: TranscriptionSettings, device: str) -> str:
    """`auto` means int8 on CPU (fast, near-lossless for Whisper) and float16 on CUDA."""
    if settings.compute_type != "auto":
        return settings.compute_type
    return "float16" if device == "cuda" else "int8"


def decoding_settings(settings: TranscriptionSettings) -> dict[str, Any]:
    """Engine-neutral decoding options, also recorded in the transcript's provenance."""
    prompt = decoder_prompt(settings.glossary)
    return {
        "language": settings.language,
        "beam_size": settings.beam_size,
        "vad": settings.vad,
        "word_timestamps": settings.word_timestamps,
        "condition_on_previous_text": settings.condition_on_previous_text,
        "temperature": list(TEMPERATURES),
        "compression_ratio_threshold": COMPRESSION_RATIO_THRESHOLD,
        "log_prob_threshold": LOG_PROB_THRESHOLD,
        "no_speech_threshold": NO_SPEECH_THRESHOLD,
        "hallucination_silence_threshold": (
            HALLUCINATION_SILENCE_THRESHOLD if settings.word_timestamps else None
        ),
        "glossary": list(settings.glossary),
        "prompt": prompt,
        "batch_size": settings.batch_size,
    }


def engine_result(engine: str, weights: Any, settings: dict[str, Any], segments: list[Segment],
                  duration: float, spans: SpeechSpans | None) -> EngineResult:
    """The EngineResult both adapters return: segments renumbered, provenance filled in."""
    return EngineResult(
        segments=renumber([piece for segment in segments for piece in split_segment(segment)]),
        language=settings["language"],
        duration=seconds(duration),
        speech_spans=spans,
        provenance_fields={"engine": engine, "model": weights.name,
                           "model_sha256": weights.sha256, "settings": dict(settings)},
    )


# Batched decoding gives one segment per VAD chunk (up to 30 s); readers, anchors (#t-95) and
# tags want sentences. Long segments are cut at sentence ends and pauses, from word timings.
MAX_SEGMENT = 12.0  # seconds: past this, cut at the next clause end or pause
MIN_SEGMENT = 2.0  # seconds: a sentence end closer than this to the start doesn't cut
SEGMENT_PAUSE = 1.0  # seconds of silence between words that always cut


def split_segment(segment: Segment) -> list[Segment]:
    """Cut a long segment into sentence-sized ones at word boundaries (times from words)."""
    if not segment.words or segment.end - segment.start <= MAX_SEGMENT:
        return [segment]
    pieces, current = [], [segment.words[0]]
    for previous, word in zip(segment.words, segment.words[1:]):
        length = previous.end - current[0].start
        sentence_end = previous.text.rstrip().endswith((".", "?", "!")) and length >= MIN_SEGMENT
        clause_end = previous.text.rstrip().endswith((",", ";", ":")) and length >= MAX_SEGMENT
        if sentence_end or clause_end or word.start - previous.end >= SEGMENT_PAUSE:
            pieces.append(current)
            current = []
        current.append(word)
    pieces.append(current)
    return [replace(segment, start=words[0].start, end=words[-1].end, words=words,
                    text="".join(w.text for w in words))
            for words in pieces]


def renumber(segments: list[Segment]) -> list[Segment]:
    """Give segments ids 0..n-1 in time order (engines count from 1, or skip)."""
    segments.sort(key=lambda segment: (segment.start, segment.end))
    for index, segment in enumerate(segments):
        segment.id = index
    return segments


def seconds(value: float) -> float:
    """Round a timestamp to milliseconds: finer is noise, and it keeps JSON readable."""
    return round(float(value), 3)


SpanDecoder = Callable[[float, float], list[Segment]]  # (start, end) -> segments in that span


def repair_loops(segments: list[Segment], decode_span: SpanDecoder) -> list[Segment]:
    """Decode each stretch whose text loops again with `decode_span`; a stretch that still
    loops becomes one [onverstaanbaar] marker over its time instead of a wall of repeats.

    A loop is a token or short phrase repeated three times in a row in a segment, or the same
    text in three segments in a row (pipeline.transcribe.guards)."""
    runs = _loop_runs(segments)
    if not runs:
        return segments
    repaired: list[Segment] = []
    position = 0
    for first, last in runs:
        repaired.extend(segments[position:first])
        start, end = segments[first].start, segments[last].end
        again = [s for s in decode_span(start, end) if s.text.strip()]
        if again and not _loop_runs(again):
            repaired.extend(again)
        else:
            repaired.append(Segment(id=segments[first].id, start=start, end=end,
                                    text=f" {UNINTELLIGIBLE}", speaker=segments[first].speaker))
        position = last + 1
    repaired.extend(segments[position:])
    return repaired


def _loop_runs(segments: list[Segment]) -> list[tuple[int, int]]:
    """(first, last) indexes of the runs of neighbouring segments that loop."""
    looping = sorted(repeated_segments(segments)
                     | {i for i, s in enumerate(segments) if has_repeated_tokens(s.text)})
    runs: list[tuple[int, int]] = []
    for index in looping:
        if runs and runs[-1][1] == index - 1:
            runs[-1] = (runs[-1][0], index)
        else:
            runs.append((index, index))
    return runs


def shifted(segment: Segment, offset: float) -> Segment:
    """The segment (decoded from a clip) with its times moved by `offset` seconds."""
    return replace(segment, start=seconds(segment.start + offset),
                   end=seconds(segment.end + offset),
                   words=[replace(w, start=seconds(w.start + offset), end=seconds(w.end + offset))
                          for w in segment.words])

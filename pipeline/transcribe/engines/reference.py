"""openai-whisper (PyTorch) adapter: the reference engine, for checking faster-whisper."""

from __future__ import annotations

import importlib
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.errors import ModelError
from pipeline.model import Segment, Word
from pipeline.transcribe import weights
from pipeline.transcribe.engines.base import (
    LOOP_SEED,
    LOOP_TEMPERATURES,
    SAMPLE_RATE,
    EngineResult,
    Progress,
    cpu_threads,
    decoding_settings,
    detect_speech,
    effective_compute_type,
    engine_result,
    load_audio,
    repair_loops,
    seconds,
    shifted,
)

if TYPE_CHECKING:
    from pipeline.archive import TranscriptionSettings

ENGINE = "openai-whisper"
FRAMES_PER_SECOND = 100  # openai-whisper's mel frames: hop length 160 at 16 kHz


class OpenAIWhisperEngine:
    """An openai-whisper model loaded once, transcribing many files."""

    name = ENGINE

    def __init__(self, settings: TranscriptionSettings) -> None:
        import torch

        self.weights = weights.resolve(settings.model, ENGINE)
        device = settings.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        # PyTorch Whisper runs float16 on CUDA only; everything else (int8 too) runs float32.
        wanted = effective_compute_type(settings, device)
        compute_type = "float16" if device == "cuda" and wanted == "float16" else "float32"
        self.settings = {
            **decoding_settings(settings),
            "device": device,
            "compute_type": compute_type,
            "cpu_threads": cpu_threads(settings),
        }
        torch.set_num_threads(self.settings["cpu_threads"])
        self.model = _load(self.weights, device)

    def transcribe(self, audio: Path, progress: Progress | None = None) -> EngineResult:
        """Transcribe one file; VAD speech regions become openai-whisper clip timestamps."""
        import whisper

        samples = load_audio(audio)
        duration = len(samples) / SAMPLE_RATE
        spans = detect_speech(samples)
        segments: list[Segment] = []
        if spans or not self.settings["vad"]:
            with _reporting(progress):
                result = whisper.transcribe(self.model, samples, **self._options(spans))
            segments = [_segment(found) for found in result["segments"]]
            segments = repair_loops(segments, lambda a, b: self._decode_span(samples, a, b))
        if progress is not None:
            progress(duration)
        return engine_result(ENGINE, self.weights, self.settings, segments, duration, spans)

    def _decode_span(self, samples: Any, start: float, end: float) -> list[Segment]:
        """The stretch from `start` to `end` decoded on its own, by seeded sampling."""
        import torch
        import whisper

        torch.manual_seed(LOOP_SEED)
        clip = samples[int(start * SAMPLE_RATE):int(end * SAMPLE_RATE)]
        options = {**self._options([]), "temperature": LOOP_TEMPERATURES, "initial_prompt": None,
                   "condition_on_previous_text": False, "clip_timestamps": "0",
                   "hallucination_silence_threshold": None}
        result = whisper.transcribe(self.model, clip, **options)
        return [shifted(_segment(found), start) for found in result["segments"]]

    def _options(self, spans: list[tuple[float, float]]) -> dict[str, Any]:
        """Keyword arguments for whisper.transcribe, matching faster-whisper's behaviour."""
        s = self.settings
        clips = _clip_timestamps(spans) if s["vad"] else "0"
        return {
            "verbose": None,  # no printing from library code
            "language": s["language"],
            "beam_size": s["beam_size"],
            "best_of": 5,  # faster-whisper's default for the sampling fallback
            "fp16": s["compute_type"] == "float16",
            "temperature": tuple(s["temperature"]),
            "compression_ratio_threshold": s["compression_ratio_threshold"],
            "logprob_threshold": s["log_prob_threshold"],
            "no_speech_threshold": s["no_speech_threshold"],
            "condition_on_previous_text": s["condition_on_previous_text"],
            "word_timestamps": s["word_timestamps"],
            "hallucination_silence_threshold": s["hallucination_silence_threshold"],
            # As in the faster-whisper adapter: the glossary primes the first window only.
            "initial_prompt": s["prompt"],
            "clip_timestamps": clips,
        }


def _clip_timestamps(spans: list[tuple[float, float]]) -> list[float]:
    """VAD spans as openai-whisper clip timestamps, floored to its 10 ms mel frames.

    A clip ending past the last whole frame (VAD ends at the last sample, 23.2957 s, which
    whisper rounds to frame 2330 of 2329) makes whisper.transcribe loop forever on an empty
    window, so ends are floored, never rounded up.
    """
    clips: list[float] = []
    for start, end in spans:
        first = math.floor(start * FRAMES_PER_SECOND) / FRAMES_PER_SECOND
        last = math.floor(end * FRAMES_PER_SECOND) / FRAMES_PER_SECOND
        if last > first:
            clips += [first, last]
    return clips


def _load(model_weights: weights.ModelWeights, device: str) -> Any:
    """Build the model from a checkpoint; also applies converted alignment heads."""
    import torch
    from whisper import _ALIGNMENT_HEADS
    from whisper.model import ModelDimensions, Whisper

    try:
        checkpoint = torch.load(model_weights.path, map_location=device, weights_only=True)
        model = Whisper(ModelDimensions(**checkpoint["dims"]))
        model.load_state_dict(checkpoint["model_state_dict"])
    except (OSError, RuntimeError, KeyError, TypeError) as e:
        raise ModelError(f"openai-whisper cannot load the model: {e}", model_weights.path) from e
    heads = checkpoint.get("alignment_heads")
    if heads:
        # Cross-attention heads that track word timing (from the CTranslate2 config).
        mask = torch.zeros(model.dims.n_text_layer, model.dims.n_text_head, dtype=torch.bool)
        for layer, head in heads:
            mask[layer, head] = True
        model.register_buffer("alignment_heads", mask.to_sparse(), persistent=False)
    elif model_weights.name in _ALIGNMENT_HEADS:
        model.set_alignment_heads(_ALIGNMENT_HEADS[model_weights.name])
    return model.to(device)


@contextmanager
def _reporting(progress: Progress | None) -> Iterator[None]:
    """Route openai-whisper's progress bar to `progress` (it offers no callback).

    whisper.transcribe drives a `tqdm.tqdm(total=frames)` bar; swapping the module's `tqdm`
    name for a shim turns its updates into seconds without touching tqdm for anyone else.
    """
    # import_module, because `whisper.transcribe` the attribute is the function, not the module.
    module = importlib.import_module("whisper.transcribe")
    if progress is None:
        yield
        return
    original = module.tqdm
    module.tqdm = _TqdmShim(progress)  # type: ignore[assignment]
    try:
        yield
    finally:
        module.tqdm = original


class _TqdmShim:
    """Stands in for the `tqdm` module inside whisper.transcribe."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress

    def tqdm(self, *args: Any, **kwargs: Any) -> _ProgressBar:
        return _ProgressBar(self._progress)


class _ProgressBar:
    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._frames = 0

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, frames: int) -> None:
        self._frames += frames
        self._progress(self._frames / FRAMES_PER_SECOND)


def _segment(found: dict[str, Any]) -> Segment:
    """A model.Segment from an openai-whisper segment dict."""
    return Segment(
        id=found["id"],
        start=seconds(found["start"]),
        end=seconds(found["end"]),
        text=found["text"],
        words=[
            Word(
                start=seconds(w["start"]),
                end=seconds(w["end"]),
                text=w["word"],
                probability=float(w["probability"]),
            )
            for w in found.get("words", [])
        ],
        avg_logprob=found.get("avg_logprob"),
        no_speech_prob=found.get("no_speech_prob"),
        compression_ratio=found.get("compression_ratio"),
    )

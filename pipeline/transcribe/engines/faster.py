"""faster-whisper (CTranslate2) adapter: the default engine."""

from __future__ import annotations

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

ENGINE = "faster-whisper"


class FasterWhisperEngine:
    """A faster-whisper model loaded once, transcribing many files."""

    name = ENGINE

    def __init__(self, settings: TranscriptionSettings) -> None:
        import ctranslate2
        from faster_whisper import WhisperModel

        self.weights = weights.resolve(settings.model, ENGINE)
        device = settings.device
        if device == "auto":
            device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
        self.settings = {
            **decoding_settings(settings),
            "device": device,
            "compute_type": effective_compute_type(settings, device),
            "cpu_threads": cpu_threads(settings),
        }
        try:
            self.model = WhisperModel(
                str(self.weights.path),
                device=device,
                compute_type=self.settings["compute_type"],
                cpu_threads=self.settings["cpu_threads"],
                local_files_only=True,
            )
        except (RuntimeError, ValueError) as e:  # CTranslate2 reports bad models this way
            raise ModelError(f"faster-whisper cannot load the model: {e}", self.weights.path) from e
        # Batching needs VAD chunks; without VAD (the parity test) decode window by window.
        self.batched = settings.batch_size > 1 and settings.vad
        if self.batched:
            from faster_whisper import BatchedInferencePipeline

            self.pipeline = BatchedInferencePipeline(model=self.model)

    def transcribe(self, audio: Path, progress: Progress | None = None) -> EngineResult:
        """Transcribe one file; the lazy segment generator is consumed here."""
        samples = load_audio(audio)
        duration = len(samples) / SAMPLE_RATE
        spans = detect_speech(samples)
        segments: list[Segment] = []
        if spans or not self.settings["vad"]:
            generator, _info = self._decoder(samples)
            for found in generator:  # decoding happens while iterating
                segments.append(_segment(found))
                if progress is not None:
                    progress(min(found.end, duration))
            segments = repair_loops(segments, lambda a, b: self._decode_span(samples, a, b))
        if progress is not None:
            progress(duration)
        return engine_result(ENGINE, self.weights, self.settings, segments, duration, spans)

    def _decode_span(self, samples: Any, start: float, end: float) -> list[Segment]:
        """The stretch from `start` to `end` decoded on its own, by seeded sampling."""
        import ctranslate2

        ctranslate2.set_random_seed(LOOP_SEED)
        clip = samples[int(start * SAMPLE_RATE):int(end * SAMPLE_RATE)]
        options = {**self._options(), "temperature": list(LOOP_TEMPERATURES),
                   "initial_prompt": None, "condition_on_previous_text": False,
                   "vad_filter": False, "hallucination_silence_threshold": None}
        generator, _info = self.model.transcribe(clip, **options)
        return [shifted(_segment(found), start) for found in generator]

    def _decoder(self, samples: Any) -> Any:
        if self.batched:
            options = {k: v for k, v in self._options().items()
                       if k != "condition_on_previous_text"}  # batches share no context anyway
            return self.pipeline.transcribe(samples, batch_size=self.settings["batch_size"],
                                            **options)
        return self.model.transcribe(samples, **self._options())

    def _options(self) -> dict[str, Any]:
        """Keyword arguments for WhisperModel.transcribe from the effective settings."""
        s = self.settings
        return {
            "language": s["language"],
            "beam_size": s["beam_size"],
            "temperature": s["temperature"],
            "compression_ratio_threshold": s["compression_ratio_threshold"],
            "log_prob_threshold": s["log_prob_threshold"],
            "no_speech_threshold": s["no_speech_threshold"],
            "condition_on_previous_text": s["condition_on_previous_text"],
            "word_timestamps": s["word_timestamps"],
            "hallucination_silence_threshold": s["hallucination_silence_threshold"],
            # Primes the first 30 s window only (condition_on_previous_text is off). Hotwords
            # would prime every window, but in our benchmark they made Whisper recite the
            # glossary at the end of speech ("De Wijk, opbouwwerker, opbouwwerker.").
            "initial_prompt": s["prompt"],
            "vad_filter": s["vad"],
        }


def _segment(found: Any) -> Segment:
    """A model.Segment from a faster_whisper Segment (its id is replaced by renumber)."""
    return Segment(
        id=found.id,
        start=seconds(found.start),
        end=seconds(found.end),
        text=found.text,
        words=[
            Word(start=seconds(w.start), end=seconds(w.end), text=w.word, probability=w.probability)
            for w in found.words or []
        ],
        avg_logprob=found.avg_logprob,
        no_speech_prob=found.no_speech_prob,
        compression_ratio=found.compression_ratio,
    )


"""Whisper engines behind one small protocol (`base.Engine`).

`get_engine(settings)` loads a model once; `engine.transcribe(audio)` may then be called for
many files. Each adapter (faster.py, reference.py) turns its engine's output into
`model.Segment`s; heavy imports (ctranslate2, torch) happen only inside the adapter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pipeline.errors import ModelError
from pipeline.transcribe.engines.base import Engine

if TYPE_CHECKING:
    from pipeline.archive import TranscriptionSettings


def get_engine(settings: TranscriptionSettings) -> Engine:
    """Load the engine and model that `settings` name (once; reuse it for many files)."""
    factory = _ENGINES.get(settings.engine)
    if factory is None:
        raise ModelError(f"unknown engine '{settings.engine}'; choose from {', '.join(_ENGINES)}")
    return factory(settings)


def _faster(settings: TranscriptionSettings) -> Engine:
    from pipeline.transcribe.engines.faster import FasterWhisperEngine

    return FasterWhisperEngine(settings)


def _reference(settings: TranscriptionSettings) -> Engine:
    from pipeline.transcribe.engines.reference import OpenAIWhisperEngine

    return OpenAIWhisperEngine(settings)


_ENGINES: dict[str, Callable[[TranscriptionSettings], Engine]] = {
    "faster-whisper": _faster,
    "openai-whisper": _reference,
}


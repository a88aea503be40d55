"""The transcribe stage: audio in, a machine-made Transcript out.

engine (Whisper) -> glossary spelling fixes -> hallucination guards -> provenance. Caching and
writing transcripts/ belong to the caller; this function only computes.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from pipeline.archive import TranscriptionSettings
from pipeline.model import Provenance, Transcript
from pipeline.transcribe.engines import get_engine
from pipeline.transcribe.engines.base import Engine, Progress
from pipeline.transcribe.glossary import fix_spelling
from pipeline.transcribe.guards import flag_hallucinations


def transcribe_audio(
    audio: Path,
    settings: TranscriptionSettings,
    *,
    audio_hash: str,
    engine: Engine | None = None,
    progress: Progress | None = None,
) -> Transcript:
    """Transcribe `audio` with `engine` (loaded from `settings` when not given).

    Pass a loaded engine when transcribing many files: loading a model takes seconds.
    `audio_hash` is the caller's hash of the audio (MediaInfo.audio_hash), kept in provenance.
    """
    engine = engine or get_engine(settings)
    result = engine.transcribe(audio, progress=progress)
    segments = fix_spelling(result.segments, settings.glossary)
    segments = flag_hallucinations(segments, result.speech_spans)
    provenance = Provenance(
        **result.provenance_fields,
        audio_hash=audio_hash,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        status="machine",
    )
    return Transcript(language=result.language, segments=segments, provenance=provenance)

"""Which words an editor should check: those the recogniser itself doubted.

Each word in the master keeps Whisper's probability for it. A word is doubtful when that
probability is low; the threshold is chosen on real recorded Dutch (bench/realspeech.py prints
the share of wrong words it marks and the share of all words it marks, docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Iterator

from pipeline.model import Transcript, Word

DOUBT_BELOW = 0.5  # a word Whisper gave a lower probability than this is marked for review


def is_doubtful(word: Word) -> bool:
    return word.probability < DOUBT_BELOW


def doubtful_words(transcript: Transcript) -> Iterator[tuple[int, int]]:
    """(segment id, word index) of every doubtful word in the published segments."""
    for segment in transcript.segments:
        if not segment.flagged:
            for index, word in enumerate(segment.words):
                if is_doubtful(word):
                    yield segment.id, index

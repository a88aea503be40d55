"""Which words an editor should check: those the recogniser itself doubted, and those that are
not Dutch words at all.

Each word in the master keeps Whisper's probability for it (the mean over its tokens). A word
is doubtful when that probability is low, or when the word is not in a Dutch word list
(wordfreq): a misheard word often comes out as a non-word ("passiezeerspictuig"). The two
thresholds were chosen on real recorded Dutch (../shared/data/realspeech-dev) to mark as many
wrong words as possible while marking at most 30 % of all words (bench/realspeech.py prints
both shares; docs/benchmarks.md has the figures).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from pipeline.model import Transcript, Word

DOUBT_BELOW = 0.56  # Whisper's probability for the word
RARE_BELOW = 1.0  # Zipf frequency in Dutch: under once per 100 million words, or unknown


def is_doubtful(word: Word) -> bool:
    return word.probability < DOUBT_BELOW or _rare(word.text)


def doubtful_words(transcript: Transcript) -> Iterator[tuple[int, int]]:
    """(segment id, word index) of every doubtful word in the published segments."""
    for segment in transcript.segments:
        if not segment.flagged:
            for index, word in enumerate(segment.words):
                if is_doubtful(word):
                    yield segment.id, index


@lru_cache(maxsize=65536)
def _rare(text: str) -> bool:
    """A word (not a number or a sound description) that Dutch text hardly ever has."""
    from wordfreq import zipf_frequency

    bare = re.sub(r"[^\w'-]", "", text.strip().casefold())
    if not bare or any(ch.isdigit() for ch in bare) or text.strip().startswith("["):
        return False
    return zipf_frequency(bare, "nl") < RARE_BELOW

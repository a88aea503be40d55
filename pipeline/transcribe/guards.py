"""Hallucination guards: flag segments Whisper probably invented (STANDARDS.md).

Whisper, trained on subtitles, fills silence, music and endings with subtitle credits
("Ondertiteld door ...") and loops. Engine settings prevent most of it; these checks flag what
gets through. A flagged segment is never dropped: it stays in the transcript for an editor to
judge, and caption and text writers leave it out (`Segment.flagged`, `Transcript.text`).

Flags are short machine-readable strings:
  blocklist      known Dutch (and English) subtitle-credit hallucinations
  repetition     the same text in >= 3 consecutive segments, or a token (or short phrase)
                 repeated >= 3 times in a row
  no-speech      text where voice-activity detection found no speech

Reading speed is no signal (STANDARDS.md): real people speak at 12-25 characters per second and
Whisper's segment times are often shorter than the speech, so a guard on it hid real words.
A repetition loop is first decoded again by the engine (engines.base.repair_loops); only
what is still a loop reaches these checks.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import replace

from pipeline.model import Segment

BLOCKLIST = "blocklist"
REPETITION = "repetition"
NO_SPEECH = "no-speech"

REPEAT_RUN = 3  # identical segments, tokens or phrases in a row
MAX_LOOP_PHRASE = 4  # longest phrase (in tokens) checked for repetition loops
MIN_SPEECH_OVERLAP = 0.1  # fraction of a segment that must overlap detected speech

# Matched against normalised text (lower case, punctuation removed). `search` patterns are
# hallucinations wherever they appear; `whole` patterns only when they are the whole segment,
# because a real speaker may say them in passing.
_SEARCH = [
    r"\bondertitel\w*\b.*\bdoor\b",  # Ondertitels ingediend door / Ondertiteld door ...
    r"\bondertitel\w* (is )?(gemaakt|verzorgd|ingediend)\b",
    r"\bamara ?org\b",
    r"\btv gelderland\b",
    r"\bsubtitles? (by|made by|created by)\b",
]
_WHOLE = [
    r"(heel erg )?(bedankt|dank (je|u) (wel)?) voor het kijken( en tot de volgende keer)?",
    r"(vergeet niet te )?abonneer(en|t)?( je)? op (het|ons|mijn|dit) kanaal",
    r"(thank you|thanks) for watching",
]
_SEARCH_RE = [re.compile(p) for p in _SEARCH]
_WHOLE_RE = [re.compile(p) for p in _WHOLE]


def flag_hallucinations(
    segments: Sequence[Segment], speech_spans: Sequence[tuple[float, float]] | None
) -> list[Segment]:
    """Copies of `segments` with guard flags added (existing flags are kept)."""
    flags = [list(segment.flags) for segment in segments]
    for index, segment in enumerate(segments):
        if is_blocklisted(segment.text):
            flags[index].append(BLOCKLIST)
        if has_repeated_tokens(segment.text):
            flags[index].append(REPETITION)
        if speech_spans is not None and not overlaps_speech(segment, speech_spans):
            flags[index].append(NO_SPEECH)
    for index in repeated_segments(segments):
        flags[index].append(REPETITION)
    return [
        replace(segment, flags=list(dict.fromkeys(flags[index])))
        for index, segment in enumerate(segments)
    ]


def normalise(text: str) -> str:
    """Lower case words without punctuation: the form guards compare."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(re.findall(r"\w+", text))


def is_blocklisted(text: str) -> bool:
    words = normalise(text)
    if not words:
        return False
    return any(p.search(words) for p in _SEARCH_RE) or any(p.fullmatch(words) for p in _WHOLE_RE)


def has_repeated_tokens(text: str) -> bool:
    """A token, or a phrase of up to MAX_LOOP_PHRASE tokens, repeated REPEAT_RUN times in a row."""
    tokens = normalise(text).split()
    for size in range(1, MAX_LOOP_PHRASE + 1):
        for start in range(len(tokens) - size * REPEAT_RUN + 1):
            phrase = tokens[start : start + size]
            if all(
                tokens[start + k * size : start + (k + 1) * size] == phrase
                for k in range(1, REPEAT_RUN)
            ):
                return True
    return False


def repeated_segments(segments: Sequence[Segment]) -> set[int]:
    """Indexes of segments in runs of >= REPEAT_RUN consecutive segments with the same text."""
    texts = [normalise(segment.text) for segment in segments]
    flagged: set[int] = set()
    run_start = 0
    for index in range(1, len(texts) + 1):
        if index < len(texts) and texts[index] == texts[run_start]:
            continue  # the run goes on
        if texts[run_start] and index - run_start >= REPEAT_RUN:
            flagged.update(range(run_start, index))
        run_start = index
    return flagged


def overlaps_speech(segment: Segment, speech_spans: Sequence[tuple[float, float]]) -> bool:
    """Whether enough of the segment lies in speech regions found by VAD."""
    if not segment.text.strip():
        return True  # nothing was said, so nothing was invented
    duration = max(segment.end - segment.start, 1e-3)
    overlap = sum(
        max(0.0, min(segment.end, end) - max(segment.start, start)) for start, end in speech_spans
    )
    return overlap / duration >= MIN_SPEECH_OVERLAP



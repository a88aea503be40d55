"""An editor's review taken into the master: the new text, segment by segment, with word timings
kept for every word the editor left as it was and estimated for the words they typed.

The review page sends the transcript as the editor left it: an ordered list of segments, each
with its text and speaker slot (words added, changed or deleted, segments split, joined or
marked as [muziek], [gelach] or [onverstaanbaar]). The old and the new words are aligned over
the whole transcript at once, so a split, a join or a word moved across a segment boundary
needs no special case: a word that is still there keeps its times and its recogniser's
probability; a typed word takes its share of the time between its neighbours that remain.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, replace
from difflib import SequenceMatcher

from pipeline.model import Segment, Transcript, Word

TYPED = 1.0  # the probability of a word an editor typed: nothing left to doubt
MARKERS = ("[muziek]", "[gelach]", "[onverstaanbaar]")


@dataclass
class EditedSegment:
    """One segment as the editor left it."""

    text: str
    speaker: str | None  # a slot ("SPEAKER_2"), or None for no speaker (a sound, a marker)
    source: int | None = None  # the id of the master segment it started as, when it did


@dataclass
class _Token:
    key: str  # what alignment compares: lower case, no punctuation
    text: str  # as written, with its leading space
    start: float
    end: float
    probability: float


def apply_review(master: Transcript, edited: list[EditedSegment], speakers: dict[str, str],
                 now: dt.datetime | None = None) -> Transcript:
    """The corrected transcript: `edited` segments with aligned word timings, `speakers` the
    names of the slots. A segment the editor left exactly as it was keeps its guard flags;
    one they changed is theirs now, and unflagged."""
    old = [token for segment in master.segments for token in _tokens_of(segment)]
    new = [(index, piece) for index, segment in enumerate(edited)
           for piece in segment.text.split()]
    timed = _timed(old, [piece for _, piece in new])
    by_segment: dict[int, list[_Token]] = {}
    for (index, _), token in zip(new, timed):
        by_segment.setdefault(index, []).append(token)
    sources = {segment.id: segment for segment in master.segments}
    segments = []
    for index, segment in enumerate(edited):
        tokens = by_segment.get(index)
        if tokens:
            segments.append(_segment(len(segments), segment, tokens, sources.get(segment.source)))
    moment = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    provenance = replace(master.provenance, status="corrected", corrected=moment)
    return Transcript(master.language, segments, provenance, dict(speakers))


def _segment(number: int, edited: EditedSegment, tokens: list[_Token],
             source: Segment | None) -> Segment:
    words = [Word(t.start, t.end, t.text, t.probability, edited.speaker) for t in tokens]
    text = "".join(t.text for t in tokens)
    unchanged = source is not None and _key_text(source.text) == _key_text(text) \
        and source.speaker == edited.speaker
    return Segment(number, tokens[0].start, tokens[-1].end, text, words, edited.speaker,
                   flags=list(source.flags) if unchanged and source else [],
                   avg_logprob=source.avg_logprob if unchanged and source else None)


def _tokens_of(segment: Segment) -> list[_Token]:
    """The segment's words as tokens; a segment without word timings shares its time out by
    the length of its words."""
    if segment.words:
        return [_Token(_key(w.text), w.text, w.start, w.end, w.probability)
                for w in segment.words if w.text.strip()]
    pieces = segment.text.split()
    total = sum(len(p) for p in pieces) or 1
    tokens, position = [], segment.start
    for piece in pieces:
        length = (segment.end - segment.start) * len(piece) / total
        tokens.append(_Token(_key(piece), " " + piece, position, position + length, 1.0))
        position += length
    return tokens


def _timed(old: list[_Token], pieces: list[str]) -> list[_Token]:
    """A token with times for every new piece of text, in order."""
    keys = [_key(piece) for piece in pieces]
    result: list[_Token | None] = [None] * len(pieces)
    matcher = SequenceMatcher(None, [t.key for t in old], keys, autojunk=False)
    for tag, o1, o2, n1, n2 in matcher.get_opcodes():
        if tag == "equal":
            for offset in range(n2 - n1):
                kept = old[o1 + offset]
                result[n1 + offset] = replace(kept, text=" " + pieces[n1 + offset])
        elif tag == "replace":  # the editor's words take the time of the words they replace
            _spread(result, pieces, n1, n2, old[o1].start, old[o2 - 1].end)
    _fill_gaps(result, pieces, old)
    return [token for token in result if token is not None]


def _fill_gaps(result: list[_Token | None], pieces: list[str], old: list[_Token]) -> None:
    """Words inserted where nothing was: the time between the words around them."""
    index = 0
    while index < len(result):
        if result[index] is not None:
            index += 1
            continue
        end = index
        while end < len(result) and result[end] is None:
            end += 1
        before = result[index - 1].end if index else (old[0].start if old else 0.0)
        after = result[end].start if end < len(result) else max(before, old[-1].end if old
                                                                 else before)
        _spread(result, pieces, index, end, before, max(before, after))
        index = end


def _spread(result: list[_Token | None], pieces: list[str], first: int, last: int,
            start: float, end: float) -> None:
    """Give pieces[first:last] the time from `start` to `end`, by their length."""
    total = sum(len(pieces[i]) for i in range(first, last)) or 1
    position = start
    for index in range(first, last):
        length = (end - start) * len(pieces[index]) / total
        result[index] = _Token(_key(pieces[index]), " " + pieces[index], round(position, 3),
                               round(position + length, 3), TYPED)
        position += length


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[^\w\[\]']+", "", text)


def _key_text(text: str) -> list[str]:
    return [_key(piece) for piece in text.split()]

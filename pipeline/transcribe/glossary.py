"""An optional glossary of names, places and jargon (TranscriptionSettings.glossary).

It helps twice: before decoding, the terms prime Whisper's decoder (a prompt of the terms, so
"Movisie" is more likely than "Mo visie"); after decoding, near-miss spellings are corrected in
segment and word text ("opbouw werker" -> "opbouwwerker"), keeping the word timings.

The correction is deliberately conservative: only windows of about the term's own number of
words and length, with a high character similarity, are replaced. A wrong "correction" is
worse than a missed one, because readers trust a proper name that looks right.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from difflib import SequenceMatcher

from pipeline.model import Segment, Word

MIN_SIMILARITY = 0.85  # character similarity (difflib ratio) of the compacted forms
EDGE_SIMILARITY = 0.75  # a split compound's parts must each resemble their end of the term
MIN_TERM_LENGTH = 5  # shorter terms ("Ede") are too easily confused with ordinary words
MAX_PROMPT_CHARS = 400  # Whisper's prompt holds ~220 tokens; stay well inside it

_EDGE_PUNCTUATION = "\"'“”‘’¿¡([{-.,!?:;)]}…"


def decoder_prompt(terms: Sequence[str]) -> str | None:
    """A prompt that primes the decoder with the glossary, or None without terms.

    Written as a comma-separated list ending in a full stop: Whisper copies the style of its
    prompt, and a plain list keeps it from continuing a sentence it never heard.
    """
    cleaned = [term.strip() for term in terms if term.strip()]
    if not cleaned:
        return None
    prompt = ""
    for term in cleaned:
        candidate = f"{prompt}, {term}" if prompt else term
        if len(candidate) + 1 > MAX_PROMPT_CHARS:
            break
        prompt = candidate
    return prompt + "."


@dataclass(frozen=True)
class _Match:
    first: int  # index of the first token of the window
    count: int  # number of tokens in the window
    term: str
    score: float


def fix_spelling(segments: list[Segment], terms: Sequence[str]) -> list[Segment]:
    """Segments with near-miss spellings of glossary terms corrected (new objects)."""
    usable = [t.strip() for t in terms if len(_compact(t)) >= MIN_TERM_LENGTH]
    if not usable:
        return segments
    return [_fix_segment(segment, usable) for segment in segments]


def _fix_segment(segment: Segment, terms: list[str]) -> Segment:
    if segment.words:
        matches = find_matches([w.text for w in segment.words], terms)
        if not matches:
            return segment
        words = _replace_words(segment.words, matches)
        return replace(segment, words=words, text="".join(w.text for w in words))
    tokens = re.findall(r"\s*\S+", segment.text)
    matches = find_matches(tokens, terms)
    if not matches:
        return segment
    return replace(segment, text="".join(_replace_tokens(tokens, matches)))


def find_matches(tokens: Sequence[str], terms: Sequence[str]) -> list[_Match]:
    """Non-overlapping windows of `tokens` that are near-misses of a term, left to right."""
    matches: list[_Match] = []
    position = 0
    while position < len(tokens):
        best = _best_match_at(tokens, position, terms)
        if best is None:
            position += 1
            continue
        matches.append(best)
        position += best.count
    return matches


def _best_match_at(tokens: Sequence[str], first: int, terms: Sequence[str]) -> _Match | None:
    best: _Match | None = None
    for term in terms:
        size = len(term.split())
        # The term's own word count, or one more: Whisper splits compounds ("opbouw werker").
        for count in (size, size + 1):
            window = tokens[first : first + count]
            if len(window) < count:
                continue
            if count > size and not _edges_agree(window, term):
                continue  # the extra token is a neighbour ("De opbouwerker"), not a split
            score = _similarity(" ".join(token.strip() for token in window), term)
            if score is not None and (best is None or score > best.score):
                best = _Match(first, count, term, score)
    return best


def _similarity(window: str, term: str) -> float | None:
    """A score when `window` is a near-miss of `term`; None when it's no match or identical."""
    if _strip_edges(window) == term:
        return None  # already right, nothing to fix
    seen, wanted = _compact(window), _compact(term)
    if not seen or abs(len(seen) - len(wanted)) > max(1, len(wanted) // 5):
        return None
    if seen == wanted:
        return 1.0  # right letters, wrong case or spacing
    if _capitalised(term) and not _capitalised(window):
        return None  # a name misheard is written as a name: lower-case "vorst" (frost) stays
    if _sounds(seen) == _sounds(wanted):
        return SOUND_ALIKE  # "Forst" for "Voorst"
    score = SequenceMatcher(None, seen, wanted).ratio()
    return score if score >= MIN_SIMILARITY else None


# Spellings Dutch speech can't tell apart, which Whisper mixes up in names it hasn't seen.
_SOUND_RULES = [("ij", "ei"), ("ph", "f"), ("th", "t"), ("ck", "k"), ("dt", "t"), ("ch", "g"),
                ("v", "f"), ("z", "s"), ("aa", "a"), ("ee", "e"), ("oo", "o"), ("uu", "u"),
                ("ou", "au"), ("c", "k")]
SOUND_ALIKE = 0.9  # ranks below an exact-letters match, above most spelling near-misses


def _sounds(compact: str) -> str:
    """A rough Dutch sound key: 'voorst' and 'forst' both give 'forst'."""
    for written, heard in _SOUND_RULES:
        compact = compact.replace(written, heard)
    return compact[:-1] + "t" if compact.endswith("d") else compact


def _capitalised(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    return bool(letters) and letters[0].isupper()


def _edges_agree(window: Sequence[str], term: str) -> bool:
    """Whether the window's first and last tokens look like the term's start and end."""
    wanted = _compact(term)
    first, last = _compact(window[0]), _compact(window[-1])
    if not first or not last:
        return False
    head = SequenceMatcher(None, first, wanted[: len(first)]).ratio()
    tail = SequenceMatcher(None, last, wanted[-len(last) :]).ratio()
    return min(head, tail) >= EDGE_SIMILARITY


def _compact(text: str) -> str:
    """Lower case letters and digits only, accents kept: the form near-misses are judged in."""
    text = unicodedata.normalize("NFC", text).casefold()
    return "".join(ch for ch in text if ch.isalnum())


def _strip_edges(text: str) -> str:
    return text.strip(_EDGE_PUNCTUATION)


def _respell(window: Sequence[str], term: str) -> tuple[str, str]:
    """Leading and trailing decoration (space, quotes, punctuation) to keep around `term`."""
    first, last = window[0], window[-1]
    core_first = first.lstrip()
    lead = first[: len(first) - len(core_first)]
    lead += core_first[: len(core_first) - len(core_first.lstrip(_EDGE_PUNCTUATION))]
    stripped_last = last.rstrip(_EDGE_PUNCTUATION)
    trail = last[len(stripped_last) :]
    return lead, trail


def _replace_tokens(tokens: list[str], matches: list[_Match]) -> list[str]:
    result = list(tokens)
    for match in reversed(matches):
        window = tokens[match.first : match.first + match.count]
        lead, trail = _respell(window, match.term)
        result[match.first : match.first + match.count] = [lead + match.term + trail]
    return result


def _replace_words(words: list[Word], matches: list[_Match]) -> list[Word]:
    """Replace matched windows by the term's words, spread over the window's timings."""
    result = list(words)
    for match in reversed(matches):
        window = words[match.first : match.first + match.count]
        lead, trail = _respell([w.text for w in window], match.term)
        term_words = match.term.split()
        replacement = []
        for index, text in enumerate(term_words):
            # Term word j takes the window words proportional to it (1:1 when counts agree).
            lo = index * len(window) // len(term_words)
            hi = max(lo + 1, (index + 1) * len(window) // len(term_words))
            part = window[lo:hi]
            prefix = lead if index == 0 else " "
            suffix = trail if index == len(term_words) - 1 else ""
            replacement.append(
                Word(
                    start=part[0].start,
                    end=part[-1].end,
                    text=prefix + text + suffix,
                    probability=min(w.probability for w in part),
                    speaker=part[0].speaker,
                )
            )
        result[match.first : match.first + match.count] = replacement
    return result


def term_accuracy(hypothesis: str, reference: str, terms: Sequence[str]) -> tuple[int, int]:
    """(found, expected): occurrences of each term in `reference` also spelled right in
    `hypothesis`, compared case-insensitively without punctuation. For benchmarks."""
    hyp, ref = _words_line(hypothesis), _words_line(reference)
    found = expected = 0
    for term in terms:
        needle = _words_line(term)
        wanted = _count(ref, needle)
        expected += wanted
        found += min(wanted, _count(hyp, needle))
    return found, expected


def _words_line(text: str) -> str:
    text = unicodedata.normalize("NFC", text).casefold()
    return " " + " ".join(re.findall(r"[\w']+", text)) + " "


def _count(haystack: str, needle: str) -> int:
    return haystack.count(needle) if needle.strip() else 0

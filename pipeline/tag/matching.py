"""Finding phrases in Dutch speech: words normalised and lightly stemmed, split compounds
joined, and long words matched with a few letters off ('opbouwerker' for 'opbouwwerker')."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

MAX_JOIN = 8  # words joined when looking for a phrase


FUZZY_MIN_LEN = 8  # shorter words must match exactly (after stemming)


_WORD = re.compile(r"[^\W_]+(?:['’`´][^\W_]+)*")


_APOSTROPHES = str.maketrans("", "", "'’`´")



# --- 1. normalising --------------------------------------------------------------------------


def normalise_word(word: str) -> str:
    """Lower case, accents and apostrophes removed: "Barista's" -> 'baristas'."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return plain.translate(_APOSTROPHES)


@dataclass(frozen=True)
class Token:
    """A normalised word and where it came from: piece (text or segment index) and char span."""

    norm: str
    piece: int
    start: int
    end: int


def tokenize(text: str, piece: int = 0) -> list[Token]:
    """Split text into normalised word tokens; punctuation and hyphens separate words."""
    return [Token(normalise_word(m.group()), piece, m.start(), m.end()) for m in _WORD.finditer(text)]


_SUFFIXES = ("etjes", "tjes", "pjes", "jes", "en", "es", "e", "s")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light Dutch stemmer: plural, diminutive and inflection endings; 'plekken' -> 'plek'.

    It only has to be consistent (cues and text go through it alike), not linguistically right.
    Words of four letters or fewer are left alone, so 'oss' and 'ede' stay themselves.
    """
    if len(word) <= 4 or not word.isalpha():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    if word[-1] == word[-2] and word[-1] not in "aeiou":
        word = word[:-1]  # plekk -> plek
    return word[:-1] + {"v": "f", "z": "s"}.get(word[-1], word[-1])  # initiatiev -> initiatief


def within_distance(a: str, b: str, limit: int) -> bool:
    """Levenshtein distance of a and b is at most limit (banded, early exit)."""
    if abs(len(a) - len(b)) > limit:
        return False
    previous = list(range(len(b) + 1))
    for i, ch in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, other in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ch != other))
        if min(current) > limit:
            return False
        previous = current
    return previous[-1] <= limit


def _fuzzy_limit(key: str) -> int:
    return 2 if len(key) >= 11 else 1


def _deletions(word: str) -> set[str]:
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


# --- 2. finding phrases ------------------------------------------------------------------------

Span = tuple[int, int]  # token indices, end exclusive


class PhraseIndex:
    """Every phrase of the taxonomy, matched against a token stream in one pass."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._full: dict[str, set[int]] = {}
        self._exact: dict[str, set[int]] = {}
        self._prefix: dict[str, set[int]] = {}
        self._fuzzy: dict[str, set[str]] = {}  # deletion variant -> fuzzy keys
        self._fuzzy_ids: dict[str, set[int]] = {}
        self._raw_prefixes: set[str] = set()
        self._stem_prefixes: set[str] = set()
        self._prefix_lengths: list[int] = []
        self._cache: dict[tuple[str, str, int], frozenset[int]] = {}

    def add(self, phrase: str) -> int:
        """Register a phrase ('ontmoetingsplek*', '=ouderen', 'taal van de straat'); return its id."""
        text = phrase.strip()
        if text in self._ids:
            return self._ids[text]
        pid = self._ids[text] = len(self._ids)
        exact, prefix = text.startswith("="), text.endswith("*")
        words = [t.norm for t in tokenize(text.strip("=*"))]
        if not words:
            raise ValueError(f"phrase {phrase!r} has no words")
        raw = "".join(words)
        if prefix and len(raw) < 4:
            raise ValueError(f"prefix {phrase!r} is shorter than 4 letters")
        self._register(pid, raw, words, exact or (len(raw) < 5 and not prefix), prefix)
        return pid

    def _register(self, pid: int, raw: str, words: list[str], exact: bool, prefix: bool) -> None:
        self._raw_prefixes.update(raw[:i] for i in range(1, len(raw) + 1))
        if exact:
            self._exact.setdefault(raw, set()).add(pid)
            return
        if prefix:
            self._prefix.setdefault(raw, set()).add(pid)
            self._prefix_lengths = sorted({*self._prefix_lengths, len(raw)})
            fuzzy_key = raw
        else:
            joined_stem, stems = stem(raw), "".join(stem(w) for w in words)
            self._stem_prefixes.update(stems[:i] for i in range(1, len(stems) + 1))
            for form in (joined_stem, stems):
                self._full.setdefault(form, set()).add(pid)
            fuzzy_key = joined_stem
        if len(fuzzy_key) >= FUZZY_MIN_LEN:
            self._fuzzy_ids.setdefault(fuzzy_key, set()).add(pid)
            for variant in _deletions(fuzzy_key):
                self._fuzzy.setdefault(variant, set()).add(fuzzy_key)

    def find(self, tokens: Sequence[Token]) -> dict[int, list[Span]]:
        """All phrase matches: phrase id -> spans, in text order."""
        found: dict[int, list[Span]] = {}
        words = [t.norm for t in tokens]
        stems = [stem(w) for w in words]
        for i in range(len(words)):
            raw = joined_stems = ""
            for j in range(i, min(i + MAX_JOIN, len(words))):
                raw += words[j]
                joined_stems += stems[j]
                for pid in self._step(raw, joined_stems, len(words[j]), j - i):
                    found.setdefault(pid, []).append((i, j + 1))
                if raw not in self._raw_prefixes and joined_stems not in self._stem_prefixes:
                    break
        return found

    def _step(self, raw: str, joined_stems: str, last_len: int, extra_words: int) -> frozenset[int]:
        key = (raw, joined_stems, last_len)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._lookup(raw, joined_stems, last_len, extra_words)
            if len(self._cache) > 500_000:
                self._cache.clear()
            self._cache[key] = cached
        return cached

    def _lookup(self, raw: str, joined_stems: str, last_len: int, extra_words: int) -> frozenset[int]:
        joined_stem = stem(raw)
        hits = set(self._exact.get(raw, ()))
        hits |= self._full.get(joined_stem, set()) | self._full.get(joined_stems, set())
        for n in self._prefix_lengths:
            # the key must end inside the last word, else a shorter join already matched it
            if len(raw) - last_len < n <= len(raw):
                hits |= self._prefix.get(raw[:n], set())
        if not hits and extra_words <= 1 and len(joined_stem) >= FUZZY_MIN_LEN:
            hits |= self._near_misses(joined_stem)
        return frozenset(hits)

    def _near_misses(self, word: str) -> set[int]:
        keys = {k for variant in _deletions(word) for k in self._fuzzy.get(variant, ())}
        hits: set[int] = set()
        for k in keys:
            if within_distance(word, k, _fuzzy_limit(k)):
                hits |= self._fuzzy_ids[k]
        return hits

"""Tag transcripts by case and lesson, with evidence (issue 4).

The taxonomy (pipeline/taxonomy.yaml) lists, for every case, its names, people and places, and for
every lesson families of Dutch cue patterns. Tagging runs in three steps:

1. normalise and tokenise: lower case, no accents or apostrophes ('Súdwest' -> 'sudwest',
   "barista's" -> 'baristas'); keep each word's character span for quoting;
2. find phrases: adjacent words are joined (up to 8) so split compounds match ('ontmoetings
   plekken'), a light stemmer absorbs inflection, and words of 8+ letters match near-misses
   ('opbouwerker', 'knutterigheid'); keys under 5 letters ('ede', 'oss') match whole words only;
3. score each passage (a window of neighbouring segments): a lesson is tagged when the weights of
   its distinct cues add up to THRESHOLD; a case needs a name, or weaker signals (place,
   neighbourhood, everyday-word name) that add up together with project context. A place shared
   by several cases never counts unless a bundle marker singles out one of them.

Everything is compiled once per Tagger; a one-hour transcript (~9,000 words) tags in well under
a second (bench/tag_eval.py).
"""

from __future__ import annotations

import bisect
import json
import re
import sys
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, TextIO

from pipeline import model
from pipeline.catalogue import Catalogue
from pipeline.errors import Problem, shown_path
from pipeline.fsutil import write_text_if_changed
from pipeline.memo import BuildMemo, code_digest, digest_of
from pipeline.taxonomy import CaseEntry, Taxonomy, load_taxonomy

THRESHOLD = 1.0  # a label is tagged when its evidence in one passage adds up to this
NAME_WEIGHT = 1.0  # a case's own name or one of its people: decides alone
WEAK_WEIGHT = 0.6  # a name that is also an everyday word ('nieuwe buren', 'polka')
PLACE_WEIGHT = 0.6  # a town or neighbourhood of the case
CONTEXT_WEIGHT = 0.4  # project talk nearby: 'initiatief', 'de derde bundel', a lesson
MIN_SPECIFIC = 0.6  # a case needs at least this much evidence of its own, context aside

MAX_JOIN = 8  # words joined when looking for a phrase
FUZZY_MIN_LEN = 8  # shorter words must match exactly (after stemming)
GAPS = {"+": 1, "..": 6, "&": 12}  # words allowed between the parts of a cue
TEXT_WINDOW, TEXT_STRIDE = 60, 30  # tokens per passage in tag_text
SEGMENT_WINDOW = 3  # neighbouring segments per passage in tag_transcript
MAX_QUOTE = 300  # characters

_WORD = re.compile(r"[^\W_]+(?:['’`´][^\W_]+)*")
_APOSTROPHES = str.maketrans("", "", "'’`´")
_CONNECTOR = re.compile(r"\s+(\+|\.\.|&)\s+")


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


# --- cues: phrases combined with + .. & --------------------------------------------------------


@dataclass(frozen=True)
class Cue:
    """A compiled cue pattern: slots of alternative phrases joined by connectors."""

    pattern: str
    slots: tuple[frozenset[int], ...]
    connectors: tuple[str, ...]

    def hits(self, found: dict[int, list[Span]]) -> list[Span]:
        """Every span of the token stream where this cue occurs."""
        current = _slot_spans(self.slots[0], found)
        for connector, slot in zip(self.connectors, self.slots[1:]):
            if not current:
                break
            current = _combine(current, _slot_spans(slot, found), connector)
        return current


def _slot_spans(slot: frozenset[int], found: dict[int, list[Span]]) -> list[Span]:
    return sorted({span for pid in slot for span in found.get(pid, ())})


def _combine(left: list[Span], right: list[Span], connector: str) -> list[Span]:
    """Spans where a right-hand span follows (or, for &, is near) a left-hand one."""
    gap = GAPS[connector]
    starts = [s for s, _ in right]
    combined: set[Span] = set()
    for start, end in left:
        lo = start - gap - MAX_JOIN if connector == "&" else end
        for k in range(bisect.bisect_left(starts, lo), bisect.bisect_right(starts, end + gap)):
            r_start, r_end = right[k]
            after = 0 <= r_start - end <= gap
            before = connector == "&" and r_end <= start and start - r_end <= gap
            if after or before:
                combined.add((min(start, r_start), max(end, r_end)))
    return sorted(combined)


def compile_cue(pattern: str, index: PhraseIndex, concepts: dict[str, list[str]]) -> Cue:
    """'@money .. leeg|op' -> Cue with two slots; @concept expands to its phrases."""
    parts = _CONNECTOR.split(pattern.strip())
    slots = tuple(_compile_slot(part, index, concepts) for part in parts[::2])
    return Cue(pattern, slots, tuple(parts[1::2]))


def _compile_slot(slot: str, index: PhraseIndex, concepts: dict[str, list[str]]) -> frozenset[int]:
    phrases: list[str] = []
    for alternative in slot.split("|"):
        alternative = alternative.strip()
        phrases += concepts[alternative[1:]] if alternative.startswith("@") else [alternative]
    return frozenset(index.add(p) for p in phrases)


# --- 3. scoring passages -----------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """One weighted cue of a label (kind, id)."""

    kind: str  # "case", "lesson", "context"
    label: str
    role: str  # lesson: "cue"; case: "name", "weak", "place", "topic"; context: "context"
    weight: float
    cue: Cue


@dataclass(frozen=True)
class Hit:
    evidence: Evidence
    span: Span


@dataclass(frozen=True)
class Finding:
    """A label found in one passage: its score and the hits that make it."""

    kind: str
    label: str
    total: float
    hits: tuple[Hit, ...]

    @property
    def score(self) -> float:
        return round(1 - 0.5 ** self.total, 3)  # 0.5 at the threshold, towards 1 with more


@dataclass(frozen=True)
class TextTags:
    """Case and lesson ids found in a text, in taxonomy order."""

    cases: list[str]
    lessons: list[str]


@dataclass(frozen=True)
class EpisodeTag:
    """An episode-level tag: the summary of the segment-level tags for one id."""

    id: str
    kind: model.TagKind
    score: float
    count: int  # segment-level tags found in the text
    source: str  # "editor" when the sidecar asserts it, else "text"


@dataclass
class _Compiled:
    evidence: list[Evidence] = field(default_factory=list)
    shared_places: dict[Cue, tuple[str, ...]] = field(default_factory=dict)  # place cue -> its cases


class Tagger:
    """Tags texts and transcripts with the ids of a taxonomy."""

    def __init__(self, taxonomy: Taxonomy | None = None) -> None:
        self.taxonomy = taxonomy if taxonomy is not None else load_taxonomy()
        self._index = PhraseIndex()
        self._compiled = _Compiled()
        self._bundle_cues: dict[str, Cue] = {}
        self._compile()

    # compile ----------------------------------------------------------------------------------

    def _cue(self, pattern: str) -> Cue:
        return compile_cue(pattern, self._index, self.taxonomy.concepts)

    def _add(self, kind: str, label: str, role: str, weight: float, pattern: str) -> Evidence:
        evidence = Evidence(kind, label, role, weight, self._cue(pattern))
        self._compiled.evidence.append(evidence)
        return evidence

    def _compile(self) -> None:
        taxonomy = self.taxonomy
        self._add("context", "context", "context", CONTEXT_WEIGHT, "|".join(taxonomy.context))
        for bundle, markers in taxonomy.bundle_markers.items():
            marker = self._add("context", "context", "bundle", CONTEXT_WEIGHT, "|".join(markers))
            self._bundle_cues[bundle] = marker.cue
        for lesson in taxonomy.lessons:
            for group in lesson.cues:  # untaggable lessons have none: never tagged from text
                for pattern in group.cues:
                    self._add("lesson", lesson.id, "cue", group.weight, pattern)
        places = _place_owners(taxonomy.cases)
        for case in taxonomy.cases:
            self._compile_case(case, places)

    def _compile_case(self, case: CaseEntry, places: dict[str, list[str]]) -> None:
        for phrase in case.names + case.people:
            self._add("case", case.id, "name", NAME_WEIGHT, phrase)
        for phrase in case.weak_names:
            self._add("case", case.id, "weak", WEAK_WEIGHT, phrase)
        for phrase in case.places + case.neighbourhoods:
            evidence = self._add("case", case.id, "place", PLACE_WEIGHT, phrase)
            owners = places[_place_key(phrase)]
            if len(owners) > 1:
                self._compiled.shared_places[evidence.cue] = tuple(owners)
        for group in case.topics:
            for pattern in group.cues:
                self._add("case", case.id, "topic", group.weight, pattern)

    # matching ---------------------------------------------------------------------------------

    def _hits(self, tokens: Sequence[Token]) -> list[Hit]:
        """Every cue occurrence in the token stream, sorted by start."""
        found = self._index.find(tokens)
        hits = [Hit(ev, span) for ev in self._compiled.evidence for span in ev.cue.hits(found)]
        return sorted(hits, key=lambda h: h.span)

    def _findings(self, hits: Sequence[Hit]) -> list[Finding]:
        """Labels tagged in one passage, given the hits inside it."""
        lessons = [f for f in _group_scores(hits, "lesson") if f.total >= THRESHOLD - 1e-9]
        context = any(h.evidence.kind == "context" for h in hits) or bool(lessons)
        markers = {b for b, cue in self._bundle_cues.items() if any(h.evidence.cue == cue for h in hits)}
        case_hits = [h for h in hits if h.evidence.kind == "case" and self._place_counts(h, markers)]
        cases = [_with_context(f, context) for f in _group_scores(_outermost(case_hits), "case")]
        return [f for f in cases if f is not None] + lessons

    def _place_counts(self, hit: Hit, markers: set[str]) -> bool:
        """A place shared by several cases counts only when a bundle marker picks this case."""
        owners = self._compiled.shared_places.get(hit.evidence.cue)
        if owners is None:
            return True
        bundle = self.taxonomy.case(hit.evidence.label).bundle
        same_bundle = [o for o in owners if self.taxonomy.case(o).bundle == bundle]
        return bundle in markers and len(same_bundle) == 1

    def _passages(self, hits: list[Hit], windows: Iterable[Span]) -> list[Finding]:
        """Findings of every window (token range) of the stream."""
        starts = [h.span[0] for h in hits]
        findings: list[Finding] = []
        for lo, hi in windows:
            candidates = hits[bisect.bisect_left(starts, lo) : bisect.bisect_left(starts, hi)]
            inside = [h for h in candidates if h.span[1] <= hi]
            if any(h.evidence.kind != "context" for h in inside):
                findings += self._findings(inside)
        return findings

    # public API -------------------------------------------------------------------------------

    def tag_text(self, text: str) -> TextTags:
        """Case and lesson ids found anywhere in a text."""
        tokens = tokenize(text)
        findings = self._passages(self._hits(tokens), _text_windows(len(tokens)))
        found = {(f.kind, f.label) for f in findings}
        return TextTags(
            cases=[c for c in self.taxonomy.case_ids if ("case", c) in found],
            lessons=[lesson for lesson in self.taxonomy.lesson_ids if ("lesson", lesson) in found],
        )

    def tag_transcript(self, transcript: model.Transcript, editor_cases: Sequence[str] = ()) -> list[model.Tag]:
        """Segment-level tags with evidence, plus one tag per case the editor asserts.

        Segments flagged as possible hallucinations are not tagged. Raises ValueError naming an
        editor case id that is not in the taxonomy.
        """
        editor_tags = self._editor_tags(transcript, editor_cases)
        segments = [s for s in transcript.segments if not s.flagged]
        tokens = [t for n, s in enumerate(segments) for t in tokenize(s.text, piece=n)]
        hits = self._hits(tokens)
        findings = self._passages(hits, _segment_windows(tokens, len(segments)))
        tags = [_to_tag(f, tokens, segments) for f in findings]
        return editor_tags + _merge(tags)

    def _editor_tags(self, transcript: model.Transcript, editor_cases: Sequence[str]) -> list[model.Tag]:
        known = set(self.taxonomy.case_ids)
        for case_id in editor_cases:
            if case_id not in known:
                raise ValueError(f"unknown case id {case_id!r} (not in the taxonomy)")
        end = max((s.end for s in transcript.segments), default=0.0)
        return [
            model.Tag(kind="case", id=case_id, score=1.0, start=0.0, end=end, quote="", source="editor")
            for case_id in dict.fromkeys(editor_cases)
        ]


def _place_key(phrase: str) -> str:
    return "".join(t.norm for t in tokenize(phrase))


def _place_owners(cases: Sequence[CaseEntry]) -> dict[str, list[str]]:
    """Normalised place name -> the cases it belongs to (more than one: ambiguous)."""
    owners: dict[str, list[str]] = {}
    for case in cases:
        for phrase in case.places + case.neighbourhoods:
            owners.setdefault(_place_key(phrase), []).append(case.id)
    return owners


def _outermost(hits: Sequence[Hit]) -> list[Hit]:
    """Drop place hits inside a longer place hit of the same case ('heerlen' in 'heerlen noord')."""
    places = [h for h in hits if h.evidence.role == "place"]

    def inside(hit: Hit) -> bool:
        return any(
            o is not hit
            and o.evidence.label == hit.evidence.label
            and o.span[0] <= hit.span[0]
            and hit.span[1] <= o.span[1]
            and o.span != hit.span
            for o in places
        )

    return [h for h in hits if h.evidence.role != "place" or not inside(h)]


def _group_scores(hits: Sequence[Hit], kind: str) -> list[Finding]:
    """Sum the weights of distinct cues per label."""
    by_label: dict[str, dict[Evidence, list[Hit]]] = {}
    for hit in hits:
        if hit.evidence.kind == kind:
            by_label.setdefault(hit.evidence.label, {}).setdefault(hit.evidence, []).append(hit)
    return [
        Finding(kind, label, round(sum(ev.weight for ev in cues), 3), tuple(h for hs in cues.values() for h in hs))
        for label, cues in by_label.items()
    ]


def _with_context(finding: Finding, context: bool) -> Finding | None:
    """A case's own evidence plus project context; None when it does not reach the threshold."""
    if finding.total < MIN_SPECIFIC:
        return None
    total = finding.total + (CONTEXT_WEIGHT if context else 0.0)
    if total < THRESHOLD - 1e-9:
        return None
    return Finding(finding.kind, finding.label, round(total, 3), finding.hits)


def _text_windows(n_tokens: int) -> list[Span]:
    if n_tokens <= TEXT_WINDOW:
        return [(0, n_tokens)]
    return [(lo, min(lo + TEXT_WINDOW, n_tokens)) for lo in range(0, n_tokens - TEXT_STRIDE, TEXT_STRIDE)]


def _segment_windows(tokens: Sequence[Token], n_segments: int) -> list[Span]:
    """Token ranges of every run of SEGMENT_WINDOW neighbouring segments."""
    first = [len(tokens)] * (n_segments + 1)
    for i in reversed(range(len(tokens))):
        first[tokens[i].piece] = i
    for n in reversed(range(n_segments)):  # a segment without words starts where the next one does
        first[n] = min(first[n], first[n + 1])
    last = max(n_segments - SEGMENT_WINDOW + 1, 1)
    return [(first[n], first[min(n + SEGMENT_WINDOW, n_segments)]) for n in range(last)]


# --- evidence -> model.Tag ---------------------------------------------------------------------


def _to_tag(finding: Finding, tokens: Sequence[Token], segments: Sequence[model.Segment]) -> model.Tag:
    """The tag of a finding: its time span and quote come from the words that triggered it."""
    own = [h for h in finding.hits if h.evidence.kind != "context"]
    lo, hi = min(h.span[0] for h in own), max(h.span[1] for h in own)
    quote = _quote(tokens, segments, lo, hi)
    if len(quote) > MAX_QUOTE:  # far-apart cues: quote the strongest one only
        best = max(own, key=lambda h: (h.evidence.weight, -h.span[0]))
        quote = _quote(tokens, segments, *best.span)
    pieces = sorted({tokens[i].piece for i in range(lo, hi)})
    return model.Tag(
        kind=finding.kind,  # type: ignore[arg-type]
        id=finding.label,
        score=finding.score,
        start=segments[pieces[0]].start,
        end=segments[pieces[-1]].end,
        quote=quote,
        segment_ids=[segments[p].id for p in pieces],
    )


def _quote(tokens: Sequence[Token], segments: Sequence[model.Segment], lo: int, hi: int) -> str:
    """The original words of tokens lo..hi, across segment boundaries."""
    parts: list[str] = []
    for piece in sorted({tokens[i].piece for i in range(lo, hi)}):
        in_piece = [tokens[i] for i in range(lo, hi) if tokens[i].piece == piece]
        parts.append(segments[piece].text[in_piece[0].start : in_piece[-1].end])
    return " ".join(parts)


def _merge(tags: list[model.Tag]) -> list[model.Tag]:
    """One tag per label and stretch: overlapping or adjacent windows' tags become one."""
    merged: list[model.Tag] = []
    last: dict[tuple[str, str], model.Tag] = {}
    for tag in sorted(tags, key=lambda t: (t.start, t.end)):
        key = (tag.kind, tag.id)
        previous = last.get(key)
        if previous is not None and tag.start <= previous.end:
            _absorb(previous, tag)
            continue
        merged.append(tag)
        last[key] = tag
    return sorted(merged, key=lambda t: (t.start, t.kind, t.id))


def _absorb(into: model.Tag, tag: model.Tag) -> None:
    if tag.quote not in into.quote:
        joined = f"{into.quote} … {tag.quote}"
        into.quote = joined if len(joined) <= MAX_QUOTE else max(into.quote, tag.quote, key=len)
    into.segment_ids = sorted(set(into.segment_ids) | set(tag.segment_ids))
    into.end = max(into.end, tag.end)
    into.score = max(into.score, tag.score)


def summarise(tags: Iterable[model.Tag]) -> list[EpisodeTag]:
    """Episode-level tags: one per id, cases first, strongest first.

    An id the editor asserts has source "editor" and score 1.0; `count` is the number of
    segment-level tags found in the text for it.
    """
    groups: dict[tuple[str, str], list[model.Tag]] = {}
    for tag in tags:
        groups.setdefault((tag.kind, tag.id), []).append(tag)
    summary = [_summary(kind, label, group) for (kind, label), group in groups.items()]
    return sorted(summary, key=lambda e: (e.kind != "case", -e.score, -e.count, e.id))


def _summary(kind: str, label: str, group: list[model.Tag]) -> EpisodeTag:
    from_text = [t for t in group if t.source == "text"]
    editor = any(t.source == "editor" for t in group)
    score = 1.0 if editor else max(t.score for t in from_text)
    return EpisodeTag(label, kind, score, len(from_text), "editor" if editor else "text")  # type: ignore[arg-type]


# --- wijk tag-text -----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def default_tagger() -> Tagger:
    """The tagger for the packaged taxonomy, compiled once per process."""
    return Tagger(load_taxonomy())


def tag_text_stream(
    instream: TextIO,
    outstream: TextIO,
    tagger: Tagger | None = None,
    errors: TextIO | None = None,
) -> int:
    """Read JSON lines {"id","text"}, write JSON lines {"id","cases","lessons"}; return the count.

    A malformed line gets one error line naming its line number on `errors` (stderr by
    default) and is skipped; the rest are still tagged. Blank lines are ignored.
    """
    tagger = tagger or default_tagger()
    errors = errors if errors is not None else sys.stderr
    count = 0
    for number, line in enumerate(instream, 1):
        if not line.strip():
            continue
        try:
            passage_id, text = _parse_line(line)
        except ValueError as e:
            print(f"line {number}: {e}", file=errors)
            continue
        tags = tagger.tag_text(text)
        record = {"id": passage_id, "cases": tags.cases, "lessons": tags.lessons}
        outstream.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


def _parse_line(line: str) -> tuple[str | int, str]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as e:
        raise ValueError(f"not valid JSON ({e.msg} at column {e.colno})") from e
    if not isinstance(record, dict):
        raise ValueError('expected a JSON object {"id": ..., "text": ...}')
    missing = [key for key in ("id", "text") if key not in record]
    if missing:
        raise ValueError(f"missing key {missing[0]!r}")
    if not isinstance(record["text"], str):
        raise ValueError('"text" must be a string')
    if not isinstance(record["id"], (str, int)) or isinstance(record["id"], bool):
        raise ValueError('"id" must be a string or an integer')
    return record["id"], record["text"]


__all__ = [
    "EpisodeTag",
    "Tagger",
    "TextTags",
    "default_tagger",
    "load_taxonomy",
    "normalise_word",
    "stem",
    "summarise",
    "tag_text_stream",
    "tokenize",
]


# -- Stage 3 over an archive -------------------------------------------------------------------

TAGGER_CODE = code_digest(Path(__file__), Path(__file__).with_name("taxonomy.py"),
                          Path(__file__).with_name("taxonomy.yaml"))


class TagsOnDisk(Mapping[str, list[model.Tag]]):
    """The passages of every tagged episode (slug -> tags), read from its `<slug>.tags.json`
    only when asked for, so an archive's tags are never all in memory at once. `digests`
    holds each tags file's content digest, enough to tell whether an episode's tags changed
    (by slug: a dict, or a column beside the build's catalogue). A copy sent to a page worker
    has no digests: it is asked only for episodes that have tags."""

    def __init__(self, folder: Path,
                 digests: MutableMapping[str, str | None] | None = None) -> None:
        self.folder = folder
        self.digests: MutableMapping[str, str | None] | None = \
            digests if digests is not None else {}

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "digests": None}

    def __getitem__(self, slug: str) -> list[model.Tag]:
        if self.digests is not None and slug not in self.digests:
            raise KeyError(slug)
        tags = read_tags_file(self.folder / f"{slug}.tags.json")
        if tags is None:
            raise KeyError(slug)
        return tags

    def __contains__(self, slug: object) -> bool:
        return self.digests is not None and slug in self.digests

    def __iter__(self) -> Iterator[str]:
        return iter(self.digests if self.digests is not None else {})

    def __len__(self) -> int:
        return len(self.digests) if self.digests is not None else 0


@dataclass
class Tagged:
    """What tagging an archive found and wrote, and the problems it found."""

    tags: TagsOnDisk
    problems: list[Problem] = field(default_factory=list)
    written: int = 0


def tag_archive(root: Path, episodes: Sequence[model.Episode], transcripts: Any,
                memo: BuildMemo | None = None) -> Tagged:
    """Tag every transcript; write `transcripts/<slug>.tags.json` (episode summary + passages).

    The tags live beside the master, not in it: re-tagging after a taxonomy change never
    touches a transcript an editor corrected. An unknown case id in a sidecar is one problem
    line naming the sidecar; that episode is still tagged from its text. `transcripts` maps
    slugs to transcripts (`get`); when it also has `digests` (batch.ArchiveTranscripts), an
    episode whose master, cases and tagger are as last time keeps its tags file (its
    `made_from` says what it was made from; with the build memo, the file isn't even read).
    """
    tagger: Tagger | None = None
    memo = memo or BuildMemo()
    known = set(load_taxonomy().case_ids)
    digests = getattr(transcripts, "digests", None)
    digests = {} if digests is None else digests
    result = Tagged(TagsOnDisk(root / "transcripts", Catalogue.of(episodes).column("tags")))
    for episode in episodes:
        editor_cases = [case for case in episode.cases if case in known]
        for unknown in (case for case in episode.cases if case not in known):
            result.problems.append(Problem(shown_path(root, episode.sidecar or root),
                                           f"key 'cases': unknown case id {unknown!r} (the ids "
                                           "are in pipeline/taxonomy.yaml)"))
        path = root / "transcripts" / f"{episode.slug}.tags.json"
        key = digest_of(digests[episode.slug], editor_cases, TAGGER_CODE) \
            if episode.slug in digests else None
        if key and (memo.unchanged("tags", episode.slug, key, path) or
                    read_tags_file(path, key) is not None):
            result.tags.digests[episode.slug] = memo.made("tags", episode.slug, key, path)
            continue
        transcript = transcripts.get(episode.slug)
        if transcript is None:
            continue
        tagger = tagger or default_tagger()
        tags = tagger.tag_transcript(transcript, editor_cases)
        transcript.tags = tags
        summary = {"episode": [asdict(t) for t in summarise(tags)],
                   "passages": [asdict(t) for t in tags], "made_from": key}
        result.written += write_text_if_changed(
            path, json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
        result.tags.digests[episode.slug] = memo.made("tags", episode.slug, key, path) if key \
            else memo.file_digest(path)
    return result


def read_tags_file(path: Path, key: str | None = None) -> list[model.Tag] | None:
    """The passages of a `<slug>.tags.json` (if `key` is given: made from `key`, the master's
    digest, the editor's cases and the tagger's code), or None if it is missing or was made
    otherwise."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if key is not None and data.get("made_from") != key:
            return None
        return [model.Tag(**passage) for passage in data["passages"]]
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None

"""Tag transcripts by case and lesson, with evidence.

The taxonomy (taxonomy.yaml beside this module) lists, for every case, its names, people and
places, and for every lesson families of Dutch cue patterns. Tagging runs in three steps:

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
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from pipeline import model
from pipeline.tag.matching import MAX_JOIN, PhraseIndex, Span, Token, tokenize
from pipeline.tag.meaning import lessons_in, meaning_tags, text_passages
from pipeline.tag.taxonomy import CaseEntry, Taxonomy, load_taxonomy

THRESHOLD = 1.0  # a label is tagged when its evidence in one passage adds up to this
NAME_WEIGHT = 1.0  # a case's own name or one of its people: decides alone
WEAK_WEIGHT = 0.6  # a name that is also an everyday word ('nieuwe buren', 'polka')
PLACE_WEIGHT = 0.6  # a town or neighbourhood of the case
CONTEXT_WEIGHT = 0.4  # project talk nearby: 'initiatief', 'de derde bundel', a lesson
MIN_SPECIFIC = 0.6  # a case needs at least this much evidence of its own, context aside

GAPS = {"+": 1, "..": 6, "&": 12}  # words allowed between the parts of a cue
TEXT_WINDOW, TEXT_STRIDE = 60, 30  # tokens per passage in tag_text
SEGMENT_WINDOW = 3  # neighbouring segments per passage in tag_transcript
MAX_QUOTE = 300  # characters

_CONNECTOR = re.compile(r"\s+(\+|\.\.|&)\s+")


# --- cues: phrases combined with + .. & --------------------------------------------------------


@dataclass(frozen=True)
class CuePattern:
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


def compile_cue(pattern: str, index: PhraseIndex, concepts: dict[str, list[str]]) -> CuePattern:
    """'@money .. leeg|op' -> CuePattern with two slots; @concept expands to its phrases."""
    parts = _CONNECTOR.split(pattern.strip())
    slots = tuple(_compile_slot(part, index, concepts) for part in parts[::2])
    return CuePattern(pattern, slots, tuple(parts[1::2]))


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
    cue: CuePattern


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
    shared_places: dict[CuePattern, tuple[str, ...]] = field(default_factory=dict)  # place cue -> its cases


class Tagger:
    """Tags texts and transcripts with the ids of a taxonomy."""

    def __init__(self, taxonomy: Taxonomy | None = None, meaning: bool = True) -> None:
        """`meaning`: also recognise lessons by meaning (pipeline.tag.meaning), beside the cue
        patterns; off, only the taxonomy's cue patterns count."""
        self.taxonomy = taxonomy if taxonomy is not None else load_taxonomy()
        self.meaning = meaning
        self._index = PhraseIndex()
        self._compiled = _Compiled()
        self._bundle_cues: dict[str, CuePattern] = {}
        self._compile()

    # compile ----------------------------------------------------------------------------------

    def _cue(self, pattern: str) -> CuePattern:
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
        if self.meaning:
            found |= {("lesson", hit.lesson) for hit in lessons_in(text_passages(text))}
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
        if self.meaning:
            known = {t.id for t in tags if t.kind == "lesson"}
            tags += [t for t in meaning_tags(segments, max_quote=MAX_QUOTE)
                     if t.id in self.taxonomy.lesson_ids and not _covered(t, tags, known)]
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


def _covered(tag: model.Tag, tags: list[model.Tag], known: set[str]) -> bool:
    """Whether the cue patterns already tagged this lesson at this moment (their quote, the
    cue words themselves, is the better evidence)."""
    return tag.id in known and any(t.id == tag.id and t.start <= tag.end and tag.start <= t.end
                                   for t in tags)


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



@lru_cache(maxsize=1)
def default_tagger() -> Tagger:
    """The tagger for the packaged taxonomy, compiled once per process."""
    return Tagger(load_taxonomy())

"""Caption cues: cut from word timings, checked against the caption standards, read back.

`cut_cues` turns a `Transcript` into `Cue`s that follow STANDARDS.md "Captions" (Netflix Dutch
Timed Text Style Guide, BBC Subtitle Guidelines): at most 2 lines of 42 characters, 5/6 s to 7 s
on screen, at most 17 characters per second where the speech allows it, gaps of either at most
2 frames or at least 0.5 s, no line break after an article, preposition, conjunction or subject
pronoun, and a new cue at every change of speaker.

How cutting works:
1. Words become tokens (times in integer milliseconds, so what we check is what we write).
   Flagged segments are skipped; a segment without usable words gets its time shared out by
   character count. A word longer than a line is split into line-sized chunks.
2. Tokens are grouped into runs: one speaker, no pause longer than `max_pause_in_cue`.
3. Each run is split into cues by dynamic programming over all cut points, minimising a cost
   that prefers sentence ends, commas and pauses, forbids line breaks after function words,
   balances two-line cues and penalises reading speeds above the limit.
4. A timing pass sets the on-screen times: starts at speech (never going backwards), ends
   extended towards the minimum duration and reading speed without passing the next cue or
   lingering more than `max_end_delay` after speech, then the gap rule closes or opens gaps.

`check_cues` checks every rule cue by cue and returns readable messages; reading speed is a
warning (speech can simply be too fast), everything else an error. `parse_vtt` / `parse_srt`
read our files back, and hand-edited ones, for tests and `wijk check`.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pipeline.model import Segment, Transcript

# Articles, prepositions, conjunctions, subject pronouns and other determiners after which a
# line must not break (Netflix Dutch guide, "Line treatment"): they belong with what follows.
NO_BREAK_AFTER: frozenset[str] = frozenset(
    """
    de het een 't 'n 's
    aan achter af bij binnen boven buiten door in langs met na naar naast om onder op over per
    rond sinds te tegen tijdens tot tussen uit van vanaf vanuit via volgens voor zonder
    behalve ondanks wegens richting dankzij
    en of maar want dus noch dat als omdat hoewel terwijl toen zodat zoals wanneer indien mits
    tenzij doordat nadat voordat totdat zowel ofwel dan
    ik jij je hij zij ze wij we u jullie men er
    die dit deze zo'n zulk zulke welk welke wiens
    mijn jouw onze ons hun uw geen elk elke ieder iedere
    """.split()
)

SENTENCE_END = ".!?…"
CLAUSE_END = ",;:–—"
_CLOSERS = "\"'”’»)]"


@dataclass(frozen=True)
class CaptionRules:
    """The numbers of STANDARDS.md "Captions"; times in seconds."""

    max_line_chars: int = 42
    max_lines: int = 2
    min_duration: float = 5 / 6
    max_duration: float = 7.0
    max_cps: float = 17.0
    fps: float = 25.0
    max_closed_gap_frames: int = 2  # a gap is either at most this many frames...
    min_open_gap: float = 0.5  # ...or at least this long
    max_end_delay: float = 0.5  # a cue ends at most this long after its speech
    max_start_offset: float = 0.1  # a cue starts within this of its speech
    max_pause_in_cue: float = 1.0  # a longer pause between words always ends the cue
    no_break_after: frozenset[str] = NO_BREAK_AFTER

    @property
    def max_closed_gap(self) -> float:
        return self.max_closed_gap_frames / self.fps


DEFAULT_RULES = CaptionRules()


@dataclass
class Cue:
    """One caption: what is on screen from `start` to `end` (seconds).

    `speaker` is a display name ("Fatima", "Spreker 2"), None for unknown speakers and
    non-speech cues. `speech_start`/`speech_end` are the times of the words shown, known only
    for cues cut from a transcript (not for parsed files); they let `check_cues` check sync.
    """

    start: float
    end: float
    lines: list[str]
    speaker: str | None = None
    speech_start: float | None = field(default=None, compare=False)
    speech_end: float | None = field(default=None, compare=False)

    @property
    def text(self) -> str:
        return " ".join(self.lines)


Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Violation:
    """A broken caption rule; `index` counts cues from 1, as SRT numbers them."""

    index: int
    start: float
    rule: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{prefix}cue {self.index} ({format_timestamp(self.start)}): {self.message}"


# --- speakers -----------------------------------------------------------------------------



def display_speaker(transcript: Transcript, slot: str | None) -> str | None:
    """The name readers see for a speaker slot: the editor's name, else "Spreker N"."""
    return transcript.speaker_name(slot)


MAX_LABEL_NAME = 24  # a longer name would leave too little room on the line for the words


def turn_label(speaker: str) -> str:
    """The visible prefix at the start of a speaker's turn ("Fatima: "), as in SRT.

    Long names are shortened to the first name (or cut) so a line keeps room for words;
    the cutter reserves exactly this many characters, so SRT lines stay within the limit.
    """
    name = speaker.strip()
    if len(name) > MAX_LABEL_NAME:
        first = name.split()[0]
        name = first if len(first) <= MAX_LABEL_NAME else first[: MAX_LABEL_NAME - 1] + "…"
    return f"{name}: "


def starts_turn(cue: Cue, previous: Cue | None) -> bool:
    """Whether `cue` opens a new speaker turn, so shows the speaker's name as a label."""
    return cue.speaker is not None and (previous is None or previous.speaker != cue.speaker)


# --- time stamps --------------------------------------------------------------------------


def to_ms(seconds: float) -> int:
    return int(round(seconds * 1000))


def _min_ms(rules: CaptionRules) -> int:
    """The minimum duration rounded up to whole milliseconds: 5/6 s is 834 ms, not 833."""
    return math.ceil(rules.min_duration * 1000 - 1e-9)


def format_timestamp(seconds: float, decimal: str = ".") -> str:
    """`HH:MM:SS.mmm` (SRT: `decimal=","`)."""
    ms = max(0, to_ms(seconds))
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal}{ms:03d}"


# --- tokens -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    """A word as shown in a cue; times in milliseconds."""

    text: str
    start: int
    end: int
    speaker: str | None
    glue: bool = False  # part of a word split over lines: no space before it
    segment_end: bool = False


def clean_text(text: str) -> str:
    """Caption-safe text: one line, single spaces, no WebVTT/SRT arrow."""
    return " ".join(text.replace("-->", "→").split())


def _bare(word: str) -> str:
    return word.lower().strip("\"'“”‘’«»()[]¿¡")


def words_usable(segment: Segment) -> bool:
    """Word timings are usable when the words still spell the segment's text.

    An editor's correction changes `segment.text` but may leave Whisper's old words behind;
    then the words would show the uncorrected text, so the text wins.
    """
    if not segment.words:
        return False
    spelled = "".join("".join(w.text for w in segment.words).split())
    return spelled == "".join(segment.text.split())


def _spread(text: str, start: int, end: int, speaker: str | None) -> list[_Token]:
    """Share `start..end` out over the words of `text` by character count (fallback only)."""
    words = clean_text(text).split()
    total = sum(len(w) + 1 for w in words)
    tokens, used = [], 0
    for word in words:
        t0 = start + (end - start) * used // total
        used += len(word) + 1
        tokens.append(_Token(word, t0, start + (end - start) * used // total, speaker))
    return tokens


def _chunk(token: _Token, width: int) -> list[_Token]:
    """Split a word longer than `width` (a URL, a compound) into glued line-sized pieces."""
    if len(token.text) <= width:
        return [token]
    pieces, rest = [], token.text
    while len(rest) > width:
        # Prefer a break after a slash (between URL parts), then after other punctuation.
        cut = rest.rfind("/", 1, width) + 1
        if cut < width // 2:
            cut = max(rest.rfind(ch, 1, width) + 1 for ch in ".-?&=_#")
        if cut < width // 2:
            cut = width - 1
            pieces.append(rest[:cut] + "-")
        else:
            pieces.append(rest[:cut])
        rest = rest[cut:]
    pieces.append(rest)
    span, total = token.end - token.start, len(token.text)
    chunks, used = [], 0
    for number, piece in enumerate(pieces):
        t0 = token.start + span * used // total
        used += len(piece)
        t1 = token.start + span * min(used, total) // total
        chunks.append(
            _Token(piece, t0, t1, token.speaker, glue=token.glue or number > 0, segment_end=False)
        )
    last = chunks[-1]
    chunks[-1] = _Token(last.text, last.start, token.end, last.speaker, True, token.segment_end)
    return chunks


def _segment_tokens(transcript: Transcript, segment: Segment) -> list[_Token]:
    """The tokens of one segment, from its words where usable."""
    if not words_usable(segment):
        speaker = display_speaker(transcript, segment.speaker)
        return _spread(segment.text, to_ms(segment.start), to_ms(segment.end), speaker)
    tokens: list[_Token] = []
    for word in segment.words:
        slot = word.speaker if word.speaker is not None else segment.speaker
        speaker = display_speaker(transcript, slot)
        # A "word" with inner spaces (rare) is shared out like a segment without words.
        tokens.extend(_spread(word.text, to_ms(word.start), to_ms(word.end), speaker))
    return tokens


def _tokens(transcript: Transcript, rules: CaptionRules) -> list[_Token]:
    """All tokens of the unflagged segments, in order, with times that never go backwards."""
    tokens: list[_Token] = []
    for segment in transcript.segments:
        if segment.flagged:
            continue
        found = _segment_tokens(transcript, segment)
        for number, token in enumerate(found):
            floor = tokens[-1].start if tokens else 0
            start = max(token.start, floor)
            end = max(token.end, start)
            last = number == len(found) - 1
            whole = _Token(token.text, start, end, token.speaker, False, last)
            tokens.extend(_chunk(whole, rules.max_line_chars))
    return tokens


def _runs(tokens: list[_Token], rules: CaptionRules) -> Iterator[list[_Token]]:
    """Maximal stretches of one speaker without a long pause: cues never cross their ends."""
    pause = to_ms(rules.max_pause_in_cue)
    run: list[_Token] = []
    for token in tokens:
        if run and (token.speaker != run[-1].speaker or token.start - run[-1].end > pause):
            yield run
            run = []
        run.append(token)
    if run:
        yield run


# --- cutting a run into cues --------------------------------------------------------------

_FORBIDDEN = 1000.0
_CUE_COST = 2.0


class _Run:
    """One run of tokens with prefix sums, so any span's text length costs O(1)."""

    def __init__(self, tokens: list[_Token], reserve: int, rules: CaptionRules) -> None:
        self.tokens, self.reserve, self.rules = tokens, reserve, rules
        self.max_end_delay = to_ms(rules.max_end_delay)
        self.min_duration = to_ms(rules.min_duration)
        self.max_duration = to_ms(rules.max_duration)
        self.chars = [0]
        self.sentence_end = []  # index of the last token at or before each that ends a sentence
        for index, token in enumerate(tokens):
            space = 0 if index == 0 or token.glue else 1
            self.chars.append(self.chars[-1] + len(token.text) + space)
            ends = token.text.rstrip(_CLOSERS)[-1:] in tuple(SENTENCE_END)
            self.sentence_end.append(index if ends else (self.sentence_end[-1] if index else -1))
        # Break costs depend on the two tokens only: computed once, looked up by the search.
        self.line_break = [0.0] + [self.break_cost(k, True) for k in range(1, len(tokens))]
        self.cue_break = [0.0] + [self.break_cost(k, False) for k in range(1, len(tokens))]

    def length(self, i: int, j: int) -> int:
        """Characters of tokens[i:j] on one line."""
        return self.chars[j] - self.chars[i] - (0 if self.tokens[i].glue or i == 0 else 1)

    def text(self, i: int, j: int) -> str:
        parts = []
        for index in range(i, j):
            token = self.tokens[index]
            parts.append(token.text if index == i or token.glue else " " + token.text)
        return "".join(parts)

    def break_cost(self, k: int, line_break: bool) -> float:
        """The cost of breaking (a line, or the cue) between tokens k-1 and k."""
        before, after = self.tokens[k - 1], self.tokens[k]
        if after.glue:
            return 1.0 if line_break else 6.0
        word = before.text.rstrip(_CLOSERS)
        if word and word[-1] in SENTENCE_END:
            return 0.0
        if word and word[-1] in CLAUSE_END:
            return 1.0
        if _bare(before.text) in self.rules.no_break_after:
            return _FORBIDDEN if line_break else 8.0
        if _bare(after.text) in self.rules.no_break_after:
            return 2.5  # breaking before "en", "maar", "van" is good style
        return 4.0

    def layout(self, i: int, j: int) -> tuple[float, int] | None:
        """The best one- or two-line layout of tokens[i:j]: its cost and where the second
        line starts (j for one line); None if none fits."""
        width = self.rules.max_line_chars
        reserve = self.reserve if i == 0 else 0
        if self.length(i, j) + reserve <= width:
            return 0.0, j
        if self.rules.max_lines < 2:
            return None
        best: tuple[float, int] | None = None
        for k in range(i + 1, j):
            top, bottom = self.length(i, k) + reserve, self.length(k, j)
            if top > width:
                break
            if bottom > width:
                continue
            # Balanced lines, slightly bottom-heavy (Netflix: "pyramid" shape preferred).
            shape = 0.05 * abs(top - bottom) + (0.2 if top > bottom else 0.0)
            cost = self.line_break[k] + shape
            if best is None or cost < best[0]:
                best = (cost, k)
        if best is None:
            return None
        return 0.5 + best[0], best[1]

    def lines(self, i: int, k: int, j: int) -> list[str]:
        """The text of a cue of tokens[i:j] whose second line (if k < j) starts at k."""
        return [self.text(i, k)] + ([self.text(k, j)] if k < j else [])

    def timing_cost(self, i: int, j: int) -> float:
        """Penalties for cues that would be read too fast or flash by too briefly."""
        first, last = self.tokens[i], self.tokens[j - 1]
        limit = last.end + self.max_end_delay
        room = (min(self.tokens[j].start, limit) if j < len(self.tokens) else limit) - first.start
        chars = self.length(i, j) + (self.reserve if i == 0 else 0)
        cps = chars * 1000 / max(room, 1)
        cost = max(0.0, cps - self.rules.max_cps) * 0.5
        if room < self.min_duration:
            cost += 2.0
        if j - i == 1 and len(self.tokens) > 1:
            cost += 1.5  # a lone word on screen: prefer keeping it with its neighbours
        if j - i > 1 and j < len(self.tokens):
            # A cue should not end on the first few words of a new sentence.
            k = self.sentence_end[j - 2]
            if k >= i and self.sentence_end[j - 1] != j - 1:
                cost += 1.0 + (1.5 if self.length(k + 1, j) < 20 else 0.0)
        return cost

    def boundary_cost(self, j: int) -> float:
        """The cost of ending a cue before token j (nothing at the end of the run)."""
        if j == len(self.tokens):
            return 0.0
        pause = min(self.tokens[j].start - self.tokens[j - 1].end, 1000) / 1000
        bonus = 2.0 * pause + (1.5 if self.tokens[j - 1].segment_end else 0.0)
        return max(0.0, self.cue_break[j] - bonus)

    def fits(self, i: int, j: int) -> bool:
        """Whether tokens[i:j] could be one cue: few enough characters, short enough speech."""
        if j - i == 1:
            return True
        rules = self.rules
        chars = self.length(i, j) + (self.reserve if i == 0 else 0)
        duration = self.tokens[j - 1].end - self.tokens[i].start
        return chars <= rules.max_lines * rules.max_line_chars and duration <= self.max_duration

    def cut(self) -> list[tuple[int, int, list[str]]]:
        """Split the run into cues with the least total cost: (first, end, lines) each."""
        n = len(self.tokens)
        best: list[tuple[float, int, int]] = [(0.0, n, n)] * (n + 1)
        for i in range(n - 1, -1, -1):
            choice: tuple[float, int, int] | None = None
            for j in range(i + 1, n + 1):
                if not self.fits(i, j):
                    break
                layout = self.layout(i, j)
                if layout is None:
                    continue
                cost = _CUE_COST + layout[0] + self.timing_cost(i, j) + self.boundary_cost(j)
                cost += best[j][0]
                if choice is None or cost < choice[0]:
                    choice = (cost, j, layout[1])
            assert choice is not None, "a single token always fits"
            best[i] = choice
        cues, i = [], 0
        while i < n:
            _, j, k = best[i]
            cues.append((i, j, self.lines(i, k, j)))
            i = j
        return cues


@dataclass
class _Draft:
    """A cue before timing: its lines and its words' times, in milliseconds."""

    lines: list[str]
    speaker: str | None
    speech_start: int
    speech_end: int
    chars: int  # including a speaker label, which viewers read too
    start: int = 0
    end: int = 0


def _reserve(token: _Token, previous_speaker: str | None) -> int:
    if token.speaker is None or token.speaker == previous_speaker:
        return 0
    return len(turn_label(token.speaker))


def _drafts(tokens: list[_Token], rules: CaptionRules) -> list[_Draft]:
    """Cut every run into drafts, reserving room for the speaker label at each new turn."""
    drafts: list[_Draft] = []
    previous: str | None = None
    for run_tokens in _runs(tokens, rules):
        reserve = _reserve(run_tokens[0], previous)
        width = max(rules.max_line_chars - reserve, 8)
        head = _chunk(run_tokens[0], width)  # the first word must fit beside the label
        run = _Run(head + run_tokens[1:], reserve, rules)
        for i, j, lines in run.cut():
            chars = len(" ".join(lines)) + (reserve if i == 0 else 0)
            first, last = run.tokens[i], run.tokens[j - 1]
            drafts.append(_Draft(lines, first.speaker, first.start, last.end, chars))
        previous = run_tokens[-1].speaker
    return drafts


# --- timing -------------------------------------------------------------------------------


def _set_starts(drafts: list[_Draft], min_ms: int) -> None:
    """Start at speech; later only where the previous cue needs its minimum duration."""
    for index, draft in enumerate(drafts):
        floor = drafts[index - 1].start + min_ms if index else 0
        draft.start = max(draft.speech_start, floor)


def _set_ends(drafts: list[_Draft], rules: CaptionRules) -> None:
    """End after speech, extended towards minimum duration and reading speed where possible.

    The minimum duration wins over `max_end_delay`: a flash of text helps nobody. Reading
    speed does not: when speech is too fast the cue stays short (cps above the limit).
    """
    min_ms, max_ms = _min_ms(rules), to_ms(rules.max_duration)
    delay = to_ms(rules.max_end_delay)
    for index, draft in enumerate(drafts):
        reading = draft.start + math.ceil(draft.chars * 1000 / rules.max_cps)
        target = max(draft.speech_end, draft.start + min_ms, reading)
        ceiling = min(max(draft.speech_end + delay, draft.start + min_ms), draft.start + max_ms)
        if index + 1 < len(drafts):
            ceiling = min(ceiling, drafts[index + 1].start)
        draft.end = min(target, ceiling)


def _apply_gaps(drafts: list[_Draft], rules: CaptionRules) -> None:
    """Gaps are either at most 2 frames or at least 0.5 s: close (chain) or open the rest."""
    closed, opened = to_ms(rules.max_closed_gap), to_ms(rules.min_open_gap)
    max_ms = to_ms(rules.max_duration)
    for draft, following in zip(drafts, drafts[1:]):
        gap = following.start - draft.end
        if closed < gap < opened:
            if following.start - draft.start <= max_ms:
                draft.end = following.start
            else:
                draft.end = following.start - opened


def cut_cues(transcript: Transcript, rules: CaptionRules = DEFAULT_RULES) -> list[Cue]:
    """Cut caption cues from a transcript's word timings, skipping flagged segments."""
    drafts = _drafts(_tokens(transcript, rules), rules)
    _set_starts(drafts, _min_ms(rules))
    _set_ends(drafts, rules)
    _apply_gaps(drafts, rules)
    return [
        Cue(
            d.start / 1000,
            d.end / 1000,
            d.lines,
            d.speaker,
            speech_start=d.speech_start / 1000,
            speech_end=d.speech_end / 1000,
        )
        for d in drafts
    ]


# --- checking -----------------------------------------------------------------------------


def _line_violations(cue: Cue, rules: CaptionRules) -> Iterator[tuple[str, str]]:
    """(rule, message) for the text of one cue."""
    if not cue.lines or not any(line.strip() for line in cue.lines):
        yield "empty", "has no text"
    if len(cue.lines) > rules.max_lines:
        yield "lines", f"has {len(cue.lines)} lines > {rules.max_lines}"
    for number, line in enumerate(cue.lines, 1):
        if cue.lines and not line.strip():
            yield "blank-line", f"line {number} is blank (a blank line ends a cue)"
        if "-->" in line:
            yield "arrow", f"line {number} contains '-->'"
        if len(line) > rules.max_line_chars:
            limit = rules.max_line_chars
            yield "line-length", f"line {number} has {len(line)} characters > {limit}"
        words = line.split()
        if number < len(cue.lines) and words and _bare(words[-1]) in rules.no_break_after:
            if words[-1].rstrip(_CLOSERS)[-1:] not in SENTENCE_END + CLAUSE_END:
                advice = "break before it instead"
                yield "line-break", f"line {number} ends with {words[-1]!r}: {advice}"


def _duration_violations(cue: Cue, rules: CaptionRules) -> Iterator[tuple[str, str]]:
    duration = to_ms(cue.end) - to_ms(cue.start)
    if duration <= 0:
        yield "order", "ends before it starts" if duration < 0 else "has zero duration"
    elif duration < to_ms(rules.min_duration):
        yield "min-duration", f"lasts {duration / 1000:.3f} s < {rules.min_duration:.3f} s"
    if duration > to_ms(rules.max_duration):
        yield "max-duration", f"lasts {duration / 1000:.3f} s > {rules.max_duration:g} s"


def _sequence_violations(cue: Cue, previous: Cue, rules: CaptionRules) -> Iterator[tuple[str, str]]:
    """Rules between a cue and the one before it."""
    if to_ms(cue.start) < to_ms(previous.start):
        yield "order", "starts before the previous cue"
        return
    gap = to_ms(cue.start) - to_ms(previous.end)
    if gap < 0:
        yield "overlap", f"overlaps the previous cue by {-gap / 1000:.3f} s"
    elif to_ms(rules.max_closed_gap) < gap < to_ms(rules.min_open_gap):
        yield "gap", (
            f"gap of {gap / 1000:.3f} s after the previous cue: "
            f"close it to <= {rules.max_closed_gap_frames} frames "
            f"or open it to >= {rules.min_open_gap:g} s"
        )


def _sync_violations(
    cue: Cue, previous: Cue | None, following: Cue | None, rules: CaptionRules
) -> Iterator[tuple[str, str]]:
    """Sync with speech, where the cue knows its speech times (cut here, not parsed)."""
    if cue.speech_start is None or cue.speech_end is None:
        return
    start, early = to_ms(cue.start), to_ms(cue.speech_start)
    min_ms = _min_ms(rules)
    delayed = previous is not None and start == to_ms(previous.start) + min_ms
    if start < early - to_ms(rules.max_start_offset) or (
        start > early + to_ms(rules.max_start_offset) and not delayed
    ):
        yield "sync", f"starts {(start - early) / 1000:+.3f} s from its speech"
    # Allowed: end of speech + max delay, or the minimum duration; plus a closed (chained) gap.
    allowed = max(to_ms(cue.speech_end) + to_ms(rules.max_end_delay), start + min_ms)
    chained = following is not None and (
        to_ms(following.start) - to_ms(cue.end) <= to_ms(rules.max_closed_gap)
    )
    if chained:
        allowed += to_ms(rules.min_open_gap)
    if to_ms(cue.end) > allowed:
        late = (to_ms(cue.end) - to_ms(cue.speech_end)) / 1000
        yield "sync", f"ends {late:.3f} s after its speech"


def _reading_speed(cue: Cue, rules: CaptionRules) -> Iterator[tuple[str, str]]:
    duration = cue.end - cue.start
    if duration <= 0:
        return
    cps = len(cue.text) / duration
    if cps > rules.max_cps + 1e-9:
        yield "reading-speed", f"reading speed {cps:.1f} characters/s > {rules.max_cps:g}"


def find_violations(cues: Sequence[Cue], rules: CaptionRules = DEFAULT_RULES) -> list[Violation]:
    """Every caption rule, checked cue by cue; reading speed is a warning, the rest errors."""
    found: list[Violation] = []
    for index, cue in enumerate(cues):
        previous = cues[index - 1] if index else None
        following = cues[index + 1] if index + 1 < len(cues) else None
        errors: list[tuple[str, str]] = [
            *_line_violations(cue, rules),
            *_duration_violations(cue, rules),
            *(_sequence_violations(cue, previous, rules) if previous else ()),
            *_sync_violations(cue, previous, following, rules),
        ]
        found += [Violation(index + 1, cue.start, rule, message) for rule, message in errors]
        found += [
            Violation(index + 1, cue.start, rule, message, "warning")
            for rule, message in _reading_speed(cue, rules)
        ]
    return found


def check_cues(
    cues: Sequence[Cue], rules: CaptionRules = DEFAULT_RULES, *, warnings: bool = False
) -> list[str]:
    """Readable rule violations, cue by cue: errors only, or with `warnings` also reading speed.

    >>> check_cues([Cue(62.3, 62.5, ["x" * 45])])[0]
    'cue 1 (00:01:02.300): line 1 has 45 characters > 42'
    """
    return [
        str(violation)
        for violation in find_violations(cues, rules)
        if warnings or violation.severity == "error"
    ]


def reading_speed_warnings(cues: Sequence[Cue], rules: CaptionRules = DEFAULT_RULES) -> list[str]:
    """Only the reading-speed warnings: cues read faster than `rules.max_cps`."""
    return [str(v) for v in find_violations(cues, rules) if v.severity == "warning"]


# --- parsing ------------------------------------------------------------------------------

_VTT_TIME = r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_VTT_TIMING = re.compile(rf"{_VTT_TIME}[ \t]+-->[ \t]+{_VTT_TIME}(?:[ \t]+(.*))?")
_SRT_TIME = r"(\d{1,}):([0-5]?\d):([0-5]?\d)[,.](\d{1,3})"
_SRT_TIMING = re.compile(rf"{_SRT_TIME}[ \t]*-->[ \t]*{_SRT_TIME}(?:[ \t]+.*)?")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?[ \t]+([^>]*)>")
_TAG = re.compile(  # class, italic, bold, ruby, lang... tags and karaoke timestamps
    r"</?[a-z]+(?:\.[^\s>]*)?(?:[ \t][^>]*)?>|<(?:\d{2,}:)?\d{2}:\d{2}\.\d{3}>"
)
_SRT_TAG = re.compile(r"</?(?:i|b|u|font)(?:[ \t][^>]*)?>|\{\\[^}]*\}", re.IGNORECASE)


def _seconds(hours: str | None, minutes: str, seconds: str, fraction: str) -> float:
    whole = int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
    return (whole * 1000 + int(fraction.ljust(3, "0"))) / 1000  # as cut_cues makes them


def _blocks(text: str) -> Iterator[tuple[int, list[str]]]:
    """Blocks of non-blank lines with the 1-based number of their first line."""
    block: list[str] = []
    first = 0
    for number, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
        if line.strip():
            if not block:
                first = number
            block.append(line)
        elif block:
            yield first, block
            block = []
    if block:
        yield first, block


def _vtt_text(lines: list[str]) -> tuple[list[str], str | None]:
    """Cue text without tags and entities; the first voice span's name is the speaker."""
    speaker = None
    clean = []
    for line in lines:
        voice = _VOICE.search(line)
        if voice and speaker is None:
            speaker = html.unescape(voice.group(1).strip()) or None
        clean.append(html.unescape(_TAG.sub("", _VOICE.sub("", line))))
    return clean, speaker


def _vtt_cue(first: int, block: list[str]) -> Cue:
    """One cue block: optional id line, timing line, text lines."""
    offset = 0 if "-->" in block[0] else 1
    if offset == len(block) or "-->" not in block[offset]:
        raise ValueError(f"line {first + offset}: expected a cue timing line 'start --> end'")
    timing = _VTT_TIMING.fullmatch(block[offset].strip())
    if timing is None:
        raise ValueError(
            f"line {first + offset}: malformed cue timing {block[offset]!r} "
            "(expected HH:MM:SS.mmm --> HH:MM:SS.mmm)"
        )
    for number, line in enumerate(block[offset + 1 :], first + offset + 1):
        if "-->" in line:
            raise ValueError(f"line {number}: '-->' in cue text (a missing blank line?)")
    lines, speaker = _vtt_text(block[offset + 1 :])
    groups = timing.groups()
    return Cue(_seconds(*groups[0:4]), _seconds(*groups[4:8]), lines, speaker)


def parse_vtt(text: str) -> list[Cue]:
    """Read a WebVTT file's cues; raise ValueError naming the line of malformed input.

    NOTE, STYLE and REGION blocks are skipped; tags are removed and entities decoded;
    a `<v Name>` voice span gives the cue's speaker.
    """
    text = text.removeprefix("\ufeff")
    header = text.split("\n", 1)[0].rstrip("\r")
    if not re.fullmatch(r"WEBVTT(?:[ \t].*)?", header):
        raise ValueError("line 1: a WebVTT file starts with 'WEBVTT'")
    cues: list[Cue] = []
    for first, block in _blocks(text):
        if first == 1:
            if len(block) > 1:
                raise ValueError("line 2: the 'WEBVTT' header must be followed by a blank line")
            continue
        if re.match(r"(NOTE|STYLE|REGION)(?:[ \t]|$)", block[0]) and "-->" not in block[0]:
            if not cues or block[0].startswith("NOTE"):
                continue
            raise ValueError(f"line {first}: {block[0].split()[0]} block after the first cue")
        cues.append(_vtt_cue(first, block))
    return cues


def parse_srt(text: str, *, strict: bool = False) -> list[Cue]:
    """Read an SRT file's cues; raise ValueError naming the line of malformed input.

    Formatting tags (<i>, <b>, <font>, {\\an8}) are removed. A "Naam: " label stays part of the
    text: it is what viewers see. With `strict`, cues must be numbered 1..n.
    """
    cues: list[Cue] = []
    for first, block in _blocks(text.removeprefix("\ufeff")):
        number = block[0].strip()
        if not number.isdigit():
            raise ValueError(f"line {first}: expected a cue number, found {block[0]!r}")
        if strict and int(number) != len(cues) + 1:
            raise ValueError(f"line {first}: cue number {number}, expected {len(cues) + 1}")
        if len(block) < 2:
            raise ValueError(f"line {first + 1}: expected a cue timing line after the number")
        timing = _SRT_TIMING.fullmatch(block[1].strip())
        if timing is None:
            raise ValueError(
                f"line {first + 1}: malformed cue timing {block[1]!r} "
                "(expected HH:MM:SS,mmm --> HH:MM:SS,mmm)"
            )
        for line_number, line in enumerate(block[2:], first + 2):
            if "-->" in line:
                raise ValueError(f"line {line_number}: '-->' in cue text (a missing blank line?)")
        groups = timing.groups()
        lines = [_SRT_TAG.sub("", line) for line in block[2:]]
        cues.append(Cue(_seconds(*groups[0:4]), _seconds(*groups[4:8]), lines))
    return cues


def cue_words(cues: Iterable[Cue]) -> list[str]:
    """All words shown, in order: for comparing captions with a transcript."""
    return [word for cue in cues for word in cue.text.split()]

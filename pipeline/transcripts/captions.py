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

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

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
CLOSERS = "\"'”’»)]"


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


def min_duration_ms(rules: CaptionRules) -> int:
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


def bare_word(word: str) -> str:
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
            ends = token.text.rstrip(CLOSERS)[-1:] in tuple(SENTENCE_END)
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
        word = before.text.rstrip(CLOSERS)
        if word and word[-1] in SENTENCE_END:
            return 0.0
        if word and word[-1] in CLAUSE_END:
            return 1.0
        if bare_word(before.text) in self.rules.no_break_after:
            return _FORBIDDEN if line_break else 8.0
        if bare_word(after.text) in self.rules.no_break_after:
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
    min_ms, max_ms = min_duration_ms(rules), to_ms(rules.max_duration)
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
    _set_starts(drafts, min_duration_ms(rules))
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

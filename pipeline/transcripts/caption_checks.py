"""Caption cues checked against STANDARDS.md: every rule cue by cue, as readable messages.
Reading speed is a warning (speech can simply be too fast), everything else an error."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from pipeline.transcripts.captions import (
    CLAUSE_END,
    CLOSERS,
    DEFAULT_RULES,
    SENTENCE_END,
    CaptionRules,
    Cue,
    bare_word,
    format_timestamp,
    min_duration_ms,
    to_ms,
)

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
        if number < len(cue.lines) and words and bare_word(words[-1]) in rules.no_break_after:
            if words[-1].rstrip(CLOSERS)[-1:] not in SENTENCE_END + CLAUSE_END:
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
    min_ms = min_duration_ms(rules)
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

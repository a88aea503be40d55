"""Reading caption files back: WebVTT and SRT, ours and hand-edited ones, as `Cue`s (for
corrections, tests and `wijk check`)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator

from pipeline.transcripts.captions import Cue

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

"""Times, dates, sizes and lists written for people: one of each, shared by every stage."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

MONTHS = ("januari februari maart april mei juni juli augustus september oktober november "
          "december").split()


def clock(seconds: float | None) -> str:
    """95.7 -> "1:35"; 3723 -> "1:02:03" (whole seconds reached); None -> "-"."""
    if seconds is None:
        return "-"
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def minutes_text(seconds: float) -> str:
    """A duration for people: "47 seconden", "12 minuten", "1 uur 5 minuten"."""
    if seconds < 60:
        return f"{round(seconds)} seconden"
    minutes = round(seconds / 60)
    if minutes < 60:
        return "1 minuut" if minutes == 1 else f"{minutes} minuten"
    hours, rest = divmod(minutes, 60)
    return f"{hours} uur" + (f" {rest} minuten" if rest else "")


def dutch_date(moment: datetime | str | None) -> str:
    """A day in Dutch: "1 mei 2024", from a datetime or ISO text ("2024-05-01T10:00:00Z").
    Unparseable text is returned as it is; None gives ""."""
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            return moment
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}" if moment else ""


def size_text(size: int) -> str:
    """Bytes for people, Dutch decimal comma: "1,4 MB"."""
    if size < 1_000_000:
        return f"{max(1, round(size / 1000))} kB"
    return f"{size / 1_000_000:.1f} MB".replace(".", ",")


def dutch_list(names: Sequence[str]) -> str:
    """["A", "B", "C"] -> "A, B en C"."""
    names = list(names)
    return ", ".join(names[:-1]) + " en " + names[-1] if len(names) > 1 else "".join(names)

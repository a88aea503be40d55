"""Human and machine-readable views of an inventory: the table and JSON of `wijk ingest`."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from pipeline.model import Episode
from pipeline.text import clock


def size(count: int | None) -> str:
    if count is None:
        return "-"
    for unit in ("B", "kB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count} B"


def inventory_table(episodes: list[Episode]) -> str:
    """A plain-text table, one row per episode, columns sized to their content."""
    header = ("slug", "kind", "date", "s/ep", "duration", "size", "title")
    rows = [header] + [
        (
            episode.slug,
            episode.kind + ("" if episode.is_local else " (link)"),
            episode.date.date().isoformat() if episode.date else "-",
            f"{episode.season or '-'}/{episode.episode or '-'}",
            clock(episode.duration),
            size(episode.media.size if episode.media else None),
            _shorten(episode.title, 60),
        )
        for episode in episodes
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
             for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    lines.append(f"{len(episodes)} episode(s), {clock(sum(e.duration or 0 for e in episodes))} in all")
    return "\n".join(lines)


def episode_json(episode: Episode) -> dict[str, Any]:
    """An Episode as JSON-safe data: paths and dates as strings."""
    return _jsonable(asdict(episode))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value is not None and not isinstance(value, (str, int, float, bool)):
        return str(value)
    return value


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"

"""`wijk tag-text`: JSON lines {"id","text"} in, {"id","cases","lessons"} out."""

from __future__ import annotations

import json
import sys
from typing import TextIO

from pipeline.tag.tagger import Tagger, default_tagger

# --- wijk tag-text -----------------------------------------------------------------------------


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

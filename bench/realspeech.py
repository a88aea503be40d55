"""Transcription on real recorded Dutch: the project's defaults beside plain faster-whisper.

    WIJK_CACHE_DIR=.cache/wijkarchief .venv/bin/python bench/realspeech.py
    ... bench/realspeech.py --data ../shared/data/realspeech-dev --files dev-01,dev-02
    ... bench/realspeech.py --settings '{"beam_size": 8}'     # a variant of the defaults

Each system transcribes every file in one subprocess of its own (the model loaded once, as a
user transcribing a folder would), so wall clock and peak RSS are the whole process's:
- "wijkarchief": the build's own path (workers.run_job with the default TranscriptionSettings:
  engine, loop repair, glossary, guards, speaker labels), then the published formats.
- "plain faster-whisper": WhisperModel on the same weights, int8, beam 5, no VAD, nothing else.
Printed, per data set (real speech, then the synthetic mbrola clips): WER of the master and of
each published format (JSON, VTT, SRT, TXT, their speech text without names, times or sound
descriptions), substitutions / deletions / insertions, the share of reference words the guards
hid (said, and in the master, but not published), words flagged for review, and speed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REALSPEECH = REPO.parent / "shared" / "data" / "realspeech-dev"
SYNTHETIC = REPO / "tests" / "data" / "speech"
SYNTHETIC_CLIPS = {"nl_voorst": "nl_voorst", "nl_kernen": "nl_kernen",
                   "nl_staart_ruis": "nl_staart"}  # clip -> its reference text
FORMATS = ("json", "vtt", "srt", "txt")
FILE_ENDINGS = {"json": "podcast.json", "vtt": "vtt", "srt": "srt", "txt": "txt"}
SYSTEMS = ("wijkarchief", "plain faster-whisper")


# --- what a system said, as words --------------------------------------------------------

_DASHES = "-‐‑‒–—―−"
_SOUND = re.compile(r"\[[^\]]*\]|\([^)]*\)")  # [onverstaanbaar], (gelach): not words


def normalise(text: str) -> list[str]:
    """Words to compare: case, punctuation, dashes and sound descriptions removed; an
    apostrophe inside a word ("zo'n") kept."""
    text = unicodedata.normalize("NFKC", _SOUND.sub(" ", text)).casefold()
    for dash in _DASHES:
        text = text.replace(dash, " ")
    text = re.sub(r"[’‘`´]", "'", text)
    text = re.sub(r"(?<!\w)'|'(?!\w)", " ", text)
    return re.sub(r"[^\w\s']", " ", text).split()


_LABEL = re.compile(r"^(?:- )?Spreker \d+: ")  # a turn's speaker (unnamed: "Spreker 1")


def published_text(path: Path) -> str:
    """The spoken words of one published file: no names, times, cue numbers or markup."""
    raw = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return " ".join(s["body"] for s in json.loads(raw)["segments"])
    if path.suffix == ".txt":  # a header, then "[00:00:04] Spreker 1: text" paragraphs
        return " ".join(_LABEL.sub("", re.sub(r"^\[[\d:]+\]\s*", "", line))
                        for line in raw.splitlines() if line.startswith("["))
    lines = []
    for block in re.split(r"\n\s*\n", raw.replace("\r", "")):
        rows = block.strip().splitlines()
        if not rows or rows[0].startswith(("WEBVTT", "NOTE")):
            continue
        lines += [re.sub(r"<[^>]+>", "", _LABEL.sub("", row)) for row in rows
                  if "-->" not in row and not re.fullmatch(r"\d+", row.strip())]
    return " ".join(lines)


@dataclass
class Score:
    words: int = 0  # reference words
    substitutions: int = 0
    deletions: int = 0
    insertions: int = 0

    @property
    def wer(self) -> float:
        return (self.substitutions + self.deletions + self.insertions) / max(1, self.words)

    def add(self, reference: list[str], hypothesis: list[str]) -> None:
        import jiwer

        out = jiwer.process_words(" ".join(reference) or "-", " ".join(hypothesis) or "")
        self.words += len(reference)
        self.substitutions += out.substitutions
        self.deletions += out.deletions
        self.insertions += out.insertions


def aligned(reference: list[str], hypothesis: list[str]) -> tuple[list[int | None], list[bool]]:
    """For each hypothesis word: the reference word it stands for (None: inserted), and
    whether it is right."""
    import jiwer

    out = jiwer.process_words(" ".join(reference) or "-", " ".join(hypothesis) or "-")
    source: list[int | None] = [None] * len(hypothesis)
    right = [False] * len(hypothesis)
    for chunk in out.alignments[0]:
        for offset in range(chunk.hyp_end_idx - chunk.hyp_start_idx):
            h = chunk.hyp_start_idx + offset
            if chunk.type in ("equal", "substitute") and h < len(hypothesis):
                source[h] = chunk.ref_start_idx + offset
                right[h] = chunk.type == "equal"
    return source, right


# --- the systems, each in a process of its own -------------------------------------------


def child_wijkarchief(files: list[Path], out: Path, settings: dict) -> None:
    sys.path.insert(0, str(REPO))
    from pipeline.archive import TranscriptionSettings
    from pipeline.ingest import media
    from pipeline.transcribe.workers import TranscriptionJob, run_job
    from pipeline.transcripts.writers import write_formats

    chosen = TranscriptionSettings(**settings)
    for path in files:
        job = TranscriptionJob(path.stem, path.name, path, media.scan_audio(path).audio_hash,
                               None, chosen)
        transcript = run_job(job).transcript
        (out / f"{path.stem}.master.json").write_text(
            json.dumps(asdict(transcript), ensure_ascii=False), encoding="utf-8")
        write_formats(transcript, out, path.stem, list(FORMATS))


def child_plain(files: list[Path], out: Path, settings: dict) -> None:
    sys.path.insert(0, str(REPO))
    from faster_whisper import WhisperModel

    from pipeline.processes import usable_cores
    from pipeline.transcribe import weights

    model = WhisperModel(str(weights.resolve("base", "faster-whisper").path), device="cpu",
                         compute_type="int8", cpu_threads=usable_cores(), local_files_only=True)
    for path in files:
        segments, _info = model.transcribe(str(path), language="nl", beam_size=5,
                                           vad_filter=False)
        (out / f"{path.stem}.txt").write_text(" ".join(s.text for s in segments),
                                              encoding="utf-8")


CHILDREN = {"wijkarchief": child_wijkarchief, "plain faster-whisper": child_plain}


@dataclass
class Run:
    system: str
    wall: float
    peak_mb: float
    out: Path


def run_system(system: str, files: list[Path], settings: dict) -> Run:
    out = Path(tempfile.mkdtemp(prefix="realspeech-"))
    command = [sys.executable, __file__, "--child", system, "--out", str(out),
               "--settings", json.dumps(settings), *map(str, files)]
    started = time.monotonic()
    process = subprocess.Popen(command)
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{system} failed on {', '.join(f.name for f in files)}")
    return Run(system, wall, usage.ru_maxrss / 1024, out)


# --- the table ----------------------------------------------------------------------------


def duration(path: Path) -> float:
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration",
                            "-of", "csv=p=0", str(path)], capture_output=True, text=True,
                           check=True)
    return float(probe.stdout)


def master_words(master: dict) -> tuple[list[str], list[str], list[bool], list[bool]]:
    """The master's words in order, those published, and for each master word whether a guard
    hid it and whether the review marks would flag it."""
    sys.path.insert(0, str(REPO))
    from pipeline.model import Segment, Word
    from pipeline.transcripts.doubt import is_doubtful

    every, shown, hidden, doubtful = [], [], [], []
    for raw in master["segments"]:
        segment = Segment(**{**raw, "words": [Word(**w) for w in raw["words"]]})
        for word in segment.words or [Word(segment.start, segment.end, segment.text)]:
            for token in normalise(word.text):
                every.append(token)
                hidden.append(segment.flagged)
                doubtful.append(not segment.flagged and is_doubtful(word))
                if not segment.flagged:
                    shown.append(token)
    return every, shown, hidden, doubtful


def evaluate(name: str, files: list[Path], reference: dict[str, list[str]], settings: dict,
             systems: tuple[str, ...]) -> None:
    audio = sum(duration(f) for f in files)
    print(f"\n### {name}: {len(files)} files, {audio / 60:.1f} min of audio, "
          f"{sum(len(r) for r in reference.values())} reference words\n")
    print("| system | output | WER | S | D | I | hidden by guards | x real time | wall s "
          "| peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    plain_wer = None
    for system in systems:
        run = run_system(system, files, settings)
        speed = f"{audio / run.wall:.1f}"
        if system == "plain faster-whisper":
            score = Score()
            for f in files:
                score.add(reference[f.stem], normalise((run.out / f"{f.stem}.txt").read_text()))
            plain_wer = score.wer
            print(f"| {system} | text | {score.wer:.3f} | {score.substitutions} | "
                  f"{score.deletions} | {score.insertions} | - | {speed} | {run.wall:.0f} | "
                  f"{run.peak_mb:.0f} |")
            continue
        rows = {"master": Score(), **{fmt: Score() for fmt in FORMATS}}
        hidden_said = marked = wrong = caught = total = 0
        for f in files:
            master = json.loads((run.out / f"{f.stem}.master.json").read_text())
            every, shown, hidden, doubtful = master_words(master)
            rows["master"].add(reference[f.stem], every)
            for fmt in FORMATS:
                rows[fmt].add(reference[f.stem], normalise(published_text(
                    run.out / f"{f.stem}.{FILE_ENDINGS[fmt]}")))
            source, right = aligned(reference[f.stem], every)
            hidden_said += sum(1 for h, s, r in zip(hidden, source, right) if h and r)
            for is_hidden, is_right, is_doubtful in zip(hidden, right, doubtful):
                if not is_hidden:
                    total += 1
                    marked += is_doubtful
                    wrong += not is_right
                    caught += is_doubtful and not is_right
        words = sum(len(r) for r in reference.values())
        for output, score in rows.items():
            share = f"{hidden_said / words:.1%}" if output == "master" else ""
            print(f"| {system} | {output} | {score.wer:.3f} | {score.substitutions} | "
                  f"{score.deletions} | {score.insertions} | {share} | {speed} | "
                  f"{run.wall:.0f} | {run.peak_mb:.0f} |")
        print(f"\nReview marks (pipeline.transcripts.doubt): {caught / max(1, wrong):.1%} of the "
              f"{wrong} wrong published words marked, {marked / max(1, total):.1%} of all "
              f"{total} published words marked.\n")
    if plain_wer is not None:
        print(f"\nPlain faster-whisper WER {plain_wer:.3f} (same run, same machine).")


def references(folder: Path, texts: dict[str, str]) -> dict[str, list[str]]:
    """Each recording's reference words, from the text file named for it."""
    return {name: normalise((folder / f"{text}.txt").read_text(encoding="utf-8"))
            for name, text in texts.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=REALSPEECH)
    parser.add_argument("--files", help="comma-separated stems (default: every .opus)")
    parser.add_argument("--settings", default="{}", help="TranscriptionSettings as JSON")
    parser.add_argument("--no-plain", action="store_true", help="skip plain faster-whisper")
    parser.add_argument("--no-synthetic", action="store_true", help="skip the mbrola clips")
    parser.add_argument("--no-real", action="store_true", help="only the mbrola clips")
    parser.add_argument("--child", choices=SYSTEMS)
    parser.add_argument("--out", type=Path)
    parser.add_argument("media", nargs="*", type=Path)
    args = parser.parse_args()
    settings = json.loads(args.settings)
    if args.child:
        CHILDREN[args.child](args.media, args.out, settings)
        return
    systems = SYSTEMS[:1] if args.no_plain else SYSTEMS
    stems = args.files.split(",") if args.files else sorted(p.stem for p in
                                                            args.data.glob("*.opus"))
    print(f"Settings: defaults{' + ' + args.settings if settings else ''}; "
          f"{os.cpu_count()} cores")
    if not args.no_real:
        evaluate("Real speech", [args.data / f"{s}.opus" for s in stems],
                 references(args.data, {s: s for s in stems}), settings, systems)
    if not args.no_synthetic:
        evaluate("Synthetic mbrola clips", [SYNTHETIC / f"{c}.opus" for c in SYNTHETIC_CLIPS],
                 references(SYNTHETIC, SYNTHETIC_CLIPS), settings, systems)


if __name__ == "__main__":
    main()

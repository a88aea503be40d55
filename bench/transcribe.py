"""Benchmark the transcription engines on the committed Dutch clips.

Both engines, the same (embedded base) weights, int8 and float32, beam 1 and 5, in one run.
Each configuration runs in its own subprocess so peak memory (RSS) is its own. Prints a
Markdown table: load time, transcription wall time, real-time factor (audio s / wall s),
CPU time (user + system; unlike wall time not inflated when other processes compete for the
cores), peak RSS and WER against the reference texts; then the glossary's gain (WER and term accuracy)
with the default settings.

Usage:  WIJK_CACHE_DIR=.cache/wijkarchief .venv/bin/python bench/transcribe.py [--long N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SPEECH = REPO / "tests" / "data" / "speech"
CLIPS = ["nl_voorst", "nl_kernen"]
GLOSSARY = [
    "Wij in de Wijk", "opbouwwerker", "buurthuis", "Voorst", "Kijk in de Kernen", "Movisie",
    "kneuterigheid", "bewonersinitiatieven", "Gelderland",
]  # fmt: skip

CONFIGS = [
    {"engine": "faster-whisper", "compute_type": "int8", "beam_size": 5},  # the default
    {"engine": "faster-whisper", "compute_type": "int8", "beam_size": 5, "batch_size": 0},
    {"engine": "faster-whisper", "compute_type": "int8", "beam_size": 1},
    {"engine": "faster-whisper", "compute_type": "float32", "beam_size": 5},
    {"engine": "faster-whisper", "compute_type": "float32", "beam_size": 1},
    {"engine": "openai-whisper", "compute_type": "float32", "beam_size": 5},
    {"engine": "openai-whisper", "compute_type": "float32", "beam_size": 1},
]


def normalise(text: str) -> str:
    return " ".join(re.findall(r"[\w']+", text.casefold()))


def run_one(config: dict, clips: list[Path]) -> dict:
    """Runs in the child process: load once, transcribe every clip, report JSON."""
    import jiwer

    from pipeline.archive import TranscriptionSettings
    from pipeline.transcribe.engines import get_engine
    from pipeline.transcribe.glossary import term_accuracy
    from pipeline.transcribe.recognise import transcribe_audio

    settings = TranscriptionSettings(**config)
    started = time.perf_counter()
    engine = get_engine(settings)
    load = time.perf_counter() - started
    wall = audio = 0.0
    cpu_before = _cpu_seconds()
    references, hypotheses = [], []
    found = expected = 0
    for clip in clips:
        started = time.perf_counter()
        transcript = transcribe_audio(clip, settings, audio_hash="bench", engine=engine)
        wall += time.perf_counter() - started
        audio += _duration(clip)
        reference = clip.with_suffix(".txt")
        if reference.exists():
            text = reference.read_text(encoding="utf-8")
            references.append(normalise(text))
            hypotheses.append(normalise(transcript.text))
            hits, total = term_accuracy(transcript.text, text, GLOSSARY)
            found, expected = found + hits, expected + total
    return {
        "load_s": load,
        "cpu_s": _cpu_seconds() - cpu_before,
        "wall_s": wall,
        "audio_s": audio,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "wer": jiwer.wer(references, hypotheses) if references else None,
        "terms": [found, expected],
        "effective": dict(getattr(engine, "settings", {})),
    }


def _cpu_seconds() -> float:
    """User + system CPU time of this process: unlike wall time, not inflated by other load."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _duration(clip: Path) -> float:
    from pipeline.transcribe.engines.base import SAMPLE_RATE, load_audio

    return len(load_audio(clip)) / SAMPLE_RATE


def in_subprocess(config: dict, clips: list[Path]) -> dict:
    command = [sys.executable, __file__, "--one", json.dumps(config), *map(str, clips)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{config} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _batch(config: dict, result: dict) -> str:
    """Batched decoding is faster-whisper's; openai-whisper always decodes window by window."""
    if config.get("engine") == "openai-whisper":
        return "-"
    return str(result["effective"].get("batch_size", "-"))


def row(label: str, config: dict, result: dict) -> str:
    rtf = result["audio_s"] / result["wall_s"]
    wer = "" if result["wer"] is None else f"{result['wer']:.3f}"
    terms = "{}/{}".format(*result["terms"]) if result["terms"][1] else ""
    return (
        f"| {label} | {config.get('engine', 'faster-whisper')} | "
        f"{result['effective'].get('compute_type', config.get('compute_type'))} | "
        f"{config.get('beam_size', 5)} | {_batch(config, result)} | "
        f"{result['audio_s']:.1f} | {result['load_s']:.1f} | "
        f"{result['wall_s']:.1f} | {rtf:.1f}x | {result['cpu_s']:.1f} | "
        f"{result['peak_rss_mb']:.0f} | {wer} | {terms} |"
    )


def long_clip(repeat: int, directory: Path) -> Path:
    """The speech clips concatenated `repeat` times: RTF on more than one 30 s window."""
    listing = directory / "list.txt"
    listing.write_text(
        "".join(f"file '{SPEECH / f'{c}.opus'}'\n" for _ in range(repeat) for c in CLIPS)
    )
    target = directory / "long.opus"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "concat", "-safe", "0",
         "-i", str(listing), "-c:a", "libopus", "-b:a", "24k", str(target)],
        check=True,
    )  # fmt: skip
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("clips", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument("--long", type=int, default=4, help="repeats for the long-audio row")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(json.loads(args.one), [Path(c) for c in args.clips])))
        return
    os.environ.setdefault("WIJK_CACHE_DIR", str(REPO / ".cache" / "wijkarchief"))
    clips = [SPEECH / f"{c}.opus" for c in CLIPS]
    print(f"CPU cores: {os.cpu_count()}; clips: {', '.join(c.name for c in clips)}\n")
    print(
        "| run | engine | compute | beam | batch | audio s | load s | wall s | RTF | CPU s "
        "| peak RSS MB | WER | terms |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for config in CONFIGS:
        print(row("clips", config, in_subprocess(config, clips)), flush=True)
    print(row("+glossary", CONFIGS[0], in_subprocess({**CONFIGS[0], "glossary": GLOSSARY}, clips)))
    if args.long:
        with tempfile.TemporaryDirectory() as tmp:
            long = long_clip(args.long, Path(tmp))
            print(row(f"long x{args.long}", {}, in_subprocess({}, [long])), flush=True)
            sequential = {"batch_size": 0}
            print(row(f"long x{args.long}, one window at a time", sequential,
                      in_subprocess(sequential, [long])), flush=True)


if __name__ == "__main__":
    main()

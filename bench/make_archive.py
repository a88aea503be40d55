"""Make a synthetic large archive for bench/scale.py: N episodes with transcripts, as if transcribed.

    .venv/bin/python bench/make_archive.py 1000 /tmp/scale-1000
    .venv/bin/python bench/make_archive.py 10000 /tmp/scale-10000 --minutes 30

What it writes, all through the pipeline's own code where the pipeline has it:
- `archive.yaml` and the artwork of the demo archive;
- `episodes/<date>-<name>.mp3`: a few seconds of the demo's speech (one of a few shared clips),
  followed by a short run of two tones that spells out the episode's number in binary, so every
  file has different audio (an episode's identity is a hash of its audio) while staying tiny;
- a sidecar per episode: title, description, date, season and episode number, speakers;
- `transcripts/<slug>.json`: a master transcript as Whisper would leave it (segments with word
  timings and speakers, provenance, the cache key of the archive's settings), so `wijk build`
  transcribes nothing. Its text is Dutch sentences about the neighbourhood initiatives (the
  tagging sets and the source articles), so tagging, search and the site see realistic text.
  An episode lasts `--minutes` on average (uniform between half and one and a half times that),
  at about 2.4 words per second, with pauses between sentences.

The media and sidecars are made first; then the pipeline's ingest reads them (filling
`.cache/ingest.sqlite` and `transcripts/registry.json`) to learn every slug and audio hash; the
masters are written; and a first `wijk build` makes the derived files, tags, site and feed, so
the archive is as a real one is after its episodes were transcribed and published.
Deterministic: the same N and seed give the same archive.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipeline import build  # noqa: E402
from pipeline.archive import load_archive  # noqa: E402
from pipeline.ingest.identity import Registry  # noqa: E402
from pipeline.ingest.scan import ingest  # noqa: E402
from pipeline.model import Episode, Provenance, Segment, Transcript, Word  # noqa: E402
from pipeline.tag.taxonomy import load_taxonomy  # noqa: E402
from pipeline.transcripts.store import TranscriptStore, cache_key  # noqa: E402

CLIP_SOURCES = ["2021-09-16-kijk-in-de-kernen.mp3", "de-achilleshiel-van-geld-en-tijd.flac",
                "krachtstation-kanaleneiland.ogg"]
CLIP_SECONDS = 6.0
BITS = 14  # two tones per bit: enough for 16,384 distinct episodes
HOSTS = ["Lou Repetur", "Simon Timmerman", "Jasper van de Kamp"]
GUESTS = ["Fatima el Amrani", "Henk de Vries", "Anouk Bakker", "Mehmet Yilmaz", "Sanne Visser",
          "Kees Mulder", "Ingrid Smit", "Rachid Bouzid", "Marloes de Jong", "Pieter Hoekstra"]
START = date(2019, 3, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("count", type=int, help="number of episodes")
    parser.add_argument("folder", type=Path, help="the archive to create (must not exist)")
    parser.add_argument("--minutes", type=float, default=30.0, help="mean episode length")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2, help="processes writing transcripts")
    args = parser.parse_args()
    if args.count >= 2 ** BITS:
        parser.error(f"at most {2 ** BITS - 1} episodes")
    if args.folder.exists():
        parser.error(f"{args.folder} exists; choose a new folder")
    started = time.monotonic()
    make_media(args.folder, args.count, args.seed)
    print(f"{args.count} media files and sidecars in {time.monotonic() - started:.0f} s", flush=True)
    episodes = read_archive(args.folder)
    print(f"ingested in {time.monotonic() - started:.0f} s", flush=True)
    write_transcripts(args.folder, episodes, args.minutes, args.seed, args.jobs)
    print(f"{len(episodes)} transcripts in {time.monotonic() - started:.0f} s", flush=True)
    # The first build, as after transcribing: derived files, tags, site and feed.
    result = build.run(args.folder)
    print(f"first build done in {time.monotonic() - started:.0f} s (ok: {result.ok}): {args.folder}")
    return 0 if result.ok else 1


# --- media and sidecars ---------------------------------------------------------------------------


def make_media(root: Path, count: int, seed: int) -> None:
    (root / "episodes" / "artwork").mkdir(parents=True)
    shutil.copyfile(REPO / "archive.yaml", root / "archive.yaml")
    shutil.copyfile(REPO / "episodes/artwork/wij-in-de-wijk.jpg",
                    root / "episodes/artwork/wij-in-de-wijk.jpg")
    parts = make_parts(root / ".parts")
    rng = random.Random(seed)
    for number in range(1, count + 1):
        add_media(root, parts, number, count, rng)
    shutil.rmtree(root / ".parts")


def make_parts(folder: Path) -> tuple[list[bytes], list[bytes]]:
    """The shared clips and the two tones that spell out episode numbers."""
    folder.mkdir()
    clips = [_mp3(folder / f"clip{i}.mp3", ["-i", str(REPO / "episodes" / name), "-t", str(CLIP_SECONDS)])
             for i, name in enumerate(CLIP_SOURCES)]
    tones = [_mp3(folder / f"tone{i}.mp3", ["-f", "lavfi", "-i", f"sine=frequency={f}:duration=0.06"])
             for i, f in enumerate((440, 880))]
    return clips, tones


def add_media(root: Path, parts: tuple[list[bytes], list[bytes]], number: int, count: int,
              rng: random.Random) -> Path:
    """Episode `number`'s media file (unique audio) and sidecar; returns the media file."""
    clips, tones = parts
    cases = load_taxonomy().cases
    day = START + timedelta(days=(number * 1461) // max(count, 1))
    case = cases[number % len(cases)]
    stem = f"{day.isoformat()}-aflevering-{number:05d}"
    audio = clips[number % len(clips)] + b"".join(tones[(number >> bit) & 1] for bit in range(BITS))
    path = root / "episodes" / f"{stem}.mp3"
    path.write_bytes(audio)
    (root / "episodes" / f"{stem}.yaml").write_text(_sidecar(number, day, case.name, rng), "utf-8")
    return path


def _mp3(path: Path, source: list[str]) -> bytes:
    """Bare MPEG audio frames (no ID3, no Xing header), so files can be concatenated."""
    subprocess.run(["ffmpeg", "-v", "error", "-y", *source, "-map", "0:a:0", "-ac", "1", "-ar", "22050",
                    "-b:a", "32k", "-id3v2_version", "0", "-write_xing", "0", str(path)],
                   check=True)
    return path.read_bytes()


def _sidecar(number: int, day: date, case: str, rng: random.Random) -> str:
    host = HOSTS[number % len(HOSTS)]
    guest = GUESTS[rng.randrange(len(GUESTS))]
    title = f"Aflevering {number}: {case}"
    return (f"title: {json.dumps(title, ensure_ascii=False)}\n"
            f"description: {json.dumps(f'{host} praat met {guest} over {case}.', ensure_ascii=False)}\n"
            f"date: {day.isoformat()}\n"
            f"season: {1 + (number - 1) // 100}\n"
            f"episode: {number}\n"
            f"speakers: [{json.dumps(host, ensure_ascii=False)}, {json.dumps(guest, ensure_ascii=False)}]\n")


def read_archive(root: Path) -> list[Episode]:
    """Ingest with the pipeline itself: slugs, GUIDs and audio hashes as a build will see them."""
    config = load_archive(root)
    registry = Registry.load(root)
    inventory = ingest(root, config, registry)
    if inventory.problems:
        raise SystemExit("\n".join(str(problem) for problem in inventory.problems))
    for identity in inventory.identities.every():
        registry.record(identity)
    registry.save()
    return inventory.episodes


# --- transcripts ------------------------------------------------------------------------------------


def sentence_pool() -> list[str]:
    """Dutch sentences about the initiatives: the tagging sets' passages and the source articles."""
    sentences = []
    for name in ("dev.jsonl", "eval.jsonl"):
        for line in (REPO / "tests/data/tagging" / name).read_text("utf-8").splitlines():
            text = json.loads(line)["text"]
            sentences.append(text[0].upper() + text[1:] + ".")
    seeds = REPO.parent / "shared" / "seeds"
    for path in sorted(seeds.glob("*.txt")) if seeds.is_dir() else []:
        for piece in re.split(r"(?<=[.!?])\s+", path.read_text("utf-8")):
            words = piece.split()
            if 6 <= len(words) <= 30 and piece[0].isupper():
                sentences.append(" ".join(words))
    return sentences


def write_transcripts(root: Path, episodes: list[Episode], minutes: float, seed: int, jobs: int) -> None:
    config = load_archive(root)
    work = [(root, episode, minutes, seed, config.transcription) for episode in episodes]
    with ProcessPoolExecutor(jobs) as pool:
        for _ in pool.map(_write_one, work, chunksize=16):
            pass


_POOL: list[str] = []


def _write_one(item: tuple) -> None:
    root, episode, minutes, seed, settings = item
    if not _POOL:
        _POOL.extend(sentence_pool())
    rng = random.Random(f"{seed}-{episode.slug}")
    seconds = minutes * 60 * rng.uniform(0.5, 1.5)
    transcript = synthetic_transcript(rng, seconds, settings, episode.media.audio_hash)
    key = cache_key(episode.media.audio_hash, settings, len(episode.speakers) or None)
    TranscriptStore(root).save(episode, transcript, key)


def synthetic_transcript(rng: random.Random, seconds: float, settings, audio_hash: str) -> Transcript:
    segments: list[Segment] = []
    clock = 0.4
    speaker = 1
    while clock < seconds:
        if rng.random() < 0.3:
            speaker = 2 if speaker == 1 else 1
        text = rng.choice(_POOL)
        words = []
        for token in text.split():
            length = 0.12 + 0.05 * len(token) * rng.uniform(0.6, 1.2)
            words.append(Word(round(clock, 2), round(clock + length, 2), " " + token,
                              round(rng.uniform(0.55, 1.0), 3), f"SPEAKER_{speaker}"))
            clock += length + 0.04
        segments.append(Segment(len(segments), words[0].start, words[-1].end, " " + text, words,
                                f"SPEAKER_{speaker}", avg_logprob=round(rng.uniform(-0.6, -0.1), 3),
                                no_speech_prob=round(rng.uniform(0, 0.05), 3),
                                compression_ratio=round(rng.uniform(1.2, 1.8), 3)))
        clock += rng.uniform(0.2, 1.2)
    provenance = Provenance(engine=settings.engine, model=settings.model, model_sha256=None,
                            settings={"synthetic": True}, audio_hash=audio_hash,
                            created="2026-11-22T00:00:00+00:00")
    return Transcript(language="nl", segments=segments, provenance=provenance)


if __name__ == "__main__":
    sys.exit(main())

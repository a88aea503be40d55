"""Regenerate interview.json: a hand-made master transcript that exercises caption cutting.

    .venv/bin/python tests/data/captions/make_interview.py

Word timings imitate Whisper's: each word lasts in proportion to its length at the segment's
speaking rate, with short gaps between words and longer pauses after punctuation. The text is
realistic Dutch from the Wij in de Wijk interviews; every awkward case the cutter must handle
has its own segment (see the `note` of each).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent

# (speaker slot, speaking rate in characters/s, text, note); None as rate: no word timings.
SEGMENTS: list[tuple[str | None, float | None, str, str]] = [
    (None, None, "[muziek]", "non-speech cue without words"),
    ("SPEAKER_1", 14.0,
     "Welkom bij de podcast van Wij in de Wijk, het project van Movisie over sociale samenhang "
     "in de buurt. In deze aflevering gaan we naar Den Bosch, waar jongeren die eerder als "
     "boefjes bekendstonden nu koffie schenken als barista. Ik praat met Fatima, die het "
     "initiatief samen met de wijkagent en het buurthuis is begonnen, en met Kees, een bewoner "
     "die er vanaf het begin bij was.", "long monologue"),
    ("SPEAKER_2", 13.0, "Dank je wel. Ja, het begon eigenlijk heel klein.", "speaker change"),
    ("SPEAKER_1", 13.0, "Hoe klein?", "one short turn"),
    ("SPEAKER_2", 12.0, "Drie jongens, één koffiemachine.", "short turn"),
    ("SPEAKER_3", 12.0, "En een buurthuis dat leeg stond.", "short turn"),
    ("SPEAKER_2", 12.0, "Precies, dat ook.", "short turn"),
    ("SPEAKER_2", 22.0,
     "En toen we eenmaal bezig waren merkten we dat de buurt echt wilde meedoen en dat mensen "
     "gewoon binnenliepen om een kopje koffie te drinken en een praatje te maken met de jongens "
     "die daar achter de bar stonden.", "fast speech: 22 characters/s"),
    (None, 14.0, "Ondertiteld door de Amara.org gemeenschap", "flagged hallucination"),
    ("SPEAKER_3", 13.0,
     "Kijk op https://www.movisie.nl/publicatie/wij-in-de-wijk-boefjes-en-baristas-den-bosch "
     "voor het verslag.", "URL longer than a line"),
    ("SPEAKER_1", 13.0,
     "Koffie & gezelligheid: meer <dan> je denkt --> zeker in de "
     "buurtbewonersparticipatieondersteuningsprogramma's van de gemeente.",
     "characters to escape, an arrow, a word longer than a line"),
    ("SPEAKER_2", None,
     "Dit stuk is door een redacteur verbeterd: de jongens heten Ahmed, Joep en Daan.",
     "corrected text, words removed"),
    ("SPEAKER_1", 12.0, "Wat is de belangrijkste les?", "question"),
    ("SPEAKER_2", 13.0,
     "Dat je mensen serieus neemt. Niet over ze praten, maar met ze. Dat klinkt simpel, maar "
     "het is het moeilijkste wat er is.", "answer"),
    (None, None, "[gelach]", "non-speech cue without words"),
]
FLAGGED = {8}
NAMES = {"SPEAKER_1": "Femke", "SPEAKER_2": "Fatima"}  # SPEAKER_3 stays unnamed: "Spreker 3"


def words(text: str, start: float, rate: float, rng: random.Random) -> list[dict]:
    """Whisper-like words: a leading space, durations by length, pauses after punctuation."""
    found, clock = [], start
    for word in text.split():
        duration = max(0.12, len(word) / rate * rng.uniform(0.8, 1.2))
        found.append({"start": round(clock, 3), "end": round(clock + duration, 3),
                      "text": " " + word, "probability": round(rng.uniform(0.7, 1.0), 3)})
        pause = rng.uniform(0.15, 0.45) if word[-1] in ".,?!:" else rng.uniform(0.0, 0.06)
        clock += duration + (1 / rate) + pause
    return found


def build() -> dict:
    rng = random.Random(20240501)
    clock, segments = 0.0, []
    for number, (slot, rate, text, _note) in enumerate(SEGMENTS):
        timed = words(text, clock, rate, rng) if rate else []
        end = timed[-1]["end"] if timed else clock + max(2.0, len(text) / 14)
        segments.append({
            "id": number, "start": round(clock, 3), "end": round(end, 3), "text": " " + text,
            "words": timed, "speaker": slot,
            "flags": ["blocklist"] if number in FLAGGED else [],
            "avg_logprob": -0.25, "no_speech_prob": 0.02, "compression_ratio": 1.4,
        })
        clock = end + rng.uniform(0.2, 0.9)
    return {
        "language": "nl",
        "segments": segments,
        "provenance": {
            "engine": "faster-whisper", "model": "base", "model_sha256": None,
            "settings": {"language": "nl", "beam_size": 5}, "audio_hash": "0" * 64,
            "created": "2024-05-01T10:00:00+00:00", "status": "machine", "corrected": None,
        },
        "speakers": NAMES,
        "tags": [],
    }


if __name__ == "__main__":
    (HERE / "interview.json").write_text(
        json.dumps(build(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )

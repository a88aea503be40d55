#!/usr/bin/env python3
"""Generate the demo archive's media and the container fixtures, once; the output is committed.

Needs Debian's espeak-ng with the mbrola voices (mbrola-nl2, mbrola-nl3: contrib/non-free, so
CI never runs this), ffmpeg and mutagen. Run from the repository root:

    .venv/bin/python tests/data/make_demo.py

Writes episodes/*.{mp3,ogg,m4a,flac,mp4}, episodes/artwork/*.jpg, tests/data/media/tone.* and
tests/data/demo_turns.json (who speaks when in the conversation episode, for speaker tests).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

from mutagen.id3 import (
    APIC,
    CHAP,
    COMM,
    CTOC,
    ID3,
    TALB,
    TDRC,
    TIT2,
    TPE1,
    TPOS,
    TRCK,
    CTOCFlags,
)

ROOT = Path(__file__).resolve().parents[2]
EPISODES = ROOT / "episodes"
MEDIA = ROOT / "tests" / "data" / "media"
VOICE = {"nl2": "mb-nl2", "nl3": "mb-nl3"}  # nl2: male voice, nl3: female voice
RATE = 16000

# The conversation episode: (speaker, voice, text). Speakers are the podcast's real host and guest
# (reference/wij-in-de-wijk.yaml, podcast episode 4); the words are written for the demo.
VOORST = [
    ("Lou Repetur", "nl3", "Welkom bij de podcast Wij in de Wijk van Movisie. Ik ben Lou Repetur. "
     "Vandaag zijn we in de gemeente Voorst, met twaalf dorpen. Chris, wat is Kijk in de Kernen?"),
    ("Chris Frencken", "nl2", "Kijk in de Kernen is een digitaal dorpsplein. Inwoners van alle kernen "
     "zetten er activiteiten op, vragen om hulp, of bieden zelf iets aan."),
    ("Lou Repetur", "nl3", "Maar ontmoeten mensen elkaar dan ook echt?"),
    ("Chris Frencken", "nl2", "Ja, dat is het mooie. Het begint online, maar daarna spreken mensen af "
     "in het dorpshuis, of op de markt in Twello."),
    ("Lou Repetur", "nl3", "Wat heb je daarvoor nodig?"),
    ("Chris Frencken", "nl2", "Een buurtsportcoach en een opbouwwerker die de mensen kennen. "
     "Zonder hen blijft het platform leeg."),
    ("Lou Repetur", "nl3", "Dank je wel, Chris. Dit was Wij in de Wijk."),
]

MONOLOGUES = {
    "krachtstation-kanaleneiland": ("nl2",
        "In deze aflevering gaan we naar het Krachtstation in Kanaleneiland, in Utrecht. Het is een "
        "ontmoetingsplek met een moestuin. Een studente en een oudere meneer zaaien er samen courgettes. "
        "Initiatiefnemer Nathan Rozema zegt dat de tuin mensen bij elkaar brengt die elkaar anders nooit "
        "zouden spreken. Je groet elkaar, je maakt een praatje, en zo leer je je buren kennen. Die lichte "
        "contacten zijn belangrijker dan je denkt."),
    "kneuterigheid-verdient-een-standbeeld": ("nl3",
        "Kneuterigheid verdient een standbeeld. Dat is een van de lessen uit de eerste bundel van Wij in "
        "de Wijk. Bij Boefjes en Barista's in Den Bosch drinken ouders met jonge kinderen koffie met de "
        "bewoners van een woonzorgcentrum. Het is klein en overzichtelijk, en het lijkt misschien weinig "
        "voor te stellen. Maar voor dat groepje mensen is het van grote waarde."),
    "de-achilleshiel-van-geld-en-tijd": ("nl2",
        "De achilleshiel van veel initiatieven is geld, tijd en continuïteit. Neem Twirre doch mei in "
        "Noardeast-Fryslân, waar boeren en inwoners samen werken aan het landschap. Zulke initiatieven "
        "draaien op een paar trekkers. Als het project na drie jaar stopt en het potje leeg is, valt alles "
        "stil. Daarom blijven we pleiten voor investeren in de sociale basis."),
    "choku-gym-poelenburg": ("nl2",
        "Choku Gym in Poelenburg, Zaandam, is meer dan een sportschool. Oprichter Ivan Nikolov helpt "
        "kinderen en hun families met karate en boksen. Hier leer je discipline, en je vindt er vrienden."),
}


def run(*cmd: str | Path) -> None:
    subprocess.run([str(c) for c in cmd], check=True, capture_output=True)


def speak(text: str, voice: str, out: Path) -> float:
    """Synthesize `text` to a 16 kHz mono WAV; return its duration in seconds."""
    raw = out.with_suffix(".raw.wav")
    run("espeak-ng", "-v", VOICE[voice], "-s", "145", "-w", raw, text)
    run("sox", raw, "-r", str(RATE), "-c", "1", "-b", "16", out, "pad", "0.3", "0.3")
    raw.unlink()
    return float(subprocess.run(["soxi", "-D", str(out)], check=True, capture_output=True,
                                text=True).stdout)


def conversation(turns: list[tuple[str, str, str]], work: Path) -> tuple[Path, list[dict]]:
    """Concatenate the turns with short pauses; return the WAV and the reference turns."""
    parts, reference, clock = [], [], 0.0
    for index, (speaker, voice, text) in enumerate(turns):
        wav = work / f"turn{index:02d}.wav"
        length = speak(text, voice, wav)
        parts.append(wav)
        reference.append({"speaker": speaker, "start": round(clock, 3),
                          "end": round(clock + length, 3), "text": text})
        clock += length
    out = work / "conversation.wav"
    run("sox", *parts, out)
    return out, reference


def cover(path: Path, title: str, colour: str) -> None:
    """A square 1400x1400 RGB JPEG with the title on a plain background."""
    path.parent.mkdir(parents=True, exist_ok=True)
    run("convert", "-size", "1400x1400", f"xc:{colour}", "-fill", "white", "-font",
        "DejaVu-Sans-Bold", "-pointsize", "110", "-gravity", "center", "-annotate", "+0+0", title,
        "-colorspace", "sRGB", "-type", "TrueColor", "-quality", "82", path)


def tag_voorst_mp3(path: Path, art: Path, reference: list[dict]) -> None:
    """ID3 tags as a real podcast mp3 carries them: title, artist, chapters, cover art."""
    tags = ID3()
    tags.add(TIT2(encoding=3, text="Kijk in de kernen (ID3-titel)"))
    tags.add(TPE1(encoding=3, text="Movisie"))
    tags.add(TALB(encoding=3, text="Wij in de Wijk"))
    tags.add(TDRC(encoding=3, text="2021-09-16"))
    tags.add(TRCK(encoding=3, text="4"))
    tags.add(TPOS(encoding=3, text="1"))
    tags.add(COMM(encoding=3, lang="nld", desc="", text="Podcast over Kijk in de Kernen in Voorst."))
    tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="cover", data=art.read_bytes()))
    marks = [(0, "Welkom"), (reference[1]["start"], "Het digitale dorpsplein"),
             (reference[5]["start"], "Wat je nodig hebt")]
    end = reference[-1]["end"]
    ids = []
    for number, (start, title) in enumerate(marks):
        stop = marks[number + 1][0] if number + 1 < len(marks) else end
        ids.append(f"chp{number}")
        tags.add(CHAP(element_id=f"chp{number}", start_time=int(start * 1000),
                      end_time=int(stop * 1000), sub_frames=[TIT2(encoding=3, text=title)]))
    tags.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                  child_element_ids=ids, sub_frames=[TIT2(encoding=3, text="Hoofdstukken")]))
    tags.save(path, v2_version=4)


def make_demo(work: Path) -> None:
    art = EPISODES / "artwork"
    cover(art / "wij-in-de-wijk.jpg", "Wij in\\nde Wijk", "#1d4e89")
    cover(art / "kijk-in-de-kernen.jpg", "Kijk in\\nde Kernen", "#7a3b00")

    wav, reference = conversation(VOORST, work)
    voorst = EPISODES / "2021-09-16-kijk-in-de-kernen.mp3"
    run("ffmpeg", "-y", "-i", wav, "-ac", "1", "-b:a", "48k", "-map_metadata", "-1", voorst)
    tag_voorst_mp3(voorst, art / "kijk-in-de-kernen.jpg", reference)
    (ROOT / "tests" / "data" / "demo_turns.json").write_text(
        json.dumps({voorst.name: reference}, ensure_ascii=False, indent=2) + "\n")

    outputs = {
        "krachtstation-kanaleneiland": ("ogg", ["-c:a", "libopus", "-b:a", "32k"],
                                        ["-metadata", "title=Krachtstation Kanaleneiland",
                                         "-metadata", "artist=Movisie"]),
        "kneuterigheid-verdient-een-standbeeld": ("m4a", ["-c:a", "aac", "-b:a", "48k"],
                                                  ["-metadata", "title=Kneuterigheid",
                                                   "-metadata", "artist=Movisie"]),
        "de-achilleshiel-van-geld-en-tijd": ("flac", ["-c:a", "flac", "-sample_fmt", "s16"],
                                             ["-metadata", "TITLE=De achilleshiel"]),
    }
    for stem, (extension, codec, metadata) in outputs.items():
        voice, text = MONOLOGUES[stem]
        speech = work / f"{stem}.wav"
        speak(text, voice, speech)
        run("ffmpeg", "-y", "-i", speech, "-ac", "1", *codec, *metadata,
            EPISODES / f"{stem}.{extension}")

    voice, text = MONOLOGUES["choku-gym-poelenburg"]
    speech = work / "choku.wav"
    length = speak(text, voice, speech)
    run("ffmpeg", "-y", "-f", "lavfi", "-i", f"color=c=0x2b2b2b:s=640x360:r=12:d={length:.2f}",
        "-i", speech, "-vf",
        "drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf:"
        "text='Choku Gym':fontcolor=white:fontsize=56:x=(w-tw)/2:y=(h-th)/2",
        "-c:v", "libx264", "-preset", "veryslow", "-crf", "35", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "40k", "-ac", "1", "-shortest", "-movflags", "+faststart",
        EPISODES / "choku-gym-poelenburg.mp4")


CONTAINERS = {  # extension: ffmpeg output options (one fixture per supported container)
    "mp3": ["-c:a", "libmp3lame", "-b:a", "32k"],
    "m4a": ["-c:a", "aac", "-b:a", "32k"],
    "aac": ["-c:a", "aac", "-b:a", "32k", "-f", "adts"],
    "ogg": ["-c:a", "libvorbis", "-q:a", "0"],
    "opus": ["-c:a", "libopus", "-b:a", "24k"],
    "flac": ["-c:a", "flac"],
    "wav": ["-c:a", "pcm_s16le"],
}
VIDEO_CONTAINERS = {
    "mp4": ["-c:v", "libx264", "-c:a", "aac"],
    "m4v": ["-c:v", "libx264", "-c:a", "aac", "-f", "mp4"],
    "mov": ["-c:v", "libx264", "-c:a", "aac"],
    "webm": ["-c:v", "libvpx-vp9", "-c:a", "libopus"],
    "mkv": ["-c:v", "libx264", "-c:a", "libopus"],
}


def make_fixtures(work: Path) -> None:
    """Two seconds of Dutch speech in every container ingest supports."""
    MEDIA.mkdir(parents=True, exist_ok=True)
    speech = work / "fixture.wav"
    length = speak("Dit is een korte test.", "nl3", speech)
    for extension, options in CONTAINERS.items():
        run("ffmpeg", "-y", "-i", speech, "-ac", "1", "-metadata", f"title=Fixture {extension}",
            *options, MEDIA / f"speech.{extension}")
    for extension, options in VIDEO_CONTAINERS.items():
        run("ffmpeg", "-y", "-f", "lavfi", "-i", f"color=c=blue:s=160x90:r=10:d={length:.2f}",
            "-i", speech, "-pix_fmt", "yuv420p", "-metadata", f"title=Fixture {extension}",
            *options, MEDIA / f"speech.{extension}")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        make_demo(Path(tmp))
        make_fixtures(Path(tmp))

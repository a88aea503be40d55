"""The derived transcript formats: WebVTT, SRT, TXT and the Podcasting 2.0 JSON transcript.

Files are written for real under tmp_path and read back: VTT through a strict line-by-line
syntax check and `parse_vtt`, SRT through `parse_srt(strict=True)`, JSON through `json`.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from pipeline.model import Segment, Transcript, Word
from pipeline.transcripts.caption_checks import check_cues
from pipeline.transcripts.caption_files import parse_srt, parse_vtt
from pipeline.transcripts.captions import DEFAULT_RULES, cut_cues
from pipeline.transcripts.writers import (
    FORMATS,
    PodcastJsonWriter,
    SrtWriter,
    TxtWriter,
    VttWriter,
    dutch_date,
    get_writer,
    passages,
    provenance_lines,
    srt_lines,
    write_formats,
)

FIXTURE = Path(__file__).parent / "data" / "captions" / "interview.json"


def load_interview() -> Transcript:
    return Transcript.from_dict(json.loads(FIXTURE.read_text(encoding="utf-8")))


@pytest.fixture
def interview() -> Transcript:
    return load_interview()


@pytest.fixture
def written(interview: Transcript, tmp_path: Path) -> dict[str, Path]:
    return write_formats(interview, tmp_path / "afl-1", "afl-1", FORMATS)


def corrected(source: Transcript) -> Transcript:
    source.provenance.status = "corrected"
    source.provenance.corrected = "2024-06-03T09:00:00+00:00"
    return source


# --- a strict WebVTT syntax check, independent of parse_vtt -------------------------------

STAMP = r"(\d{2}):([0-5]\d):([0-5]\d)\.(\d{3})"
TIMING = re.compile(f"{STAMP} --> {STAMP}")
ENTITY = re.compile(r"&(amp|lt|gt);")
VOICE = re.compile(r"^<v [^<>&\n]+>")


def seconds(parts: tuple[str, ...]) -> float:
    hours, minutes, secs, ms = (int(p) for p in parts)
    return hours * 3600 + minutes * 60 + secs + ms / 1000


def validate_vtt(text: str) -> int:
    """Check WebVTT syntax block by block; return the number of cues."""
    assert not text.startswith("\ufeff")
    assert text.endswith("\n") and not text.endswith("\n\n\n")
    blocks = text.rstrip("\n").split("\n\n")
    assert blocks[0] == "WEBVTT", "header, then a blank line"
    cues, previous_start = 0, -1.0
    for block in blocks[1:]:
        lines = block.split("\n")
        assert all(line.strip() for line in lines), f"blank line inside a block: {block!r}"
        if lines[0].startswith("NOTE"):
            assert "-->" not in block, "NOTE must not contain -->"
            continue
        timing = TIMING.fullmatch(lines[0])
        assert timing, f"cue timing: {lines[0]!r}"
        start, end = seconds(timing.groups()[:4]), seconds(timing.groups()[4:])
        assert end > start and start >= previous_start
        previous_start = start
        assert len(lines) >= 2, "a cue has text"
        for number, line in enumerate(lines[1:]):
            assert "-->" not in line
            rest = VOICE.sub("", line) if number == 0 else line
            assert "<" not in rest and ">" not in rest, f"unescaped < or > in {line!r}"
            assert "&" not in ENTITY.sub("", rest), f"unescaped & in {line!r}"
        cues += 1
    return cues


# --- write_formats ------------------------------------------------------------------------


def test_write_formats_writes_every_file(written: dict[str, Path], tmp_path: Path) -> None:
    folder = tmp_path / "afl-1"
    assert written == {
        "vtt": folder / "afl-1.vtt",
        "srt": folder / "afl-1.srt",
        "txt": folder / "afl-1.txt",
        "json": folder / "afl-1.podcast.json",  # afl-1.json is the master transcript
    }
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in written.values())
    for path in written.values():
        text = path.read_bytes().decode("utf-8")  # strict UTF-8
        assert text.endswith("\n") and "\r" not in text


def test_write_formats_writes_only_what_is_asked(interview: Transcript, tmp_path: Path) -> None:
    written = write_formats(interview, tmp_path, "afl-2", ["vtt", "txt"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afl-2.txt", "afl-2.vtt"]
    assert set(written) == {"vtt", "txt"}


def test_unknown_format_writes_nothing(interview: Transcript, tmp_path: Path) -> None:
    message = "unknown transcript format 'docx': choose from json, srt, txt, vtt"
    with pytest.raises(ValueError, match=message):
        write_formats(interview, tmp_path, "afl-3", ["vtt", "docx"])
    assert list(tmp_path.iterdir()) == []


def test_rewriting_replaces_the_file(interview: Transcript, tmp_path: Path) -> None:
    path = tmp_path / "afl.txt"
    path.write_text("oud", encoding="utf-8")
    TxtWriter().write_file(interview, path)
    assert path.read_text(encoding="utf-8").startswith("Automatisch gemaakte transcriptie")
    assert [p.name for p in tmp_path.iterdir()] == ["afl.txt"]  # no temporary files left


def test_write_to_a_handle(interview: Transcript) -> None:
    for name, writer_class in FORMATS.items():
        handle = io.StringIO()
        writer = get_writer(name)
        assert isinstance(writer, writer_class)
        writer.write(interview, handle)
        assert handle.getvalue() == writer.render(interview)


def test_flagged_text_is_in_no_format(written: dict[str, Path], interview: Transcript) -> None:
    assert any(seg.flagged for seg in interview.segments)
    for path in written.values():
        text = path.read_text(encoding="utf-8")
        assert "Amara" not in text and "Ondertiteld door" not in text, path.name


def test_every_format_has_every_spoken_word(written: dict[str, Path]) -> None:
    for word in ("Welkom", "barista.", "Ahmed,", "moeilijkste", "[muziek]", "[gelach]"):
        for name, path in written.items():
            assert word in path.read_text(encoding="utf-8"), (name, word)


# --- WebVTT -------------------------------------------------------------------------------


def test_vtt_syntax_is_strictly_valid(written: dict[str, Path], interview: Transcript) -> None:
    text = written["vtt"].read_text(encoding="utf-8")
    assert validate_vtt(text) == len(cut_cues(interview))


def test_vtt_round_trips_through_the_parser(
    written: dict[str, Path], interview: Transcript
) -> None:
    parsed = parse_vtt(written["vtt"].read_text(encoding="utf-8"))
    assert parsed == cut_cues(interview)
    assert check_cues(parsed) == []


def test_vtt_note_tells_machine_made(written: dict[str, Path]) -> None:
    text = written["vtt"].read_text(encoding="utf-8")
    assert text.startswith(
        "WEBVTT\n\nNOTE\n"
        "Automatisch gemaakte ondertiteling (faster-whisper, model base, 1 mei 2024).\n"
        "Niet gecontroleerd door een redacteur: er kunnen fouten in staan.\n\n00:00:00.000 --> "
    )


def test_vtt_note_tells_corrected_and_has_no_arrow(interview: Transcript) -> None:
    source = corrected(interview)
    source.provenance.model = "/home/redactie/modellen/whisper-->nl"
    text = VttWriter().render(source)
    note = text.split("\n\n")[1]
    assert note == (
        "NOTE\nOndertiteling gecorrigeerd door een redacteur (3 juni 2024).\n"
        "Oorspronkelijk automatisch gemaakt met faster-whisper, model whisper->nl (1 mei 2024)."
    )
    assert "/home" not in text
    validate_vtt(text)


def test_vtt_escapes_and_voices(written: dict[str, Path]) -> None:
    text = written["vtt"].read_text(encoding="utf-8")
    assert "<v Femke>Koffie &amp; gezelligheid:\nmeer &lt;dan&gt; je denkt → zeker in de" in text
    assert "<v Spreker 3>" in text and "<v Fatima>" in text
    assert "\n[muziek]\n" in text  # no voice for a sound description without a speaker


def test_vtt_escapes_a_speaker_name() -> None:
    words = [Word(0.0, 1.0, " Hallo.")]
    source = Transcript(
        "nl", [Segment(0, 0.0, 1.0, " Hallo.", words, "SPEAKER_1")], load_interview().provenance,
        {"SPEAKER_1": "Tom & <Jerry>"},
    )
    text = VttWriter().render(source)
    assert "<v Tom &amp; &lt;Jerry&gt;>Hallo." in text
    assert parse_vtt(text)[0].speaker == "Tom & <Jerry>"


def test_vtt_can_show_names_like_srt(interview: Transcript) -> None:
    parsed = parse_vtt(VttWriter(show_names=True).render(interview))
    assert parsed[1].lines[0] == "Femke: Welkom bij de podcast"
    assert check_cues(parsed) == []


# --- SRT ----------------------------------------------------------------------------------


def test_srt_is_numbered_and_round_trips(written: dict[str, Path], interview: Transcript) -> None:
    text = written["srt"].read_text(encoding="utf-8")
    parsed = parse_srt(text, strict=True)
    cues = cut_cues(interview)
    assert [(c.start, c.end) for c in parsed] == [(c.start, c.end) for c in cues]
    assert [c.lines for c in parsed] == [srt_lines(c, p) for c, p in zip(cues, [None, *cues])]
    numbers = [block.split("\n")[0] for block in text.rstrip("\n").split("\n\n")]
    assert numbers == [str(n) for n in range(1, len(cues) + 1)]
    assert re.findall(r"^\d\d:\d\d:\d\d,\d\d\d --> \d\d:\d\d:\d\d,\d\d\d$", text, re.M)
    assert len(re.findall(" --> ", text)) == len(cues)


def test_srt_with_names_still_follows_the_rules(written: dict[str, Path]) -> None:
    parsed = parse_srt(written["srt"].read_text(encoding="utf-8"), strict=True)
    assert check_cues(parsed, DEFAULT_RULES) == []


def test_srt_names_the_speaker_at_each_turn_only(written: dict[str, Path]) -> None:
    parsed = parse_srt(written["srt"].read_text(encoding="utf-8"))
    first_lines = [cue.lines[0] for cue in parsed]
    assert first_lines[1].startswith("Femke: Welkom")
    assert not first_lines[2].startswith("Femke:")  # same speaker goes on: no label
    assert sum(line.startswith("Fatima: ") for line in first_lines) == 5  # her five turns
    assert any(line.startswith("Spreker 3: ") for line in first_lines)


def test_srt_has_no_html(written: dict[str, Path]) -> None:
    text = written["srt"].read_text(encoding="utf-8")
    assert "<v" not in text and "&amp;" not in text
    assert "Koffie & gezelligheid:" in text and "meer <dan> je denkt → zeker" in text


# --- TXT ----------------------------------------------------------------------------------


def test_txt_reads_as_a_transcript(written: dict[str, Path]) -> None:
    text = written["txt"].read_text(encoding="utf-8")
    paragraphs = text.rstrip("\n").split("\n\n")
    assert paragraphs[0] == (
        "Automatisch gemaakte transcriptie (faster-whisper, model base, 1 mei 2024). "
        "Niet gecontroleerd door een redacteur: er kunnen fouten in staan."
    )
    assert paragraphs[1] == "[00:00:00] [muziek]"
    assert paragraphs[2].startswith("[00:00:02] Femke: Welkom bij de podcast van Wij in de Wijk,")
    assert paragraphs[3] == "[00:00:35] Fatima: Dank je wel. Ja, het begon eigenlijk heel klein."
    assert paragraphs[6].startswith("[00:00:45] Spreker 3: En een buurthuis dat leeg stond.")
    assert "--> zeker" in text  # plain text keeps what was said, unescaped
    assert paragraphs[-1].endswith("] [gelach]")
    for paragraph in paragraphs[1:]:
        assert re.match(r"\[\d\d:\d\d:\d\d\] ", paragraph) and "\n" not in paragraph


def test_txt_merges_a_turn_and_breaks_long_ones() -> None:
    base = load_interview()
    segments = []
    for number in range(20):
        start = number * 6.0
        text = f" Dit is zin nummer {number}, een zin van ongeveer zestig tekens lang."
        segments.append(Segment(number, start, start + 5.0, text, [], "SPEAKER_1"))
    source = Transcript("nl", segments, base.provenance)
    paragraphs = TxtWriter().render(source).rstrip("\n").split("\n\n")[1:]
    assert 1 < len(paragraphs) < 20
    assert paragraphs[0].startswith("[00:00:00] Spreker 1: Dit is zin nummer 0,")
    assert paragraphs[1].startswith("[00:") and "Spreker 1: " in paragraphs[1]


def test_txt_of_a_corrected_transcript(interview: Transcript) -> None:
    header = TxtWriter().render(corrected(interview)).split("\n")[0]
    assert header == (
        "Transcriptie gecorrigeerd door een redacteur (3 juni 2024). "
        "Oorspronkelijk automatisch gemaakt met faster-whisper, model base (1 mei 2024)."
    )


# --- Podcasting 2.0 JSON ------------------------------------------------------------------


def test_podcast_json_follows_the_spec(written: dict[str, Path], interview: Transcript) -> None:
    document = json.loads(written["json"].read_text(encoding="utf-8"))
    assert list(document) == ["version", "segments"] and document["version"] == "1.0.0"
    for segment in document["segments"]:
        assert set(segment) <= {"speaker", "startTime", "endTime", "body"}
        assert {"startTime", "endTime", "body"} <= set(segment)
        assert isinstance(segment["startTime"], float)
        assert segment["endTime"] >= segment["startTime"]
        assert segment["body"] == segment["body"].strip() and segment["body"]
    starts = [s["startTime"] for s in document["segments"]]
    assert starts == sorted(starts)
    bodies = [s["body"] for s in document["segments"]]
    assert len(bodies) == sum(not s.flagged for s in interview.segments)
    assert document["segments"][0] == {"startTime": 0.0, "endTime": 2.0, "body": "[muziek]"}
    assert document["segments"][1]["speaker"] == "Femke"
    speakers = {s.get("speaker") for s in document["segments"]}
    assert speakers == {None, "Femke", "Fatima", "Spreker 3"}


def test_podcast_json_splits_word_level_speakers() -> None:
    words = [
        Word(0.0, 0.4, " Klopt", speaker="SPEAKER_1"),
        Word(0.5, 0.9, " dat?", speaker="SPEAKER_1"),
        Word(1.2, 1.5, " Ja,", speaker="SPEAKER_2"),
        Word(1.6, 2.0, " helemaal.", speaker="SPEAKER_2"),
    ]
    text = "".join(w.text for w in words)
    provenance = load_interview().provenance
    segments = [Segment(0, 0.0, 2.0, text, words)]
    source = Transcript("nl", segments, provenance, {"SPEAKER_2": "Kees"})
    document = json.loads(PodcastJsonWriter().render(source))
    assert document["segments"] == [
        {"speaker": "Spreker 1", "startTime": 0.0, "endTime": 0.9, "body": "Klopt dat?"},
        {"speaker": "Kees", "startTime": 1.2, "endTime": 2.0, "body": "Ja, helemaal."},
    ]
    assert [p.text for p in passages(source)] == ["Klopt dat?", "Ja, helemaal."]


def test_podcast_json_keeps_characters(written: dict[str, Path]) -> None:
    text = written["json"].read_text(encoding="utf-8")
    assert "één koffiemachine" in text  # UTF-8, not \\u escapes
    assert "Koffie & gezelligheid: meer <dan> je denkt --> zeker" in text


# --- helpers ------------------------------------------------------------------------------


def test_dutch_date() -> None:
    assert dutch_date("2024-05-01T10:00:00Z") == "1 mei 2024"
    assert dutch_date("2023-12-31") == "31 december 2023"
    assert dutch_date("gisteren") == "gisteren"
    assert dutch_date(None) == ""


def test_provenance_lines_for_a_machine_transcript() -> None:
    source = load_interview()
    assert provenance_lines(source.provenance) == [
        "Automatisch gemaakte transcriptie (faster-whisper, model base, 1 mei 2024).",
        "Niet gecontroleerd door een redacteur: er kunnen fouten in staan.",
    ]


def test_writers_have_the_feed_media_types() -> None:
    assert {name: cls.media_type for name, cls in FORMATS.items()} == {
        "vtt": "text/vtt",
        "srt": "application/x-subrip",
        "txt": "text/plain",
        "json": "application/json",
    }
    assert SrtWriter.extension == "srt" and PodcastJsonWriter.extension == "podcast.json"


def test_empty_transcript(tmp_path: Path) -> None:
    source = Transcript("nl", [], load_interview().provenance)
    written = write_formats(source, tmp_path, "leeg")
    assert parse_vtt(written["vtt"].read_text(encoding="utf-8")) == []
    assert written["srt"].read_text(encoding="utf-8") == ""
    document = json.loads(written["json"].read_text(encoding="utf-8"))
    assert document == {"version": "1.0.0", "segments": []}
    assert written["txt"].read_text(encoding="utf-8").startswith("Automatisch gemaakte")

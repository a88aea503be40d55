"""Hallucination guards flag (never drop) what STANDARDS.md lists."""

from __future__ import annotations

import pytest

from pipeline.model import Segment
from pipeline.transcribe.engines.base import repair_loops
from pipeline.transcribe.guards import flag_hallucinations


def seg(text: str, start: float = 0.0, end: float | None = None, index: int = 0) -> Segment:
    """A segment at a normal speaking rate (~14 letters per second) unless told otherwise."""
    if end is None:
        end = start + max(1.0, sum(ch.isalnum() for ch in text) / 14)
    return Segment(id=index, start=start, end=end, text=text)


def flags_of(*segments: Segment, spans: list[tuple[float, float]] | None = None) -> list[list[str]]:
    return [s.flags for s in flag_hallucinations(list(segments), spans)]


@pytest.mark.parametrize(
    "text",
    [
        " Ondertitels ingediend door de Amara.org gemeenschap",
        " Ondertiteld door Jan de Vries.",
        " Ondertiteling door TV Gelderland 2021",
        " Bedankt voor het kijken!",
        " Dank je wel voor het kijken.",
        " Subtitles by the Amara.org community",
    ],
)
def test_blocklist(text: str) -> None:
    assert flags_of(seg(text)) == [["blocklist"]]


@pytest.mark.parametrize(
    "text",
    [
        " Bedankt voor het luisteren naar Wij in de Wijk.",  # a real podcast ending
        " We hebben bedankt voor het kijken naar de plannen van de buurt gezegd.",
        " De opbouwwerker vertelt over het buurthuis.",
    ],
)
def test_real_speech_is_not_flagged(text: str) -> None:
    assert flags_of(seg(text)) == [[]]


def test_same_text_in_three_consecutive_segments() -> None:
    segments = [seg(" Dank je wel.", start=float(i), index=i) for i in range(3)]
    segments.append(seg(" En verder.", start=3.0, index=3))
    assert flags_of(*segments) == [["repetition"]] * 3 + [[]]


def test_two_repeats_are_fine() -> None:
    segments = [seg(" Ja, precies.", start=float(i), index=i) for i in range(2)]
    assert flags_of(*segments) == [[], []]


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        (" de de de buurt", True),
        (" in de wijk in de wijk in de wijk", True),  # a repetition loop of a phrase
        (" heel heel mooi", False),
        (" de buurt en de wijk en de stad", False),
    ],
)
def test_token_repeated_three_times(text: str, flagged: bool) -> None:
    assert ("repetition" in flags_of(seg(text))[0]) is flagged


def test_text_without_detected_speech() -> None:
    spans = [(0.0, 5.0)]
    inside, outside = seg(" Welkom.", 1.0, 2.0, 0), seg(" Welkom.", 8.0, 9.0, 1)
    assert flags_of(inside, outside, spans=spans) == [[], ["no-speech"]]
    assert flags_of(inside, spans=[]) == [["no-speech"]]  # VAD found no speech at all
    assert flags_of(outside, spans=None) == [[]]  # no VAD: nothing to judge by


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        (" Waarom zijn hier zoveel stoelen, zeg?", 0.0, 1.6),  # brisk real speech, 24 chars/s
        (" " + "a" * 41, 0.0, 1.0),  # faster than a reader reads: a caption rule, not a guard
        (" Ja.", 0.0, 10.0),  # a short word over a long segment: Whisper's times, not fiction
        (" Nee", 3.0, 3.0),  # zero duration
    ],
)
def test_reading_speed_hides_nothing(text: str, start: float, end: float) -> None:
    assert flags_of(seg(text, start, end)) == [[]]


def test_a_retired_flag_in_an_old_master_no_longer_hides_the_segment() -> None:
    old = Segment(id=0, start=0.0, end=1.0, text=" Snel gezegd.", flags=["reading-speed"])
    assert not old.flagged
    assert Segment(id=1, start=0.0, end=1.0, text=" x", flags=["blocklist"]).flagged


def test_flags_are_kept_and_segments_never_dropped() -> None:
    segments = [seg(" Bedankt voor het kijken!"), seg(" Goed.", 2.0, 3.0, 1)]
    segments[1].flags.append("editor")
    flagged = flag_hallucinations(segments, [(0.0, 1.0)])
    assert len(flagged) == 2
    assert flagged[0].flags == ["blocklist"]
    assert flagged[1].flags == ["editor", "no-speech"]
    assert segments[0].flags == []  # the input is not modified


def test_long_batched_segments_are_cut_into_sentences():
    from pipeline.model import Segment, Word
    from pipeline.transcribe.engines.base import MAX_SEGMENT, split_segment

    texts = [" Welkom", " bij", " de", " podcast.", " Vandaag", " zijn", " we", " in", " Voorst,",
             " met", " twaalf", " dorpen.", " Chris", " vertelt."]
    words, clock = [], 0.0
    for text in texts:
        words.append(Word(start=clock, end=clock + 0.9, text=text))
        clock += 1.0 if text != " dorpen." else 2.5  # a long pause after "dorpen."
    segment = Segment(id=0, start=0.0, end=words[-1].end, text="".join(texts), words=words)
    assert segment.end - segment.start > MAX_SEGMENT

    pieces = split_segment(segment)
    assert [p.text for p in pieces] == [" Welkom bij de podcast.",
                                        " Vandaag zijn we in Voorst, met twaalf dorpen.",
                                        " Chris vertelt."]
    assert [(p.start, p.end) for p in pieces] == [(0.0, 3.9), (4.0, 11.9), (13.5, 15.4)]
    assert sum((p.words for p in pieces), []) == words
    short = Segment(id=1, start=0.0, end=5.0, text=" Kort.", words=words[:2])
    assert split_segment(short) == [short]


def loop(text: str, start: float, end: float, index: int = 0) -> Segment:
    return Segment(id=index, start=start, end=end, text=text)


def test_a_loop_is_decoded_again_and_the_new_text_kept() -> None:
    """Our own logic around the engine: the span of a loop goes back to the decoder."""
    asked = []

    def decode_span(start: float, end: float) -> list[Segment]:
        asked.append((start, end))
        return [seg(" Het staat bovenop de kast.", start, end)]

    segments = [seg(" Kijk daar.", 0.0, 2.0), loop(" bovenop bovenop bovenop bovenop", 2.0, 9.0, 1)]
    repaired = repair_loops(segments, decode_span)
    assert asked == [(2.0, 9.0)]
    assert [s.text for s in repaired] == [" Kijk daar.", " Het staat bovenop de kast."]
    assert flags_of(*repaired) == [[], []]


def test_what_still_loops_becomes_one_unintelligible_marker() -> None:
    segments = [loop(" ja ja ja ja ja", 1.0, 4.0), loop(" ja ja ja ja ja", 4.0, 8.0, 1),
                seg(" Dat was het.", 8.0, 9.0, 2)]
    repaired = repair_loops(segments, lambda start, end: [loop(" ja ja ja ja", start, end)])
    assert [(s.start, s.end, s.text) for s in repaired] == [
        (1.0, 8.0, " [onverstaanbaar]"), (8.0, 9.0, " Dat was het.")]
    assert flags_of(*repaired) == [[], []]  # a marker, not a hidden wall of words


def test_speech_without_loops_is_not_decoded_again() -> None:
    segments = [seg(" Goedemorgen.", 0.0, 1.0), seg(" Welkom in de wijk.", 1.0, 3.0, 1)]
    assert repair_loops(segments, lambda start, end: pytest.fail("decoded again")) == segments

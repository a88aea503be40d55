"""Caption cutting, rule checking and VTT/SRT parsing against STANDARDS.md "Captions".

Every rule is asserted twice: through `check_cues`, and by independent assertions written here
from the standard's numbers, so a bug in `check_cues` cannot hide a bug in `cut_cues`. And every
check is shown to fire on deliberately bad cues, so no test passes by checking nothing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipeline.model import Provenance, Segment, Transcript, Word
from pipeline.transcripts.caption_checks import (
    check_cues,
    find_violations,
    reading_speed_warnings,
)
from pipeline.transcripts.caption_files import cue_words, parse_srt, parse_vtt
from pipeline.transcripts.captions import (
    DEFAULT_RULES,
    NO_BREAK_AFTER,
    CaptionRules,
    Cue,
    cut_cues,
    display_speaker,
    format_timestamp,
    turn_label,
)

try:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
except ModuleNotFoundError:  # it belongs in the [test] extra; without it only one test skips
    st = None

# The standard's numbers, written out again so the tests don't trust CaptionRules.
MAX_LINE = 42
MAX_LINES = 2
MIN_DURATION = 5 / 6
MAX_DURATION = 7.0
MAX_CPS = 17.0
CLOSED_GAP = 2 / 25
OPEN_GAP = 0.5
END_DELAY = 0.5
MS = 0.0011  # times are written in whole milliseconds

FIXTURE = Path(__file__).parent / "data" / "captions" / "interview.json"


# --- building transcripts by hand ---------------------------------------------------------


def provenance(status: str = "machine") -> Provenance:
    return Provenance(
        engine="faster-whisper",
        model="base",
        model_sha256=None,
        settings={},
        audio_hash="0" * 64,
        created="2024-05-01T10:00:00+00:00",
        status=status,  # type: ignore[arg-type]
        corrected="2024-06-03T09:00:00+00:00" if status == "corrected" else None,
    )


def speak(text: str, start: float, rate: float = 14.0, pause: float = 0.3) -> list[Word]:
    """Whisper-like words: durations by length at `rate` characters/s, pauses after punctuation."""
    words, clock = [], start
    for word in text.split():
        duration = max(0.12, len(word) / rate)
        words.append(Word(round(clock, 3), round(clock + duration, 3), " " + word))
        clock += duration + 1 / rate + (pause if word[-1] in ".,?!:" else 0.0)
    return words


def segment(
    number: int, words: list[Word], speaker: str | None = None, flags: list[str] | None = None
) -> Segment:
    text = "".join(w.text for w in words)
    return Segment(number, words[0].start, words[-1].end, text, words, speaker, flags or [])


def transcript(*segments: Segment, speakers: dict[str, str] | None = None) -> Transcript:
    return Transcript("nl", list(segments), provenance(), speakers or {})


def monologue(text: str, rate: float = 14.0, speaker: str | None = "SPEAKER_1") -> Transcript:
    return transcript(segment(0, speak(text, 0.0, rate), speaker))


@pytest.fixture(scope="module")
def interview() -> Transcript:
    """A realistic interview: monologue, quick turns, fast speech, URL, corrected text, [muziek]."""
    return Transcript.from_dict(json.loads(FIXTURE.read_text(encoding="utf-8")))


# --- independent assertions of every rule -------------------------------------------------


def _normalise(words: list[str]) -> str:
    """Words without spaces and split-word hyphens, to compare shown text with spoken text."""
    return re.sub(r"-", "", "".join(words))


def spoken_words(source: Transcript) -> list[str]:
    return [
        word.replace("-->", "→")
        for seg in source.segments
        if not seg.flagged
        for word in seg.text.split()
    ]


def assert_caption_rules(cues: list[Cue], source: Transcript) -> None:
    """STANDARDS.md "Captions", cue by cue, without using check_cues."""
    assert cues, "no cues at all"
    for number, cue in enumerate(cues, 1):
        where = f"cue {number} {cue}"
        assert 1 <= len(cue.lines) <= MAX_LINES, where
        for line in cue.lines:
            assert line.strip() and line == line.strip(), where
            assert len(line) <= MAX_LINE, where
            assert "-->" not in line and "\n" not in line, where
        for line in cue.lines[:-1]:
            last = line.split()[-1]
            assert last.lower() not in NO_BREAK_AFTER, f"{where}: line break after {last!r}"
        duration = cue.end - cue.start
        assert MIN_DURATION - MS <= duration <= MAX_DURATION + MS, where
        # Sync: never before speech; at most 0.5 s after it, unless the minimum duration or a
        # closed gap to the next cue needs more.
        assert cue.speech_start is not None and cue.speech_end is not None
        assert cue.start >= cue.speech_start - MS, where
    for number, (cue, following) in enumerate(zip(cues, cues[1:]), 2):
        assert following.start >= cue.start, f"cue {number} starts before cue {number - 1}"
        gap = following.start - cue.end
        assert gap >= -MS, f"cue {number} overlaps cue {number - 1}"
        assert gap <= CLOSED_GAP + MS or gap >= OPEN_GAP - MS, f"cue {number}: gap {gap:.3f}"
        limit = max(cue.speech_end + END_DELAY, cue.start + MIN_DURATION)
        if gap <= CLOSED_GAP + MS:
            limit += OPEN_GAP
        assert cue.end <= limit + MS, f"cue {number - 1} lingers after its speech"
    last = cues[-1]
    assert last.end <= max(last.speech_end + END_DELAY, last.start + MIN_DURATION) + MS
    # Nothing lost, nothing added, nothing flagged shown; order kept.
    assert _normalise(cue_words(cues)) == _normalise(spoken_words(source))


def assert_reading_speed_justified(cues: list[Cue]) -> None:
    """Above 17 characters/s only where the cue could not stay longer: speech too fast."""
    for number, cue in enumerate(cues, 1):
        if len(cue.text) <= MAX_CPS * (cue.end - cue.start) + 1e-9:  # exactly at the limit is fine
            continue
        chained = number < len(cues) and abs(cues[number].start - cue.end) < MS
        lingering = cue.end >= cue.speech_end + END_DELAY - MS
        longest = cue.end - cue.start >= MAX_DURATION - MS
        assert chained or lingering or longest, f"cue {number} too fast without reason: {cue}"


def assert_speakers_separate(cues: list[Cue], source: Transcript) -> None:
    """Each cue shows one speaker's words: a speaker change always starts a new cue.

    Compared character by character (spaces and hyphens left out), because a word longer than
    a line is shown in pieces.
    """
    owners = [
        display_speaker(source, seg.speaker)
        for seg in source.segments
        if not seg.flagged
        for word in seg.text.replace("-->", "→").split()
        for _ in _normalise([word])
    ]
    position = 0
    for cue in cues:
        shown = len(_normalise(cue.text.split()))
        mine = set(owners[position : position + shown])
        assert mine == {cue.speaker}, f"cue {cue} mixes speakers {mine}"
        position += shown
    assert position == len(owners)


# --- cutting ------------------------------------------------------------------------------


def test_interview_follows_every_caption_rule(interview: Transcript) -> None:
    cues = cut_cues(interview)
    assert check_cues(cues) == []
    assert_caption_rules(cues, interview)
    assert_reading_speed_justified(cues)


def test_flagged_hallucination_is_not_shown(interview: Transcript) -> None:
    flagged = [seg for seg in interview.segments if seg.flagged]
    assert flagged, "the fixture must contain a flagged segment"
    shown = " ".join(cue.text for cue in cut_cues(interview))
    assert "Amara" not in shown and "Ondertiteld" not in shown


def test_fast_speech_only_warns_about_reading_speed(interview: Transcript) -> None:
    cues = cut_cues(interview)
    warnings = reading_speed_warnings(cues)
    assert warnings, "the fixture's 22 characters/s passage must be reported"
    assert all(w.startswith("warning: cue ") and "reading speed" in w for w in warnings)
    assert check_cues(cues, warnings=True) == check_cues(cues) + warnings


def test_speaker_names_and_unnamed_slots(interview: Transcript) -> None:
    speakers = {cue.speaker for cue in cut_cues(interview)}
    assert speakers == {None, "Femke", "Fatima", "Spreker 3"}


def test_display_speaker() -> None:
    named = transcript(segment(0, speak("Ja.", 0))), {"SPEAKER_2": "Kees"}
    source = Transcript("nl", named[0].segments, provenance(), named[1])
    assert display_speaker(source, "SPEAKER_1") == "Spreker 1"
    assert display_speaker(source, "SPEAKER_01") == "Spreker 1"
    assert display_speaker(source, "SPEAKER_2") == "Kees"
    assert display_speaker(source, "interviewer") == "interviewer"
    assert display_speaker(source, None) is None


def test_long_monologue_is_cut_at_sentences() -> None:
    text = (
        "In de wijk Kruiskamp in Den Bosch stonden een paar jongens bekend als boefjes. "
        "De wijkagent kende ze allemaal bij naam. Samen met het buurthuis bedacht hij een plan: "
        "een koffiebar, gerund door de jongens zelf. Na een training van zes weken stonden ze "
        "achter de bar. Bewoners kwamen eerst uit nieuwsgierigheid, later omdat de koffie goed "
        "was en omdat ze zich welkom voelden. Zo ontstond er iets wat niemand had gepland: een "
        "plek waar jong en oud elkaar weer tegenkwamen."
    )
    source = monologue(text)
    cues = cut_cues(source)
    assert check_cues(cues) == []
    assert_caption_rules(cues, source)
    assert reading_speed_warnings(cues) == []
    endings = [cue.lines[-1][-1] for cue in cues]
    assert endings.count(".") + endings.count(",") + endings.count(":") >= len(cues) * 0.6


def test_cues_follow_word_timings_not_an_even_split() -> None:
    # Slow first sentence, then a quick one: an even split of the segment would misplace cues.
    words = speak("Nou.", 0.0, rate=4.0) + speak(
        "Dat was echt een hele bijzondere middag in het buurthuis, met heel veel mensen erbij.",
        5.0,
        rate=15.0,
    )
    source = transcript(segment(0, words, "SPEAKER_1"))
    cues = cut_cues(source)
    word_starts = {w.start for w in words}
    assert all(round(cue.speech_start, 3) in word_starts for cue in cues)
    assert cues[0].lines == ["Nou."] and cues[1].start == pytest.approx(5.0)
    assert_caption_rules(cues, source)


def test_speaker_changes_every_few_words() -> None:
    lines = [
        ("SPEAKER_1", "Was je erbij?"),
        ("SPEAKER_2", "Ja, vanaf het begin."),
        ("SPEAKER_1", "En de jongens?"),
        ("SPEAKER_2", "Die ook, allemaal."),
        ("SPEAKER_3", "Behalve Daan."),
        ("SPEAKER_2", "O ja, behalve Daan."),
    ]
    segments, clock = [], 0.0
    for number, (slot, text) in enumerate(lines):
        words = speak(text, clock, rate=13.0)
        segments.append(segment(number, words, slot))
        clock = words[-1].end + 0.15
    source = transcript(*segments, speakers={"SPEAKER_1": "Femke"})
    cues = cut_cues(source)
    expected = ["Femke", "Spreker 2", "Femke", "Spreker 2", "Spreker 3", "Spreker 2"]
    assert [cue.speaker for cue in cues] == expected
    assert check_cues(cues) == []
    assert_caption_rules(cues, source)
    assert_speakers_separate(cues, source)


def test_word_level_speakers_split_a_segment() -> None:
    words = speak("Klopt dat? Ja, dat klopt helemaal.", 0.0)
    for word in words[:2]:
        word.speaker = "SPEAKER_1"
    for word in words[2:]:
        word.speaker = "SPEAKER_2"
    source = transcript(Segment(0, 0.0, words[-1].end, "".join(w.text for w in words), words))
    cues = cut_cues(source)
    assert [(c.speaker, c.text) for c in cues] == [
        ("Spreker 1", "Klopt dat?"),
        ("Spreker 2", "Ja, dat klopt helemaal."),
    ]


def test_rapid_one_word_turns_keep_the_minimum_duration() -> None:
    segments, clock = [], 0.0
    for number in range(8):
        word = "Ja." if number % 2 == 0 else "Nee."
        words = [Word(round(clock, 3), round(clock + 0.25, 3), " " + word)]
        segments.append(segment(number, words, f"SPEAKER_{number % 2 + 1}"))
        clock += 0.35
    source = transcript(*segments)
    cues = cut_cues(source)
    assert len(cues) == 8  # a speaker change always starts a new cue
    assert check_cues(cues) == []
    assert_caption_rules(cues, source)
    # Starts are delayed only as far as the previous cue's minimum duration needs.
    for cue, previous in zip(cues[1:], cues):
        assert cue.start == pytest.approx(max(cue.speech_start, previous.start + 0.834), abs=MS)


def test_long_pause_ends_a_cue() -> None:
    words = speak("Even denken.", 0.0) + speak("Ja, zo was het.", 3.0)
    source = transcript(segment(0, words, "SPEAKER_1"))
    cues = cut_cues(source)
    assert [cue.text for cue in cues] == ["Even denken.", "Ja, zo was het."]
    assert cues[0].end <= cues[0].speech_end + END_DELAY + MS
    assert_caption_rules(cues, source)


def test_small_gaps_are_closed_and_larger_ones_kept() -> None:
    # Short sentences with 0.3 s pauses: gaps must become <= 2 frames or >= 0.5 s.
    first = speak("Het buurthuis was leeg.", 0.0, rate=15.0)
    second = speak("Niemand kwam er nog.", first[-1].end + 0.3, rate=15.0)
    third = speak("Tot de koffiebar kwam.", second[-1].end + 1.2, rate=15.0)
    source = transcript(
        segment(0, first, "SPEAKER_1"),
        segment(1, second, "SPEAKER_2"),
        segment(2, third, "SPEAKER_1"),
    )
    cues = cut_cues(source)
    assert len(cues) == 3
    gaps = [b.start - a.end for a, b in zip(cues, cues[1:])]
    assert gaps[0] == pytest.approx(0.0, abs=MS)
    assert gaps[1] >= OPEN_GAP - MS
    assert_caption_rules(cues, source)


def test_overlong_words_and_urls_fit_the_line() -> None:
    url = "https://www.movisie.nl/publicatie/wij-in-de-wijk-boefjes-en-baristas-den-bosch"
    compound = "buurtbewonersparticipatieondersteuningsprogramma's"
    source = monologue(f"Kijk op {url} voor de {compound} van de gemeente.")
    cues = cut_cues(source)
    assert check_cues(cues) == []
    assert_caption_rules(cues, source)
    shown = "".join("".join(cue.lines) for cue in cues)
    assert url in shown.replace(" ", "")


def test_label_room_is_reserved_for_a_long_name() -> None:
    source = transcript(
        segment(0, speak("Ja, ik was erbij vanaf de eerste dag.", 0.0), "SPEAKER_1"),
        speakers={"SPEAKER_1": "Marieke van der Heijden-Smit"},
    )
    cues = cut_cues(source)
    label = turn_label("Marieke van der Heijden-Smit")
    assert label == "Marieke: "
    assert len(label + cues[0].lines[0]) <= MAX_LINE
    assert_caption_rules(cues, source)


def test_segment_without_words_is_spread_by_characters() -> None:
    text = " De jongens heten Ahmed, Joep en Daan. Ze zijn nu barista."
    corrected = Segment(0, 10.0, 16.0, text, speaker="SPEAKER_2")
    music = Segment(1, 20.0, 50.0, " [muziek]")
    source = transcript(corrected, music)
    cues = cut_cues(source)
    assert check_cues(cues) == []
    assert_caption_rules(cues, source)
    assert cues[0].start == pytest.approx(10.0) and cues[-2].speech_end == pytest.approx(16.0)
    assert cues[-1].lines == ["[muziek]"] and cues[-1].start == pytest.approx(20.0)
    assert cues[-1].end - cues[-1].start == pytest.approx(MAX_DURATION)


def test_corrected_text_wins_over_stale_words() -> None:
    words = speak("De jongen heet Amed.", 0.0)
    stale = Segment(0, 0.0, words[-1].end, " De jongens heten Ahmed.", words, "SPEAKER_1")
    assert [cue.text for cue in cut_cues(transcript(stale))] == ["De jongens heten Ahmed."]


def test_arrow_and_escapable_text_are_made_caption_safe() -> None:
    source = monologue("Koffie & thee --> <gratis> voor iedereen.")
    cues = cut_cues(source)
    assert "".join(cue.text for cue in cues) == "Koffie & thee → <gratis> voor iedereen."


def test_no_line_break_after_function_words() -> None:
    text = (
        "Ik denk dat de mensen in de wijk het vooral belangrijk vonden dat ze met de jongens "
        "konden praten over hun eigen buurt"
    )
    cues = cut_cues(monologue(text, rate=12.0))
    for cue in cues:
        for line in cue.lines[:-1]:
            assert line.split()[-1].lower() not in NO_BREAK_AFTER


def test_no_break_list_has_the_standard_words() -> None:
    required = (
        "de het een van op met te en maar dat ik hij zij ze we wij je jij u in aan bij voor naar "
        "om uit over door tot als of want dus omdat die dit deze"
    )
    assert set(required.split()) <= NO_BREAK_AFTER


def test_empty_transcript_gives_no_cues() -> None:
    assert cut_cues(Transcript("nl", [], provenance())) == []


def test_rules_are_the_standard() -> None:
    rules = DEFAULT_RULES
    assert (rules.max_line_chars, rules.max_lines, rules.max_cps) == (MAX_LINE, MAX_LINES, MAX_CPS)
    assert (rules.min_duration, rules.max_duration) == (MIN_DURATION, MAX_DURATION)
    assert rules.max_closed_gap == pytest.approx(CLOSED_GAP)
    assert (rules.min_open_gap, rules.max_end_delay) == (OPEN_GAP, END_DELAY)


def test_other_rules_are_honoured() -> None:
    narrow = CaptionRules(max_line_chars=32)
    text = "Het is een prachtig initiatief dat laat zien wat er mogelijk is in een wijk."
    cues = cut_cues(monologue(text), narrow)
    assert all(len(line) <= 32 for cue in cues for line in cue.lines)
    assert check_cues(cues, narrow) == []


# --- property: random word streams break no rule ------------------------------------------

VOCABULARY = (
    "de het een van op met te en maar dat ik hij zij we je u in aan bij voor naar om die deze "
    "buurt wijk koffie jongens bewoners samen gewoon eigenlijk natuurlijk gemeente buurthuis "
    "vrijwilligers ontmoeting Kruiskamp Den Bosch Fatima Kees ja nee nou oké. klopt, precies. "
    "vertrouwen! waarom? sociale samenhang, wijkagent. koffiebar: [gelach] & <tag> --> "
    "buurtbewonersparticipatieondersteuningsprogramma "
    "https://www.movisie.nl/wij-in-de-wijk/boefjes-en-baristas"
).split()

StreamWord = tuple[str, float, float, str | None, int]


def stream_transcript(stream: list[StreamWord]) -> Transcript:
    segments: list[Segment] = []
    clock, words, speaker = 0.0, [], stream[0][3]
    for text, duration, gap, slot, new in stream:
        clock += gap
        if words and (new == 0 or slot != speaker):
            segments.append(segment(len(segments), words, speaker))
            words = []
        speaker = slot
        words.append(Word(round(clock, 3), round(clock + duration, 3), " " + text))
        clock += duration
    segments.append(segment(len(segments), words, speaker))
    return transcript(*segments, speakers={"SPEAKER_2": "Marieke van der Heijden-Smit"})


if st is not None:
    word_stream = st.lists(
        st.tuples(
            st.sampled_from(VOCABULARY),
            st.floats(0.04, 1.5),  # word duration
            st.one_of(st.just(0.0), st.floats(0.0, 0.3), st.floats(0.3, 3.0)),  # gap before it
            st.sampled_from([None, "SPEAKER_1", "SPEAKER_2", "SPEAKER_3"]),
            st.integers(0, 9),  # 0: start a new segment here
        ),
        min_size=1,
        max_size=120,
    )

    @settings(
        max_examples=400,
        deadline=None,
        database=None,  # no example database kept between runs
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(word_stream)
    def test_random_word_streams_break_no_rule(stream: list[StreamWord]) -> None:
        source = stream_transcript(stream)
        cues = cut_cues(source)
        assert check_cues(cues) == []
        assert_caption_rules(cues, source)
        assert_reading_speed_justified(cues)
        assert_speakers_separate(cues, source)

else:

    def test_random_word_streams_break_no_rule() -> None:
        pytest.skip("hypothesis is not installed: it is in the [test] extra")


# --- check_cues fires on every broken rule ------------------------------------------------


def good(start: float = 0.0, lines: list[str] | None = None, speaker: str | None = None) -> Cue:
    return Cue(start, start + 2.0, lines or ["Goedemiddag allemaal."], speaker)


BAD_CUES: dict[str, tuple[list[Cue], str]] = {
    "line too long": (
        [Cue(62.3, 65.0, ["x" * 45])],
        "cue 1 (00:01:02.300): line 1 has 45 characters > 42",
    ),
    "three lines": ([Cue(0, 3, ["Een", "twee", "drie"])], "has 3 lines > 2"),
    "too short": ([Cue(0, 0.5, ["Ja."])], "lasts 0.500 s < 0.833 s"),
    "too long": ([Cue(0, 7.5, ["Dat was het."])], "lasts 7.500 s > 7 s"),
    "ends before start": ([Cue(5, 4, ["Oei."])], "ends before it starts"),
    "zero duration": ([Cue(5, 5, ["Oei."])], "zero duration"),
    "goes backwards": (
        [good(10.0), good(5.0)],
        "cue 2 (00:00:05.000): starts before the previous cue",
    ),
    "overlap": ([good(0.0), good(1.5)], "overlaps the previous cue by 0.500 s"),
    "small gap": ([good(0.0), good(2.2)], "gap of 0.200 s"),
    "break after article": ([Cue(0, 3, ["Ik zag de", "jongens daar."])], "line 1 ends with 'de'"),
    "break after pronoun": ([Cue(0, 3, ["Toen zei hij", "dat kon."])], "line 1 ends with 'hij'"),
    "arrow in text": ([Cue(0, 3, ["a --> b"])], "contains '-->'"),
    "blank line": ([Cue(0, 3, ["Hallo", ""])], "line 2 is blank"),
    "no text": ([Cue(0, 3, [])], "has no text"),
    "lingers after speech": (
        [Cue(0, 3.0, ["Ja."], speech_start=0.0, speech_end=0.4)],
        "ends 2.600 s after its speech",
    ),
    "starts late": ([Cue(1.0, 3.0, ["Ja."], speech_start=0.5, speech_end=2.0)], "starts +0.500 s"),
    "starts early": ([Cue(0.0, 3.0, ["Ja."], speech_start=0.5, speech_end=2.0)], "starts -0.500 s"),
}


@pytest.mark.parametrize("name", BAD_CUES)
def test_check_cues_detects(name: str) -> None:
    cues, expected = BAD_CUES[name]
    problems = check_cues(cues)
    assert any(expected in problem for problem in problems), problems


def test_check_cues_accepts_good_cues() -> None:
    cues = [
        good(0.0, ["Ik zag de jongens", "daar staan."]),
        good(2.0),  # chained: gap 0
        good(4.08),  # gap of exactly 2 frames
        good(6.58),  # gap of exactly 0.5 s
        Cue(9.08, 9.08 + 5 / 6, ["Ja."]),
        Cue(10.5, 17.5, ["Zeven seconden, dat mag."]),
        Cue(20.0, 21.5, ["Ik zeg: dus,", "verder?"]),  # punctuation after a function word is fine
    ]
    assert find_violations(cues) == []


def test_reading_speed_is_a_warning_only() -> None:
    fast = [Cue(0, 1.0, ["Dit is te veel tekst voor één seconde."])]
    assert check_cues(fast) == []
    assert reading_speed_warnings(fast) == [
        "warning: cue 1 (00:00:00.000): reading speed 38.0 characters/s > 17"
    ]
    assert check_cues(fast, warnings=True) == reading_speed_warnings(fast)
    assert [v.rule for v in find_violations(fast)] == ["reading-speed"]
    assert reading_speed_warnings([Cue(0, 3.0, ["Een tekst van 40 tekens, rustig gelezen."])]) == []


# --- parsing ------------------------------------------------------------------------------

HAND_EDITED_VTT = """\ufeffWEBVTT - Wij in de Wijk

STYLE
::cue(v[voice="Fatima"]) { color: yellow }

NOTE
Gecorrigeerd door een redacteur.

intro
00:00.000 --> 00:02.500 line:90% align:center
<v Fatima>Welkom bij <i>Wij in de Wijk</i>.
Koffie &amp; thee &lt;gratis&gt;

NOTE een opmerking tussen de cues

00:00:02.500 --> 00:00:05.000
<v.loud Kees van Dijk>Dank je.</v>

01:00:00.000 --> 01:00:03.000
Zonder spreker, met <c.yellow>klasse</c> en <00:00:00.500>tijd.
"""


def test_parse_vtt_reads_a_hand_edited_file() -> None:
    cues = parse_vtt(HAND_EDITED_VTT.replace("\n", "\r\n"))
    assert cues == [
        Cue(0.0, 2.5, ["Welkom bij Wij in de Wijk.", "Koffie & thee <gratis>"], "Fatima"),
        Cue(2.5, 5.0, ["Dank je."], "Kees van Dijk"),
        Cue(3600.0, 3603.0, ["Zonder spreker, met klasse en tijd."]),
    ]


T1 = "00:00:00.000 --> 00:00:01.000"
T2 = "00:00:01.000 --> 00:00:02.000"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"WEBVT\n\n{T1}\nHoi\n", "line 1: a WebVTT file starts with 'WEBVTT'"),
        (f"WEBVTT\n{T1}\nHoi\n", "line 2: the 'WEBVTT' header"),
        ("WEBVTT\n\n00:00:00,000 --> 00:00:01,000\nHoi\n", "line 3: malformed cue timing"),
        (f"WEBVTT\n\n{T1}\nHoi\n{T2}\nDag\n", "line 5: '-->' in cue text"),
        (f"WEBVTT\n\n{T1}\nHoi\n\nlos\nstuk tekst\n", "line 7: expected a cue timing line"),
        (f"WEBVTT\n\n{T1}\nHoi\n\nSTYLE\n::cue {{}}\n", "line 6: STYLE block after the first cue"),
        ("WEBVTT\n\n00:00:00.000 --> 00:00:61.000\nHoi\n", "line 3: malformed cue timing"),
    ],
)
def test_parse_vtt_rejects_malformed_input(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_vtt(text)


HAND_EDITED_SRT = """\ufeff1
00:00:00,000 --> 00:00:02,500
Fatima: <i>Welkom</i> bij Wij in de Wijk.
Koffie & thee.

2
00:00:02,500 --> 00:00:05,000
{\\an8}Dank je.


3
01:00:00.000 --> 01:00:03,5
Tijd met een punt en één decimaal.
"""


def test_parse_srt_reads_a_hand_edited_file() -> None:
    cues = parse_srt(HAND_EDITED_SRT.replace("\n", "\r\n"), strict=True)
    assert cues == [
        Cue(0.0, 2.5, ["Fatima: Welkom bij Wij in de Wijk.", "Koffie & thee."]),
        Cue(2.5, 5.0, ["Dank je."]),
        Cue(3600.0, 3603.5, ["Tijd met een punt en één decimaal."]),
    ]


S1 = "00:00:00,000 --> 00:00:01,000"
S2 = "00:00:01,000 --> 00:00:02,000"


@pytest.mark.parametrize(
    ("text", "strict", "message"),
    [
        (f"een\n{S1}\nHoi\n", False, "line 1: expected a cue number"),
        ("1\n00:00:00 --> 00:00:01,000\nHoi\n", False, "line 2: malformed cue timing"),
        ("1\n", False, "line 2: expected a cue timing line"),
        (f"1\n{S1}\nHoi\n\n3\n{S2}\nDag\n", True, "line 5: cue number 3, expected 2"),
        (f"1\n{S1}\nHoi\n2\n{S2}\n", False, "line 5: '-->' in cue text"),
    ],
)
def test_parse_srt_rejects_malformed_input(text: str, strict: bool, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_srt(text, strict=strict)


def test_parse_srt_tolerates_renumbering_unless_strict() -> None:
    text = "5\n00:00:00,000 --> 00:00:01,000\nHoi\n"
    assert parse_srt(text)[0].lines == ["Hoi"]


def test_format_timestamp() -> None:
    assert format_timestamp(0) == "00:00:00.000"
    assert format_timestamp(3723.4567) == "01:02:03.457"
    assert format_timestamp(59.9996, ",") == "00:01:00,000"
    assert format_timestamp(-1) == "00:00:00.000"

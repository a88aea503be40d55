"""Glossary: primes the decoder and fixes near-miss spellings, conservatively."""

from __future__ import annotations

from pipeline.model import Segment, Word
from pipeline.transcribe.glossary import decoder_prompt, fix_spelling, term_accuracy

TERMS = [
    "Wij in de Wijk", "opbouwwerker", "Movisie", "Kijk in de Kernen", "kneuterigheid", "Voorst",
]  # fmt: skip


def words_segment(*tokens: tuple[str, float, float]) -> Segment:
    words = [Word(start=s, end=e, text=t, probability=0.9) for t, s, e in tokens]
    text = "".join(t for t, _, _ in tokens)
    return Segment(id=0, start=words[0].start, end=words[-1].end, text=text, words=words)


def test_prompt_lists_the_terms() -> None:
    assert decoder_prompt(TERMS[:2]) == "Wij in de Wijk, opbouwwerker."
    assert decoder_prompt([]) is None
    assert decoder_prompt([" "]) is None
    assert len(decoder_prompt(["opbouwwerker"] * 500) or "") <= 400


def test_split_compound_is_joined_with_timings_kept() -> None:
    segment = words_segment(
        (" De", 0.0, 0.2), (" opbouw", 0.2, 0.6), (" werker", 0.6, 1.0), (" helpt.", 1.0, 1.4)
    )
    [fixed] = fix_spelling([segment], TERMS)
    assert fixed.text == " De opbouwwerker helpt."
    assert [(w.text, w.start, w.end) for w in fixed.words] == [
        (" De", 0.0, 0.2), (" opbouwwerker", 0.2, 1.0), (" helpt.", 1.0, 1.4),
    ]  # fmt: skip


def test_near_miss_and_case_are_fixed_but_neighbours_kept() -> None:
    segment = words_segment(
        (" De", 0.0, 0.2), (" opbouwerker", 0.2, 0.9), (" van", 0.9, 1.0), (" movisie,", 1.0, 1.5)
    )
    [fixed] = fix_spelling([segment], TERMS)
    assert fixed.text == " De opbouwwerker van Movisie,"
    assert len(fixed.words) == 4


def test_multi_word_term_maps_word_by_word() -> None:
    segment = words_segment(
        (" kijk", 0.0, 0.3), (" in", 0.3, 0.4), (" de", 0.4, 0.5), (" kernen.", 0.5, 1.0)
    )
    [fixed] = fix_spelling([segment], TERMS)
    assert [(w.text, w.start) for w in fixed.words] == [
        (" Kijk", 0.0), (" in", 0.3), (" de", 0.4), (" Kernen.", 0.5),
    ]  # fmt: skip


def test_text_only_segment() -> None:
    segment = Segment(id=0, start=0.0, end=2.0, text=" Dat voelt als knutterigheid.")
    [fixed] = fix_spelling([segment], TERMS)
    assert fixed.text == " Dat voelt als kneuterigheid."


def test_conservative_no_change() -> None:
    texts = [
        " Voorts gaan we naar huis.",  # a real word close to "Voorst"
        " De opbouwwerker en Movisie.",  # already right
        " Wij in de wijkraad.",  # longer than the term
        " Het is een mooie wijk.",
    ]
    segments = [Segment(id=i, start=0.0, end=1.0, text=t) for i, t in enumerate(texts)]
    assert [s.text for s in fix_spelling(segments, TERMS)] == texts


def test_short_terms_are_not_used_for_fixing() -> None:
    segment = Segment(id=0, start=0.0, end=1.0, text=" Hij woont in Edam.")
    assert fix_spelling([segment], ["Ede"])[0].text == " Hij woont in Edam."


def test_term_accuracy() -> None:
    reference = "De opbouwwerker van Movisie. De opbouwwerker!"
    assert term_accuracy("de opbouw werker van movisie de opbouwwerker", reference, TERMS) == (2, 3)


def test_sound_alike_names_are_respelled_but_common_words_are_not():
    from pipeline.model import Segment
    from pipeline.transcribe.glossary import fix_spelling

    segments = [Segment(id=0, start=0.0, end=4.0, text=" Vandaag zijn we in Forst, een dorp."),
                Segment(id=1, start=4.0, end=8.0, text=" Het was koud, er lag vorst op het gras.")]
    fixed = fix_spelling(segments, ["Voorst"])
    assert fixed[0].text == " Vandaag zijn we in Voorst, een dorp."
    assert fixed[1].text == segments[1].text

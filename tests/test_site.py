"""The transcript site, without a browser: pages, escaping, anchors, links, incremental writes.

Episodes and transcripts are built in memory (no Whisper), written as a site under tmp_path with
the real render_site, and read back with lxml. `crafted_site` is also used by the browser tests.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import http.client
import json
import shutil
import types
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from conftest import ARCHIVE_YAML
from lxml import html as lxml_html

from pipeline.archive import ArchiveConfig, load_archive
from pipeline.model import (
    Chapter,
    Episode,
    MediaInfo,
    Provenance,
    Segment,
    Tag,
    Transcript,
    Word,
)
from pipeline.publish.layout import SiteLayout
from pipeline.publish.site import pages as site_pages
from pipeline.publish.site import relative_url, render_site, segment_anchors, views
from pipeline.publish.site import writer as site_writer
from pipeline.publish.site.writer import SiteResult
from pipeline.serve import MIME_TYPES, parse_range, serve_in_background
from pipeline.text import clock, dutch_list
from pipeline.transcribe.stage import ArchiveTranscripts
from pipeline.transcripts.source import TranscriptsInMemory
from pipeline.transcripts.store import ReadingCopies, TranscriptStore

SCRIPT = "<script>window.__xss = 1</script>"
ONERROR = '<img src=x onerror="window.__xss = 2">'
EVIL_TITLE = f"Aflevering {SCRIPT} met {ONERROR}"
EVIL_TEXT = f"Zij zei {SCRIPT} en {ONERROR} toen."



def _provenance(status: str = "machine") -> Provenance:
    return Provenance(engine="faster-whisper", model="base", model_sha256=None, settings={},
                      audio_hash="0" * 64, created="2024-05-01T10:00:00+00:00", status=status,
                      corrected="2024-06-02T09:00:00+00:00" if status == "corrected" else None)


def _media(size: int = 2_000_000, video: bool = False) -> MediaInfo:
    return MediaInfo(duration=125.0, size=size, mime_type="video/mp4" if video else "audio/mpeg",
                     container="mp4" if video else "mp3", audio_hash="0" * 64, has_video=video)


def _words(text: str, start: float, end: float, speakers: list[str | None]) -> list[Word]:
    tokens = text.split()
    step = (end - start) / len(tokens)
    return [Word(start + i * step, start + (i + 1) * step, " " + token, 0.9, speakers[i])
            for i, token in enumerate(tokens)]


def conversation() -> Transcript:
    """Two named speakers, a change of speaker inside a segment, a cue, a flagged segment."""
    segments = [
        Segment(0, 0.0, 4.2, " Welkom bij Wij in de Wijk.", speaker="SPEAKER_1"),
        Segment(1, 4.2, 9.0, " Vandaag praten we over Kijk in de Kernen in Voorst.",
                speaker="SPEAKER_1"),
        Segment(2, 9.5, 12.0, " [muziek]"),
        Segment(3, 12.5, 18.0, " Dank je. Het digitale dorpsplein verbindt de dorpen.",
                speaker="SPEAKER_2"),
        Segment(4, 18.4, 18.9, " Ja.", speaker="SPEAKER_2"),  # same second as the next one
        Segment(5, 18.9, 24.0, " Mooi zo. En wat heb je nodig?",
                words=_words("Mooi zo. En wat heb je nodig?", 18.9, 24.0,
                             ["SPEAKER_2", "SPEAKER_2", "SPEAKER_1", "SPEAKER_1", "SPEAKER_1",
                              "SPEAKER_1", "SPEAKER_1"])),
        Segment(6, 25.0, 29.0, " Ondertiteld door de Amara.org gemeenschap",
                flags=["blocklist"]),
        Segment(7, 95.2, 101.0, f" Een opbouwwerker die iedereen kent. (gelach) {EVIL_TEXT}",
                speaker="SPEAKER_2"),
    ]
    speakers = {"SPEAKER_1": "Lou Repetur", "SPEAKER_2": f"Chris {SCRIPT}"}
    return Transcript("nl", segments, _provenance(), speakers)


def crafted_tags(slug: str) -> list[Tag]:
    """The tags of a crafted episode: the conversation (and its copies, gesprek-N) or the video."""
    if slug.startswith("gesprek"):
        return [
            Tag("case", "b2-voorst-kijk-in-de-kernen", 0.9, 4.2, 18.0,
                "Kijk in de Kernen … Voorst", [1, 3]),
            Tag("lesson", "b1-l2", 0.8, 95.2, 101.0, "opbouwwerker", [7]),
            Tag("case", "b2-voorst-kijk-in-de-kernen", 1.0, 0.0, 101.0, "", [], "editor"),
        ]
    return [Tag("case", "b4-zaandam-choku-gym", 0.9, 0.0, 3.0, "Choku Gym", [0])]


def render_crafted(root: Path, config: ArchiveConfig, episodes: list[Episode],
                   transcripts: dict[str, Transcript], layout: SiteLayout,
                   **options: Any) -> SiteResult:
    """render_site on crafted transcripts held in memory, with their tags."""
    tags = {slug: crafted_tags(slug) for slug in transcripts}
    return render_site(root, config, episodes, TranscriptsInMemory(transcripts), layout, tags,
                       **options)


def video_transcript() -> Transcript:
    segments = [Segment(0, 0.0, 3.0, " Dit is Choku Gym in Poelenburg.", speaker="SPEAKER_1"),
                Segment(1, 3.0, 6.5, " Karate en boksen voor kinderen.", speaker="SPEAKER_1")]
    return Transcript("nl", segments, _provenance("corrected"), {"SPEAKER_1": "Ivan Nikolov"})


def crafted_episodes(root: Path) -> list[Episode]:
    episodes = root / "episodes"
    return [
        Episode(slug="gesprek", guid="g-1", kind="audio", title=EVIL_TITLE,
                source=episodes / "gesprek.mp3", media=_media(), description=EVIL_TEXT,
                date=dt.datetime(2024, 5, 1, 12, tzinfo=dt.timezone.utc), season=1, episode=1,
                speakers=["Lou Repetur", f"Chris {SCRIPT}"], cases=["b2-voorst-kijk-in-de-kernen"],
                chapters=[Chapter(0.0, "Welkom"), Chapter(12.5, f"Het dorpsplein {ONERROR}")],
                duration=125.0),
        Episode(slug="choku", guid="g-2", kind="video", title="Choku Gym", source=episodes / "choku.mp4",
                media=_media(500_000, video=True), description="Een korte film.",
                date=dt.datetime(2024, 6, 1, 12, tzinfo=dt.timezone.utc), duration=6.5),
        Episode(slug="oude-bieb", guid="g-3", kind="video", title="De Oude Bieb", source=None,
                description="Een film die elders staat.", video_url="https://www.movisie.nl/film",
                duration=240.0, date=dt.datetime(2022, 11, 10, 12, tzinfo=dt.timezone.utc),
                cases=["b3-groningen-de-oude-bieb"]),
    ]


def crafted_site(root: Path) -> tuple[Path, list[Episode], dict[str, Transcript]]:
    """An archive at `root` with a rendered site/: returns (site folder, episodes, transcripts).

    Media and transcript files are stand-ins (the site links to them; nothing plays them here).
    """
    (root / "episodes" / "artwork").mkdir(parents=True, exist_ok=True)
    (root / "archive.yaml").write_text(ARCHIVE_YAML, encoding="utf-8")
    cover = Path(__file__).resolve().parent.parent / "episodes" / "artwork" / "wij-in-de-wijk.jpg"
    shutil.copy(cover, root / "episodes" / "artwork" / "cover.jpg")
    config = load_archive(root)
    layout = SiteLayout(root, config.base_url)
    episodes = crafted_episodes(root)
    transcripts = {"gesprek": conversation(), "choku": video_transcript()}
    for relative in (layout.cover(Path(config.image)), PurePosixPath("media/gesprek.mp3"),
                     PurePosixPath("media/choku.mp4"), PurePosixPath("feed.xml"),
                     *(layout.transcript(slug, ext) for slug in transcripts
                       for ext in ("txt", "vtt", "srt", "json"))):
        layout.path(relative).parent.mkdir(parents=True, exist_ok=True)
        layout.path(relative).write_bytes(b"stand-in")
    shutil.copy(cover, layout.path(layout.cover(Path(config.image))))
    render_crafted(root, config, episodes, transcripts, layout)
    return layout.folder, episodes, transcripts


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    folder, _, _ = crafted_site(tmp_path_factory.mktemp("site") / "archive")
    return folder


def parse(path: Path) -> lxml_html.HtmlElement:
    return parse_bytes(path.read_bytes())


def parse_bytes(html: bytes) -> lxml_html.HtmlElement:
    return lxml_html.fromstring(html)


def pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if "pagefind" not in p.parts)


# --- units ------------------------------------------------------------------------------------


def test_clock_and_relative_urls():
    assert clock(0) == "0:00" and clock(95.7) == "1:35" and clock(3723) == "1:02:03"
    page = PurePosixPath("afleveringen/x/index.html")
    assert relative_url(page, "media/x.mp3") == "../../media/x.mp3"
    assert relative_url(page, PurePosixPath("index.html")) == "../../"
    assert relative_url(page, PurePosixPath("afleveringen/x/index.html")) == "./"
    assert relative_url(PurePosixPath("index.html"), PurePosixPath("zoeken/index.html")) == "zoeken/"
    assert dutch_list(["A", "B", "C"]) == "A, B en C" and dutch_list(["A"]) == "A"


def test_anchors_are_whole_seconds_and_unique():
    segments = [Segment(0, 0.0, 1, "a"), Segment(1, 0.6, 1, "b"), Segment(2, 0.9, 1, "c"),
                Segment(3, 95.2, 96, "d")]
    assert segment_anchors(segments) == {0: "t-0", 1: "t-0-2", 2: "t-0-3", 3: "t-95"}


# --- the pages --------------------------------------------------------------------------------


def test_every_page_type_is_written(site):
    for relative in ("index.html", "afleveringen/index.html", "afleveringen/gesprek/index.html",
                     "afleveringen/choku/index.html", "afleveringen/oude-bieb/index.html",
                     "casussen/index.html", "casussen/b2-voorst-kijk-in-de-kernen/index.html",
                     "casussen/b3-groningen-de-oude-bieb/index.html", "lessen/index.html",
                     "lessen/b1-l2/index.html", "zoeken/index.html", "over/index.html",
                     "static/site.css", "static/site.js", "pagefind/shards.json"):
        assert (site / relative).is_file(), relative


def test_pages_are_dutch_with_a_policy_and_no_inline_script(site):
    for path in pages(site):
        doc = parse(path)
        assert doc.get("lang") == "nl", path
        policy = doc.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")
        assert policy and "script-src 'self'" in policy[0] and "unsafe-inline" not in policy[0]
        for script in doc.xpath("//script"):
            assert script.get("src") and not (script.text or "").strip(), path
        handlers = [(el.tag, a) for el in doc.iter() if isinstance(el.tag, str)
                    for a in el.attrib if a.lower().startswith("on")]
        assert handlers == [], path
        assert doc.xpath("string(//title)").strip(), path
        assert len(doc.xpath("//h1")) == 1, path
        assert doc.xpath("//a[@class='skip-link']/@href") == ["#inhoud"]


def test_metadata_and_transcript_text_are_escaped(site):
    """A title, description, speaker, chapter and segment with markup show it as text."""
    for relative in ("afleveringen/gesprek/index.html", "index.html", "afleveringen/index.html",
                     "casussen/b2-voorst-kijk-in-de-kernen/index.html", "lessen/b1-l2/index.html"):
        doc = parse(site / relative)
        assert [s.get("src") for s in doc.xpath("//script")] == [
            s for s in doc.xpath("//script/@src") if "static/site.js" in s]
        assert doc.xpath("//*[@onerror]") == [] and doc.xpath("//img[@src='x']") == []
        assert "window.__xss" in doc.text_content(), relative
    episode = parse(site / "afleveringen/gesprek/index.html")
    assert episode.xpath("string(//h1)") == EVIL_TITLE
    assert EVIL_TEXT in episode.xpath("string(//p[@class='lead'])")
    assert EVIL_TEXT in episode.xpath("string(//span[@id='t-95'])")
    raw = (site / "afleveringen/gesprek/index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;window.__xss = 1&lt;/script&gt;" in raw
    assert "<script>window" not in raw and "<img src=x" not in raw


def test_transcript_segments_have_anchors_that_seek_the_media(site):
    doc = parse(site / "afleveringen/gesprek/index.html")
    segments = doc.xpath("//div[@id='transcriptie']//span[contains(@class, 'seg')]")
    ids = [s.get("id") for s in segments]
    assert ids == ["t-0", "t-4", "t-9", "t-12", "t-18", "t-18-2", "t-95"]
    all_ids = doc.xpath("//@id")
    assert len(all_ids) == len(set(all_ids))
    for segment in segments:
        second = segment.get("id").split("-")[1]
        link = segment.xpath("./a[@class='ts']")[0]
        assert link.get("href") == f"../../media/gesprek.mp3#t={second}"
        assert float(segment.get("data-start")) // 1 == int(second)


def test_speaker_names_appear_at_every_change(site):
    doc = parse(site / "afleveringen/gesprek/index.html")
    transcript = doc.xpath("//div[@id='transcriptie']")[0]
    names = [s.text_content() for s in transcript.xpath(".//span[@class='speaker']")]
    chris = f"Chris {SCRIPT}:"
    assert names == ["Lou Repetur:", chris, "Lou Repetur:", chris]
    inline = transcript.xpath(".//span[@id='t-18-2']/span[@class='speaker']")
    assert [s.text_content() for s in inline] == ["Lou Repetur:"]  # a change inside a segment


def test_sound_cues_and_flagged_segments(site):
    doc = parse(site / "afleveringen/gesprek/index.html")
    cues = [c.text_content() for c in doc.xpath("//span[@class='cue']")]
    assert cues == ["[muziek]", "(gelach)"]
    flagged = doc.xpath("//details[@class='flagged']")
    assert len(flagged) == 1 and flagged[0].get("id") == "t-25"
    assert flagged[0].get("data-pagefind-ignore") is not None
    assert "Amara" in flagged[0].text_content() and "verdacht" in flagged[0].text_content()
    speech = " ".join(s.text_content() for s in doc.xpath("//span[contains(@class, 'seg')]"))
    assert "Amara" not in speech


def test_status_is_prominent_and_explained(site):
    machine = parse(site / "afleveringen/gesprek/index.html")
    box = machine.xpath("//section[contains(@class, 'status-machine')]")[0]
    assert "niet nagekeken" in box.text_content() and "fouten" in box.text_content()
    corrected = parse(site / "afleveringen/choku/index.html")
    box = corrected.xpath("//section[contains(@class, 'status-corrected')]")[0]
    assert "redacteur" in box.text_content() and "2 juni 2024" in box.text_content()
    home = parse(site / "index.html")
    assert home.xpath("//p[contains(@class, 'badge-machine')]")
    assert home.xpath("//p[contains(@class, 'badge-corrected')]")


def test_video_page_has_captions_with_speaker_names(site):
    doc = parse(site / "afleveringen/choku/index.html")
    track = doc.xpath("//video/track")[0]
    assert (track.get("kind"), track.get("srclang")) == ("captions", "nl")
    captions = (site / "afleveringen/choku" / track.get("src")).read_text(encoding="utf-8")
    assert captions.startswith("WEBVTT") and "Ivan Nikolov: Dit is Choku Gym" in captions


def test_metadata_only_video_links_to_where_it_lives(site):
    doc = parse(site / "afleveringen/oude-bieb/index.html")
    assert doc.xpath("//a[@href='https://www.movisie.nl/film']")
    assert "geen transcriptie" in doc.text_content()
    assert not doc.xpath("//video | //audio | //div[@id='transcriptie']")


def test_tags_link_to_their_moments(site):
    episode = parse(site / "afleveringen/gesprek/index.html")
    moments = episode.xpath("//section[@class='topics']//a[@class='moment']/@href")
    assert moments == ["#t-4", "#t-95"]
    case = parse(site / "casussen/b2-voorst-kijk-in-de-kernen/index.html")
    assert case.xpath("//a[@class='moment-link']/@href") == ["../../afleveringen/gesprek/#t-4"]
    assert "Vandaag praten we" in case.xpath("string(//blockquote)")
    elsewhere = parse(site / "casussen/b3-groningen-de-oude-bieb/index.html")
    assert elsewhere.xpath("//a[@href='../../afleveringen/oude-bieb/']")


def test_chapters_and_downloads(site):
    doc = parse(site / "afleveringen/gesprek/index.html")
    chapters = doc.xpath("//nav[@class='chapters']//a")
    assert [a.get("href") for a in chapters] == ["#t-0", "#t-12"]
    assert ONERROR in chapters[1].text_content()
    downloads = doc.xpath("//section[@class='downloads']//a/@href")
    assert downloads == ["../../media/gesprek.mp3"] + [
        f"../../transcripts/gesprek.{ext}" for ext in ("txt", "vtt", "srt", "json")]


def test_every_link_resolves(site):
    """Every relative href and src points at a file in the site; every #fragment exists."""
    for path in pages(site):
        doc = parse(path)
        ids = set(doc.xpath("//@id"))
        for link in doc.xpath("//@href | //@src"):
            parts = urlsplit(link)
            if parts.scheme or link.startswith("mailto:"):
                continue
            if not parts.path:
                assert parts.fragment in ids, (path, link)
                continue
            target = (path.parent / unquote(parts.path)).resolve()
            target = target / "index.html" if target.is_dir() else target
            assert target.is_file(), (path, link)
            if parts.fragment and target.suffix == ".html":
                assert parts.fragment in set(parse(target).xpath("//@id")), (path, link)


def test_search_index_covers_episode_pages_only(site):
    for path in pages(site):
        body = parse(path).xpath("//*[@data-pagefind-body]")
        assert bool(body) == (path.parent.parent.name == "afleveringen"), path
    shards = json.loads((site / "pagefind" / "shards.json").read_text())["shards"]
    assert shards and all((site / "pagefind" / s["name"] / "pagefind-entry.json").is_file()
                          for s in shards)


def site_files(folder: Path) -> dict[str, bytes]:
    """Every file of a site but the search index, by path."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and "pagefind" not in p.parts}


def test_pages_rendered_by_worker_processes_are_the_same_as_rendered_here(tmp_path):
    made = {}
    for workers in (1, 2):
        folder, episodes, transcripts = crafted_site(tmp_path / f"w{workers}" / "archive")
        root = folder.parent
        config = load_archive(root)
        shutil.rmtree(folder / "afleveringen")
        result = render_crafted(root, config, episodes, transcripts,
                                SiteLayout(root, config.base_url), workers=workers)
        assert not result.problems, result.problems
        made[workers] = site_files(folder)
    assert made[1].keys() == made[2].keys() and len(made[1]) > 15
    assert [name for name in made[1] if made[1][name] != made[2][name]] == []


def test_published_files_are_readable_by_a_web_server(site):
    for path in site.rglob("*"):
        if path.is_file():
            assert path.stat().st_mode & 0o044 == 0o044, path  # not mkstemp's 0600


def render_with_copies(folder: Path, episodes: list[Episode], transcripts: dict[str, Transcript],
                       count: int) -> None:
    """Render a crafted site again with `count` copies of its conversation, each a day newer
    than the last (its case, b2-voorst-kijk-in-de-kernen, grows long)."""
    root = folder.parent
    config = load_archive(root)
    [talk] = [e for e in episodes if e.slug == "gesprek"]
    more = [dataclasses.replace(talk, slug=f"gesprek-{n}", guid=f"g-copy-{n}",
                                date=talk.date + dt.timedelta(days=n + 1)) for n in range(count)]
    render_crafted(root, config, episodes + more,
                   {**transcripts, **{e.slug: transcripts["gesprek"] for e in more}},
                   SiteLayout(root, config.base_url))


def parted_site(root: Path) -> Path:
    """The crafted archive at `root` with five copies of its conversation and topics in parts of
    two: the case's page shows the newest two and links to casussen/<id>/deel-1/ and deel-2/."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(site_writer, "TOPIC_PART", 2)
        folder, episodes, transcripts = crafted_site(root)
        render_with_copies(folder, episodes, transcripts, 5)
    return folder


def test_a_long_topic_is_split_into_parts_and_older_parts_stay_as_they_are(tmp_path, monkeypatch):
    monkeypatch.setattr(site_writer, "TOPIC_PART", 2)
    folder, episodes, transcripts = crafted_site(tmp_path / "archive")

    def render(count: int) -> dict[str, bytes]:
        render_with_copies(folder, episodes, transcripts, count)
        topic = folder / "casussen" / "b2-voorst-kijk-in-de-kernen"
        return {str(p.relative_to(topic)): p.read_bytes() for p in sorted(topic.rglob("*.html"))}

    six = render(5)  # gesprek and five copies: the newest two on the page, then two parts
    assert sorted(six) == ["deel-1/index.html", "deel-2/index.html", "index.html"]

    def shown(html: bytes) -> list[str]:
        return parse_bytes(html).xpath("//article[@class='mention']//h2/a/@href")

    assert shown(six["index.html"]) == ["../../afleveringen/gesprek-4/",
                                        "../../afleveringen/gesprek-3/"]
    assert shown(six["deel-1/index.html"]) == ["../../../afleveringen/gesprek-0/",
                                               "../../../afleveringen/gesprek/"]
    front = parse_bytes(six["index.html"])
    assert front.xpath("//nav[@class='parts']//a/@href") == ["deel-2/", "deel-1/"]
    assert "6 afleveringen" in front.xpath("string(//p[@class='lead'])")

    seven = render(6)  # one more: only the topic's own page changes
    assert sorted(seven) == sorted(six)
    assert seven["deel-1/index.html"] == six["deel-1/index.html"]
    assert seven["deel-2/index.html"] == six["deel-2/index.html"]
    assert len(shown(seven["index.html"])) == 3

    render(0)  # back to one: the parts are gone
    assert not (folder / "casussen" / "b2-voorst-kijk-in-de-kernen" / "deel-1").exists()


def test_an_older_part_is_keyed_on_the_links_it_shows_not_on_how_many_parts_follow(tmp_path):
    """A topic passing another TOPIC_PART episodes gains a part: its own page lists them all,
    the part before the new one gains a link to it, and the parts before that keep their keys
    (so they are not made again), however many parts the topic has."""
    layout = SiteLayout(tmp_path, "https://example.org/")
    size = site_writer.TOPIC_PART

    def keys(count: int) -> dict[str, object]:
        class Listings:  # the topic's episodes by position, newest first: number `count` first
            def listed_digest(self, topic, span, *before):
                return [count - position for position in span], before

        made = {}
        writer = types.SimpleNamespace(layout=layout, page=lambda template, page, section, key,
                                       **context: made.__setitem__(str(page), key))
        topic = views.Topic("lesson", "x", "X", "Les", layout.lesson_page("x"),
                                  episode_count=count, listings=Listings())
        site_writer.render_topic(writer, topic, "site key")
        return made

    before, after = keys(4 * size - 1), keys(4 * size)
    assert sorted(before) == ["lessen/x/deel-1/index.html", "lessen/x/deel-2/index.html",
                              "lessen/x/index.html"]
    assert after["lessen/x/deel-1/index.html"] == before["lessen/x/deel-1/index.html"]
    assert after["lessen/x/deel-2/index.html"] != before["lessen/x/deel-2/index.html"]
    assert after["lessen/x/index.html"] != before["lessen/x/index.html"]
    assert "lessen/x/deel-3/index.html" in after


def test_second_render_writes_nothing_and_gone_episodes_are_removed(tmp_path):
    folder, episodes, transcripts = crafted_site(tmp_path / "archive")
    root = folder.parent
    config = load_archive(root)
    layout = SiteLayout(root, config.base_url)
    again = render_crafted(root, config, episodes, transcripts, layout)
    assert (again.written, again.removed, again.search_indexed) == (0, 0, False)
    assert again.unchanged > 15
    fewer = render_crafted(root, config, episodes[1:], transcripts, layout)
    assert not (folder / "afleveringen" / "gesprek").exists()
    assert not (folder / "lessen" / "b1-l2").exists()  # only that episode mentioned the lesson
    assert fewer.removed >= 2 and fewer.search_indexed


# --- wijk serve -------------------------------------------------------------------------------


def test_parse_range():
    assert parse_range("bytes=0-99", 1000) == (0, 99)
    assert parse_range("bytes=900-", 1000) == (900, 999)
    assert parse_range("bytes=-100", 1000) == (900, 999)
    assert parse_range("bytes=990-2000", 1000) == (990, 999)
    assert parse_range("bytes=1000-", 1000) is None
    assert parse_range("items=0-1", 1000) is None


def test_serve_gives_media_types_and_byte_ranges(tmp_path):
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "a.opus").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "a.vtt").write_text("WEBVTT\n", encoding="utf-8")
    server, url = serve_in_background(tmp_path)
    try:
        host, port = server.server_address[:2]
        connection = http.client.HTTPConnection(host, port, timeout=10)
        connection.request("GET", "/media/a.opus", headers={"Range": "bytes=10-19"})
        response = connection.getresponse()
        assert response.status == 206 and response.read() == bytes(range(10, 20))
        assert response.getheader("Content-Range") == "bytes 10-19/1024"
        assert response.getheader("Content-Type") == "audio/ogg"
        connection.request("GET", "/a.vtt")
        response = connection.getresponse()
        assert response.status == 200 and response.getheader("Content-Type").startswith("text/vtt")
        assert response.getheader("Accept-Ranges") == "bytes"
        response.read()
        connection.request("GET", "/media/a.opus", headers={"Range": "bytes=5000-"})
        response = connection.getresponse()
        assert response.status == 416
        response.read()
    finally:
        server.shutdown()
        server.server_close()
    for suffix in (".vtt", ".srt", ".opus", ".m4a", ".webm"):
        assert suffix in MIME_TYPES


def test_stale_files_go_and_emptied_folders_with_them(tmp_path):
    """What the build did not write under the site's own folders is removed, a folder at a
    time from the deepest; a symlinked folder is not entered; other folders are left."""
    from pipeline.fsutil import remove_temporaries
    layout = SiteLayout(tmp_path / "site", "https://example.org/")
    files = {"afleveringen/a/index.html": "kept", "afleveringen/b/index.html": "stale",
             "afleveringen/b/deel/2/index.html": "stale", "afleveringen/c/index.html": "kept",
             "afleveringen/c/oud.html": "stale", "casussen/x/index.html": "kept",
             "media/a.mp3": "not ours", "afleveringen/.index.html.1234.tmp": "half written"}
    for name, text in files.items():
        (layout.folder / name).parent.mkdir(parents=True, exist_ok=True)
        (layout.folder / name).write_text(text)
    (tmp_path / "elders").mkdir()
    (tmp_path / "elders" / "blijft.html").write_text("outside")
    (layout.folder / "lessen").mkdir()
    (layout.folder / "lessen" / "link").symlink_to(tmp_path / "elders")
    assert remove_temporaries(layout.folder) == 1
    keep = {name for name, text in files.items() if text == "kept"}
    assert site_writer.remove_stale(layout, keep) == 3
    left = sorted(str(p.relative_to(layout.folder)) for p in layout.folder.rglob("*"))
    assert left == ["afleveringen", "afleveringen/a", "afleveringen/a/index.html",
                    "afleveringen/c", "afleveringen/c/index.html", "casussen", "casussen/x",
                    "casussen/x/index.html", "lessen", "lessen/link", "media", "media/a.mp3"]
    assert (tmp_path / "elders" / "blijft.html").exists()


def bare_archive(root: Path) -> tuple[Path, ArchiveConfig, SiteLayout]:
    """An archive with its settings and cover only: (root, config, layout)."""
    (root / "episodes" / "artwork").mkdir(parents=True)
    (root / "episodes" / "artwork" / "cover.jpg").write_bytes(b"stand-in")
    (root / "archive.yaml").write_text(ARCHIVE_YAML, encoding="utf-8")
    config = load_archive(root)
    return root, config, SiteLayout(root, config.base_url)


def test_pages_are_made_from_a_reading_copy_that_shows_what_the_master_shows(tmp_path):
    """An episode page is made from its master's reading copy (words joined into runs of one
    speaker), made from the master the first time: the page is the same as one made from the
    master itself. A copy of another version of the master, or a damaged copy, is not used;
    a video page reads the master (its captions are cut by the words' timings)."""
    root, config, layout = bare_archive(tmp_path / "archive")
    gesprek, choku, _ = crafted_episodes(root)
    store = TranscriptStore(root)
    for episode, transcript in ((gesprek, conversation()), (choku, video_transcript())):
        store.save(episode, transcript, "key")
    transcripts = ArchiveTranscripts(store, [gesprek, choku])
    renderer = site_pages.PageRenderer(layout, config, transcripts, None)
    copies = ReadingCopies(root)

    def page(episode: Episode, master: str | None) -> bytes:
        transcripts.record(episode.slug, master)
        view = views.episode_view(layout, episode, None)
        renderer(site_pages.PagePlan(view, None, None, True, False, master))
        return layout.path(view.page).read_bytes()

    def digest(episode: Episode) -> str:
        return hashlib.sha256(store.master_path(episode.slug).read_bytes()).hexdigest()

    from_master = page(gesprek, None)
    assert not copies.folder.exists()
    assert page(gesprek, digest(gesprek)) == from_master  # the copy made from the master
    copy = copies.load("gesprek", digest(gesprek))
    assert copy is not None and [len(s.words) for s in copy.segments] == [0, 0, 0, 0, 0, 2, 0, 0]
    assert page(gesprek, digest(gesprek)) == from_master  # read from the copy
    (copies.folder / "gesprek.json").write_text("{damaged", encoding="utf-8")
    assert page(gesprek, digest(gesprek)) == from_master

    master = json.loads(store.master_path("gesprek").read_text(encoding="utf-8"))
    master["segments"][0]["text"] = " Welkom bij de verbeterde Wij in de Wijk."
    store.master_path("gesprek").write_text(json.dumps(master), encoding="utf-8")
    edited = page(gesprek, digest(gesprek))
    assert b"verbeterde" in edited and b"verbeterde" not in from_master
    assert copies.load("gesprek", digest(gesprek)).provenance.status == "corrected"

    page(choku, digest(choku))
    assert not (copies.folder / "choku.json").exists()
    copies.prune({"choku"})
    assert not (copies.folder / "gesprek.json").exists()

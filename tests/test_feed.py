"""The feed on the real demo archive: parsed by podcast clients' parsers, validated against the
podcast namespace's XSD, reproducible to the byte, and safe for any metadata.

The site tree is built here (`publish_site`), not by pipeline.publish.assets: media copied to
layout.media(...), small real caption/transcript files, the cover, chapters and some pages.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import io
import json
import shutil
from pathlib import Path

import feedparser
import podcastparser
import pytest
from lxml import etree

from pipeline.archive import ArchiveConfig, load_archive
from pipeline.cache.catalogue import Catalogue
from pipeline.cache.memo import BuildMemo
from pipeline.ingest.identity import feed_guid
from pipeline.ingest.scan import ingest
from pipeline.model import Chapter, Episode
from pipeline.publish import feed
from pipeline.publish.chapters import render_chapters, write_chapters
from pipeline.publish.feed import feed_title, render_feed, write_feed
from pipeline.publish.layout import FEED, SiteLayout

REPO = Path(__file__).resolve().parent.parent
SCHEMAS = Path(__file__).resolve().parent / "data" / "feed"
MEDIA = Path(__file__).resolve().parent / "data" / "media"
# The feed declares the podcast namespace by its GitHub URI, which every client must accept and
# podcastparser 0.6.11 requires; the XSD's targetNamespace is the other URI, which the spec makes
# identical, so the XSD tests move the elements into it before validating.
NS = {"itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
      "podcast": "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"}
PODCAST_NS = NS["podcast"]
XSD_NS = "https://podcastindex.org/namespace/1.0"

VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\n<v Lou Repetur>Welkom bij Wij in de Wijk.\n"
SRT = "1\n00:00:00,000 --> 00:00:02,000\nLou Repetur: Welkom bij Wij in de Wijk.\n"
JSON_TRANSCRIPT = {"version": "1.0.0", "segments": [
    {"speaker": "Lou Repetur", "startTime": 0.0, "endTime": 2.0,
     "body": "Welkom bij Wij in de Wijk."}]}


# --- building a site tree ----------------------------------------------------------------------


@dataclasses.dataclass
class Site:
    root: Path
    config: ArchiveConfig
    episodes: list[Episode]
    layout: SiteLayout

    @property
    def feed(self) -> Path:
        return self.layout.path(FEED)

    def tree(self) -> etree._ElementTree:
        return etree.parse(str(self.feed))

    def item(self, episode: Episode) -> etree._Element:
        [item] = self.tree().xpath("//item[guid=$guid]", guid=episode.guid)
        return item

    def episode(self, slug: str) -> Episode:
        return next(e for e in self.episodes if e.slug == slug)


def copy_demo(target: Path) -> Path:
    """The demo archive (archive.yaml + episodes/) under `target`."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "archive.yaml", target / "archive.yaml")
    shutil.copytree(REPO / "episodes", target / "episodes")
    return target


def publish_site(root: Path, pages: tuple[str, ...] = ("kijk-in-de-kernen",),
                 transcripts: bool = True) -> Site:
    """Ingest `root` and lay out its site/ as publish would; then write the feed."""
    config = load_archive(root)
    inventory = ingest(root, config)
    assert inventory.errors == []
    layout = SiteLayout(root, config.base_url)
    _copy(root / config.image, layout.path(layout.cover(Path(config.image))))
    for episode in inventory.episodes:
        if episode.source is not None:
            _copy(episode.source, layout.path(layout.media(episode)))
        for alternate in episode.alternates:
            _copy(alternate.path, layout.path(layout.media(episode, alternate)))
        if episode.image is not None:
            art = layout.episode_image(episode.slug, episode.image.suffix)
            _copy(episode.image, layout.path(art))
        if transcripts:
            write_transcripts(layout, episode.slug)
        if episode.slug in pages:
            page = layout.path(layout.episode_page(episode.slug))
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_text("<!doctype html><html lang=nl><title>t</title></html>\n", "utf-8")
        write_chapters(episode, layout)
    write_feed(config, inventory.episodes, layout)
    return Site(root, config, inventory.episodes, layout)


def write_transcripts(layout: SiteLayout, slug: str) -> None:
    texts = {"vtt": VTT, "srt": SRT, "txt": "Welkom bij Wij in de Wijk.\n",
             "json": json.dumps(JSON_TRANSCRIPT, ensure_ascii=False)}
    for extension, text in texts.items():
        path = layout.path(layout.transcript(slug, extension))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Site:
    return publish_site(copy_demo(tmp_path_factory.mktemp("demo") / "archive"))


@pytest.fixture(scope="session")
def podcast_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / "podcast-validate.xsd")))


def local(site: Site) -> list[Episode]:
    return [episode for episode in site.episodes if episode.source is not None]


# --- real clients' parsers ---------------------------------------------------------------------


def test_podcastparser_finds_every_episode(demo):
    parsed = podcastparser.parse(demo.layout.url(FEED), io.BytesIO(demo.feed.read_bytes()))
    assert parsed["title"] == "Wij in de Wijk"
    assert parsed["cover_url"] == demo.layout.url(demo.layout.cover(Path(demo.config.image)))
    by_guid = {episode["guid"]: episode for episode in parsed["episodes"]}
    assert set(by_guid) == {episode.guid for episode in local(demo)}
    for episode in local(demo):
        found = by_guid[episode.guid]
        assert found["title"] == episode.title
        assert found["total_time"] == round(episode.duration)
        assert found["published"] == int(episode.date.timestamp())
        [enclosure] = found["enclosures"]
        assert enclosure["url"] == demo.layout.url(demo.layout.media(episode))
        assert enclosure["file_size"] == episode.source.stat().st_size
        assert enclosure["mime_type"] == episode.media.mime_type


def test_podcastparser_reads_our_transcripts_and_chapters(demo):
    parsed = podcastparser.parse(demo.layout.url(FEED), io.BytesIO(demo.feed.read_bytes()))
    by_guid = {episode["guid"]: episode for episode in parsed["episodes"]}
    kernen = demo.episode("kijk-in-de-kernen")
    for episode in local(demo):
        if episode.slug != kernen.slug:
            # podcastparser keeps one podcast:transcript, the last: the HTML page, else the JSON.
            assert by_guid[episode.guid]["transcript_url"] == demo.layout.url(
                demo.layout.transcript(episode.slug, "json"))
    assert by_guid[kernen.guid]["transcript_url"] == demo.layout.episode_page_url(kernen.slug)
    assert by_guid[kernen.guid]["chapters_json_url"] == demo.layout.url(
        demo.layout.chapters(kernen.slug))


def test_feedparser_finds_every_episode(demo):
    parsed = feedparser.parse(demo.feed.read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.language == "nl"
    # (feedparser 6 reads itunes:explicit only as yes/clean: Apple's true/false comes out None.)
    by_guid = {entry.id: entry for entry in parsed.entries}
    assert set(by_guid) == {episode.guid for episode in local(demo)}
    for episode in local(demo):
        entry = by_guid[episode.guid]
        assert entry.title == episode.title
        assert entry.itunes_duration == str(round(episode.duration))
        assert entry.published_parsed is not None
        [enclosure] = entry.enclosures
        assert enclosure.href == demo.layout.url(demo.layout.media(episode))
        assert int(enclosure.length) == episode.source.stat().st_size
        assert enclosure.type == episode.media.mime_type
        assert entry.podcast_transcript["url"].startswith(demo.config.base_url)


def test_every_episode_links_each_transcript_format(demo):
    for episode in local(demo):
        transcripts = demo.item(episode).findall("podcast:transcript", NS)
        by_type = {t.get("type"): t for t in transcripts}
        expected = {"text/vtt", "application/x-subrip", "application/json"}
        if episode.slug == "kijk-in-de-kernen":  # the only one with a page in this site
            expected.add("text/html")
        assert set(by_type) == expected
        assert all(t.get("language") == "nl" for t in transcripts)
        assert by_type["text/vtt"].get("rel") == "captions"
        assert by_type["text/vtt"].get("url") == demo.layout.url(
            demo.layout.transcript(episode.slug, "vtt"))
        assert by_type["application/x-subrip"].get("rel") is None


def test_no_transcript_links_without_transcript_files(tmp_path):
    site = publish_site(copy_demo(tmp_path / "archive"), pages=(), transcripts=False)
    assert site.tree().findall(".//podcast:transcript", NS) == []


# --- the podcast namespace's XSD ---------------------------------------------------------------


def podcast_elements(tree: etree._ElementTree) -> etree._Element:
    """Every top-level podcast: element of channel and items, in the XSD wrapper's root."""
    wrapper = etree.Element(f"{{{XSD_NS}}}test-wrapper", nsmap={None: XSD_NS})
    for element in tree.xpath("/rss/channel/podcast:* | /rss/channel/item/podcast:*",
                              namespaces=NS):
        wrapper.append(copy.deepcopy(element))
    for element in wrapper.iter(f"{{{PODCAST_NS}}}*"):
        element.tag = f"{{{XSD_NS}}}{etree.QName(element).localname}"
    return wrapper


def test_podcast_elements_validate_against_the_namespace_xsd(demo, podcast_schema):
    wrapper = podcast_elements(demo.tree())
    names = {etree.QName(element).localname for element in wrapper}
    assert names == {"guid", "locked", "medium", "person", "funding", "transcript", "chapters"}
    assert podcast_schema.validate(wrapper), podcast_schema.error_log


def test_the_xsd_check_can_fail(demo, podcast_schema):
    wrapper = podcast_elements(demo.tree())
    wrapper.find(f"{{{XSD_NS}}}locked").text = "true"  # must be yes/no
    etree.SubElement(wrapper, f"{{{XSD_NS}}}madeUp")
    assert not podcast_schema.validate(wrapper)
    messages = str(podcast_schema.error_log)
    assert "locked" in messages and "madeUp" in messages


def test_podcast_guid_is_the_specs_uuid5():
    # The two examples in podcast-namespace docs/tags/guid.md.
    assert feed_guid("https://mp3s.nashownotes.com/pc20rss.xml") == (
        "917393e3-1b1e-5cef-ace4-edaa54e1f810")
    assert feed_guid("https://podnews.net/rss") == "9b024349-ccf0-5f69-a609-6b82873eab3c"


def test_channel_podcast_tags(demo):
    channel = demo.tree().find("channel")
    assert channel.findtext("podcast:guid", namespaces=NS) == feed_guid(
        "https://wijkarchief.example.org/feed.xml")
    locked = channel.find("podcast:locked", NS)
    assert (locked.text, locked.get("owner")) == ("yes", "podcast@example.org")
    assert channel.findtext("podcast:medium", namespaces=NS) == "podcast"
    hosts = [(p.get("role"), p.text) for p in channel.findall("podcast:person", NS)]
    assert hosts == [("host", name) for name in demo.config.hosts]
    [funding] = channel.findall("podcast:funding", NS)
    assert funding.get("url") == "https://www.movisie.nl/wijindewijk"
    assert funding.text == "Programma Sociaal Domein en VSBfonds"


def test_item_persons_restate_the_host_beside_the_guest(demo):
    kernen = demo.item(demo.episode("kijk-in-de-kernen"))
    persons = [(p.get("role"), p.text) for p in kernen.findall("podcast:person", NS)]
    assert persons == [("host", "Lou Repetur"), ("guest", "Chris Frencken")]
    # Without guests an item names nobody: the channel's hosts stand.
    plain = demo.item(demo.episode("krachtstation-kanaleneiland"))
    assert plain.findall("podcast:person", NS) == []


# --- Apple's tags ------------------------------------------------------------------------------


def test_channel_apple_tags(demo):
    channel = demo.tree().find("channel")
    assert channel.findtext("title") == "Wij in de Wijk"
    assert channel.findtext("language") == "nl"
    assert channel.findtext("link") == "https://www.movisie.nl/wijindewijk"
    assert len(channel.findtext("description").encode()) <= 4000
    assert channel.findtext("itunes:explicit", namespaces=NS) == "false"
    assert channel.findtext("itunes:author", namespaces=NS) == "Movisie"
    assert channel.findtext("itunes:owner/itunes:email", namespaces=NS) == "podcast@example.org"
    assert channel.findtext("itunes:type", namespaces=NS) == "episodic"
    assert channel.find("itunes:image", NS).get("href") == (
        "https://wijkarchief.example.org/images/cover.jpg")
    assert [c.get("text") for c in channel.findall("itunes:category", NS)] == [
        "Society & Culture", "Government"]
    assert channel.find("{http://www.w3.org/2005/Atom}link").get("href") == (
        "https://wijkarchief.example.org/feed.xml")
    # Reproducible: the build date is the newest episode's, not the clock's.
    assert channel.findtext("lastBuildDate") == "Thu, 10 Nov 2022 12:00:00 +0000"
    assert channel.findtext("generator") == "Wijkarchief"


def test_item_apple_tags(demo):
    episode = demo.episode("kijk-in-de-kernen")
    item = demo.item(episode)
    guid = item.find("guid")
    assert (guid.text, guid.get("isPermaLink")) == (episode.guid, "false")
    assert item.findtext("pubDate") == "Thu, 16 Sep 2021 12:00:00 +0000"
    assert item.findtext("itunes:duration", namespaces=NS) == "47"
    assert item.findtext("itunes:episode", namespaces=NS) == "4"
    assert item.findtext("itunes:season", namespaces=NS) == "1"
    assert item.findtext("itunes:episodeType", namespaces=NS) == "full"
    assert item.findtext("itunes:explicit", namespaces=NS) == "false"
    assert item.find("itunes:image", NS).get("href") == (
        "https://wijkarchief.example.org/images/kijk-in-de-kernen.jpg")
    assert item.findtext("link") == (
        "https://wijkarchief.example.org/afleveringen/kijk-in-de-kernen/")
    chapters = item.find("podcast:chapters", NS)
    assert chapters.get("type") == "application/json+chapters"
    assert chapters.get("url") == "https://wijkarchief.example.org/chapters/kijk-in-de-kernen.json"
    enclosure = item.find("enclosure")
    assert enclosure.attrib == {
        "url": "https://wijkarchief.example.org/media/kijk-in-de-kernen.mp3",
        "length": "312131", "type": "audio/mpeg"}
    # An episode without sidecar number or page gets neither tag.
    video = demo.item(demo.episode("choku-gym-poelenburg"))
    assert video.find("itunes:episode", NS) is None and video.find("link") is None


def test_explicit_is_true_or_false(tmp_path):
    root = copy_demo(tmp_path / "archive")
    yaml = root / "archive.yaml"
    yaml.write_text(yaml.read_text("utf-8").replace("explicit: false", "explicit: true"), "utf-8")
    sidecar = root / "episodes" / "krachtstation-kanaleneiland.yaml"
    sidecar.write_text(sidecar.read_text("utf-8") + "explicit: true\n", "utf-8")
    site = publish_site(root)
    assert site.tree().findtext("channel/itunes:explicit", namespaces=NS) == "true"
    values = {item.findtext("title"): item.findtext("itunes:explicit", namespaces=NS)
              for item in site.tree().iter("item")}
    assert values["Krachtstation Kanaleneiland: samen courgettes zaaien"] == "true"
    assert set(values.values()) == {"true", "false"}


@pytest.mark.parametrize(("title", "number", "expected"), [
    ("Aflevering 4: Kijk in de kernen", 4, "Kijk in de kernen"),
    ("Afl. 12 - De oude bieb", None, "De oude bieb"),
    ("#3 | Boefjes en barista's", 3, "Boefjes en barista's"),
    ("4. Kijk in de kernen", 4, "Kijk in de kernen"),
    ("4. Kijk in de kernen", 5, "4. Kijk in de kernen"),  # not its number: part of the title
    ("1 op de 5 bewoners", 1, "1 op de 5 bewoners"),
    ("Aflevering 4", 4, "Aflevering 4"),  # nothing left: keep it
    ("Twee\nregels", None, "Twee regels"),
])
def test_title_without_episode_number(title, number, expected):
    episode = Episode(slug="x", guid="g", kind="audio", title=title, source=None, episode=number)
    assert feed_title(episode) == expected


# --- videos ------------------------------------------------------------------------------------


def test_local_video_is_an_item_and_the_remote_one_is_not(demo):
    video = demo.episode("choku-gym-poelenburg")
    enclosure = demo.item(video).find("enclosure")
    assert enclosure.get("type") == "video/mp4"
    assert int(enclosure.get("length")) == video.source.stat().st_size
    remote = demo.episode("de-oude-bieb-lewenborg")
    assert remote.source is None
    assert demo.tree().xpath("//item[guid=$guid]", guid=remote.guid) == []
    assert remote.video_url.encode() not in demo.feed.read_bytes()


def test_video_version_is_an_alternate_enclosure(make_archive, podcast_schema):
    root = make_archive({"gesprek.mp3": MEDIA / "speech.mp3", "gesprek.mp4": MEDIA / "speech.mp4",
                         "gesprek.yaml": "title: Een gesprek\ndate: 2023-01-05\n"})
    site = publish_site(root, pages=())
    [episode] = site.episodes
    [alternate] = episode.alternates
    item = site.item(episode)
    assert item.find("enclosure").get("url") == site.layout.url(site.layout.media(episode))
    versions = item.findall("podcast:alternateEnclosure", NS)
    assert [(v.get("type"), v.get("default"), v.get("title")) for v in versions] == [
        ("audio/mpeg", "true", "Audio"), ("video/mp4", None, "Video 90p")]
    video = versions[1]
    assert video.get("length") == str(alternate.path.stat().st_size)
    assert video.get("height") == "90"
    assert video.find("podcast:source", NS).get("uri") == (
        "https://wijkarchief.example.org/media/gesprek.video.mp4")
    assert site.layout.path(site.layout.media(episode, alternate)).is_file()
    assert podcast_schema.validate(podcast_elements(site.tree())), podcast_schema.error_log


# --- reproducible ------------------------------------------------------------------------------


def test_two_builds_give_identical_bytes(tmp_path):
    first = publish_site(copy_demo(tmp_path / "one"))
    second = publish_site(copy_demo(tmp_path / "two"))  # another folder, another ingest
    assert first.feed.read_bytes() == second.feed.read_bytes()
    again = render_feed(first.config, list(reversed(first.episodes)), first.layout)
    assert again == first.feed.read_bytes()  # input order doesn't matter


def test_a_feed_written_in_chunks_is_the_feed_rendered_whole(tmp_path):
    """The feed is streamed a few items at a time: the bytes are feedgen's for the whole feed,
    even when titles and descriptions hold the very tags the chunks are cut at."""
    site = publish_site(copy_demo(tmp_path / "archive"))
    tricky = [dataclasses.replace(e, title=f"{e.title}    <item>",
                                  description="  </channel>\n    <item>\n</rss>")
              for e in site.episodes]
    in_feed = list(feed.feed_episodes(tricky))
    assert len(in_feed) >= 4
    newest = max(feed._published(e) for e in in_feed)
    whole = feed._channel(site.config, site.layout, newest)
    for episode in in_feed:
        feed._item(whole.add_entry(order="append"), episode, site.config, site.layout)
    expected = feed._render(whole)
    for chunk in (1, 2, 3, len(in_feed), len(in_feed) + 1):
        assert render_feed(site.config, tricky, site.layout, chunk=chunk) == expected
    assert len(etree.fromstring(expected).findall("channel/item")) == len(in_feed)
    assert render_feed(site.config, [], site.layout) == feed._render(
        feed._channel(site.config, site.layout, None))


def test_write_feed_leaves_an_unchanged_feed_alone(tmp_path):
    site = publish_site(copy_demo(tmp_path / "archive"))
    before = site.feed.stat().st_mtime_ns
    assert write_feed(site.config, site.episodes, site.layout) is False
    assert site.feed.stat().st_mtime_ns == before
    retitled = [dataclasses.replace(e, title=e.title + " (herzien)") for e in site.episodes]
    assert write_feed(site.config, retitled, site.layout) is True
    assert b"(herzien)" in site.feed.read_bytes()
    assert not list(site.feed.parent.glob(".feed.xml.*"))  # no temporary files left


def test_a_feed_made_from_the_same_key_is_kept_without_rendering(tmp_path, monkeypatch):
    site = publish_site(copy_demo(tmp_path / "archive"))
    memo = BuildMemo(site.root)
    assert write_feed(site.config, site.episodes, site.layout, memo) is False  # same bytes
    rendered = feed.feed_parts

    def kept(*args, **kwargs):
        raise AssertionError("rendered again")

    monkeypatch.setattr(feed, "feed_parts", kept)
    assert write_feed(site.config, site.episodes, site.layout, memo) is False
    # Each thing an item depends on makes the key another, and the feed is made again.
    monkeypatch.setattr(feed, "feed_parts", rendered)
    episode = next(e for e in local(site) if e.slug == "kijk-in-de-kernen")
    vtt = site.layout.path(site.layout.transcript(episode.slug, "vtt"))
    vtt.unlink()
    assert write_feed(site.config, site.episodes, site.layout, memo) is True
    assert b"kijk-in-de-kernen.vtt" not in site.feed.read_bytes()
    media = site.layout.path(site.layout.media(episode))
    with media.open("ab") as handle:
        handle.write(b"\0" * 7)
    assert write_feed(site.config, site.episodes, site.layout, memo) is True
    assert f'length="{media.stat().st_size}"'.encode() in site.feed.read_bytes()
    retitled = [dataclasses.replace(e, title=e.title + " (herzien)") for e in site.episodes]
    assert write_feed(site.config, retitled, site.layout, memo) is True
    other = site.config.model_copy(update={"title": "Een andere titel"})
    assert write_feed(other, retitled, site.layout, memo) is True
    assert write_feed(other, retitled, site.layout, memo) is False
    site.feed.write_text("bewerkt", encoding="utf-8")  # not as the build left it: made again
    assert write_feed(other, retitled, site.layout, memo) is True
    assert b"Een andere titel" in site.feed.read_bytes()


def test_items_are_rendered_a_chunk_at_a_time_and_kept(tmp_path, monkeypatch):
    """Chunks of items are counted from the oldest and kept, rendered, in .cache/feed/: a
    change to the newest episode renders the newest chunk only, the newest episode gone renders
    none, a damaged chunk is rendered again, and the feed is the feed rendered whole."""
    site = publish_site(copy_demo(tmp_path / "archive"))
    monkeypatch.setattr(feed, "FEED_CHUNK", 2)
    in_feed = list(feed.feed_episodes(site.episodes))
    assert [len(items) for items in feed.item_chunks(Catalogue.of(site.episodes))] == [1, 2, 2]
    memo = BuildMemo(site.root)
    rendered = []
    item = feed._item
    monkeypatch.setattr(feed, "_item", lambda entry, episode, *rest: (
        rendered.append(episode.slug), item(entry, episode, *rest)))

    def written(episodes: list[Episode]) -> list[str]:
        rendered.clear()
        write_feed(site.config, episodes, site.layout, memo)
        made = list(rendered)
        assert site.feed.read_bytes() == render_feed(site.config, episodes, site.layout)
        return made

    assert len(written(site.episodes)) == len(in_feed) == 5
    newest = in_feed[0].slug
    retitled = [dataclasses.replace(e, title=e.title + " (herzien)") if e.slug == newest else e
                for e in site.episodes]
    assert written(retitled) == [newest]
    assert written([e for e in site.episodes if e.slug != newest]) == []
    cached = sorted((site.root / ".cache" / "feed").iterdir())
    assert len(cached) == 2  # the chunks of the feed without the newest episode
    for path in cached:
        path.write_bytes(b"<item>damaged")
    assert sorted(written(site.episodes)) == sorted(e.slug for e in in_feed)
    assert len(list((site.root / ".cache" / "feed").iterdir())) == 3


def test_item_files_are_every_file_an_item_looks_at(tmp_path, monkeypatch):
    """feed_key covers what item_files names: every file under site/ that rendering an item
    asks about must be one of them, or a feed could be kept when it should change."""
    site = publish_site(copy_demo(tmp_path / "archive"), pages=("kijk-in-de-kernen", "krachtstation-kanaleneiland"))
    named = {site.layout.path(relative) for episode in feed.feed_episodes(site.episodes)
             for relative in feed.item_files(episode, site.layout)}
    asked: set[Path] = set()
    stat = Path.stat

    def recording(path: Path, *args, **kwargs):
        if path.is_relative_to(site.layout.folder):
            asked.add(path)
        return stat(path, *args, **kwargs)

    monkeypatch.setattr(Path, "stat", recording)
    render_feed(site.config, site.episodes, site.layout)
    monkeypatch.undo()
    assert asked and asked <= named, sorted(map(str, asked - named))


# --- escaping ----------------------------------------------------------------------------------

NASTY = "<script>alert('x')</script> & ]]> \"quoted\" 'single' \x00\x0b\x1f end"


def test_metadata_is_escaped(tmp_path):
    site = publish_site(copy_demo(tmp_path / "archive"), pages=())
    long_title = "Wij & de <wijk> ]]> " + "x" * 5000
    episodes = [dataclasses.replace(e, title=NASTY, description=NASTY, guests=[NASTY * 20],
                                    author=NASTY) for e in site.episodes]
    episodes[0] = dataclasses.replace(episodes[0], title=long_title)
    config = site.config.model_copy(update={"title": NASTY, "description": NASTY,
                                            "author": NASTY, "hosts": [NASTY]})
    data = render_feed(config, episodes, site.layout)
    clean = NASTY.replace("\x00", "").replace("\x0b", "").replace("\x1f", "")
    assert b"<script>" not in data and b"]]>" not in data
    tree = etree.fromstring(data)
    assert tree.findtext("channel/title") == clean
    titles = [item.findtext("title") for item in tree.iter("item")]
    assert sorted(titles, key=len) == [" ".join(clean.split())] * (len(titles) - 1) + [long_title]
    parsed = podcastparser.parse(site.layout.url(FEED), io.BytesIO(data))
    assert len(parsed["episodes"]) == len(local(site))
    assert feedparser.parse(data).bozo is False
    guest = tree.xpath("//item/podcast:person[@role='guest']", namespaces=NS)[0].text
    assert len(guest) <= 128 and guest.startswith("<script>")


# --- chapters ----------------------------------------------------------------------------------


def test_render_chapters_follows_the_json_chapters_format():
    episode = Episode(slug="x", guid="g", kind="audio", title="Kijk in de kernen", source=None,
                      chapters=[Chapter(start=35.4134, title="Slot", url="https://example.org/"),
                                Chapter(start=0.0, title="Welkom", end=11.33)])
    assert render_chapters(episode) == {
        "version": "1.2.0",
        "title": "Kijk in de kernen",
        "chapters": [{"startTime": 0, "title": "Welkom", "endTime": 11.33},
                     {"startTime": 35.413, "title": "Slot", "url": "https://example.org/"}],
    }


def test_write_chapters_writes_and_removes(tmp_path, demo):
    layout = SiteLayout(tmp_path, "https://example.org/")
    episode = demo.episode("kijk-in-de-kernen")
    path = write_chapters(episode, layout)
    assert path == layout.path(layout.chapters(episode.slug))
    assert json.loads(path.read_text("utf-8")) == render_chapters(episode)
    mtime = path.stat().st_mtime_ns
    assert write_chapters(episode, layout) == path and path.stat().st_mtime_ns == mtime
    assert write_chapters(dataclasses.replace(episode, chapters=[]), layout) is None
    assert not path.exists()


def test_chapters_link_needs_both_chapters_and_file(demo):
    kernen = demo.episode("kijk-in-de-kernen")
    without = [dataclasses.replace(e, chapters=[]) if e.slug == kernen.slug else e
               for e in demo.episodes]
    data = render_feed(demo.config, without, demo.layout)
    assert b"podcast:chapters" not in data  # a stale file alone doesn't bring the link back


def test_dates_keep_their_time_zone(demo):
    amsterdam = dt.timezone(dt.timedelta(hours=2))
    episode = dataclasses.replace(demo.episode("kijk-in-de-kernen"),
                                  date=dt.datetime(2021, 9, 16, 14, 0, tzinfo=amsterdam))
    tree = etree.fromstring(render_feed(demo.config, [episode], demo.layout))
    assert tree.findtext("channel/item/pubDate") == "Thu, 16 Sep 2021 14:00:00 +0200"
    assert tree.findtext("channel/lastBuildDate") == "Thu, 16 Sep 2021 14:00:00 +0200"


def test_an_archive_without_episodes_has_no_clock_in_its_feed(demo):
    data = render_feed(demo.config, [], demo.layout)
    tree = etree.fromstring(data)
    assert tree.find("channel/item") is None and tree.find("channel/lastBuildDate") is None
    assert render_feed(demo.config, [], demo.layout) == data

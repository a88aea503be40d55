"""`check_site` on a good demo site (no problems) and on sites broken one way at a time."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import PurePosixPath

import pytest
from lxml import etree
from test_feed import NS, Site, copy_demo, publish_site

from pipeline.check import check_site, site_path
from pipeline.publish.layout import SiteLayout

Mutation = Callable[[etree._Element], None]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Site:
    return publish_site(copy_demo(tmp_path_factory.mktemp("pristine") / "archive"))


@pytest.fixture
def site(pristine, tmp_path) -> Site:
    """A fresh copy of the built demo site, to break (ingest once, not per test)."""
    root = tmp_path / "archive"
    shutil.copytree(pristine.root, root)
    layout = SiteLayout(root, pristine.config.base_url)
    return Site(root, pristine.config, pristine.episodes, layout)


def edit_feed(site: Site, mutate: Mutation) -> None:
    tree = etree.parse(str(site.feed))
    mutate(tree.getroot().find("channel"))
    tree.write(str(site.feed), encoding="UTF-8", xml_declaration=True)


def first_item(channel: etree._Element) -> etree._Element:
    return channel.find("item")


def test_a_good_site_has_no_problems(site):
    assert check_site(site.root, site.config) == []


def test_the_namespace_s_other_uri_is_checked_the_same(site):
    """A feed declaring podcast: by https://podcastindex.org/namespace/1.0 gets the same checks."""
    feed = site.layout.path("feed.xml")
    feed.write_bytes(feed.read_bytes().replace(
        NS["podcast"].encode(), b"https://podcastindex.org/namespace/1.0"))
    assert b"podcastindex.org/namespace/1.0" in feed.read_bytes()
    assert check_site(site.root, site.config) == []
    chapters = site.layout.path(site.layout.chapters("kijk-in-de-kernen"))
    chapters.unlink()
    [problem] = check_site(site.root, site.config)
    assert "no such file site/chapters/kijk-in-de-kernen.json" in problem


def test_wrong_enclosure_length_is_found(site):
    episode = site.episode("kneuterigheid-verdient-een-standbeeld")
    media = site.layout.path(site.layout.media(episode))
    with media.open("ab") as handle:
        handle.write(b"\0")  # the published file no longer matches the feed's length
    [problem] = check_site(site.root, site.config)
    size = episode.media.size
    assert problem == (f"site/feed.xml: {site.layout.url(site.layout.media(episode))}: "
                       f"length is {size} but the file has {size + 1} bytes")


def test_missing_linked_files_are_found(site):
    episode = site.episode("kijk-in-de-kernen")
    site.layout.path(site.layout.transcript(episode.slug, "vtt")).unlink()
    site.layout.path(site.layout.media(episode)).unlink()
    problems = check_site(site.root, site.config)
    assert problems == [
        f"site/feed.xml: {site.layout.url(site.layout.media(episode))}: "
        "no such file site/media/kijk-in-de-kernen.mp3",
        f"site/feed.xml: {site.layout.url(site.layout.transcript(episode.slug, 'vtt'))}: "
        "no such file site/transcripts/kijk-in-de-kernen.vtt",
    ]


def test_missing_feed(site):
    site.feed.unlink()
    assert check_site(site.root, site.config) == ["site/feed.xml: missing: run 'wijk build' first"]


def test_malformed_feed(site):
    site.feed.write_bytes(site.feed.read_bytes().replace(b"</channel>", b""))
    [problem] = check_site(site.root, site.config)
    assert problem.startswith("site/feed.xml: not well-formed XML:")


def _set(path: str, text: str) -> Mutation:
    def mutate(channel: etree._Element) -> None:
        channel.find(path, NS).text = text
    return mutate


def _remove(path: str) -> Mutation:
    def mutate(channel: etree._Element) -> None:
        element = channel.find(path, NS)
        element.getparent().remove(element)
    return mutate


def _duplicate_guid(channel: etree._Element) -> None:
    items = channel.findall("item")
    items[1].find("guid").text = items[0].find("guid").text


def _wrong_type(channel: etree._Element) -> None:
    first_item(channel).find("enclosure").set("type", "audio/mpeg")  # the first item is an mp4


def _outside(channel: etree._Element) -> None:
    enclosure = first_item(channel).find("enclosure")
    enclosure.set("url", "https://wijkarchief.example.org/../archive.yaml")


@pytest.mark.parametrize(("mutate", "expected"), [
    (_set("itunes:explicit", "yes"), "channel: itunes:explicit is 'yes', expected true or false"),
    (_set("itunes:type", "daily"), "channel: itunes:type is 'daily', expected episodic or serial"),
    (_set("podcast:guid", "not-a-uuid"), "channel: podcast:guid is not a UUID"),
    (_set("podcast:locked", "true"), "channel: podcast:locked is 'true', expected yes or no"),
    (_set("language", "en"), "channel: language is 'en', archive.yaml says 'nl'"),
    (_set("description", "é" * 2001), "channel: description longer than 4000 bytes"),
    (_remove("itunes:owner"), "channel: missing itunes:owner with itunes:email"),
    (_remove("itunes:image"), "channel: missing itunes:image"),
    (_remove("podcast:guid"), "channel: missing podcast:guid"),
    (_remove("item/pubDate"), "item 1 (Choku Gym: meer dan een sportschool): missing pubDate"),
    (_remove("item/enclosure"), "item 1 (Choku Gym: meer dan een sportschool): missing enclosure"),
    (_set("item/pubDate", "Thu, 10 Nov 2022 12:00:00"), "pubDate is not an RFC 2822 date"),
    (_set("item/pubDate", "2022-11-10"), "pubDate is not an RFC 2822 date with a time zone"),
    (_set("item/itunes:duration", "0:14"), "itunes:duration is not whole seconds: '0:14'"),
    (_set("item/itunes:explicit", "clean"), "itunes:explicit is 'clean', expected true or false"),
    (_set("item/itunes:episodeType", "extra"), "itunes:episodeType is 'extra'"),
    (_set("item[2]/itunes:season", "0"), "itunes:season is not a positive whole number: '0'"),
    (_duplicate_guid, "item 2 (Kijk in de kernen, digitaal dorpsplein voor de inwoners van…): "
                      "guid 12c73983-7f00-5ddf-a77b-f6735b4d99ba is also the guid of item 1"),
    (_wrong_type, "type is 'audio/mpeg', a .mp4 file is video/mp4 or audio/mp4"),
    (_outside, "https://wijkarchief.example.org/../archive.yaml: points outside site/"),
])
def test_broken_feeds_are_reported(site, mutate, expected):
    edit_feed(site, mutate)
    problems = check_site(site.root, site.config)
    assert any(expected in problem for problem in problems), problems
    assert all(problem.startswith("site/feed.xml: ") for problem in problems)


def test_broken_chapters_and_json_transcript(site):
    slug = "kijk-in-de-kernen"
    site.layout.path(site.layout.chapters(slug)).write_text("{\"version\": \"1.2.0\"", "utf-8")
    site.layout.path(site.layout.transcript(slug, "json")).write_text("[]", "utf-8")
    problems = check_site(site.root, site.config)
    assert len(problems) == 2
    assert "chapters file is not JSON" in problems[1]  # transcripts come before chapters
    assert "JSON transcript lacks a 'segments' list" in problems[0]


def test_the_master_transcript_is_not_a_podcast_json_transcript(site):
    master = {"language": "nl", "segments": [{"id": 0, "start": 0.0, "end": 2.0, "text": "Hoi"}]}
    path = site.layout.path(site.layout.transcript("kijk-in-de-kernen", "json"))
    path.write_text(json.dumps(master), "utf-8")
    [problem] = check_site(site.root, site.config)
    assert problem.endswith("JSON transcript segments need 'startTime' and 'body' "
                            "(Podcasting 2.0 format)")


def test_a_channel_link_into_the_site_needs_its_index(tmp_path):
    root = copy_demo(tmp_path / "archive")
    yaml = root / "archive.yaml"
    text = yaml.read_text("utf-8").replace("link: https://www.movisie.nl/wijindewijk\n", "")
    yaml.write_text(text, "utf-8")
    site = publish_site(root)
    assert check_site(site.root, site.config) == [
        "site/feed.xml: https://wijkarchief.example.org/: no such file site/index.html"]
    (site.layout.folder / "index.html").write_text("<!doctype html>", "utf-8")
    assert check_site(site.root, site.config) == []


def test_an_empty_archive_is_reported(site):
    edit_feed(site, lambda channel: [channel.remove(item) for item in channel.findall("item")])
    assert check_site(site.root, site.config) == [
        "site/feed.xml: channel: no episodes (podcast directories reject an empty feed)"]


@pytest.mark.parametrize(("url", "expected"), [
    ("https://x.org/media/a.mp3", "media/a.mp3"),
    ("https://x.org/afleveringen/a/", "afleveringen/a/index.html"),
    ("https://x.org/", "index.html"),
    ("https://x.org/media/a%20b.mp3?x=1#t=5", "media/a b.mp3"),
    ("https://x.org/../etc/passwd", None),
])
def test_site_path(url, expected):
    assert site_path(url, "https://x.org/") == (expected and PurePosixPath(expected))

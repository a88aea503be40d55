"""feedgen extensions: the Podcasting 2.0 namespace, and two corrections to feedgen's own output.

feedgen writes only RSS, Atom and iTunes tags; every `podcast:` tag needs an extension
(tag documents in Podcastindex-org/podcast-namespace).
Only pipeline.publish.feed imports this module. The extensions hold plain data (`ChannelTags`,
`ItemTags`) that feed.py fills in, instead of feedgen's get/set methods:

    generator.register_extension(EXTENSION, PodcastIndexExtension, PodcastIndexEntryExtension)
    generator.podcastindex.tags = ChannelTags(guid=..., owner=...)
    entry.podcastindex.tags = ItemTags(transcripts=[...])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from lxml import etree

# The namespace has two URIs, and its spec (docs/1.0.md) says: "Clients which recognize this
# namespace must also recognize `https://github.com/Podcastindex-org/podcast-namespace/blob/main/
# docs/1.0.md` as identical" to https://podcastindex.org/namespace/1.0. So every client knows the
# GitHub URI, while some (gPodder's podcastparser 0.6.11) know only that one: the feed uses it.
NAMESPACE = "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"
ITUNES_NAMESPACE = "http://www.itunes.com/dtds/podcast-1.0.dtd"
EXTENSION = "podcastindex"  # the attribute name feedgen gives the extension instance
CORRECTIONS = "corrections"
CHAPTERS_TYPE = "application/json+chapters"


@dataclass(frozen=True)
class Person:
    """podcast:person: a host (channel) or a guest (item)."""

    name: str
    role: str = "host"


@dataclass(frozen=True)
class Funding:
    url: str
    text: str


@dataclass(frozen=True)
class TranscriptLink:
    """podcast:transcript: one per format."""

    url: str
    type: str
    language: str
    rel: str | None = None  # "captions" for a file with timings meant as closed captions


@dataclass(frozen=True)
class AlternateEnclosure:
    """podcast:alternateEnclosure: another version of the episode's media (a video)."""

    type: str
    length: int
    uri: str
    title: str | None = None  # a label for the choice in an app; the spec asks for <= 32 chars
    bitrate: int | None = None
    height: int | None = None
    default: bool = False  # True for the file that is also the <enclosure>


@dataclass
class ChannelTags:
    guid: str
    owner: str  # e-mail for podcast:locked
    locked: bool = True
    medium: str = "podcast"
    persons: list[Person] = field(default_factory=list)
    funding: list[Funding] = field(default_factory=list)


@dataclass
class ItemTags:
    transcripts: list[TranscriptLink] = field(default_factory=list)
    chapters_url: str | None = None
    persons: list[Person] = field(default_factory=list)
    alternates: list[AlternateEnclosure] = field(default_factory=list)


def _element(parent: etree._Element, name: str, text: str | None = None,
             **attributes: str | None) -> etree._Element:
    """A podcast: child of `parent`; attributes that are None are left out."""
    element = etree.SubElement(parent, f"{{{NAMESPACE}}}{name}")
    for key, value in attributes.items():
        if value is not None:
            element.set(key, value)
    if text is not None:
        element.text = text
    return element


def _persons(parent: etree._Element, persons: list[Person]) -> None:
    for person in persons:
        _element(parent, "person", person.name, role=person.role)


class PodcastIndexExtension(BaseExtension):
    """Channel tags: podcast:guid, locked, medium, person, funding."""

    def __init__(self) -> None:
        self.tags: ChannelTags | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": NAMESPACE}

    def extend_rss(self, rss_feed: etree._Element) -> etree._Element:
        if self.tags is None:
            return rss_feed
        channel, tags = rss_feed[0], self.tags
        _element(channel, "guid", tags.guid)
        _element(channel, "locked", "yes" if tags.locked else "no", owner=tags.owner)
        _element(channel, "medium", tags.medium)
        _persons(channel, tags.persons)
        for funding in tags.funding:
            _element(channel, "funding", funding.text, url=funding.url)
        return rss_feed


class PodcastIndexEntryExtension(BaseEntryExtension):
    """Item tags: podcast:transcript, chapters, person, alternateEnclosure."""

    def __init__(self) -> None:
        self.tags: ItemTags | None = None

    def extend_rss(self, item: etree._Element) -> etree._Element:
        if self.tags is None:
            return item
        for link in self.tags.transcripts:
            _element(item, "transcript", url=link.url, type=link.type, language=link.language,
                     rel=link.rel)
        if self.tags.chapters_url:
            _element(item, "chapters", url=self.tags.chapters_url, type=CHAPTERS_TYPE)
        _persons(item, self.tags.persons)
        for alternate in self.tags.alternates:
            _alternate_enclosure(item, alternate)
        return item


def _alternate_enclosure(item: etree._Element, alternate: AlternateEnclosure) -> None:
    def optional(value: int | None) -> str | None:
        return None if value is None else str(value)

    element = _element(item, "alternateEnclosure", type=alternate.type,
                       length=str(alternate.length), bitrate=optional(alternate.bitrate),
                       height=optional(alternate.height), title=alternate.title,
                       default="true" if alternate.default else None)
    _element(element, "source", uri=alternate.uri)


# --- corrections to feedgen ------------------------------------------------------------------
# feedgen 1.0 writes itunes:explicit as yes/no/clean; Apple's spec has asked for true/false
# since 2019 (STANDARDS.md). Its itunes_image() silently drops a URL that doesn't end in .jpg or
# .png (a .jpeg cover would lose the required tag). And it defaults lastBuildDate to now(), which
# makes two builds of the same archive differ: feed.py sets it from the newest episode, and
# without any dated episode this extension removes it.


def _set_itunes(parent: etree._Element, explicit: bool | None, image: str | None) -> None:
    """itunes:explicit as true/false and itunes:image href, replacing what feedgen wrote."""
    if explicit is not None:
        _itunes_child(parent, "explicit").text = "true" if explicit else "false"
    if image is not None:
        _itunes_child(parent, "image").set("href", image)


def _itunes_child(parent: etree._Element, name: str) -> etree._Element:
    element = parent.find(f"{{{ITUNES_NAMESPACE}}}{name}")
    if element is None:
        element = etree.SubElement(parent, f"{{{ITUNES_NAMESPACE}}}{name}")
    return element


class CorrectionsExtension(BaseExtension):
    """Channel: itunes:explicit true/false, itunes:image, no lastBuildDate unless one was given."""

    def __init__(self) -> None:
        self.explicit: bool | None = None
        self.image: str | None = None
        self.last_build: datetime | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"itunes": ITUNES_NAMESPACE}

    def extend_rss(self, rss_feed: etree._Element) -> etree._Element:
        channel = rss_feed[0]
        _set_itunes(channel, self.explicit, self.image)
        if self.last_build is None:
            for element in channel.findall("lastBuildDate"):
                channel.remove(element)
        return rss_feed


class CorrectionsEntryExtension(BaseEntryExtension):
    """Item: itunes:explicit true/false, itunes:image."""

    def __init__(self) -> None:
        self.explicit: bool | None = None
        self.image: str | None = None

    def extend_rss(self, item: etree._Element) -> etree._Element:
        _set_itunes(item, self.explicit, self.image)
        return item

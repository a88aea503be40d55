"""`wijk check`, the feed: is a built `site/feed.xml` one podcast apps accept, and is every file
it points at really there?

`check_site(root, config)` returns one line per problem (empty: all good):
- the feed parses as XML and is RSS 2.0;
- the channel and every item carry the tags STANDARDS.md requires (Apple's and Podcasting 2.0's),
  with valid values: itunes:explicit true/false, RFC 2822 dates with a time zone, whole-second
  durations, a UUID podcast:guid, unique item guids;
- every URL under base_url (enclosures, alternate enclosures, transcripts, chapters, images,
  pages) names a file in site/; an enclosure's `length` is that file's size in bytes and its
  `type` fits the file; chapters and JSON transcripts parse as the formats they claim.
URLs elsewhere (a funding page, the project's own website) are not fetched: checks run offline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from email.utils import parsedate_tz
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from lxml import etree

from pipeline.archive import SITE_DIR, ArchiveConfig
from pipeline.ingest.media import CONTAINERS
from pipeline.publish.layout import FEED, SiteLayout

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"
PODCAST_ALIAS = "https://podcastindex.org/namespace/1.0"  # the same namespace, per its spec
ATOM = "http://www.w3.org/2005/Atom"
NS = {"itunes": ITUNES, "podcast": PODCAST, "atom": ATOM}
CHAPTERS_TYPE = "application/json+chapters"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_INTEGER = re.compile(r"[0-9]+")
_ZONE = re.compile(r"\s(?:[+-][0-9]{4}|UT|GMT|[ECMP][SD]T)\s*$")  # RFC 2822 zone, last token

# (XPath from the channel, attribute or None for the element's text, what it is)
_CHANNEL_REQUIRED = [
    ("title", None, "title"),
    ("link", None, "link"),
    ("description", None, "description"),
    ("language", None, "language"),
    ("itunes:author", None, "itunes:author"),
    ("itunes:image", "href", "itunes:image"),
    ("itunes:category", "text", "itunes:category"),
    ("itunes:owner/itunes:email", None, "itunes:owner with itunes:email"),
    ("itunes:explicit", None, "itunes:explicit"),
    ("itunes:type", None, "itunes:type"),
    ("podcast:guid", None, "podcast:guid"),
    ("podcast:locked", None, "podcast:locked"),
    ("podcast:medium", None, "podcast:medium"),
]
_ITEM_REQUIRED = [
    ("title", None, "title"),
    ("guid", None, "guid"),
    ("pubDate", None, "pubDate"),
    ("enclosure", "url", "enclosure"),
    ("itunes:duration", None, "itunes:duration"),
]
# Every place a URL can point into the site: (XPath from the channel, attribute or None).
_LINKS = [
    ("link", None), ("image/url", None), ("itunes:image", "href"),
    ("item/link", None), ("item/itunes:image", "href"), ("item/enclosure", "url"),
    ("item/podcast:alternateEnclosure/podcast:source", "uri"),
    ("item/podcast:transcript", "url"), ("item/podcast:chapters", "url"),
]


def check_site(root: Path, config: ArchiveConfig) -> list[str]:
    """Problems with the built feed and the files it links to, one line each."""
    layout = SiteLayout(root, config.base_url)
    shown = f"{SITE_DIR}/{FEED}"
    path = layout.path(FEED)
    if not path.is_file():
        return [f"{shown}: missing: run 'wijk build' first"]
    try:
        tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as error:
        return [f"{shown}: not well-formed XML: {error}"]
    _one_podcast_namespace(tree)
    channel = tree.getroot().find("channel")
    if tree.getroot().tag != "rss" or tree.getroot().get("version") != "2.0" or channel is None:
        return [f"{shown}: not an RSS 2.0 feed (<rss version=\"2.0\"><channel>)"]
    problems = [*check_channel(channel, config), *check_items(channel),
                *check_links(channel, layout)]
    return [f"{shown}: {problem}" for problem in problems]


def _one_podcast_namespace(tree: etree._ElementTree) -> None:
    """Give podcast: elements under the namespace's other URI the URI the checks look for."""
    alias = f"{{{PODCAST_ALIAS}}}"
    for element in tree.iter():
        if isinstance(element.tag, str) and element.tag.startswith(alias):
            element.tag = f"{{{PODCAST}}}{element.tag[len(alias):]}"


# --- tags ---------------------------------------------------------------------------------------


def check_channel(channel: etree._Element, config: ArchiveConfig) -> list[str]:
    """The channel's required tags and their values."""
    problems = _missing(channel, _CHANNEL_REQUIRED, "channel")
    description = channel.findtext("description") or ""
    if len(description.encode("utf-8")) > 4000:
        problems.append("channel: description longer than 4000 bytes")
    language = channel.findtext("language")
    if language and language != config.language:
        problems.append(f"channel: language is {language!r}, archive.yaml says {config.language!r}")
    problems += _values(channel, "channel", {
        "itunes:explicit": ("true", "false"),
        "itunes:type": ("episodic", "serial"),
        "podcast:locked": ("yes", "no"),
    })
    guid = channel.findtext("podcast:guid", namespaces=NS)
    if guid and not _UUID.fullmatch(guid.strip()):
        problems.append(f"channel: podcast:guid is not a UUID: {guid!r}")
    if not channel.findall("item"):
        problems.append("channel: no episodes (podcast directories reject an empty feed)")
    return problems


def check_items(channel: etree._Element) -> list[str]:
    """Every item's required tags and values, and that no two items share a guid."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    for index, item in enumerate(channel.findall("item"), start=1):
        label = _item_label(item, index)
        problems += _missing(item, _ITEM_REQUIRED, label)
        problems += _item_values(item, label)
        guid = (item.findtext("guid") or "").strip()
        if guid and guid in seen:
            problems.append(f"{label}: guid {guid} is also the guid of {seen[guid]}")
        seen.setdefault(guid, label)
    return problems


def _item_values(item: etree._Element, label: str) -> list[str]:
    problems = _values(item, label, {
        "itunes:explicit": ("true", "false"),
        "itunes:episodeType": ("full", "trailer", "bonus"),
    })
    date = item.findtext("pubDate")
    if date and not _rfc2822_with_zone(date):
        problems.append(f"{label}: pubDate is not an RFC 2822 date with a time zone: {date!r}")
    duration = item.findtext("itunes:duration", namespaces=NS)
    if duration and not _INTEGER.fullmatch(duration.strip()):
        problems.append(f"{label}: itunes:duration is not whole seconds: {duration!r}")
    for tag in ("itunes:episode", "itunes:season"):
        value = item.findtext(tag, namespaces=NS)
        if value is not None and not (_INTEGER.fullmatch(value.strip()) and int(value) > 0):
            problems.append(f"{label}: {tag} is not a positive whole number: {value!r}")
    for transcript in item.findall("podcast:transcript", NS):
        if not transcript.get("url") or not transcript.get("type"):
            problems.append(f"{label}: podcast:transcript without url or type")
    for chapters in item.findall("podcast:chapters", NS):
        if chapters.get("type") != CHAPTERS_TYPE:
            problems.append(f"{label}: podcast:chapters type is not {CHAPTERS_TYPE}")
    return problems


def _rfc2822_with_zone(text: str) -> bool:
    # parsedate_tz() takes a missing zone as UTC, so the zone is looked for separately.
    return parsedate_tz(text) is not None and _ZONE.search(text) is not None


def _missing(parent: etree._Element, required: list[tuple[str, str | None, str]],
             label: str) -> list[str]:
    problems = []
    for path, attribute, name in required:
        element = parent.find(path, NS)
        value = None if element is None else (element.get(attribute) if attribute else element.text)
        if not (value or "").strip():
            problems.append(f"{label}: missing {name}")
    return problems


def _values(parent: etree._Element, label: str, allowed: dict[str, tuple[str, ...]]) -> list[str]:
    problems = []
    for tag, values in allowed.items():
        value = parent.findtext(tag, namespaces=NS)
        if value is not None and value.strip() not in values:
            problems.append(f"{label}: {tag} is {value.strip()!r}, expected {' or '.join(values)}")
    return problems


def _item_label(item: etree._Element, index: int) -> str:
    title = " ".join((item.findtext("title") or "").split())
    if len(title) > 60:
        title = title[:60].rstrip() + "…"
    return f"item {index} ({title})" if title else f"item {index}"


# --- linked files -------------------------------------------------------------------------------


def check_links(channel: etree._Element, layout: SiteLayout) -> list[str]:
    """Every URL under base_url names a file in site/, with the stated length and a valid body."""
    problems = []
    checked: set[tuple[str, str | None]] = set()
    for element, url in _site_links(channel, layout.base_url):
        length = _stated_length(element)
        if (url, length) in checked:
            continue
        checked.add((url, length))
        relative = site_path(url, layout.base_url)
        if relative is None:
            problems.append(f"{url}: points outside site/")
            continue
        path = layout.path(relative)
        if not path.is_file():
            problems.append(f"{url}: no such file {SITE_DIR}/{relative}")
            continue
        problems += [f"{url}: {problem}" for problem in _check_file(element, path, length)]
    return problems


def _site_links(channel: etree._Element, base_url: str) -> Iterator[tuple[etree._Element, str]]:
    for path, attribute in _LINKS:
        for element in channel.findall(path, NS):
            url = (element.get(attribute) if attribute else element.text) or ""
            if url.strip().startswith(base_url):
                yield element, url.strip()


def site_path(url: str, base_url: str) -> PurePosixPath | None:
    """The file under site/ a URL names ('.../' is its index.html); None if it would leave site/."""
    path = unquote(urlsplit(url[len(base_url):]).path)
    if path == "" or path.endswith("/"):
        path += "index.html"
    relative = PurePosixPath(path)
    if relative.is_absolute() or ".." in relative.parts:
        return None
    return relative


def _stated_length(element: etree._Element) -> str | None:
    """The byte length an enclosure (or an alternate enclosure's source) claims."""
    if element.tag == "enclosure":
        return element.get("length")
    if element.tag == f"{{{PODCAST}}}source":
        return element.getparent().get("length")
    return None


def _check_file(element: etree._Element, path: Path, length: str | None) -> list[str]:
    problems = []
    if element.tag in ("enclosure", f"{{{PODCAST}}}source"):
        problems += _check_media(element, path, length)
    elif element.tag == f"{{{PODCAST}}}chapters":
        problems += _check_chapters(path)
    elif element.tag == f"{{{PODCAST}}}transcript" and element.get("type") == "application/json":
        problems += _check_json_transcript(path)
    return problems


def _check_media(element: etree._Element, path: Path, length: str | None) -> list[str]:
    problems = []
    size = path.stat().st_size
    if length is None or not _INTEGER.fullmatch(length.strip()):
        problems.append(f"length {length!r} is not a number of bytes")
    elif int(length) != size:
        problems.append(f"length is {length} but the file has {size} bytes")
    media_type = element.get("type") or element.getparent().get("type")
    expected = _media_types(path)
    if expected and media_type not in expected:
        problems.append(f"type is {media_type!r}, a {path.suffix} file is {' or '.join(expected)}")
    return problems


def _media_types(path: Path) -> list[str]:
    """The MIME types a media file of this suffix can be announced as."""
    suffix = path.suffix.lower()
    if suffix not in CONTAINERS:
        return []
    mime = CONTAINERS[suffix][1]
    return [mime, "audio/mp4"] if suffix in (".mp4", ".m4v") else [mime]


def _check_chapters(path: Path) -> list[str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        return [f"chapters file is not JSON: {error}"]
    chapters = data.get("chapters") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("version"), str) \
            or not isinstance(chapters, list):
        return ["chapters file lacks 'version' (string) or 'chapters' (list)"]
    if not all(isinstance(c, dict) and isinstance(c.get("startTime"), (int, float))
               for c in chapters):
        return ["a chapter lacks a numeric 'startTime'"]
    return []


def _check_json_transcript(path: Path) -> list[str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        return [f"JSON transcript is not JSON: {error}"]
    if not isinstance(data, dict) or not isinstance(data.get("segments"), list):
        return ["JSON transcript lacks a 'segments' list"]
    # The Podcasting 2.0 format, not the master transcript (whose segments have start/end/text).
    if not all(isinstance(segment, dict) and isinstance(segment.get("body"), str)
               and isinstance(segment.get("startTime"), (int, float))
               for segment in data["segments"]):
        return ["JSON transcript segments need 'startTime' and 'body' (Podcasting 2.0 format)"]
    return []

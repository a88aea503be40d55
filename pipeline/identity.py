"""Permanent identity: each episode's slug and GUID never change once published.

How it works (documented in the README):
- A new episode's GUID is a UUIDv5 of the feed's podcast:guid and the hash of its audio packets
  (`audio:<hash>`), or of its `video_url` for a video that lives elsewhere. Retagging or renaming
  the file keeps the audio hash, so even before the first build the GUID is stable.
- Its slug is made once from the file name (stem), made unique within the archive.
- `wijk build` records both in `transcripts/registry.json`. From then on an episode is found in
  the registry by its audio hash, else its video URL, else its file stem, so renaming a file,
  retitling it, or replacing its audio with a better encoding under the same name keeps the slug
  and the GUID. A sidecar `guid:` pins the GUID an episode had on a previous host.
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from collections.abc import Collection
from dataclasses import asdict, dataclass
from pathlib import Path

from pipeline.errors import ConfigError
from pipeline.fsutil import write_json

REGISTRY_FILE = Path("transcripts") / "registry.json"
# The Podcasting 2.0 namespace's UUID for podcast:guid (podcast-namespace docs, "guid" tag).
PODCAST_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")


@dataclass(slots=True)  # one per episode ever built is loaded by every build
class Identity:
    slug: str
    guid: str
    stem: str
    audio_hash: str | None = None
    video_url: str | None = None


def feed_guid(feed_url: str) -> str:
    """podcast:guid: UUIDv5 over the feed URL without scheme and trailing slashes."""
    bare = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", feed_url.strip()).rstrip("/")
    return str(uuid.uuid5(PODCAST_NAMESPACE, bare))


def without_date(stem: str) -> str:
    """'2021-09-16-kijk-in-de-kernen' -> 'kijk-in-de-kernen': the date says nothing the feed doesn't."""
    return re.sub(r"^\d{4}-\d{2}-\d{2}[-_ ]+(?=.)", "", stem)


def slugify(text: str) -> str:
    """ASCII, lowercase, dash-separated: 'Kijk in de Kernen!' -> 'kijk-in-de-kernen'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:80].rstrip("-") or "aflevering"


INDEXED = ("audio_hash", "video_url", "stem", "guid", "slug")


class Registry:
    """The slug and GUID of every episode ever built, kept in transcripts/registry.json.

    Looked up by audio hash, video URL, stem, GUID and slug through an index (the position of
    the first identity with each value), so finding or recording an episode takes the same
    time in an archive of ten thousand as in one of ten."""

    def __init__(self, root: Path, identities: list[Identity] | None = None) -> None:
        self.path = root / REGISTRY_FILE
        self.identities = identities or []
        self._dirty = False
        self._index: dict[str, dict[str, int]] | None = None  # made on first use

    def _first(self, key: str, value: str | None) -> int | None:
        """The position of the first identity whose `key` is `value`."""
        if self._index is None:
            self._index = {name: {} for name in INDEXED}
            for position, identity in enumerate(self.identities):
                self._add_to_index(position, identity)
        return None if value is None else self._index[key].get(value)

    def _add_to_index(self, position: int, identity: Identity) -> None:
        assert self._index is not None
        for name in INDEXED:
            value = getattr(identity, name)
            if value is not None:
                self._index[name].setdefault(value, position)

    @classmethod
    def load(cls, root: Path) -> Registry:
        path = root / REGISTRY_FILE
        if not path.exists():
            return cls(root)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            identities = [Identity(**entry) for entry in data["episodes"]]
        except (ValueError, KeyError, TypeError) as e:
            raise ConfigError(f"damaged episode registry ({e}); restore it from git", path) from e
        return cls(root, identities)

    def find(self, audio_hash: str | None, video_url: str | None, stem: str) -> Identity | None:
        for key, value in (("audio_hash", audio_hash), ("video_url", video_url), ("stem", stem)):
            position = self._first(key, value)
            if position is not None:
                return self.identities[position]
        return None

    def resolve(self, *, stem: str, feed_url: str, audio_hash: str | None = None,
                video_url: str | None = None, pinned_guid: str | None = None,
                taken: Collection[str] = ()) -> Identity:
        """The episode's identity: the registered one, or a new (unregistered) one."""
        known = self.find(audio_hash, video_url, stem)
        if known is not None:
            return Identity(slug=known.slug, guid=pinned_guid or known.guid, stem=stem,
                            audio_hash=audio_hash, video_url=video_url)
        key = f"audio:{audio_hash}" if audio_hash else f"video:{video_url or stem}"
        guid = pinned_guid or str(uuid.uuid5(uuid.UUID(feed_guid(feed_url)), key))
        return Identity(slug=self._free_slug(slugify(without_date(stem)), taken), guid=guid,
                        stem=stem, audio_hash=audio_hash, video_url=video_url)

    def _free_slug(self, slug: str, taken: Collection[str]) -> str:
        candidate, number = slug, 2
        while candidate in taken or self._first("slug", candidate) is not None:
            candidate, number = f"{slug}-{number}", number + 1
        return candidate

    def record(self, identity: Identity) -> None:
        """Remember (or update: new stem or audio) an episode's identity."""
        found = [p for p in (self._first("guid", identity.guid), self._first("slug", identity.slug))
                 if p is not None]
        if found:
            position = min(found)
            if self.identities[position] != identity:
                self.identities[position] = identity
                self._index = None  # values left behind: index again when next asked
                self._dirty = True
            return
        self.identities.append(identity)
        self._add_to_index(len(self.identities) - 1, identity)
        self._dirty = True

    def save(self) -> None:
        if not self._dirty and self.path.exists():
            return
        ordered = sorted(self.identities, key=lambda identity: identity.slug)
        write_json(self.path, {"format": 1, "episodes": [asdict(i) for i in ordered]})
        self._dirty = False

"""The tagging stage of a build: every transcript tagged by case and lesson, its passages kept in
`transcripts/<slug>.tags.json`, and an episode tagged again only when its transcript, its
sidecar's cases or the tagger changed."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pipeline import model
from pipeline.cache.catalogue import Catalogue
from pipeline.cache.memo import BuildMemo, code_digest, digest_of
from pipeline.errors import Problem, shown_path
from pipeline.fsutil import write_text_if_changed
from pipeline.tag.tagger import Tagger, default_tagger, summarise
from pipeline.tag.taxonomy import load_taxonomy
from pipeline.transcripts.source import TranscriptSource

# -- Stage 3 over an archive -------------------------------------------------------------------

TAGGER_CODE = code_digest("tag/tagger.py", "tag/matching.py", "tag/meaning.py",
                          "tag/lessons.npz", "tag/taxonomy.py", "tag/taxonomy.yaml")


class TagsOnDisk(Mapping[str, list[model.Tag]]):
    """The passages of every tagged episode (slug -> tags), read from its `<slug>.tags.json`
    only when asked for, so an archive's tags are never all in memory at once. `digests`
    holds each tags file's content digest, enough to tell whether an episode's tags changed
    (by slug: a dict, or a column beside the build's catalogue). A copy sent to a page worker
    has no digests: it is asked only for episodes that have tags."""

    def __init__(self, folder: Path,
                 digests: MutableMapping[str, str | None] | None = None) -> None:
        self.folder = folder
        self.digests: MutableMapping[str, str | None] | None = \
            digests if digests is not None else {}

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "digests": None}

    def __getitem__(self, slug: str) -> list[model.Tag]:
        if self.digests is not None and slug not in self.digests:
            raise KeyError(slug)
        tags = read_tags_file(self.folder / f"{slug}.tags.json")
        if tags is None:
            raise KeyError(slug)
        return tags

    def __contains__(self, slug: object) -> bool:
        return self.digests is not None and slug in self.digests

    def __iter__(self) -> Iterator[str]:
        return iter(self.digests if self.digests is not None else {})

    def __len__(self) -> int:
        return len(self.digests) if self.digests is not None else 0


# An episode's tags by slug: the build's TagsOnDisk (which knows their digests), any mapping
# of slug to tags, or None for none.
TagSource = Mapping[str, list[model.Tag]] | None


@dataclass
class Tagged:
    """What tagging an archive found and wrote, and the problems it found."""

    tags: TagsOnDisk
    problems: list[Problem] = field(default_factory=list)
    written: int = 0


def tag_archive(root: Path, episodes: Sequence[model.Episode], transcripts: TranscriptSource,
                memo: BuildMemo | None = None) -> Tagged:
    """Tag every transcript; write `transcripts/<slug>.tags.json` (episode summary + passages).

    The tags live beside the master, not in it: re-tagging after a taxonomy change never
    touches a transcript an editor corrected. An unknown case id in a sidecar is one problem
    line naming the sidecar; that episode is still tagged from its text. `transcripts` maps
    episodes to transcripts; when it knows their `digests` (the build's), an
    episode whose master, cases and tagger are as last time keeps its tags file (its
    `made_from` says what it was made from; with the build memo, the file isn't even read).
    """
    tagger: Tagger | None = None
    memo = memo or BuildMemo()
    known = set(load_taxonomy().case_ids)
    digests = {} if transcripts.digests is None else transcripts.digests
    result = Tagged(TagsOnDisk(root / "transcripts", Catalogue.of(episodes).column("tags")))
    for episode in episodes:
        editor_cases = [case for case in episode.cases if case in known]
        for unknown in (case for case in episode.cases if case not in known):
            result.problems.append(Problem(shown_path(root, episode.sidecar or root),
                                           f"key 'cases': unknown case id {unknown!r} (the ids "
                                           "are in pipeline/tag/taxonomy.yaml)"))
        path = root / "transcripts" / f"{episode.slug}.tags.json"
        key = digest_of(digests[episode.slug], editor_cases, TAGGER_CODE) \
            if episode.slug in digests else None
        if key and (memo.unchanged("tags", episode.slug, key, path) or
                    read_tags_file(path, key) is not None):
            result.tags.digests[episode.slug] = memo.made("tags", episode.slug, key, path)
            continue
        transcript = transcripts.for_episode(episode)
        if transcript is None:
            continue
        tagger = tagger or default_tagger()
        tags = tagger.tag_transcript(transcript, editor_cases)
        summary = {"episode": [asdict(t) for t in summarise(tags)],
                   "passages": [asdict(t) for t in tags], "made_from": key}
        result.written += write_text_if_changed(
            path, json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
        result.tags.digests[episode.slug] = memo.made("tags", episode.slug, key, path) if key \
            else memo.file_digest(path)
    return result


def read_tags_file(path: Path, key: str | None = None) -> list[model.Tag] | None:
    """The passages of a `<slug>.tags.json` (if `key` is given: made from `key`, the master's
    digest, the editor's cases and the tagger's code), or None if it is missing or was made
    otherwise."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if key is not None and data.get("made_from") != key:
            return None
        return [model.Tag(**passage) for passage in data["passages"]]
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None

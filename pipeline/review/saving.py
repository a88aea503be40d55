"""Saving a review: a correction like any other, refused when the master changed underneath.

Under the archive's lock (never beside a build): the master must still be the version the
review page was opened on (its sha256), else the save is refused and nothing is merged. Then
the previous master goes to transcripts/history/, the corrected one is written atomically, and
its derived files (VTT, SRT, TXT, Podcasting 2.0 JSON) and tags are made again, recorded as the
build records them, so `wijk build` publishes the correction and never mistakes our .vtt for
an editor's edit of it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.errors import WijkError
from pipeline.fsutil import archive_lock
from pipeline.model import Episode, Transcript
from pipeline.review.edits import EditedSegment, apply_review
from pipeline.tag.stage import tag_archive
from pipeline.transcribe.stage import with_speakers, write_derived
from pipeline.transcripts.corrections import WrittenLog
from pipeline.transcripts.source import TranscriptsInMemory
from pipeline.transcripts.store import TranscriptStore


class ChangedMeanwhile(WijkError):
    """The master is no longer the version the review started from."""


@dataclass
class Review:
    """What the review page sends when the editor saves."""

    base: str  # the sha256 of the master the page was made from
    segments: list[EditedSegment]
    speakers: dict[str, str]  # slot -> name
    reviewed_until: float | None = None
    reviewed: bool = False


def master_digest(root: Path, slug: str) -> str | None:
    """The sha256 of the episode's master file; None if it has none."""
    try:
        return hashlib.sha256(TranscriptStore(root).master_path(slug).read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def save_review(root: Path, episode: Episode, review: Review) -> str:
    """Take the review into the master and remake what comes from it; return the new digest.

    Raises ChangedMeanwhile when the master changed since the page was opened, LockedError
    while a build runs."""
    store = TranscriptStore(root)
    with archive_lock(root):
        if master_digest(root, episode.slug) != review.base:
            raise ChangedMeanwhile(
                "deze transcriptie is veranderd sinds je de pagina opende (door een build, een "
                "ander tabblad of een bewerking van het .vtt-bestand); je wijzigingen zijn niet "
                "opgeslagen. Kopieer ze, laad de pagina opnieuw en breng ze opnieuw aan.",
                store.master_path(episode.slug))
        stored = store.load(episode.slug)
        if stored is None:
            raise WijkError("this episode has no transcript yet", store.master_path(episode.slug))
        corrected = _with_review_state(
            apply_review(with_speakers(stored.transcript, episode), review.segments,
                         _given_names(stored.transcript, review.speakers)),
            stored.transcript, review)
        store.keep_version(episode.slug)
        store.save(episode, corrected, stored.cache_key)
        _remake_derived(root, store, episode, corrected)
        return master_digest(root, episode.slug) or ""


def _given_names(transcript: Transcript, names: dict[str, str]) -> dict[str, str]:
    """The names the editor gave: a slot still called what it is called when nobody names it
    ("Spreker 2") stays unnamed, so a name in the sidecar can still reach it."""
    unnamed = replace(transcript, speakers={})
    return {slot: name for slot, name in names.items() if name != unnamed.speaker_name(slot)}


def _with_review_state(corrected: Transcript, before: Transcript, review: Review) -> Transcript:
    """How far the editor has checked the transcript, never less than before."""
    until = max(review.reviewed_until or 0.0, before.provenance.reviewed_until or 0.0) or None
    marked = corrected.provenance.corrected if review.reviewed else before.provenance.reviewed
    provenance = replace(corrected.provenance, reviewed_until=until, reviewed=marked)
    return replace(corrected, provenance=provenance)


def _remake_derived(root: Path, store: TranscriptStore, episode: Episode,
                    transcript: Transcript) -> None:
    written = WrittenLog(store.folder)
    write_derived(with_speakers(transcript, episode), store.folder, episode.slug, written)
    written.save()
    tag_archive(root, [episode], TranscriptsInMemory({episode.slug: transcript}))

"""The main job, `wijk build`: one step per stage, top to bottom.

The whole build holds the archive's lock (a second build waits or refuses), every file it
writes is written atomically, and leftovers of a killed build are cleared first, so a build
killed at any moment leaves transcripts/ and site/ readable and the next build completes it.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.archive import SITE_DIR, TRANSCRIPTS_DIR, ArchiveConfig, load_archive
from pipeline.cache.catalogue import Catalogue
from pipeline.cache.fingerprint import Fingerprint, Sealed
from pipeline.cache.memo import BuildMemo
from pipeline.errors import Problem
from pipeline.fsutil import archive_lock, noting_replacements, remove_temporaries
from pipeline.ingest.identity import Registry
from pipeline.ingest.scan import Inventory, ingest
from pipeline.model import Tag
from pipeline.publish.assets import publish_assets, publish_feed
from pipeline.publish.layout import SiteLayout
from pipeline.publish.site import render_site
from pipeline.tag.stage import tag_archive
from pipeline.transcribe.stage import ArchiveTranscripts, transcribe_archive
from pipeline.transcribe.workers import cluster_executor, default_workers
from pipeline.transcripts.store import TranscriptStore

logger = logging.getLogger(__name__)


@dataclass
class BuildResult:
    episodes: Catalogue = field(default_factory=Catalogue)  # on disk, read in turn
    transcripts: ArchiveTranscripts | None = None  # every transcript, read when asked for
    tags: Mapping[str, list[Tag]] = field(default_factory=dict)  # by slug, read on demand
    transcribed_by: set[int] = field(default_factory=set)  # process ids of the workers
    problems: list[Problem] = field(default_factory=list)
    strict: bool = False
    changed: int = 0  # files written or removed
    published: int = 0  # episodes in the site
    incomplete: bool = False  # an output could not be made (the search index): try again
    up_to_date: bool = False  # no file changed since the last clean build: no stage ran, and
    # episodes, transcripts and tags above were not read (pipeline.cache.fingerprint)

    @property
    def ok(self) -> bool:
        return not any(p.fatal or self.strict for p in self.problems)


def run(root: Path, strict: bool = False, force: bool = False, wait: bool = False,
        workers: int | None = None, cluster: str | None = None,
        recheck: bool = False) -> BuildResult:
    """Build the archive at `root`. Bad episodes are reported and skipped; the rest publish.

    `workers`: episodes transcribed at once (None: the archive's setting); `cluster`: the
    address of a Dask scheduler to transcribe on instead; `recheck`: run every stage even if no
    file changed since the last clean build (pipeline.cache.fingerprint).
    """
    config = load_archive(root)
    with archive_lock(root, wait=wait):
        fingerprint = Fingerprint(root)  # the archive's files, as this build finds them
        sealed = None if recheck or force else fingerprint.up_to_date()
        if sealed is not None:
            result = BuildResult(up_to_date=True, published=sealed.episodes,
                                 problems=sealed.warnings, strict=strict)
        else:
            fingerprint.forget()
            with noting_replacements(fingerprint.note):
                result = _build(root, config, strict, force, workers, cluster)
            if not result.incomplete and not any(p.fatal for p in result.problems):
                fingerprint.seal(Sealed(result.published, result.problems),
                                 _images(root, config, result.episodes))
    _summarise(root, result)
    return result


def _build(root: Path, config: ArchiveConfig, strict: bool, force: bool, workers: int | None,
           cluster: str | None) -> BuildResult:
    """Every stage, each skipping what its inputs show unchanged."""
    with cluster_executor(cluster) as executor, \
            closing(BuildMemo.load(root)) as memo:  # what the last build made from what
        for folder in (root / TRANSCRIPTS_DIR, root / SITE_DIR):
            remove_temporaries(folder)

        # 1. Ingest: media files and sidecars -> Episodes with permanent identities.
        inventory = _ingest(root, config)
        gc.collect()  # ingest's garbage in cycles: not to be frozen with the rest
        gc.freeze()  # what lives all build (the memo, caches, config): spare it every collection
        result = BuildResult(episodes=inventory.episodes, problems=inventory.problems,
                             strict=strict)

        # 2. Transcribe what is new or changed; keep current and corrected transcripts.
        batch = transcribe_archive(root, result.episodes, config.transcription, force=force,
                                   memo=memo, executor=executor,
                                   workers=_workers(workers, config.transcription.workers))
        result.transcripts = batch.transcripts
        result.transcribed_by = batch.workers
        result.problems += batch.problems
        result.changed += batch.written
        logger.info(batch.summary())

        # 3. Tag every transcript by case and lesson, with the passages as evidence.
        tagged = tag_archive(root, result.episodes, result.transcripts, memo)
        result.tags = tagged.tags
        result.problems += tagged.problems
        result.changed += tagged.written

        # 4. Publish: media, art and transcripts into site/.
        published = publish_assets(root, config, result.episodes)
        result.problems += published.problems
        # 5. The site: a page per episode, case and lesson, and the search index.
        site = render_site(root, config, published.episodes, result.transcripts,
                           SiteLayout(root, config.base_url), tagged.tags, memo)
        result.problems += [Problem(Path(SITE_DIR), message, fatal=False)
                            for message in site.problems]
        result.incomplete = bool(site.problems)
        # 6. The feed last: it links each episode's page, now in place.
        feed_changed = publish_feed(root, config, published.episodes, memo)
        result.changed += (published.written + published.removed + site.written + site.removed
                           + feed_changed)
        result.published = len(result.episodes)
        memo.save()
    return result


def _images(root: Path, config: ArchiveConfig, episodes: Catalogue) -> Iterator[Path]:
    """The images archive.yaml and the sidecars name: files a build reads besides its folders."""
    yield (root / config.image).resolve()
    yield from (episode.image for episode in episodes if episode.image is not None)


def _workers(option: int | None, setting: int) -> int:
    chosen = setting if option is None else option
    return chosen or default_workers()


def _ingest(root: Path, config: ArchiveConfig) -> Inventory:
    """Ingest and register the episodes; what only registering needs is let go of."""
    registry = Registry.load(root)
    inventory = ingest(root, config, registry)
    _register(root, registry, inventory)
    inventory.identities.clear()
    inventory.stems.clear()
    return inventory


def _register(root: Path, registry: Registry, inventory: Inventory) -> None:
    """Record new identities; set aside the transcripts of episodes whose files are gone."""
    store = TranscriptStore(root)
    present = inventory.identities  # by slug: every episode ingested (beside the catalogue)
    for identity in inventory.identities.every():
        registry.record(identity)
        if store.bring_back(identity.slug):
            logger.info("%s: back in episodes/, its transcript restored.", identity.slug)
    for identity in registry.identities:
        if identity.slug not in present and identity.stem not in inventory.stems:
            if store.set_aside(identity.slug):
                logger.info("%s: no longer in episodes/; its transcript was moved to %s/removed/.",
                            identity.slug, TRANSCRIPTS_DIR)
    registry.save()


def _summarise(root: Path, result: BuildResult) -> None:
    for problem in result.problems:
        logger.log(logging.ERROR if problem.fatal else logging.WARNING, "%s", problem)
    failed = {p.path for p in result.problems if p.fatal}
    if result.changed == 0 and not failed:
        logger.info("Nothing changed: %d episode(s) up to date in %s.", result.published,
                    root / SITE_DIR)
        return
    logger.info("%d episode(s) published to %s (%d file(s) changed); %d file(s) with errors.",
                result.published, root / SITE_DIR, result.changed, len(failed))
    logger.info("Transcripts: %s/  Feed: %s  Preview: wijk serve --archive %s",
                root / TRANSCRIPTS_DIR, root / SITE_DIR / "feed.xml", root)

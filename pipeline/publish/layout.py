"""Where every published file lives in `site/`, and its public URL.

One place decides names, so the feed, the pages and `wijk check` always agree. Names use the
episode's permanent slug, never the editor's file name, so URLs survive a rename.

    site/feed.xml                        the podcast feed (audio, with video alternates)
    site/media/<slug>.<ext>              the episode's media file
    site/media/<slug>.video.<ext>        another version of it (a video), if any
    site/transcripts/<slug>.vtt|srt|txt  captions and plain text
    site/transcripts/<slug>.json         Podcasting 2.0 JSON transcript
    site/chapters/<slug>.json            Podcasting 2.0 chapters
    site/images/cover.<ext>              the archive's cover art
    site/images/<slug>.<ext>             an episode's own art
    site/afleveringen/<slug>/index.html  the episode page (also the HTML transcript)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath

from pipeline.archive import SITE_DIR
from pipeline.model import Episode, MediaFile

FEED = PurePosixPath("feed.xml")
TRANSCRIPT_TYPES = {  # extension in site/transcripts -> MIME type for podcast:transcript
    "vtt": "text/vtt",
    "srt": "application/x-subrip",
    "json": "application/json",
    "txt": "text/plain",
}


@dataclass(frozen=True)
class SiteLayout:
    root: Path  # the archive root
    base_url: str  # ends with "/"

    @cached_property
    def folder(self) -> Path:
        return self.root / SITE_DIR

    def path(self, relative: PurePosixPath) -> Path:
        return self.folder / relative

    def url(self, relative: PurePosixPath) -> str:
        return self.base_url + str(relative)

    # -- the names ---------------------------------------------------------------------------
    def media(self, episode: Episode, media: MediaFile | None = None) -> PurePosixPath:
        media = media or MediaFile(episode.source, episode.media)
        is_alternate = media.path != episode.source
        suffix = media.path.suffix.lower()
        return PurePosixPath("media") / f"{episode.slug}{'.video' if is_alternate else ''}{suffix}"

    def transcript(self, slug: str, extension: str) -> PurePosixPath:
        return PurePosixPath("transcripts") / f"{slug}.{extension}"

    def chapters(self, slug: str) -> PurePosixPath:
        return PurePosixPath("chapters") / f"{slug}.json"

    def cover(self, source: Path) -> PurePosixPath:
        return PurePosixPath("images") / f"cover{source.suffix.lower()}"

    def episode_image(self, slug: str, suffix: str) -> PurePosixPath:
        return PurePosixPath("images") / f"{slug}{suffix.lower()}"

    def episode_page(self, slug: str) -> PurePosixPath:
        return PurePosixPath("afleveringen") / slug / "index.html"

    def episode_page_url(self, slug: str) -> str:
        """The page's canonical URL, without index.html."""
        return self.base_url + f"afleveringen/{slug}/"

    # -- the transcript site's own pages (pipeline.publish.site) -------------------------------------
    def home_page(self) -> PurePosixPath:
        return PurePosixPath("index.html")

    def episodes_index(self) -> PurePosixPath:
        return PurePosixPath("afleveringen") / "index.html"

    def episode_captions(self, slug: str) -> PurePosixPath:
        """Captions for the site's own <track>: speaker names in the text, beside the page."""
        return PurePosixPath("afleveringen") / slug / "ondertiteling.vtt"

    def cases_index(self) -> PurePosixPath:
        return PurePosixPath("casussen") / "index.html"

    def case_page(self, case_id: str) -> PurePosixPath:
        return PurePosixPath("casussen") / case_id / "index.html"

    def topic_part(self, topic_page: PurePosixPath, number: int) -> PurePosixPath:
        """An older part of a case's or lesson's page: casussen/<id>/deel-2/index.html."""
        return topic_page.parent / f"deel-{number}" / "index.html"

    def lessons_index(self) -> PurePosixPath:
        return PurePosixPath("lessen") / "index.html"

    def lesson_page(self, lesson_id: str) -> PurePosixPath:
        return PurePosixPath("lessen") / lesson_id / "index.html"

    def search_page(self) -> PurePosixPath:
        return PurePosixPath("zoeken") / "index.html"

    def about_page(self) -> PurePosixPath:
        return PurePosixPath("over") / "index.html"

    def asset(self, name: str) -> PurePosixPath:
        """A file copied unchanged from pipeline/static/."""
        return PurePosixPath("static") / name

    def search_index(self) -> PurePosixPath:
        """The folder Pagefind writes its index and its JavaScript into."""
        return PurePosixPath("pagefind")

"""`wijk review`: the review app on http://127.0.0.1:<port>/, for this machine only.

Routes: `/` lists the episodes; `/aflevering/<slug>/` is an episode's review page;
`/media/<slug>` its media file (with byte ranges, for seeking); `/ondertiteling/<slug>.vtt`
its captions; `/static/<name>` the app's own script and style. Saving is a POST to
`/aflevering/<slug>/opslaan` carrying this run's token in the `X-Review-Token` header and from
this origin only, so no other site can save through the editor's browser. Nothing outside the
archive's own media, transcripts and the app's static files is ever served.
"""

from __future__ import annotations

import http.server
import json
import logging
import re
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jinja2

from pipeline.archive import ArchiveConfig, load_archive
from pipeline.errors import LockedError, WijkError
from pipeline.model import Episode
from pipeline.review.edits import MARKERS, EditedSegment
from pipeline.review.episodes import listing, local_episodes, review_page
from pipeline.review.saving import ChangedMeanwhile, Review, save_review
from pipeline.serve import MIME_TYPES, parse_range, refuse_range
from pipeline.text import clock

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
STATIC = {"review.js": "text/javascript; charset=utf-8", "review.css": "text/css; charset=utf-8"}
MAX_BODY = 32 * 1024 * 1024  # a save of a long episode is a few MB at most
DEFAULT_PORT = 8100


@dataclass
class ReviewApp:
    """One run of the app: the archive, its episodes and this run's token."""

    root: Path
    config: ArchiveConfig
    token: str
    templates: jinja2.Environment
    origin: str = ""  # http://127.0.0.1:<port>, set once bound
    known: list[Episode] | None = None  # as ingest found them when a page was last made

    @classmethod
    def open(cls, root: Path) -> ReviewApp:
        environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
            trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
        environment.filters["clock"] = clock
        return cls(root, load_archive(root), secrets.token_urlsafe(32), environment)

    def episodes(self) -> list[Episode]:
        """The archive's episodes, looked up again (a page is being made)."""
        self.known = local_episodes(self.root, self.config)
        return self.known

    def episode(self, slug: str, fresh: bool = False) -> Episode | None:
        """The episode `slug`, as last looked up unless `fresh` (or not known then)."""
        known = self.known if self.known is not None and not fresh else self.episodes()
        found = next((e for e in known if e.slug == slug), None)
        if found is None and not fresh:
            return self.episode(slug, fresh=True)
        return found

    def render(self, template: str, **context: Any) -> bytes:
        page = self.templates.get_template(template).render(
            token=self.token, archive=self.config.title, markers=MARKERS, **context)
        return page.encode("utf-8")


class ReviewHandler(http.server.BaseHTTPRequestHandler):
    app: ReviewApp  # set on the class made for each server

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        path = unquote(urlsplit(self.path).path)
        if path == "/":
            self._send(200, "text/html; charset=utf-8", self.app.render(
                "index.html", listed=listing(self.app.root, self.app.episodes())))
        elif match := re.fullmatch(r"/aflevering/([\w-]+)/", path):
            self._review_page(match.group(1))
        elif match := re.fullmatch(r"/media/([\w-]+)", path):
            episode = self.app.episode(match.group(1))
            self._file(episode.source if episode else None)
        elif match := re.fullmatch(r"/ondertiteling/([\w-]+)\.vtt", path):
            self._file(self.app.root / "transcripts" / f"{match.group(1)}.vtt")
        elif match := re.fullmatch(r"/static/([\w.-]+)", path):
            name = match.group(1)
            self._file(HERE / "static" / name if name in STATIC else None, STATIC.get(name))
        else:
            self._not_found()

    def do_POST(self) -> None:  # noqa: N802
        path = unquote(urlsplit(self.path).path)
        match = re.fullmatch(r"/aflevering/([\w-]+)/opslaan", path)
        if not match:
            return self._not_found()
        if not self._trusted():
            return self._json(403, {"message": "Opslaan geweigerd: dit verzoek komt niet van "
                                               "de review-pagina zelf."})
        episode = self.app.episode(match.group(1))
        if episode is None:
            return self._not_found()
        try:
            review = _parse_review(self._body())
            digest = save_review(self.app.root, episode, review)
        except ValueError as e:
            return self._json(400, {"message": f"Opslaan mislukt: {e}"})
        except ChangedMeanwhile as e:
            return self._json(409, {"message": e.message})
        except LockedError:
            return self._json(409, {"message": "Er loopt nu een build op dit archief; je "
                                               "wijzigingen zijn niet opgeslagen. Probeer het zo "
                                               "nog eens (Ctrl+S)."})
        except WijkError as e:
            return self._json(500, {"message": f"Opslaan mislukt: {e.message}"})
        logger.info("%s: review saved", episode.slug)
        self._json(200, {"base": digest, "message": "Opgeslagen."})

    # -- helpers --------------------------------------------------------------------------

    def _review_page(self, slug: str) -> None:
        episode = self.app.episode(slug, fresh=True)
        page = review_page(self.app.root, episode) if episode else None
        if page is None:
            return self._not_found()
        self._send(200, "text/html; charset=utf-8", self.app.render("episode.html", page=page))

    def _trusted(self) -> bool:
        """This run's token, from this app's own origin (or a same-origin fetch)."""
        token = self.headers.get("X-Review-Token", "")
        origin = self.headers.get("Origin")
        return secrets.compare_digest(token, self.app.token) and origin in (None, self.app.origin)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= MAX_BODY:
            raise ValueError("geen of te veel gegevens")
        try:
            return json.loads(self.rfile.read(length))
        except json.JSONDecodeError as e:
            raise ValueError(f"geen geldige JSON ({e.msg})") from e

    def _file(self, path: Path | None, mime: str | None = None) -> None:
        if path is None or not path.is_file():
            return self._not_found()
        size = path.stat().st_size
        mime = mime or MIME_TYPES.get(path.suffix.lower(), "application/octet-stream")
        header = self.headers.get("Range")
        first, last = 0, size - 1
        status = 200
        if header is not None:
            byte_range = parse_range(header, size)
            if byte_range is None:
                return refuse_range(self, size)
            (first, last), status = byte_range, 206
        self.send_response(status)
        self.send_header("Content-Type", mime)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(last - first + 1))
        if status == 206:
            self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        with path.open("rb") as handle:
            handle.seek(first)
            remaining = last - first + 1
            while remaining > 0 and (block := handle.read(min(1 << 16, remaining))):
                self.wfile.write(block)
                remaining -= len(block)

    def _json(self, status: int, data: dict[str, Any]) -> None:
        self._send(status, "application/json", json.dumps(data, ensure_ascii=False).encode())

    def _send(self, status: int, mime: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", mime)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; "
                                                    "form-action 'self'; base-uri 'none'")
        self.end_headers()
        self.wfile.write(body)

    def _not_found(self) -> None:
        self._send(404, "text/plain; charset=utf-8", b"Niet gevonden.")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        logger.debug(format, *args)


def _parse_review(data: Any) -> Review:
    """The page's JSON as a Review; ValueError naming what is wrong."""
    if not isinstance(data, dict) or not isinstance(data.get("segments"), list):
        raise ValueError("verwacht een object met 'segments'")
    speakers = data.get("speakers") or {}
    if not isinstance(speakers, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in speakers.items()):
        raise ValueError("'speakers' moet namen per spreker geven")
    segments = []
    for number, raw in enumerate(data["segments"], 1):
        if not isinstance(raw, dict) or not isinstance(raw.get("text"), str):
            raise ValueError(f"segment {number} heeft geen tekst")
        speaker, source = raw.get("speaker"), raw.get("source")
        if speaker is not None and not isinstance(speaker, str) or \
                source is not None and not isinstance(source, int):
            raise ValueError(f"segment {number}: spreker of bron klopt niet")
        segments.append(EditedSegment(raw["text"], speaker or None, source))
    until = data.get("reviewed_until")
    return Review(str(data.get("base", "")), segments,
                  {k: v.strip() for k, v in speakers.items() if v.strip()},
                  float(until) if isinstance(until, (int, float)) else None,
                  bool(data.get("reviewed")))


def make_review_server(root: Path, port: int = DEFAULT_PORT) -> http.server.ThreadingHTTPServer:
    """The review app for the archive at `root` on 127.0.0.1:`port` (0: a free port)."""
    app = ReviewApp.open(root)
    handler = type("BoundReviewHandler", (ReviewHandler,), {"app": app})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    app.origin = f"http://127.0.0.1:{server.server_address[1]}"
    return server


def review(root: Path, port: int = DEFAULT_PORT) -> None:
    """Serve the review app until interrupted."""
    with make_review_server(root, port) as server:
        logger.info("Review app for %s: %s/ (Ctrl+C stops)", root, server_url(server))
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


def server_url(server: http.server.HTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}"


def review_in_background(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """The app on a free port, served by a daemon thread (for tests): (server, base URL)."""
    server = make_review_server(root, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server_url(server)

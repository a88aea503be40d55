"""`wijk serve`: preview the built site on http://127.0.0.1:<port>/ (never on other interfaces).

Python's http.server, with two things a media site needs: the right MIME types for captions and
audio containers (.vtt, .srt, .opus, .m4a, .webm, Pagefind's files), and byte ranges (HTTP 206),
so a browser can seek in a long episode and a link such as `aflevering.mp3#t=95` starts there.

    serve(Path("site"), 8000)        # blocks until Ctrl+C
"""

from __future__ import annotations

import http.server
import logging
import os
import re
import threading
from functools import partial
from pathlib import Path
from typing import BinaryIO

from pipeline.errors import WijkError

logger = logging.getLogger(__name__)

MIME_TYPES = {
    ".vtt": "text/vtt; charset=utf-8",
    ".srt": "application/x-subrip; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".xml": "application/rss+xml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".wasm": "application/wasm",
    ".pagefind": "application/octet-stream",
    ".pf_meta": "application/octet-stream",
    ".pf_fragment": "application/octet-stream",
    ".pf_index": "application/octet-stream",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".aac": "audio/aac",
    ".opus": "audio/ogg",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".flac": "audio/flac",
    ".wav": "audio/wav",
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".webm": "video/webm",
    ".mov": "video/quicktime",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with media MIME types and single byte ranges (RFC 9110, section 14)."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}
    _range: tuple[int, int] | None = None

    def send_head(self) -> BinaryIO | None:  # type: ignore[override]
        self._range = None
        header = self.headers.get("Range")
        path = Path(self.translate_path(self.path))
        if header is None or not path.is_file():
            return super().send_head()
        size = path.stat().st_size
        byte_range = parse_range(header, size)
        if byte_range is None:
            refuse_range(self, size)
            return None
        handle = path.open("rb")
        start, end = byte_range
        handle.seek(start)
        self._range = byte_range
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Last-Modified", self.date_time_string(int(path.stat().st_mtime)))
        self.end_headers()
        return handle  # type: ignore[return-value]

    def copyfile(self, source: BinaryIO, outputfile: BinaryIO) -> None:  # type: ignore[override]
        if self._range is None:
            super().copyfile(source, outputfile)
            return
        remaining = self._range[1] - self._range[0] + 1
        while remaining > 0:
            block = source.read(min(64 * 1024, remaining))
            if not block:
                break
            outputfile.write(block)
            remaining -= len(block)

    def end_headers(self) -> None:
        if self._range is None and self.command in ("GET", "HEAD"):
            self.send_header("Accept-Ranges", "bytes")
        self.send_header("Cache-Control", "no-cache")  # a preview: always the latest build
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's name)
        if os.environ.get("WIJK_SERVE_QUIET"):
            return
        super().log_message(format, *args)


def refuse_range(handler: http.server.BaseHTTPRequestHandler, size: int) -> None:
    """Answer 416: the requested range lies outside the file's `size` bytes."""
    handler.send_response(416)
    handler.send_header("Content-Range", f"bytes */{size}")
    handler.send_header("Content-Length", "0")
    handler.end_headers()


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """A single `bytes=` range as (first, last) inclusive; None when it cannot be satisfied."""
    match = _RANGE.match(header.strip())
    if not match or size == 0:
        return None
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":  # the last N bytes
        length = int(last)
        return (max(0, size - length), size - 1) if length else None
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    return (start, end) if start <= end and start < size else None


def make_server(root: Path, port: int = 8000) -> http.server.ThreadingHTTPServer:
    """A server for `root` on 127.0.0.1:`port` (0 picks a free port), not yet serving."""
    if not root.is_dir():
        raise WijkError("no site to serve here: run `wijk build` first", root)
    handler = partial(SiteHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    return server


def serve(root: Path, port: int = 8000) -> None:
    """Serve `root` (the built site/) on http://127.0.0.1:`port`/ until interrupted."""
    with make_server(root, port) as server:
        host, bound = server.server_address[:2]
        logger.info("Serving %s on http://%s:%s/ (Ctrl+C stops)", root, host, bound)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


def serve_in_background(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Start serving `root` on a free port in a daemon thread; returns the server and its URL.

    For tests and screenshots: call `server.shutdown()` when done.
    """
    server = make_server(root, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    return server, f"http://{host}:{port}/"

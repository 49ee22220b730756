"""A local HTTP fixture server on 127.0.0.1 for the fetcher and pipeline tests.

Tests use it through `serve_fixtures()`. Nothing here sleeps: the slow
endpoint blocks on an Event that the fixture sets at teardown, and the dripping endpoint's pace
is only there to outlast a short deadline.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import sources_pages as pages
from . import sources_pdfs as pdfs

ENDLESS_LIMIT = 200_000_000  # the "endless" body stops here so a broken client cannot hang a test
DRIP_INTERVAL = 0.05


@dataclass
class FixtureServer:
    port: int
    release: threading.Event = field(default_factory=threading.Event)
    hits: Counter[str] = field(default_factory=Counter)
    endless_sent: int = 0
    endless_done: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def _routes(server: FixtureServer) -> dict[str, Callable[[BaseHTTPRequestHandler], None]]:
    def send(
        handler: BaseHTTPRequestHandler,
        body: bytes | str,
        *,
        status: int = 200,
        content_type: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        data = body.encode() if isinstance(body, str) else body
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def redirect(handler: BaseHTTPRequestHandler, location: str) -> None:
        send(handler, b"", status=302, headers={"Location": location})

    def flaky(handler: BaseHTTPRequestHandler) -> None:
        if server.hits["/flaky"] == 1:
            send(handler, "busy", status=503, headers={"Retry-After": "7"})
        else:
            send(handler, pages.ARTICLE)

    def slow(handler: BaseHTTPRequestHandler) -> None:
        server.release.wait(timeout=30)
        send(handler, pages.ARTICLE)

    def endless(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/plain")
        handler.end_headers()
        chunk = b"endless " * 8192
        try:
            while server.endless_sent < ENDLESS_LIMIT:
                handler.wfile.write(chunk)
                server.endless_sent += len(chunk)
        except OSError:
            pass  # the client hung up: what the test wants
        finally:
            server.endless_done.set()

    def drip(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/plain")
        handler.end_headers()
        try:
            while not server.release.wait(DRIP_INTERVAL):
                handler.wfile.write(b"x")
                handler.wfile.flush()
        except OSError:
            pass

    def redirect_chain(handler: BaseHTTPRequestHandler) -> None:
        remaining = int(handler.path.rsplit("/", 1)[1])
        redirect(handler, f"/redirect/{remaining - 1}" if remaining > 1 else "/article")

    routes: dict[str, Callable[[BaseHTTPRequestHandler], None]] = {
        "/article": lambda h: send(h, pages.ARTICLE),
        "/article-copy": lambda h: send(h, pages.ARTICLE_COPY),
        "/thin": lambda h: send(h, pages.THIN),
        "/login": lambda h: send(h, pages.LOGIN),
        "/error-200": lambda h: send(h, pages.ERROR_200),
        "/report.pdf": lambda h: send(
            h, pdfs.text_pdf(pages.PDF_PAGES), content_type="application/pdf"
        ),
        "/scan.pdf": lambda h: send(h, pdfs.image_only_pdf(), content_type="application/pdf"),
        "/locked.pdf": lambda h: send(
            h, pdfs.encrypted_pdf(pages.PDF_PAGES[0]), content_type="application/pdf"
        ),
        "/download": lambda h: send(
            h, pdfs.text_pdf(pages.PDF_PAGES), content_type="application/octet-stream"
        ),
        "/notes.txt": lambda h: send(
            h, pages.PLAIN_TEXT.encode("cp1252"), content_type="text/plain; charset=windows-1252"
        ),
        "/image.png": lambda h: send(h, b"\x89PNG\r\n\x1a\n" + bytes(64), content_type="image/png"),
        "/missing": lambda h: send(h, "not here", status=404),
        "/flaky": flaky,
        "/busy": lambda h: send(h, "busy", status=503, headers={"Retry-After": "3600"}),
        "/slow": slow,
        "/endless": endless,
        "/drip": drip,
        "/to-loopback": lambda h: redirect(h, f"http://127.0.0.1:{server.port}/article"),
        "/to-file": lambda h: redirect(h, "file:///etc/passwd"),
        "/redirect": redirect_chain,  # /redirect/N: N redirects, then the article
    }
    return routes


def start_fixture_server() -> tuple[FixtureServer, ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    httpd.daemon_threads = True
    server = FixtureServer(port=httpd.server_address[1])
    routes = _routes(server)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            server.hits[path] += 1
            route = routes.get(path) or (
                routes["/redirect"] if path.startswith("/redirect/") else None
            )
            if route is None:
                self.send_error(404)
                return
            route(self)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd.RequestHandlerClass = Handler
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return server, httpd


@contextlib.contextmanager
def serve_fixtures() -> Iterator[FixtureServer]:
    """Run the fixture server for the duration of the block. A test module wraps it in its own
    fixture: `yield from`-style, so fixtures need no plugin registration."""
    server, httpd = start_fixture_server()
    try:
        yield server
    finally:
        server.release.set()
        httpd.shutdown()
        httpd.server_close()

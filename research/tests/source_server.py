"""A small HTTP server on 127.0.0.1 that serves the pages the pipeline tests fetch.

Pages are (status, content type, body) by path; every request is recorded, so a test can
assert what was (and was not) fetched.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COMPANY_PARAGRAPHS = [
    "Acme Robotics builds autonomous picking arms for warehouses across Europe and has "
    "opened a second plant near Munich to meet demand from grocery and parcel customers.",
    "Its chief executive said the company doubled revenue last year while keeping its "
    "engineering team small, focused on grippers, vision software and service contracts.",
    "Analysts at several banks expect the market for warehouse automation to keep growing "
    "as labour stays scarce, wages rise and retailers promise faster delivery to shoppers.",
    "Competitors include Beta Motion, whose mobile robots move shelves to pickers, and a "
    "number of start-ups that sell software to coordinate fleets of machines from vendors.",
    "The company plans to hire two hundred people over the next two years, mostly in "
    "software, field service and sales, and to open an office in Rotterdam for the Benelux.",
    "Customers describe installation projects that take weeks rather than months, and "
    "contracts that bundle hardware with maintenance, spare parts and remote monitoring.",
    "Investors led by a Scandinavian pension fund put new money into the business this "
    "spring, valuing it at several hundred million euros according to people familiar.",
]

TEMPLATE = """<!doctype html>
<html><head><title>{title}</title></head>
<body>
<header><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/about">About</a></nav>
</header>
<main><article><h1>{title}</h1>
{paragraphs}
</article></main>
<footer><p>Copyright Example Trade News. All rights reserved.</p></footer>
</body></html>"""


def article(title: str, paragraphs: list[str]) -> bytes:
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return TEMPLATE.format(title=title, paragraphs=body).encode()


GOOD = article("Acme Robotics expands in Germany", COMPANY_PARAGRAPHS * 2)
# The same article on the same template, slightly edited and shorter: a near-duplicate.
NEAR_COPY = article(
    "Acme Robotics expands in Germany (update)",
    [p.replace("second plant", "new plant") for p in COMPANY_PARAGRAPHS * 2][:-1],
)
THIN = article("Acme Robotics", ["Acme Robotics makes robots."])
LOGIN = (
    b"<!doctype html><html><head><title>Sign in</title></head><body><main>"
    b"<h1>Sign in to continue reading</h1><p>Subscribers only. Log in to read this article "
    b"about Acme Robotics and other companies.</p>"
    b'<form method="post"><input name="user"><input type="password" name="pw">'
    b"<button>Sign in</button></form></main></body></html>"
)
ERROR_PAGE = (
    b"<!doctype html><html><head><title>404 Not Found</title></head><body><main>"
    b"<h1>404 Not Found</h1><p>The page you are looking for does not exist. It may have "
    b"been moved or deleted. Check the address or go back to the home page.</p></main>"
    b"</body></html>"
)
PLAIN_TEXT = (" ".join(COMPANY_PARAGRAPHS)).encode()
# Pasted notes on another subject (no near-duplicate of the articles).
NOTES = " ".join(
    f"Interview note {n}: Beta Motion's head of operations described shift patterns, "
    f"training budgets and the pilot site number {n} where mobile robots replaced carts."
    for n in range(12)
)


@dataclass
class SourceServer:
    port: int = 0
    pages: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


DEFAULT_PAGES = {
    "/good": (200, "text/html; charset=utf-8", GOOD),
    "/near-copy": (200, "text/html; charset=utf-8", NEAR_COPY),
    "/thin": (200, "text/html; charset=utf-8", THIN),
    "/login": (200, "text/html; charset=utf-8", LOGIN),
    "/error-page": (200, "text/html; charset=utf-8", ERROR_PAGE),
    "/plain": (200, "text/plain; charset=utf-8", PLAIN_TEXT),
    "/missing": (404, "text/html", b"<html><body>Not here</body></html>"),
    "/empty": (200, "text/html", b""),
}


@contextmanager
def serve(pages: dict[str, tuple[int, str, bytes]] | None = None) -> Iterator[SourceServer]:
    state = SourceServer(pages={**DEFAULT_PAGES, **(pages or {})})

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            status, content_type, body = state.pages.get(
                self.path, (404, "text/plain", b"no such page")
            )
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()

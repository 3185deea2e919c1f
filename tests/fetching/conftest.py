"""Fixtures for fetching: a real origin server on 127.0.0.1 whose pages a test changes,
and a site whose allowed origin it is."""

from __future__ import annotations

import gzip
import http.server
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

from feedback.extensions import db
from feedback.models import Site
from tests.conftest import ARTICLE_TEXT

ARTICLE_PATH = "/2026/ferry-returns"


def article_page(text: str = ARTICLE_TEXT, *, title: str = "Harbour ferry returns") -> str:
    """A news page around ``text``: menus, teasers and a footer besides the story."""
    paragraphs = "".join(f"<p>{line}</p>" for line in text.split("\n"))
    return (
        f"<!doctype html><html><head><title>{title} | The Example News</title>"
        "<script>window.analytics = {track() {}};</script></head><body>"
        "<header><nav><a href=/>Home</a> <a href=/news>News</a></nav></header>"
        "<main><article class=teaser><h2>Bus strike ends</h2><p>Read more</p></article>"
        f"<article id=story><h1>{title}</h1>{paragraphs}"
        "<aside>Related: <a href=/x>Ferry timetable</a></aside></article></main>"
        "<footer>© The Example News</footer></body></html>"
    )


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Seconds to wait before answering (a server that hangs).
    delay: float = 0.0
    # Send the body this many bytes at a time, waiting ``trickle_pause`` between them.
    trickle: int = 0
    trickle_pause: float = 0.0


class OriginServer:
    """A site's web server on 127.0.0.1: serves the routes a test sets and records
    each request it gets."""

    def __init__(self, tls: ssl.SSLContext | None = None):
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.connections = 0
        self.stopping = threading.Event()
        origin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                origin.connections += 1
                super().setup()

            def do_GET(self):
                origin.requests.append((self.path, dict(self.headers.items())))
                route = origin.routes.get(self.path, Route(404, b"<p>Not found</p>"))
                if route.delay and origin.stopping.wait(route.delay):
                    return
                self.send_response(route.status)
                headers = {"Content-Type": "text/html; charset=utf-8", **route.headers}
                if "Content-Length" not in headers and "Transfer-Encoding" not in headers:
                    headers["Content-Length"] = str(len(route.body))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if not route.trickle:
                    self.wfile.write(route.body)
                    return
                for start in range(0, len(route.body), route.trickle):
                    if origin.stopping.wait(route.trickle_pause):
                        return
                    self.wfile.write(route.body[start : start + route.trickle])
                    self.wfile.flush()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_port
        self.base = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"

    def page(self, path: str, html: str, **route) -> None:
        self.routes[path] = Route(body=html.encode("utf-8"), **route)

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.routes[path] = Route(status=status, headers={"Location": location})

    def gzipped(self, path: str, raw: bytes) -> None:
        body = gzip.compress(raw)
        self.routes[path] = Route(body=body, headers={"Content-Encoding": "gzip"})

    def hits(self, path: str) -> int:
        return sum(1 for seen, _headers in self.requests if seen == path)


@contextmanager
def running(server: OriginServer) -> Iterator[OriginServer]:
    """Serve in a background thread until the block ends."""
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.server.shutdown()
        server.server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def origin() -> Iterator[OriginServer]:
    with running(OriginServer()) as server:
        yield server


@pytest.fixture
def app_config() -> dict:
    return {"FETCH_PAGES": True, "HUEY_IMMEDIATE": True}


@pytest.fixture
def news_site(app, origin) -> Site:
    """A site whose pages the origin server serves."""
    site = Site(
        name="The Example News",
        public_key="example-key",
        allowed_origins=[origin.base],
        settings={},
    )
    site.rotate_secret()
    db.session.add(site)
    db.session.commit()
    return site


def wait_until(condition, timeout: float = 5.0) -> None:
    """Wait for ``condition()`` to hold, a bounded time."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)

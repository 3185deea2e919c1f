"""Hostile bodies and parameters: a clear 4xx, nothing stored, the service unharmed."""

from __future__ import annotations

import http.client
import json
import socket
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from feedback.extensions import db
from feedback.models import Suggestion
from feedback.text import UNSTORABLE_MESSAGE
from tests.conftest import SITE_ORIGIN, suggestion_body
from tests.servers import serve_in_thread


def stored() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Suggestion))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("comment",), "nul \x00 inside"),
        (("reporter", "name"), "lone \ud800 surrogate"),
        (("article", "title"), "\x00"),
        (("replacement",), "\udfff"),
    ],
    ids=["nul-comment", "surrogate-name", "nul-title", "surrogate-replacement"],
)
def test_text_no_database_can_store_is_refused(site, client, path, value):
    body = suggestion_body(reporter={"name": "x", "email": "x@example.org"})
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    # json.dumps writes NUL and lone surrogates as \u escapes, as a hostile client would.
    response = client.post(
        "/api/v1/suggestions",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Origin": SITE_ORIGIN},
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == {
        "code": "unstorable_text",
        "message": UNSTORABLE_MESSAGE,
        "fields": {},
        "field_codes": {},
    }
    assert stored() == 0


def test_nul_in_a_page_query_is_refused(client):
    response = client.get("/editor/sign-in?next=%00")
    assert response.status_code == 400
    assert UNSTORABLE_MESSAGE in response.text


def test_a_truncated_body_stores_nothing_and_harms_nothing(app, site):
    raw = json.dumps(suggestion_body()).encode()
    with serve_in_thread(app) as url:
        host, port = urlsplit(url).hostname, urlsplit(url).port
        with socket.create_connection((host, port), timeout=10) as sock:
            head = (
                "POST /api/v1/suggestions HTTP/1.1\r\n"
                f"Host: {host}:{port}\r\nContent-Type: application/json\r\n"
                f"Origin: {SITE_ORIGIN}\r\nContent-Length: {len(raw)}\r\n\r\n"
            )
            sock.sendall(head.encode() + raw[: len(raw) // 2])
            sock.shutdown(socket.SHUT_WR)  # the client goes away mid-body
            answer = sock.recv(4096)
        assert answer == b"" or answer.startswith(b"HTTP/1.1 400")
        # The next, whole request is served as usual.
        with socket.create_connection((host, port), timeout=10) as sock:
            whole = head.encode() + raw
            sock.sendall(whole)
            status_line = sock.recv(4096).split(b"\r\n", 1)[0]
    assert status_line == b"HTTP/1.1 201 CREATED"
    assert stored() == 1


def test_a_claimed_length_over_the_limit_is_refused_before_reading(app, site):
    with serve_in_thread(app) as url:
        host, port = urlsplit(url).hostname, urlsplit(url).port
        with socket.create_connection((host, port), timeout=10) as sock:
            sock.sendall(
                (
                    "POST /api/v1/suggestions HTTP/1.1\r\n"
                    f"Host: {host}:{port}\r\nContent-Type: application/json\r\n"
                    "Content-Length: 999999999\r\n\r\n{"
                ).encode()
            )
            status_line = sock.recv(4096).split(b"\r\n", 1)[0]
    assert status_line == b"HTTP/1.1 413 REQUEST ENTITY TOO LARGE"
    assert stored() == 0


def _post_chunked(url: str, raw: bytes, chunk: int = 1000) -> tuple[int, dict | None]:
    """POST ``raw`` with Transfer-Encoding: chunked (no Content-Length), as a streaming
    client does; (status, JSON answer)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request(
            "POST",
            "/api/v1/suggestions",
            body=(raw[start : start + chunk] for start in range(0, len(raw), chunk)),
            headers={"Content-Type": "application/json", "Origin": SITE_ORIGIN},
            encode_chunked=True,
        )
        response = connection.getresponse()
        payload = response.read()
        return response.status, json.loads(payload) if payload else None
    finally:
        connection.close()


class TestChunkedBodies:
    LIMIT = 4000

    @pytest.fixture
    def app_config(self):
        return {"MAX_CONTENT_LENGTH": self.LIMIT}

    def test_a_chunked_body_over_the_limit_is_413(self, app, site):
        raw = json.dumps(suggestion_body(comment="x" * (2 * self.LIMIT))).encode()
        db.session.remove()
        with serve_in_thread(app) as url:
            status, answer = _post_chunked(url, raw)
        assert status == 413
        assert answer == {
            "error": {
                "code": "too_large",
                "message": "The request body is too large.",
                "fields": {},
                "field_codes": {},
            }
        }
        assert stored() == 0

    def test_a_chunked_body_a_byte_over_the_limit_is_413(self, app, site):
        body = suggestion_body(comment="")
        padding = self.LIMIT + 1 - len(json.dumps(body).encode())
        raw = json.dumps(suggestion_body(comment="x" * padding)).encode()
        assert len(raw) == self.LIMIT + 1
        db.session.remove()
        with serve_in_thread(app) as url:
            assert _post_chunked(url, raw)[0] == 413
        assert stored() == 0

    def test_a_chunked_body_of_exactly_the_limit_is_read_whole(self, app, site):
        body = suggestion_body(comment="")
        padding = self.LIMIT - len(json.dumps(body).encode())
        raw = json.dumps(suggestion_body(comment="x" * padding)).encode()
        assert len(raw) == self.LIMIT
        db.session.remove()
        with serve_in_thread(app) as url:
            status, answer = _post_chunked(url, raw)
        assert status == 201, answer
        assert stored() == 1

"""Refused reports (unknown site key, foreign Origin, a client over its limit) are
refused before the body is validated, without a query, and spend no client's allowance;
most of them by the report gate, before Flask, and all alike."""

from __future__ import annotations

import http.client
import json
import time
from urllib.parse import urlsplit

import pytest
from flask import request
from flask_limiter import Limiter
from sqlalchemy import event, func, select, update

from feedback.extensions import db
from feedback.models import IncomingReport, Site
from tests.conftest import SITE_ORIGIN, suggestion_body
from tests.servers import serve_in_thread

# A body the schema would refuse (422) if it got that far.
BROKEN = {"kind": "rumour", "quote": {"exact": ""}, "replacement": 7}


@pytest.fixture
def app_config():
    return {"RATELIMIT_PER_CLIENT": "3/minute", "RATELIMIT_PER_SITE": "1000/minute"}


@pytest.fixture
def statements(app):
    """SQL statements run while the list is being filled."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    yield seen
    event.remove(db.engine, "before_cursor_execute", note)


@pytest.fixture
def form_limiter_checks(monkeypatch) -> list[str]:
    """The paths Flask-Limiter (the editor forms' limiter) checks; set up before the app is
    made, as its hooks are bound when the app is."""
    checked: list[str] = []
    check = Limiter._check_request_limit

    def counted(self, *args, **kwargs):
        checked.append(request.path)
        return check(self, *args, **kwargs)

    monkeypatch.setattr(Limiter, "_check_request_limit", counted)
    return checked


def error_of(response) -> dict:
    return response.get_json()["error"]


def stored() -> int:
    return db.session.scalar(select(func.count()).select_from(IncomingReport))


def test_unknown_key_is_404_before_the_body_is_validated(site, post_suggestion):
    response = post_suggestion(suggestion_body(site="no-such-site", **BROKEN))
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert error_of(response)["fields"] == {"site": ["Unknown site key."]}


def test_foreign_origin_is_403_before_the_body_is_validated(site, post_suggestion):
    response = post_suggestion(suggestion_body(**BROKEN), origin="https://evil.example.net")
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"
    assert "Access-Control-Allow-Origin" not in response.headers


def test_over_the_limit_is_429_before_the_body_is_validated(site, post_suggestion):
    for _ in range(3):
        assert post_suggestion(suggestion_body(**BROKEN)).status_code == 422
    response = post_suggestion(suggestion_body())
    assert response.status_code == 429
    assert error_of(response)["code"] == "rate_limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    # The snippet on the site's page can read the refusal and its Retry-After.
    assert response.headers["Access-Control-Allow-Origin"] == SITE_ORIGIN
    assert post_suggestion(suggestion_body(**BROKEN)).status_code == 429
    assert stored() == 0


def test_refusals_spend_none_of_the_clients_allowance(site, post_suggestion):
    for _ in range(5):
        assert post_suggestion(suggestion_body(site="no-such-site")).status_code == 404
        assert post_suggestion(
            suggestion_body(), origin="https://evil.example.net"
        ).status_code == (403)
    for _ in range(3):
        assert post_suggestion(suggestion_body()).status_code == 201
    assert post_suggestion(suggestion_body()).status_code == 429
    assert stored() == 3


def test_refusals_run_no_query(site, post_suggestion, statements):
    assert post_suggestion(suggestion_body(site="no-such-site")).status_code == 404  # warm
    for _ in range(3):
        assert post_suggestion(suggestion_body()).status_code == 201
    statements.clear()
    assert post_suggestion(suggestion_body(site="no-such-site")).status_code == 404
    assert post_suggestion(suggestion_body(), origin="https://evil.example.net").status_code == 403
    assert post_suggestion(suggestion_body()).status_code == 429
    assert statements == []


def test_a_site_added_or_changed_here_counts_at_once(app, post_suggestion):
    assert post_suggestion(suggestion_body(site="brand-new")).status_code == 404
    added = Site(name="New", public_key="brand-new", allowed_origins=[SITE_ORIGIN], settings={})
    added.rotate_secret()
    db.session.add(added)
    db.session.commit()
    assert post_suggestion(suggestion_body(site="brand-new")).status_code == 201
    added.allowed_origins = ["https://elsewhere.example.com"]
    db.session.commit()
    assert post_suggestion(suggestion_body(site="brand-new")).status_code == 403


class TestAnotherProcessesChange:
    @pytest.fixture
    def app_config(self):
        return {"SITE_CACHE_SECONDS": 0.5}

    def test_is_seen_within_the_cache_time(self, site, post_suggestion):
        subdomain = "https://m.example.org"  # allowed by the site's https://*.example.org
        assert post_suggestion(suggestion_body(), origin=subdomain).status_code == 201
        site_id = site.id
        # As another process would change it: no ORM event reaches this one.
        db.session.remove()
        with db.engine.begin() as connection:
            connection.execute(
                update(Site).where(Site.id == site_id).values(allowed_origins=[SITE_ORIGIN])
            )
        deadline = time.monotonic() + 5
        while post_suggestion(suggestion_body(), origin=subdomain).status_code == 201:
            assert time.monotonic() < deadline, "the old origins are still used"
            time.sleep(0.1)
        assert post_suggestion(suggestion_body(), origin=subdomain).status_code == 403


def test_reports_skip_the_editor_forms_limiter(form_limiter_checks, site, post_suggestion, client):
    """Readers' reports have their own limits: Flask-Limiter's per-request work (a fifth of
    a refusal's cost) is spent on the editor's pages only."""
    assert post_suggestion(suggestion_body(site="no-such-site")).status_code == 404
    assert post_suggestion(suggestion_body()).status_code == 201
    assert form_limiter_checks == []

    assert client.get("/editor/sign-in").status_code == 200
    assert set(form_limiter_checks) == {"/editor/sign-in"}


# --- the report gate ----------------------------------------------------------------------
# Reports with a declared length are judged by the gate before Flask (feedback.api.gate);
# reports sent in chunks by the view. Both must answer a refusal alike.

# Headers that belong to the server or the moment, not to the answer.
_TRANSPORT_HEADERS = {"date", "server", "connection", "transfer-encoding", "retry-after"}


def _send(url: str, body: dict, origin: str, chunked: bool) -> tuple[int, dict, bytes]:
    """POST ``body`` over a real connection, with a Content-Length or in chunks (as a
    streaming client sends it); status, headers (lowercased names) and body."""
    parts = urlsplit(url)
    raw = json.dumps(body).encode()
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request(
            "POST",
            "/api/v1/suggestions",
            body=iter([raw[:100], raw[100:]]) if chunked else raw,
            headers={"Content-Type": "application/json", "Origin": origin},
            encode_chunked=chunked,
        )
        response = connection.getresponse()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return response.status, headers, response.read()
    finally:
        connection.close()


def _same_answer(by_gate, by_view) -> None:
    (gate_status, gate_headers, gate_body), (view_status, view_headers, view_body) = (
        by_gate,
        by_view,
    )
    assert (gate_status, gate_body) == (view_status, view_body)
    assert {k: v for k, v in gate_headers.items() if k not in _TRANSPORT_HEADERS} == {
        k: v for k, v in view_headers.items() if k not in _TRANSPORT_HEADERS
    }
    assert ("retry-after" in gate_headers) == ("retry-after" in view_headers)
    if "retry-after" in gate_headers:
        assert abs(int(gate_headers["retry-after"]) - int(view_headers["retry-after"])) <= 1


@pytest.mark.parametrize(
    ("kind", "status"), [("unknown_key", 404), ("foreign_origin", 403), ("over_limit", 429)]
)
def test_the_gate_and_the_view_refuse_alike(app, site, kind, status):
    body = suggestion_body(site="no-such-site") if kind == "unknown_key" else suggestion_body()
    origin = "https://evil.example.net" if kind == "foreign_origin" else SITE_ORIGIN
    db.session.remove()
    with serve_in_thread(app) as url:
        if kind == "over_limit":
            for chunked in (False, True, False):  # both ways count against the one limit
                assert _send(url, suggestion_body(), SITE_ORIGIN, chunked)[0] == 201
        by_gate = _send(url, body, origin, chunked=False)
        by_view = _send(url, body, origin, chunked=True)
    assert by_gate[0] == status
    _same_answer(by_gate, by_view)
    assert stored() == (3 if kind == "over_limit" else 0)


def test_refusals_are_answered_before_the_apps_hooks(app, site, post_suggestion):
    """What makes a refusal cheap: no request context, routing or hook of the app's."""
    seen: list[str] = []
    app.before_request(lambda: seen.append(request.path))
    for _ in range(3):
        assert post_suggestion(suggestion_body()).status_code == 201
    assert len(seen) == 3
    seen.clear()
    assert post_suggestion(suggestion_body(site="no-such-site")).status_code == 404
    assert post_suggestion(suggestion_body(), origin="https://evil.example.net").status_code == 403
    assert post_suggestion(suggestion_body()).status_code == 429
    assert seen == []


class TestBehindAProxy:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_PER_CLIENT": "2/minute", "PROXY_COUNT": 1}

    def test_each_forwarded_client_has_its_own_allowance(self, site, post_suggestion):
        def send(client: str):
            headers = {"X-Forwarded-For": client}
            return post_suggestion(suggestion_body(), headers=headers).status_code

        assert [send("203.0.113.7") for _ in range(3)] == [201, 201, 429]
        assert [send("198.51.100.9") for _ in range(3)] == [201, 201, 429]
        assert stored() == 4

"""POST/GET /api/v1/suggestions: every answer the API documents."""

from __future__ import annotations

import http.client
import uuid

import pytest
from sqlalchemy import func, select

from feedback.extensions import db
from feedback.models import Article, ArticleRevision, Suggestion, SuggestionStatus
from tests.conftest import ARTICLE_TEXT, SITE_ORIGIN, suggestion_body
from tests.servers import serve_in_thread


def count_suggestions() -> int:
    return db.session.scalar(select(func.count()).select_from(Suggestion))


def error_of(response) -> dict:
    payload = response.get_json()
    assert set(payload) == {"error"}
    error = payload["error"]
    assert set(error) == {"code", "message", "fields", "field_codes"}
    assert set(error["field_codes"]) == set(error["fields"]), "one code for each field"
    return error


def test_stores_report_with_selectors(site, post_suggestion):
    body = suggestion_body()
    response = post_suggestion(body, headers={"User-Agent": "TestBrowser/1.0"})

    assert response.status_code == 201
    data = response.get_json()
    assert data["id"] == body["id"]
    assert data["status"] == "new"
    assert data["links"]["self"] == f"/api/v1/suggestions/{body['id']}"
    assert response.headers["Location"] == data["links"]["self"]
    stored = db.session.get(Suggestion, uuid.UUID(body["id"]))
    start = ARTICLE_TEXT.index("then")
    assert (stored.exact, stored.start, stored.end) == ("then", start, start + 4)
    assert stored.prefix == ARTICLE_TEXT[start - 32 : start]
    assert stored.suffix == ARTICLE_TEXT[start + 4 : start + 36]
    assert stored.revision.text[stored.start : stored.end] == "then"
    assert stored.replacement == "than"
    assert stored.status is SuggestionStatus.NEW
    assert stored.user_agent == "TestBrowser/1.0"
    assert stored.created_at.utcoffset().total_seconds() == 0
    # The client's address is kept only as a keyed hash.
    assert stored.client_hash
    assert "127.0.0.1" not in stored.client_hash
    assert len(stored.client_hash) == 32
    # Fragment and tracking parameters are gone from the article URL.
    assert stored.article.url == "https://news.example.com/2026/ferry-returns"
    assert stored.revision.sha256 == body["article"]["sha256"]


def test_reporter_fields_are_stored(site, post_suggestion):
    body = suggestion_body(
        reporter={"name": "Ann Reader", "email": "ann@example.net", "notify": True}
    )
    assert post_suggestion(body).status_code == 201
    stored = db.session.get(Suggestion, uuid.UUID(body["id"]))
    assert (stored.reporter_name, stored.reporter_email, stored.reporter_notify) == (
        "Ann Reader",
        "ann@example.net",
        True,
    )


def test_replay_answers_200_and_stores_once(site, post_suggestion):
    body = suggestion_body()
    first = post_suggestion(body)
    second = post_suggestion(body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.get_json() == second.get_json()
    assert count_suggestions() == 1


def test_same_id_with_other_body_is_a_conflict(site, post_suggestion):
    body = suggestion_body()
    assert post_suggestion(body).status_code == 201
    response = post_suggestion({**body, "comment": "something else"})
    assert response.status_code == 409
    assert error_of(response)["fields"] == {
        "id": ["Already used for a different report; make a new id."]
    }
    assert db.session.get(Suggestion, uuid.UUID(body["id"])).comment == "Should be 'than'."


def test_same_text_shares_one_revision(site, post_suggestion):
    assert post_suggestion(suggestion_body(exact="ferry", replacement="boat")).status_code == 201
    assert post_suggestion(suggestion_body(exact="quay", replacement="pier")).status_code == 201
    changed = ARTICLE_TEXT.replace("then", "than")
    assert post_suggestion(suggestion_body(text=changed, exact="quay")).status_code == 201
    assert db.session.scalar(select(func.count()).select_from(Article)) == 1
    numbers = db.session.scalars(select(ArticleRevision.number).order_by("number")).all()
    assert numbers == [1, 2]


def test_general_note_without_quote(site, post_suggestion):
    body = suggestion_body(
        exact=None, kind="other", replacement=None, comment="The map is missing."
    )
    response = post_suggestion(body)
    assert response.status_code == 201
    assert response.get_json()["quote"] is None
    stored = db.session.get(Suggestion, uuid.UUID(body["id"]))
    assert stored.exact is None
    assert stored.start is None
    assert stored.kind.value == "other"


def test_quote_without_article_is_refused(site, post_suggestion):
    body = suggestion_body()
    del body["article"]
    response = post_suggestion(body)
    assert response.status_code == 422
    assert "article" in error_of(response)["fields"]
    assert count_suggestions() == 0


def test_wrong_position_is_found_by_context(site, post_suggestion):
    text = "A cat sat. The cat ran off. A cat slept."
    body = suggestion_body(text=text, exact="cat")
    body["quote"].update(prefix="The ", suffix=" ran off", start=0, end=3)
    response = post_suggestion(body)
    assert response.status_code == 201
    assert response.get_json()["quote"]["start"] == text.index("The cat") + 4


def test_text_is_normalised_by_the_server(site, post_suggestion):
    raw = "Caf\u0065\u0301  menu\r\n\r\n  prices  rose"
    body = suggestion_body(text=raw, exact="prices")
    response = post_suggestion(body)
    assert response.status_code == 201
    stored = db.session.get(Suggestion, uuid.UUID(body["id"]))
    assert stored.revision.text == "Caf\u00e9 menu\nprices rose"
    assert stored.revision.text[stored.start : stored.end] == "prices"


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"kind": "rumour"}, "kind", "invalid_choice"),
        ({"id": "not-a-uuid"}, "id", "invalid_uuid"),
        ({"site": ""}, "site", "wrong_length"),
        ({"comment": "x" * 5001}, "comment", "too_long"),
        ({"comment": 5}, "comment", "wrong_type"),
        ({"replacement": "x" * 2001}, "replacement", "too_long"),
        ({"reporter": {"email": "not an address"}}, "reporter.email", "invalid_email"),
        ({"reporter": {"notify": True}}, "reporter.email", "email_needed"),
        (
            {"reporter": {"name": "Ann\r\nBcc: x@example.com"}},
            "reporter.name",
            "control_characters",
        ),
        ({"reporter": {"name": "A" * 201}}, "reporter.name", "too_long"),
        ({"unexpected": 1}, "unexpected", "unknown_field"),
    ],
)
def test_invalid_fields_are_named(site, post_suggestion, change, field, code):
    response = post_suggestion(suggestion_body(**change))
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid"
    assert field in error["fields"], error
    # The code beside the message, for clients that word it in the reader's language.
    assert error["field_codes"][field] == code, error
    assert count_suggestions() == 0


@pytest.mark.parametrize(
    ("article_change", "quote_change", "field", "code"),
    [
        ({"url": "javascript:alert(1)"}, {}, "article.url", "invalid_url"),
        ({"url": "/relative/path"}, {}, "article.url", "invalid_url"),
        ({"url": "https://example.org/" + "a" * 2000}, {}, "article.url", "too_long"),
        ({"sha256": "0" * 64}, {}, "article.sha256", "hash_mismatch"),
        ({"sha256": "xyz"}, {}, "article.sha256", "invalid_sha256"),
        ({"text": "   \n "}, {}, "article.text", "blank"),
        ({}, {"exact": "not in the text"}, "quote.exact", "quote_not_found"),
        ({}, {"exact": "   "}, "quote.exact", "blank"),
        ({}, {"exact": "x" * 1001}, "quote.exact", "wrong_length"),
        ({}, {"start": 10, "end": 5}, "quote.end", "out_of_range"),
        ({}, {"start": -1}, "quote.start", "out_of_range"),
        ({}, {"start": 3, "end": None}, "quote.end", "incomplete"),
    ],
)
def test_invalid_article_or_quote(site, post_suggestion, article_change, quote_change, field, code):
    body = suggestion_body()
    body["article"].update(article_change)
    if "text" in article_change:
        body["article"].pop("sha256")
    body["quote"].update(quote_change)
    response = post_suggestion(body)
    assert response.status_code == 422
    assert error_of(response)["field_codes"][field] == code
    assert count_suggestions() == 0


def test_article_text_limit(site, post_suggestion):
    body = suggestion_body(text="then " * 100_001)
    body["article"].pop("sha256")
    response = post_suggestion(body)
    assert response.status_code == 422
    assert "article.text" in error_of(response)["fields"]


def test_largest_allowed_article_is_stored(site, post_suggestion):
    text = ("Ferry news. " * 41_667)[: 500_000 - 5] + " then"
    assert len(text) == 500_000
    assert post_suggestion(suggestion_body(text=text, exact="then")).status_code == 201


def test_unknown_site_is_404(site, post_suggestion):
    response = post_suggestion(suggestion_body(site="no-such-site"))
    assert response.status_code == 404
    assert error_of(response)["field_codes"] == {"site": "unknown_site"}
    assert error_of(response)["fields"] == {"site": ["Unknown site key."]}
    assert count_suggestions() == 0


def test_disallowed_origin_is_403_and_changes_nothing(site, post_suggestion):
    response = post_suggestion(suggestion_body(), origin="https://evil.example.net")
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"
    assert "Access-Control-Allow-Origin" not in response.headers
    assert count_suggestions() == 0
    assert db.session.scalar(select(func.count()).select_from(Article)) == 0


def test_wildcard_origin_allows_subdomains_only(site, post_suggestion):
    assert post_suggestion(suggestion_body(), origin="https://m.example.org").status_code == 201
    assert post_suggestion(suggestion_body(), origin="https://example.org").status_code == 403


def test_malformed_json_is_400(site, client):
    response = client.post(
        "/api/v1/suggestions",
        data="{not json",
        content_type="application/json",
        headers={"Origin": SITE_ORIGIN},
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "malformed_json"


@pytest.mark.parametrize(
    "raw",
    [b"[1, 2]", b'"text"', b"\xff\xfe{}", b'{"id": "', b"[" * 100_000 + b"]" * 100_000],
    ids=["array", "string", "bad-encoding", "truncated", "deeply-nested"],
)
def test_unreadable_bodies_are_400(site, client, raw):
    response = client.post("/api/v1/suggestions", data=raw, content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "malformed_json"
    assert count_suggestions() == 0


def test_wrong_content_type_is_400(site, client):
    response = client.post(
        "/api/v1/suggestions",
        data="id=1&site=example-key",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "unsupported_content_type"


def test_too_large_body_is_413(site, client):
    response = client.post(
        "/api/v1/suggestions",
        data=b"{" + b" " * (3 * 1024 * 1024) + b"}",
        content_type="application/json",
    )
    assert response.status_code == 413
    assert error_of(response)["code"] == "too_large"


def test_honeypot_answers_like_success_but_stores_spam(site, post_suggestion):
    body = suggestion_body(website="https://cheap-pills.example")
    response = post_suggestion(body)
    assert response.status_code == 201
    assert response.get_json()["status"] == "new"
    stored = db.session.get(Suggestion, uuid.UUID(body["id"]))
    assert stored.status is SuggestionStatus.SPAM
    assert stored.honeypot


class TestDuplicates:
    def test_same_span_and_fix_is_grouped(self, site, post_suggestion):
        first = suggestion_body()
        second = suggestion_body()
        second["quote"].update(prefix="", suffix="")  # other readers select differently
        post_suggestion(first)
        response = post_suggestion(second)
        assert response.get_json()["duplicate_of"] == first["id"]
        third = post_suggestion(suggestion_body())
        assert third.get_json()["duplicate_of"] == first["id"]  # always the group's first

    def test_other_fix_is_not_grouped(self, site, post_suggestion):
        post_suggestion(suggestion_body())
        other = post_suggestion(suggestion_body(replacement="that"))
        assert other.get_json()["duplicate_of"] is None

    def test_other_span_is_not_grouped(self, site, post_suggestion):
        post_suggestion(suggestion_body(exact="ferry", replacement="boat"))
        other = post_suggestion(suggestion_body(exact="quay", replacement="boat"))
        assert other.get_json()["duplicate_of"] is None

    def test_closed_report_is_not_a_group(self, site, post_suggestion):
        first = suggestion_body()
        post_suggestion(first)
        stored = db.session.get(Suggestion, uuid.UUID(first["id"]))
        stored.status = SuggestionStatus.REJECTED
        db.session.commit()
        assert post_suggestion(suggestion_body()).get_json()["duplicate_of"] is None


def test_get_suggestion(site, post_suggestion, client):
    body = suggestion_body()
    created = post_suggestion(body).get_json()
    response = client.get(f"/api/v1/suggestions/{body['id']}")
    assert response.status_code == 200
    assert response.get_json() == created
    # Nothing about the reporter is shown.
    assert "reporter" not in response.get_json()
    missing = client.get(f"/api/v1/suggestions/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert error_of(missing)["code"] == "not_found"


class TestCors:
    def test_preflight_for_allowed_origin(self, site, client):
        response = client.options(
            "/api/v1/suggestions",
            headers={
                "Origin": SITE_ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert response.status_code == 200
        assert response.headers["Access-Control-Allow-Origin"] == SITE_ORIGIN
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
        assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]
        assert "Origin" in response.headers["Vary"]

    def test_preflight_headers_only_on_the_preflight(self, site, post_suggestion):
        response = post_suggestion(suggestion_body())
        assert response.status_code == 201
        assert response.headers["Access-Control-Allow-Origin"] == SITE_ORIGIN
        assert "Retry-After" in response.headers["Access-Control-Expose-Headers"]
        for name in ("Methods", "Headers"):
            assert f"Access-Control-Allow-{name}" not in response.headers
        assert "Access-Control-Max-Age" not in response.headers

    def test_preflight_for_unknown_origin_gets_no_cors_headers(self, site, client):
        response = client.options(
            "/api/v1/suggestions",
            headers={"Origin": "https://evil.example.net", "Access-Control-Request-Method": "POST"},
        )
        assert "Access-Control-Allow-Origin" not in response.headers

    def test_response_carries_cors_headers(self, site, post_suggestion):
        response = post_suggestion(suggestion_body())
        assert response.headers["Access-Control-Allow-Origin"] == SITE_ORIGIN
        assert "Retry-After" in response.headers["Access-Control-Expose-Headers"]

    def test_errors_carry_cors_headers_so_the_snippet_can_read_them(self, site, post_suggestion):
        response = post_suggestion(suggestion_body(kind="rumour"))
        assert response.status_code == 422
        assert response.headers["Access-Control-Allow-Origin"] == SITE_ORIGIN

    def test_origin_of_another_site_is_refused(self, site, other_site, post_suggestion):
        response = post_suggestion(suggestion_body(), origin="https://other.example.net")
        assert response.status_code == 403
        assert "Access-Control-Allow-Origin" not in response.headers

    def test_a_report_is_readable_cross_site_only_by_its_own_site(
        self, app, site, other_site, post_suggestion
    ):
        body = suggestion_body()
        assert post_suggestion(body).status_code == 201
        path = f"/api/v1/suggestions/{body['id']}"
        status, allowed = cross_site_get(app, path, SITE_ORIGIN)
        assert (status, allowed) == (200, SITE_ORIGIN)
        assert cross_site_get(app, path, "https://blog.example.org")[1] == (
            "https://blog.example.org"
        )
        # A page of another site the service serves may not read this site's reports.
        assert cross_site_get(app, path, "https://other.example.net") == (200, None)


def cross_site_get(app, path: str, origin: str) -> tuple[int, str | None]:
    """GET ``path`` from a real server with ``origin``, as a page's script would (each
    request in its own context, unlike the test client's); (status, allowed origin)."""
    db.session.remove()  # let go of SQLite's lock for the server's thread
    with serve_in_thread(app) as base:
        host, port = base.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            connection.request("GET", path, headers={"Origin": origin})
            response = connection.getresponse()
            response.read()
            return response.status, response.getheader("Access-Control-Allow-Origin")
        finally:
            connection.close()


class TestCorsBeforeFiling:
    @pytest.fixture
    def app_config(self):
        return {"HUEY_IMMEDIATE": False}

    def test_a_waiting_report_is_readable_cross_site_only_by_its_own_site(
        self, app, site, other_site, post_suggestion
    ):
        body = suggestion_body()
        assert post_suggestion(body).status_code == 201
        assert db.session.get(Suggestion, uuid.UUID(body["id"])) is None  # not filed yet
        path = f"/api/v1/suggestions/{body['id']}"
        assert cross_site_get(app, path, SITE_ORIGIN) == (200, SITE_ORIGIN)
        assert cross_site_get(app, path, "https://other.example.net") == (200, None)


class TestRateLimits:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_PER_CLIENT": "3/minute", "RATELIMIT_PER_SITE": "5/minute"}

    def test_per_client_limit(self, site, post_suggestion):
        statuses = [post_suggestion(suggestion_body()).status_code for _ in range(4)]
        assert statuses == [201, 201, 201, 429]
        assert count_suggestions() == 3

    def test_429_has_retry_after_and_error_shape(self, site, post_suggestion):
        for _ in range(3):
            post_suggestion(suggestion_body())
        response = post_suggestion(suggestion_body())
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) > 0
        assert error_of(response)["code"] == "rate_limited"

    def test_per_site_limit_across_clients(self, site, post_suggestion):
        statuses = [
            post_suggestion(
                suggestion_body(), environ_base={"REMOTE_ADDR": f"10.0.0.{n}"}
            ).status_code
            for n in range(6)
        ]
        assert statuses == [201] * 5 + [429]


class TestDatabaseUnavailable:
    @pytest.fixture
    def app_config(self):
        # Nothing listens on port 1: every connection is refused, as during a restart.
        return {
            "DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/test",
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}},
        }

    @pytest.fixture
    def app(self, tmp_path, monkeypatch, app_config):
        from tests.conftest import make_test_app
        from tests.databases import TestDatabase

        monkeypatch.setenv("FEEDBACK_INSTANCE_PATH", str(tmp_path))
        application = make_test_app(
            TestDatabase(url=app_config["DATABASE_URL"]), tmp_path, **app_config
        )
        with application.app_context():
            yield application

    def test_503_with_retry_after(self, client):
        response = client.post("/api/v1/suggestions", json=suggestion_body())
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "5"
        assert error_of(response)["code"] == "unavailable"

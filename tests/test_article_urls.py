"""Article URLs must lie on the site's allowed origins (issue 13): scheme, host and port,
with the wildcard rule of Origin. A report about another host is refused with 422 on
``article.url`` and changes nothing, on arrival and when a waiting report is filed."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from feedback import suggestions
from feedback.errors import Invalid
from feedback.extensions import db
from feedback.models import Article, ArticleRevision, IncomingReport, Suggestion
from tests.conftest import run_queued_tasks, suggestion_body


@pytest.fixture
def app_config() -> dict:
    # The worker files each report when the test runs the queue, not during the request.
    return {"HUEY_IMMEDIATE": False, "FILING_MAX_ATTEMPTS": 2}


def with_url(url: str) -> dict:
    body = suggestion_body()
    body["article"]["url"] = url
    return body


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.net/2026/ferry-returns",  # another host
        "http://news.example.com/2026/ferry-returns",  # another scheme
        "https://news.example.com:8443/2026/ferry-returns",  # another port
        "https://news.example.com.evil.example.net/",  # the origin as a prefix of a host
        "https://example.org/2026/ferry-returns",  # a wildcard covers subdomains only
    ],
)
def test_a_url_off_the_sites_origins_is_422_on_article_url(site, post_suggestion, url):
    response = post_suggestion(with_url(url))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert set(error["fields"]) == {"article.url"}
    assert error["field_codes"] == {"article.url": "off_origins"}
    assert "allowed origins" in error["fields"]["article.url"][0]
    # Refused means nothing changed: no receipt, no article, no text.
    assert (count(IncomingReport), count(Article), count(ArticleRevision)) == (0, 0, 0)


@pytest.mark.parametrize(
    "url",
    [
        "https://news.example.com/2026/ferry-returns",
        "https://NEWS.example.com:443/2026/ferry-returns",  # the same origin, spelt otherwise
        "https://www.example.org/2026/ferry-returns",  # https://*.example.org
        "https://m.news.example.org/a",
    ],
)
def test_urls_on_the_sites_origins_and_wildcards_are_accepted(app, site, post_suggestion, url):
    body = with_url(url)
    assert post_suggestion(body).status_code == 201
    run_queued_tasks(app.extensions["huey"])
    assert db.session.get(Suggestion, uuid.UUID(body["id"])) is not None


def test_the_url_is_checked_whatever_origin_sends_it(site, post_suggestion):
    # An allowed page (or no Origin at all, as from a server) still may not report on
    # another host's article.
    for origin in ("https://news.example.com", None):
        response = post_suggestion(with_url("https://other.example.net/a"), origin=origin)
        assert response.status_code == 422


def test_a_waiting_report_whose_origin_was_removed_is_not_filed(app, site, post_suggestion):
    body = with_url("https://www.example.org/2026/ferry-returns")
    assert post_suggestion(body).status_code == 201
    # The owner drops the wildcard before the worker files the report.
    site.allowed_origins = ["https://news.example.com"]
    db.session.commit()

    run_queued_tasks(app.extensions["huey"])
    waiting = db.session.get(IncomingReport, uuid.UUID(body["id"]))
    assert waiting.filed_at is None
    assert waiting.body is not None
    assert waiting.attempts == 1
    assert "article.url" in waiting.last_error
    assert (count(Suggestion), count(Article), count(ArticleRevision)) == (0, 0, 0)
    db.session.remove()
    with pytest.raises(Invalid):
        suggestions.file_report(uuid.UUID(body["id"]))


def test_the_intake_command_says_why_a_waiting_report_is_refused(
    app, site, post_suggestion, run_cli
):
    body = with_url("https://www.example.org/2026/ferry-returns")
    assert post_suggestion(body).status_code == 201
    site.allowed_origins = ["https://news.example.com"]
    db.session.commit()
    db.session.remove()

    result = run_cli("intake", "file")
    assert result.exit_code == 1
    assert "article.url: Not on the site's allowed origins" in result.output
    assert result.output.endswith("filed 0, failed 1\n")
    assert count(Suggestion) == 0

"""End to end with no CMS at all: a reader reports a mistake, the site fixes its page,
the worker reads the page on its schedule, the report turns fixed and the reader's mail
arrives over real SMTP, with nobody triaging."""

from __future__ import annotations

import uuid

import pytest

from feedback.extensions import db
from feedback.models import ArticleFetch, FetchOutcome, Suggestion, SuggestionStatus
from tests.conftest import ARTICLE_TEXT, run_periodic_task, run_queued_tasks, suggestion_body
from tests.fetching.conftest import ARTICLE_PATH, article_page
from tests.fetching.test_fetching import make_due
from tests.revisions.conftest import smtp_inbox  # noqa: F401 - a fixture used below


@pytest.fixture
def app_config(smtp_inbox) -> dict:  # noqa: F811 - the fixture, by name
    port, _inbox = smtp_inbox
    # A real queue: the test runs what a `feedback worker` would.
    return {
        "FETCH_PAGES": True,
        "HUEY_IMMEDIATE": False,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": port,
    }


def test_the_site_fixes_its_page_and_the_reader_hears_of_it(
    app,
    news_site,
    origin,
    post_suggestion,
    smtp_inbox,  # noqa: F811 - the fixture, by name
):
    huey = app.extensions["huey"]
    origin.page(ARTICLE_PATH, article_page())
    body = suggestion_body(reporter={"email": "ann@example.net", "notify": True})
    body["article"]["url"] = origin.base + ARTICLE_PATH
    response = post_suggestion(body, origin=origin.base)
    assert response.status_code == 201
    # The worker files the report; the text it brings is new, so the page is read at once.
    assert run_queued_tasks(huey)[:2] == ["file_report", "fetch_article"]
    assert origin.hits(ARTICLE_PATH) == 1

    # The site corrects its page. Later, the schedule comes round.
    origin.page(ARTICLE_PATH, article_page(ARTICLE_TEXT.replace("faster then", "faster than")))
    report_id = uuid.UUID(body["id"])
    article_id = db.session.get(Suggestion, report_id).article_id
    make_due(article_id)
    assert run_periodic_task(huey, "fetch_due_articles") == 1
    run_queued_tasks(huey)  # re-anchoring, then the mail

    db.session.expire_all()
    report = db.session.get(Suggestion, report_id)
    assert report.status is SuggestionStatus.FIXED
    assert db.session.get(ArticleFetch, article_id).last_outcome is FetchOutcome.ADOPTED
    _port, inbox = smtp_inbox
    (mail,) = inbox.messages
    assert mail["X-Envelope-To"] == "ann@example.net"
    assert "was made" in mail["Subject"]

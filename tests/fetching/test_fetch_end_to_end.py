"""End to end with no CMS at all: a reader reports a mistake, the site fixes its page,
the worker reads the page on its schedule, the report turns fixed and the reader's mail
arrives over real SMTP, with nobody triaging."""

from __future__ import annotations

import uuid

import pytest

from feedback import revisions
from feedback.extensions import db
from feedback.models import (
    ArticleFetch,
    FetchOutcome,
    RevisionSource,
    Suggestion,
    SuggestionStatus,
)
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


def test_a_readers_forged_fix_waits_for_the_sites_page(
    app,
    news_site,
    origin,
    post_suggestion,
    smtp_inbox,  # noqa: F811 - the fixture, by name
):
    """A second "reader" sends the article rewritten as if fixed: that claim fixes nothing,
    and the page read from the site (still unfixed) does not either. When the site fixes
    its page, the fetched text does: the report is fixed, published and mailed."""
    huey = app.extensions["huey"]
    news_site.settings = {**news_site.settings, "corrections_public": True}
    feed_path = f"/sites/{news_site.public_key}/corrections.atom"
    db.session.commit()
    origin.page(ARTICLE_PATH, article_page())
    url = origin.base + ARTICLE_PATH
    ann = suggestion_body(reporter={"email": "ann@example.net", "notify": True})
    ann["article"]["url"] = url
    assert post_suggestion(ann, origin=origin.base).status_code == 201
    run_queued_tasks(huey)

    forged_text = ARTICLE_TEXT.replace("faster then", "faster than") + " Forged."
    forged = suggestion_body(text=forged_text, exact="Forged", replacement="Real")
    forged["article"].update(url=url, title="Forged title")
    assert post_suggestion(forged, origin=origin.base).status_code == 201
    run_queued_tasks(huey)  # filed; its new text has the page read again (still unfixed)

    report_id = uuid.UUID(ann["id"])
    db.session.expire_all()
    report = db.session.get(Suggestion, report_id)
    assert report.status is SuggestionStatus.NEW
    assert report.anchor_revision.source is RevisionSource.FETCHED
    assert revisions.current_wording(report) == "then"
    _port, inbox = smtp_inbox
    assert [m for m in inbox.messages if m["X-Envelope-To"] == "ann@example.net"] == []

    origin.page(ARTICLE_PATH, article_page(ARTICLE_TEXT.replace("faster then", "faster than")))
    make_due(report.article_id)
    assert run_periodic_task(huey, "fetch_due_articles") == 1
    run_queued_tasks(huey)

    db.session.expire_all()
    report = db.session.get(Suggestion, report_id)
    assert report.status is SuggestionStatus.FIXED
    assert report.fixed_revision.source is RevisionSource.FETCHED
    assert report.article.title.startswith("Harbour ferry returns")  # the page's title
    feed = app.test_client().get(feed_path)
    assert feed.get_data(as_text=True).count("<entry>") == 1
    assert "Forged" not in feed.get_data(as_text=True)
    assert [m["X-Envelope-To"] for m in inbox.messages] == ["ann@example.net"]

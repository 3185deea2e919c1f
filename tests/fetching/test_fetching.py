"""When the service fetches an article's page, within what budget, and what it adopts."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from feedback import fetching
from feedback.extensions import db
from feedback.models import (
    Article,
    ArticleFetch,
    ArticleRevision,
    FetchOutcome,
    Suggestion,
    SuggestionStatus,
    utcnow,
)
from feedback.models.core import AnchorState
from tests.conftest import ARTICLE_TEXT, make_test_app, suggestion_body
from tests.fetching.conftest import ARTICLE_PATH, article_page

PAYWALL = (
    "<html><head><title>Subscribe</title></head><body><main><div class=wall><h1>Subscribe to "
    "keep reading</h1><p>You have read all of your free articles this month. Subscribers "
    "get unlimited access to every story, the app and the weekly newsletter.</p>"
    "<form><button>Subscribe</button></form></div></main></body></html>"
)
CONSENT = (
    "<html><body><div role=dialog><h2>We value your privacy</h2><p>We and our 812 partners "
    "store and access information on your device, such as cookies, to show you "
    "personalised adverts and content and to measure them.</p><button>Accept all</button>"
    "</div></body></html>"
)
SOFT_404 = (
    "<html><head><title>Page not found</title></head><body><main><h1>Page not found</h1>"
    "<p>Sorry, the page you were looking for has moved or no longer exists. Try the search "
    "or go back to the front page for the latest news from the harbour.</p></main></body></html>"
)
SHELL = (
    "<html><head><title>The Example News</title></head><body><div id=app></div>"
    "<script src=/bundle.js></script><noscript>Please turn on JavaScript.</noscript></body></html>"
)


@pytest.fixture
def article_url(origin) -> str:
    return origin.base + ARTICLE_PATH


@pytest.fixture
def report(post_suggestion, news_site, origin, article_url):
    """Post a reader's report on the article at the origin server; the report's row."""

    def post(text: str = ARTICLE_TEXT, exact: str = "then", **changes) -> Suggestion:
        body = suggestion_body(text, exact, **changes)
        body["article"]["url"] = article_url
        response = post_suggestion(body, origin=origin.base)
        assert response.status_code == 201, response.get_json()
        db.session.expire_all()
        return db.session.get(Suggestion, uuid.UUID(body["id"]))

    return post


def schedule_of(article_id: int) -> ArticleFetch:
    db.session.expire_all()
    return db.session.get(ArticleFetch, article_id)


def revisions_of(article_id: int) -> list[ArticleRevision]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(ArticleRevision)
            .where(ArticleRevision.article_id == article_id)
            .order_by(ArticleRevision.number)
        )
    )


def make_due(article_id: int) -> None:
    db.session.execute(
        update(ArticleFetch)
        .where(ArticleFetch.article_id == article_id)
        .values(due_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()


def test_a_report_with_a_new_text_fetches_the_page_and_adopts_it(report, origin):
    origin.page(ARTICLE_PATH, article_page())
    suggestion = report()
    assert origin.hits(ARTICLE_PATH) == 1
    assert origin.requests[0][1]["User-Agent"].startswith("reader-feedback/")
    schedule = schedule_of(suggestion.article_id)
    assert schedule.last_outcome is FetchOutcome.ADOPTED
    # The page's text, read by the snippet's rules (its headline, not its menus, teaser,
    # sidebar or footer), is the article's current text now.
    article = db.session.get(Article, suggestion.article_id)
    current = revisions_of(article.id)[article.current_revision_number - 1]
    assert current.text == "Harbour ferry returns\n" + ARTICLE_TEXT
    # The report follows into it, still open and in place.
    db.session.expire_all()
    suggestion = db.session.get(Suggestion, suggestion.id)
    assert suggestion.status is SuggestionStatus.NEW
    assert suggestion.anchor_state is AnchorState.ANCHORED
    assert current.text[suggestion.anchor_start : suggestion.anchor_end] == "then"


def test_new_texts_fetch_at_most_once_per_article_every_few_minutes(report, origin):
    origin.page(ARTICLE_PATH, article_page())
    first = report()
    # Another reader sends another text of the same article a moment later.
    report(ARTICLE_TEXT + "\nA reader's own copy of the page.", exact="then")
    assert origin.hits(ARTICLE_PATH) == 1
    schedule = schedule_of(first.article_id)
    assert schedule.due_at <= schedule.last_attempt_at + timedelta(minutes=10)
    # Once the interval has passed, a new text fetches again.
    db.session.execute(update(ArticleFetch).values(last_attempt_at=utcnow() - timedelta(minutes=6)))
    db.session.commit()
    report(ARTICLE_TEXT + "\nA third copy.", exact="then")
    assert origin.hits(ARTICLE_PATH) == 2


def test_a_known_text_schedules_a_fetch_without_fetching_now(report, origin, news_site):
    origin.page(ARTICLE_PATH, article_page())
    first = report()
    report()  # the same text again: nothing new to see now
    assert origin.hits(ARTICLE_PATH) == 1
    schedule = schedule_of(first.article_id)
    assert schedule.step == 0
    assert schedule.due_at - utcnow() > timedelta(minutes=9)


@pytest.mark.parametrize(
    "page", [PAYWALL, CONSENT, SOFT_404, SHELL], ids=["paywall", "consent", "soft404", "shell"]
)
def test_walls_and_error_pages_are_ignored_and_orphan_nothing(report, origin, page, caplog):
    origin.page(ARTICLE_PATH, article_page())
    suggestion = report()
    article_id = suggestion.article_id
    before = [revision.sha256 for revision in revisions_of(article_id)]

    origin.page(ARTICLE_PATH, page)
    make_due(article_id)
    assert fetching.fetch_due_articles() == 1
    assert origin.hits(ARTICLE_PATH) == 2

    schedule = schedule_of(article_id)
    assert schedule.last_outcome is FetchOutcome.IMPLAUSIBLE
    assert any("implausible" in record.getMessage() for record in caplog.records)
    assert [revision.sha256 for revision in revisions_of(article_id)] == before
    db.session.expire_all()
    suggestion = db.session.get(Suggestion, suggestion.id)
    assert suggestion.status is SuggestionStatus.NEW
    assert suggestion.anchor_state is AnchorState.ANCHORED
    # It is tried again later, on the schedule.
    assert schedule.step == 1
    assert schedule.due_at > utcnow() + timedelta(minutes=50)


def test_the_site_fixing_the_page_fixes_the_report(report, origin):
    origin.page(ARTICLE_PATH, article_page())
    suggestion = report()
    origin.page(ARTICLE_PATH, article_page(ARTICLE_TEXT.replace("faster then", "faster than")))
    make_due(suggestion.article_id)
    assert fetching.fetch_due_articles() == 1
    db.session.expire_all()
    assert db.session.get(Suggestion, suggestion.id).status is SuggestionStatus.FIXED
    schedule = schedule_of(suggestion.article_id)
    assert schedule.last_outcome is FetchOutcome.ADOPTED
    # Nothing is open any more: no more fetches.
    assert schedule.due_at is None


def test_the_schedule_backs_off_then_stops(report, origin, app):
    app.config["FETCH_SCHEDULE_MINUTES"] = [10, 60, 1440]
    origin.page(ARTICLE_PATH, article_page())
    article_id = report().article_id
    waits = []
    for _ in range(3):
        make_due(article_id)
        fetching.fetch_due_articles()
        schedule = schedule_of(article_id)
        assert schedule.last_outcome is FetchOutcome.UNCHANGED
        waits.append(None if schedule.due_at is None else schedule.due_at - utcnow())
    assert timedelta(minutes=59) < waits[0] <= timedelta(minutes=60)
    assert timedelta(minutes=1439) < waits[1] <= timedelta(minutes=1440)
    assert waits[2] is None
    assert origin.hits(ARTICLE_PATH) == 4
    # A new report begins the schedule again.
    report()
    assert schedule_of(article_id).step == 0
    assert schedule_of(article_id).due_at is not None


def test_a_due_fetch_is_claimed_by_one_sweep(report, origin):
    origin.page(ARTICLE_PATH, article_page())
    article_id = report().article_id
    make_due(article_id)
    assert fetching.fetch_due_articles() == 1
    assert fetching.fetch_due_articles() == 0
    assert origin.hits(ARTICLE_PATH) == 2


def test_the_budget_holds_per_site_and_hour_across_processes(
    report, origin, app, news_site, test_database, tmp_path
):
    app.config["FETCH_BUDGET_PER_HOUR"] = 2
    origin.page(ARTICLE_PATH, article_page())
    article_id = report().article_id  # the first fetch
    assert fetching.fetch_article(article_id).outcome is FetchOutcome.UNCHANGED
    result = fetching.fetch_article(article_id)
    assert result.outcome is FetchOutcome.SKIPPED
    assert "budget" in result.detail
    assert origin.hits(ARTICLE_PATH) == 2
    next_hour = utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    assert schedule_of(article_id).due_at == next_hour

    # Another worker process (its own app and connections, the same database) finds the
    # budget spent too.
    site_id = news_site.id
    db.session.remove()  # as another process would find it: no transaction of ours open
    other = make_test_app(test_database, tmp_path, FETCH_PAGES=True, FETCH_BUDGET_PER_HOUR=2)
    with other.app_context():
        assert not fetching.take_budget(site_id)
        db.session.remove()
    # The next hour has a budget of its own.
    assert fetching.take_budget(site_id, now=next_hour)


def test_the_sites_switch_turns_fetching_off(report, origin, news_site):
    news_site.settings = {"fetch_pages": False}
    db.session.commit()
    origin.page(ARTICLE_PATH, article_page())
    suggestion = report()
    assert origin.hits(ARTICLE_PATH) == 0
    assert schedule_of(suggestion.article_id) is None
    result = fetching.fetch_article(suggestion.article_id)
    assert result.outcome is FetchOutcome.SKIPPED
    assert origin.connections == 0
    assert schedule_of(suggestion.article_id).due_at is None


def test_the_services_switch_turns_fetching_off(report, origin, app):
    app.config["FETCH_PAGES"] = False
    origin.page(ARTICLE_PATH, article_page())
    suggestion = report()
    assert fetching.fetch_article(suggestion.article_id).outcome is FetchOutcome.SKIPPED
    assert origin.connections == 0


def test_an_unreachable_page_is_logged_and_tried_later(report, origin):
    suggestion = report()  # the origin answers 404 for the article
    schedule = schedule_of(suggestion.article_id)
    assert schedule.last_outcome is FetchOutcome.FAILED
    assert "404" in schedule.last_detail
    assert schedule.due_at is not None
    assert len(revisions_of(suggestion.article_id)) == 1  # only the reader's text


def test_private_addresses_are_refused_unless_allowed(report, origin, app):
    app.config["FETCH_ALLOW_PRIVATE_ADDRESSES"] = False
    origin.page(ARTICLE_PATH, article_page())
    suggestion = report()
    schedule = schedule_of(suggestion.article_id)
    assert schedule.last_outcome is FetchOutcome.FAILED
    assert "not a public address" in schedule.last_detail
    assert origin.connections == 0


def test_cli_fetches_an_article_now(report, origin, run_cli, article_url, app):
    origin.page(ARTICLE_PATH, article_page())
    report()
    origin.page(ARTICLE_PATH, article_page(ARTICLE_TEXT.replace("faster then", "faster than")))
    result = run_cli("article", "fetch", "example-key", article_url)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("adopted: revision")

    origin.page(ARTICLE_PATH, PAYWALL)
    result = run_cli("article", "fetch", "example-key", article_url)
    assert result.exit_code == 1
    assert "implausible" in result.output

    result = run_cli("article", "fetch", "example-key", origin.base + "/no-such-article")
    assert result.exit_code == 1
    assert "no such article" in result.output

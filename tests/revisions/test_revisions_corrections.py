"""The public corrections log: opt-in, an HTML page and a valid Atom feed, no reader data."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from xml.etree import ElementTree

import pytest

from feedback.extensions import db
from feedback.models import Suggestion, SuggestionStatus
from tests.conftest import ARTICLE_TEXT, suggestion_body

ATOM = "{http://www.w3.org/2005/Atom}"
# RFC 3339 date-time (the Atom profile of ISO 8601, RFC 4287 section 3.3).
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
READER = {"name": "Ann Reader", "email": "ann@example.net", "notify": True}


@pytest.fixture
def publish(site):
    site.settings = {**(site.settings or {}), "corrections_public": True}
    db.session.commit()
    return site


def reported(post_suggestion, **changes) -> Suggestion:
    body = suggestion_body(reporter=READER, comment="Secret remark by the reader.", **changes)
    assert post_suggestion(body).status_code == 201
    return db.session.get(Suggestion, uuid.UUID(body["id"]))


@pytest.fixture
def fixed_reports(site, post_suggestion, push_article):
    first = reported(post_suggestion)
    duplicate = reported(post_suggestion)
    still_open = reported(post_suggestion, exact="eleven", replacement="twelve")
    push_article(ARTICLE_TEXT.replace("faster then", "faster than"))
    for report in (first, duplicate, still_open):
        db.session.refresh(report)
    assert duplicate.duplicate_of_id == first.id
    assert first.status is duplicate.status is SuggestionStatus.FIXED
    return first, duplicate, still_open


def parse_feed(body: bytes) -> ElementTree.Element:
    return ElementTree.fromstring(body)  # noqa: S314 - the service's own output, in a test


def assert_nothing_about_readers(text: str, reports) -> None:
    for secret in ("Ann Reader", "ann@example.net", "Secret remark"):
        assert secret not in text
    for report in reports:
        assert str(report.id) not in text


def test_log_is_opt_in(client, site, fixed_reports):
    assert client.get(f"/sites/{site.public_key}/corrections").status_code == 404
    assert client.get(f"/sites/{site.public_key}/corrections.atom").status_code == 404


def test_unknown_site_is_404(client, publish):
    assert client.get("/sites/nope/corrections.atom").status_code == 404


def test_page_lists_each_fix_once_with_old_and_new_wording(client, publish, fixed_reports):
    response = client.get(f"/sites/{publish.public_key}/corrections")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count("<del>then</del><ins>than</ins>") == 1
    assert "Harbour ferry returns" in html
    assert 'href="https://news.example.com/2026/ferry-returns"' in html
    # Open in the article: at the new words of the revision that carries the fix.
    link = (
        "https://news.example.com/2026/ferry-returns"
        "#:~:text=a%20minute%20faster-,than,-the%20timetable%20promises."
    )
    assert f'<a href="{link}">Open in the article</a>' in html
    assert "twelve" not in html  # still open: not a correction
    fixed_at = fixed_reports[0].fixed_at
    assert f"Corrected {fixed_at.day} {fixed_at:%B %Y}" in html
    assert_nothing_about_readers(html, fixed_reports)


def test_feed_is_valid_atom(client, publish, fixed_reports):
    response = client.get(f"/sites/{publish.public_key}/corrections.atom")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    feed = parse_feed(response.get_data())

    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert len(feed.findall(f"{ATOM}{required}")) == 1, required
        assert feed.find(f"{ATOM}{required}").text.strip()
    assert RFC3339.match(feed.find(f"{ATOM}updated").text)
    # Entries without an author need one on the feed (RFC 4287 4.1.1).
    assert feed.find(f"{ATOM}author/{ATOM}name").text == publish.name
    self_link = feed.find(f"{ATOM}link[@rel='self']")
    assert self_link.get("href") == f"http://localhost/sites/{publish.public_key}/corrections.atom"

    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 1
    (entry,) = entries
    for required in ("id", "title", "updated"):
        assert len(entry.findall(f"{ATOM}{required}")) == 1, required
    assert entry.find(f"{ATOM}id").text.startswith("urn:uuid:")
    updated = entry.find(f"{ATOM}updated").text
    assert RFC3339.match(updated)
    fixed_at = fixed_reports[0].fixed_at
    assert datetime.fromisoformat(updated) == fixed_at.replace(microsecond=0)
    assert feed.find(f"{ATOM}updated").text == updated
    assert entry.find(f"{ATOM}link").get("href") == (
        "https://news.example.com/2026/ferry-returns"
        "#:~:text=a%20minute%20faster-,than,-the%20timetable%20promises."
    )
    content = entry.find(f"{ATOM}content")
    assert content.get("type") == "text"
    assert "“then” now reads “than”" in content.text
    assert_nothing_about_readers(response.get_data(as_text=True), fixed_reports)


def test_feed_entry_ids_are_stable(client, publish, fixed_reports):
    def ids():
        body = client.get(f"/sites/{publish.public_key}/corrections.atom").get_data()
        return [e.find(f"{ATOM}id").text for e in parse_feed(body).iter(f"{ATOM}entry")]

    assert ids() == ids()


def test_empty_feed_is_still_valid(client, publish):
    response = client.get(f"/sites/{publish.public_key}/corrections.atom")
    feed = parse_feed(response.get_data())
    assert RFC3339.match(feed.find(f"{ATOM}updated").text)
    assert feed.findall(f"{ATOM}entry") == []
    page = client.get(f"/sites/{publish.public_key}/corrections").get_data(as_text=True)
    assert "No corrections yet." in page


def test_fix_marked_by_an_editor_shows_the_suggestion(client, publish, post_suggestion):
    report = reported(post_suggestion, exact="eleven", replacement="twelve")
    report.status = SuggestionStatus.FIXED
    db.session.commit()
    html = client.get(f"/sites/{publish.public_key}/corrections").get_data(as_text=True)
    assert "<del>eleven</del><ins>twelve</ins>" in html


def test_markup_in_article_text_is_escaped(client, publish, post_suggestion, push_article):
    text = ARTICLE_TEXT.replace("faster then", "faster <b>then</b>")
    reported(post_suggestion, text=text, exact="<b>then</b>", replacement="than")
    push_article(ARTICLE_TEXT.replace("faster then", "faster than"))
    html = client.get(f"/sites/{publish.public_key}/corrections").get_data(as_text=True)
    assert "<b>then</b>" not in html
    assert "&lt;b&gt;then&lt;/b&gt;" in html
    feed = client.get(f"/sites/{publish.public_key}/corrections.atom").get_data()
    assert "<b>then</b>" in parse_feed(feed).find(f"{ATOM}entry/{ATOM}content").text

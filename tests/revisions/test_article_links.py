"""The one "open in the article" link: a text fragment at the report's words as they
stand now (the new words once fixed), the bare URL when they are gone."""

from __future__ import annotations

import uuid

from feedback import revisions
from feedback.anchoring import text_fragment_url
from feedback.extensions import db
from feedback.models import Suggestion, SuggestionStatus
from tests.conftest import ARTICLE_TEXT, suggestion_body

URL = "https://news.example.com/2026/ferry-returns"


def _report(post_suggestion, **changes) -> Suggestion:
    body = suggestion_body(**changes)
    assert post_suggestion(body).status_code == 201
    return db.session.get(Suggestion, uuid.UUID(body["id"]))


def test_fragment_escapes_the_directive_separators():
    url = text_fragment_url(f"{URL}#top", "well-known, & so", "one two three four", "x-y z")
    assert url == (f"{URL}#:~:text=two%20three%20four-,well%2Dknown%2C%20%26%20so,-x%2Dy%20z")


def test_a_report_in_the_text_the_reader_saw_links_to_its_words(site, post_suggestion):
    report = _report(post_suggestion)
    assert revisions.article_link(report) == (
        f"{URL}#:~:text=a%20minute%20faster-,then,-the%20timetable%20promises."
    )


def test_a_report_moved_by_an_edit_links_to_where_it_stands_now(
    site, post_suggestion, push_article
):
    report = _report(post_suggestion)
    push_article(ARTICLE_TEXT.replace("a minute faster then", "one minute faster then"))
    db.session.expire_all()
    assert revisions.article_link(report) == (
        f"{URL}#:~:text=one%20minute%20faster-,then,-the%20timetable%20promises."
    )


def test_a_fixed_report_links_to_the_new_words(site, post_suggestion, push_article):
    report = _report(post_suggestion)
    push_article(ARTICLE_TEXT.replace("faster then", "faster than"))
    db.session.expire_all()
    assert report.status is SuggestionStatus.FIXED
    assert revisions.article_link(report) == (
        f"{URL}#:~:text=a%20minute%20faster-,than,-the%20timetable%20promises."
    )


def test_words_gone_from_the_article_link_to_the_article(site, post_suggestion, push_article):
    report = _report(post_suggestion)
    push_article(ARTICLE_TEXT.split("\n")[0])
    db.session.expire_all()
    assert revisions.article_link(report) == URL

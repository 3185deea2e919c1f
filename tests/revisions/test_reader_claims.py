"""What a reader sends is a claim (issue 13): a rewritten article text anchors only its
sender's report. It fixes, orphans or flags no other report, is never published and mails
no one. The site's own texts (its CMS, its page) do all of that."""

from __future__ import annotations

import uuid

import pytest

from feedback import revisions
from feedback.extensions import db
from feedback.mail import mailer
from feedback.models import RevisionSource, Suggestion, SuggestionStatus
from feedback.models.core import AnchorState
from tests.conftest import ARTICLE_TEXT, suggestion_body

ANN = {"name": "Ann Reader", "email": "ann@example.net", "notify": True}
FIXED_TEXT = ARTICLE_TEXT.replace("faster then", "faster than")
# What an attacker sends: the article rewritten so the span "carries the fix", and more.
FORGED_TEXT = FIXED_TEXT + " Tickets are half price today at cheap-ferry.example."
FORGED_TITLE = "Ferry tickets half price, says the board"


@pytest.fixture
def app_config(smtp_inbox) -> dict:
    port, _inbox = smtp_inbox
    return {"HUEY_IMMEDIATE": True, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port}


@pytest.fixture
def published(site):
    site.settings = {"corrections_public": True}
    db.session.commit()
    return site


def post(post_suggestion, body: dict) -> Suggestion:
    response = post_suggestion(body)
    assert response.status_code == 201, response.get_json()
    return db.session.get(Suggestion, uuid.UUID(body["id"]))


def forged(text: str = FORGED_TEXT, exact: str = "cheap-ferry") -> dict:
    body = suggestion_body(text=text, exact=exact, replacement="x", comment=None)
    body["article"]["title"] = FORGED_TITLE
    return body


def mail_to(smtp_inbox, address: str) -> list:
    mailer.deliver()
    return [mail for mail in smtp_inbox[1].messages if mail["X-Envelope-To"] == address]


def public_log(client, site) -> tuple[str, str]:
    page = client.get(f"/sites/{site.public_key}/corrections")
    feed = client.get(f"/sites/{site.public_key}/corrections.atom")
    assert page.status_code == feed.status_code == 200
    return page.get_data(as_text=True), feed.get_data(as_text=True)


@pytest.mark.parametrize(
    "text",
    [
        FORGED_TEXT,  # the span reads as Ann's fix: would mark it fixed
        ARTICLE_TEXT.replace("a minute faster then the timetable", "early") + " cheap-ferry",
        ARTICLE_TEXT.replace("faster then", "faster compared to") + " cheap-ferry",
    ],
    ids=["fixed", "orphaned", "text-changed"],
)
def test_a_readers_rewritten_text_touches_no_other_report(
    client, published, post_suggestion, smtp_inbox, text
):
    ann = post(post_suggestion, suggestion_body(reporter=ANN))
    attacker = post(post_suggestion, forged(text))

    db.session.refresh(ann)
    assert ann.status is SuggestionStatus.NEW
    assert ann.anchor_revision_id is None  # still in the text Ann saw
    assert (ann.anchor_state, ann.text_changed) == (AnchorState.ANCHORED, False)
    assert revisions.current_wording(ann) == "then"
    # The forged text anchors the attacker's own report, as a claim, and nothing else.
    assert attacker.revision.source is RevisionSource.READER
    assert revisions.current_verified_revision(ann.article_id) is None
    assert ann.article.title == "Harbour ferry returns"  # the first claim, for editors only

    page, feed = public_log(client, published)
    for body in (page, feed):
        assert "cheap-ferry" not in body
        assert FORGED_TITLE not in body
    assert "<entry>" not in feed
    assert mail_to(smtp_inbox, "ann@example.net") == []


def test_the_sites_own_text_then_fixes_it_and_the_reader_hears(
    client, published, post_suggestion, push_article, smtp_inbox
):
    ann = post(post_suggestion, suggestion_body(reporter=ANN))
    post(post_suggestion, forged())
    assert mail_to(smtp_inbox, "ann@example.net") == []

    pushed = push_article(FIXED_TEXT, title="Harbour ferry is back")
    assert pushed.status_code == 201
    db.session.refresh(ann)
    assert ann.status is SuggestionStatus.FIXED
    assert ann.fixed_revision.source is RevisionSource.CMS
    assert ann.article.title == "Harbour ferry is back"

    page, feed = public_log(client, published)
    assert feed.count("<entry>") == 1
    assert "Correction: Harbour ferry is back" in feed
    for body in (page, feed):
        assert "cheap-ferry" not in body
        assert FORGED_TITLE not in body
    (mail,) = mail_to(smtp_inbox, "ann@example.net")
    assert "“Harbour ferry is back”" in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()
    assert "faster [than] the timetable" in text
    assert "cheap-ferry" not in text


def test_a_forged_text_sent_first_names_nothing_in_public(
    client, published, post_suggestion, push_article
):
    """The attacker reports first, so their title labels the new article for editors;
    the public log names the article by the site's title once the site has spoken, and
    by its URL while it has not."""
    post(post_suggestion, forged())
    ann = post(post_suggestion, suggestion_body(reporter=ANN))
    assert ann.article.title == FORGED_TITLE
    assert ann.article.published_title == ann.article.url

    push_article(FIXED_TEXT, title="")  # the CMS sends no title
    db.session.refresh(ann)
    assert ann.status is SuggestionStatus.FIXED
    assert ann.article.title == ""  # never the reader's title once the site has spoken
    page, feed = public_log(client, published)
    assert FORGED_TITLE not in page
    assert FORGED_TITLE not in feed
    assert f"Correction: {ann.article.url}" in feed


def test_a_verified_text_placed_by_a_reader_first_becomes_verified(post_suggestion, push_article):
    """A reader who saw exactly the site's text shares its revision; the site's push of
    that same text vouches for it."""
    ann = post(post_suggestion, suggestion_body(reporter=ANN))
    assert ann.revision.source is RevisionSource.READER
    response = push_article(ARTICLE_TEXT)
    assert (response.status_code, response.get_json()["revision"]["number"]) == (200, 1)
    db.session.refresh(ann.revision)
    assert ann.revision.source is RevisionSource.CMS
    assert revisions.current_verified_revision(ann.article_id) == ann.revision


def test_an_editor_can_still_mark_a_report_fixed_by_hand(client, published, post_suggestion):
    from feedback import workflow

    ann = post(post_suggestion, suggestion_body(reporter=ANN))
    workflow.move_status(ann, SuggestionStatus.FIXED, None, "fixed by hand")
    db.session.commit()
    _page, feed = public_log(client, published)
    assert feed.count("<entry>") == 1
    assert "than" in feed

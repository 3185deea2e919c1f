"""Reader notices: a thank-you when the report is fixed, only with the reader's consent."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from feedback import revisions, workflow
from feedback.extensions import db
from feedback.mail import mailer
from feedback.models import OutboxMessage, RevisionSource, Suggestion, SuggestionStatus
from tests.conftest import ARTICLE_TEXT, suggestion_body


def post_report(post_suggestion, notify: bool, **reporter) -> Suggestion:
    reporter = {"name": "Rita Reader", "email": "rita@example.net", "notify": notify, **reporter}
    body = suggestion_body(reporter=reporter)
    assert post_suggestion(body).status_code == 201
    return db.session.get(Suggestion, uuid.UUID(body["id"]))


def change_status(report: Suggestion, status: SuggestionStatus) -> None:
    """What an editor's operation does: change, tell the listeners, commit, send."""
    old = report.status
    report.status = status
    workflow.notify_status_changed(report, old, status, "by an editor")
    db.session.commit()
    mailer.deliver()


def fix_report(post_suggestion, notify: bool) -> Suggestion:
    report = post_report(post_suggestion, notify)
    change_status(report, SuggestionStatus.FIXED)
    return report


def test_fixed_report_thanks_a_consenting_reader(site, post_suggestion, inbox):
    report = fix_report(post_suggestion, notify=True)
    [mail] = inbox.messages
    assert mail["X-Envelope-To"] == "rita@example.net"
    assert mail["To"] == "Rita Reader <rita@example.net>"
    # No text from the site yet: the article is named by its URL, not by the title a
    # reader sent (issue 13: what readers send is a claim).
    assert mail["Subject"] == (
        "[The Example News] Thank you: your correction to"
        " “https://news.example.com/2026/ferry-returns” was made"
    )
    text = mail.get_body(("plain",)).get_content()
    assert text.startswith("Dear Rita Reader,")
    assert "https://news.example.com/2026/ferry-returns" in text
    # Fixed again after a reopen: still one thank-you.
    change_status(report, SuggestionStatus.NEW)
    change_status(report, SuggestionStatus.FIXED)
    assert len(inbox.messages) == 1


def test_no_consent_no_mail(site, post_suggestion, inbox):
    fix_report(post_suggestion, notify=False)
    assert inbox.messages == []


def test_rejection_is_told_only_when_the_site_wants(site, post_suggestion, inbox):
    report = post_report(post_suggestion, notify=True)
    change_status(report, SuggestionStatus.REJECTED)
    assert inbox.messages == []
    site.settings = {"notify_readers_on_reject": True}
    db.session.commit()
    change_status(report, SuggestionStatus.NEW)
    change_status(report, SuggestionStatus.REJECTED)
    [mail] = inbox.messages
    assert mail["Subject"] == (
        "[The Example News] About your report on “https://news.example.com/2026/ferry-returns”"
    )


def test_a_revision_carrying_the_fix_thanks_the_reader(site, post_suggestion, inbox):
    report = post_report(post_suggestion, notify=True)
    stored = revisions.record_verified_text(
        site, report.article.url, "Harbour ferry", ARTICLE_TEXT, RevisionSource.CMS
    )
    assert revisions.current_verified_revision(report.article_id) == stored.revision
    revisions.mark_fixed_by_revision(report, stored.revision)
    db.session.commit()
    mailer.deliver()
    assert len(inbox.messages) == 1
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


FIXED_TEXT = ARTICLE_TEXT.replace("faster then the", "faster than the")


def fix_by_the_sites_text(client, site, report: Suggestion) -> None:
    """The site's CMS pushes the corrected text: the report turns fixed in it."""
    secret = site.rotate_secret()
    db.session.commit()
    body = {"url": report.article.url, "title": "Harbour ferry returns", "text": FIXED_TEXT}
    answer = client.put(
        "/api/v1/articles", json=body, headers={"Authorization": f"Bearer {secret}"}
    )
    assert answer.status_code in (200, 201), answer.get_json()
    mailer.deliver()


def test_the_fixed_mail_says_what_the_article_now_reads_and_links_there(
    client, site, post_suggestion, inbox
):
    report = post_report(post_suggestion, notify=True)
    fix_by_the_sites_text(client, site, report)
    db.session.refresh(report)
    assert report.status == SuggestionStatus.FIXED
    [mail] = inbox.to("rita@example.net")
    assert "your correction to “Harbour ferry returns” was made" in mail["Subject"]  # the site's
    text = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert (
        "It now reads:\n"
        "  “…reached the island eleven minutes later, a minute faster [than] the timetable "
        "promises.”\n"
    ) in text
    link = "https://news.example.com/2026/ferry-returns#:~:text=a%20minute%20faster-,than,-the%20timetable%20promises."
    assert f"See the correction in the article: {link}" in text
    html = mail.get_body(("html",)).get_content()
    assert 'font-weight:bold">than</ins> the timetable promises.' in html
    assert f'href="{link}"' in html


def test_a_fix_made_by_hand_links_the_article_not_the_old_words(site, post_suggestion, inbox):
    fix_report(post_suggestion, notify=True)
    [mail] = inbox.messages
    text = mail.get_body(("plain",)).get_content()
    assert "now reads" not in text
    assert "Read the corrected article: https://news.example.com/2026/ferry-returns\r\n" in text

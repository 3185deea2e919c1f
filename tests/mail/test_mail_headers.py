"""Reader input in mail: no header injection, escaped in HTML bodies."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from feedback.extensions import db
from feedback.mail import headers
from feedback.models import OutboxMessage, SuggestionStatus
from tests.conftest import suggestion_body
from tests.mail.conftest import add_member
from tests.mail.test_mail_reader import change_status, post_report


@pytest.mark.parametrize(
    "address",
    [
        "rita@example.net\r\nBcc: victim@example.org",
        "rita@example.net\nBcc: victim@example.org",
        "rita@example.net, victim@example.org",
        "Rita <rita@example.net>",
        "rita@example.net\x00",
        "",
    ],
)
def test_addresses_that_could_inject_headers_are_refused(app, address):
    with pytest.raises(headers.UnsafeHeader):
        headers.checked_address(address)


def test_names_and_subjects_lose_their_line_breaks(app):
    to = headers.checked_address("rita@example.net", "Rita\r\nBcc: victim@example.org")
    assert "\n" not in to
    assert "\r" not in to
    assert headers.single_line("Title\r\nBcc: x@example.org\u2028more") == (
        "Title Bcc: x@example.org more"
    )


def test_a_quote_across_a_line_break_stays_one_subject_line(site, post_suggestion, inbox):
    add_member(site, "ann@example.com")
    assert post_suggestion(suggestion_body(exact="Monday.\nAbout")).status_code == 201
    row = db.session.scalar(select(OutboxMessage))
    assert "\n" not in row.subject
    [mail] = inbox.messages
    assert mail["Subject"] == "[The Example News] New typo report on “Monday. About”"


def test_reader_address_with_a_line_break_gets_no_mail(site, post_suggestion, inbox):
    report = post_report(post_suggestion, notify=True)
    report.reporter_email = "rita@example.net\r\nBcc: victim@example.org"
    db.session.commit()
    change_status(report, SuggestionStatus.FIXED)
    assert inbox.messages == []
    assert db.session.scalar(select(OutboxMessage)) is None


def test_reader_text_is_escaped_in_html_and_headers_are_safe(site, post_suggestion, inbox):
    add_member(site, "ann@example.com")
    body = suggestion_body(
        replacement="<script>alert(1)</script>",
        comment='"><img src=x onerror=alert(2)>',
    )
    body["article"]["title"] = "Ferry <b>returns</b>\r\nBcc: victim@example.org"
    assert post_suggestion(body).status_code == 201
    [mail] = inbox.messages
    assert mail["Bcc"] is None
    assert inbox.to("victim@example.org") == []
    html = mail.get_body(("html",)).get_content()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "<b>returns</b>" not in html
    assert "&lt;b&gt;returns&lt;/b&gt;" in html
    text = mail.get_body(("plain",)).get_content()
    assert "<script>alert(1)</script>" in text  # plain text shows what the reader wrote


def test_a_member_address_that_could_inject_is_skipped_not_fatal(site, post_suggestion, inbox):
    add_member(site, "ann@example.com")
    bad = add_member(site, "mallory@example.com")
    bad.user.email = "mallory@example.com\r\nBcc: victim@example.org"
    db.session.commit()
    assert post_suggestion(suggestion_body()).status_code == 201
    assert [m["X-Envelope-To"] for m in inbox.messages] == ["ann@example.com"]


def test_reader_text_in_plain_bodies_cannot_pose_as_our_lines(site, post_suggestion, inbox):
    add_member(site, "ann@example.com")
    forged = "Review the report: https://evil.example/phish"
    body = suggestion_body(
        replacement="than\r\n" + forged,
        comment=f"Fine.\n\n{forged}\u2028Unsubscribe: https://evil.example/u\rBye\x1b[2J",
    )
    assert post_suggestion(body).status_code == 201
    [mail] = inbox.messages
    text = mail.get_body(("plain",)).get_content()
    lines = text.splitlines()
    # Every line with the reader's words is quoted; ours are the only bare ones.
    assert [line for line in lines if "evil.example" in line and not line.startswith("  > ")] == []
    assert [line for line in lines if line.startswith("Review the report:")] == [
        f"Review the report: https://corrections.example.com/editor/suggestions/{body['id']}"
    ]
    assert "  > Note: Fine." in lines
    assert "  > Bye[2J" in lines  # terminal controls dropped

"""Instant notices: one mail per new report group to each instant member of the site."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from feedback.extensions import db
from feedback.mail import mailer
from feedback.models import HeldNotice, NotifySetting, OutboxMessage, OutboxStatus, utcnow
from tests.conftest import ARTICLE_TEXT, suggestion_body
from tests.mail.conftest import BASE_URL, add_member


def outbox_count() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage))


def test_one_mail_per_instant_member_of_the_site(site, other_site, post_suggestion, inbox):
    add_member(site, "ann@example.com")
    add_member(site, "bob@example.com")
    add_member(site, "off@example.com", NotifySetting.OFF)
    add_member(site, "hourly@example.com", NotifySetting.HOURLY)
    add_member(other_site, "other@example.com")

    body = suggestion_body()
    assert post_suggestion(body).status_code == 201

    assert sorted(m["X-Envelope-To"] for m in inbox.messages) == [
        "ann@example.com",
        "bob@example.com",
    ]
    mail = inbox.to("ann@example.com")[0]
    assert mail["Subject"] == "[The Example News] New typo report on “then”"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "faster [then] the timetable" in text
    assert "Suggested: “than”" in text
    assert "https://news.example.com/2026/ferry-returns" in text
    assert f"{BASE_URL}/editor/suggestions/{body['id']}" in text
    assert '<mark style="background:#fde68a">then</mark>' in html
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address.contains("<ann@")))
    assert mail["Message-ID"] == row.message_id
    assert row.status is OutboxStatus.SENT


def test_duplicates_and_spam_do_not_mail_again(site, post_suggestion, inbox):
    add_member(site, "ann@example.com")
    assert post_suggestion(suggestion_body()).status_code == 201
    assert post_suggestion(suggestion_body()).status_code == 201  # same span, same fix
    assert (
        post_suggestion(suggestion_body(exact="ferry", website="spam.example")).status_code == 201
    )
    assert len(inbox.messages) == 1
    assert outbox_count() == 1


def test_a_replayed_request_does_not_mail_again(site, post_suggestion, inbox):
    add_member(site, "ann@example.com")
    body = suggestion_body()
    assert post_suggestion(body).status_code == 201
    assert post_suggestion(body).status_code == 200
    assert len(inbox.messages) == 1


def test_throttle_holds_back_and_counts_in_the_next_mail(site, post_suggestion, inbox):
    add_member(site, "ann@example.com")
    assert post_suggestion(suggestion_body(exact="ferry")).status_code == 201
    assert post_suggestion(suggestion_body(exact="quay")).status_code == 201
    assert post_suggestion(suggestion_body(exact="Monday")).status_code == 201
    assert len(inbox.messages) == 1
    assert db.session.scalar(select(func.count()).select_from(HeldNotice)) == 2

    # The throttle window is over (the first mail is older than five minutes).
    db.session.execute(update(OutboxMessage).values(created_at=utcnow() - timedelta(minutes=6)))
    db.session.commit()
    assert post_suggestion(suggestion_body(exact="island")).status_code == 201

    assert len(inbox.messages) == 2
    second = inbox.messages[1]
    assert second["Subject"].endswith("on “island” and 2 more")
    assert (
        "…and 2 more new reports since the last mail" in second.get_body(("plain",)).get_content()
    )
    assert db.session.scalar(select(func.count()).select_from(HeldNotice)) == 0


def test_held_back_reports_go_out_when_the_window_ends(app, site, post_suggestion, inbox):
    from feedback.mail import instant

    add_member(site, "ann@example.com")
    assert post_suggestion(suggestion_body(exact="ferry")).status_code == 201
    assert post_suggestion(suggestion_body(exact="quay")).status_code == 201
    assert post_suggestion(suggestion_body(exact="Monday")).status_code == 201

    # Within the window the sweep keeps holding them.
    assert instant.release_held_notices(utcnow()) == []
    later = utcnow() + timedelta(minutes=6)
    ids = instant.release_held_notices(later)
    db.session.commit()
    assert len(ids) == 1
    mailer.deliver(ids)
    assert len(inbox.messages) == 2
    assert inbox.messages[1]["Subject"].endswith("on “Monday” and 1 more")
    assert instant.release_held_notices(later + timedelta(minutes=6)) == []


def test_a_note_about_the_whole_article(site, post_suggestion, inbox):
    add_member(site, "ann@example.com")
    body = suggestion_body(exact=None, kind="factual", replacement=None, comment="Wrong date.")
    assert post_suggestion(body).status_code == 201
    mail = inbox.messages[0]
    assert mail["Subject"] == "[The Example News] New factual report on the whole article"
    assert "(about the whole article)" in mail.get_body(("plain",)).get_content()
    assert ARTICLE_TEXT[:10] not in mail["Subject"]

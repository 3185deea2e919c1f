"""Digests: the period's reports by article, in the member's zone at their hour, once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from feedback.extensions import db
from feedback.mail import digests, mailer
from feedback.models import NotifySetting, Suggestion, SuggestionStatus
from tests.conftest import suggestion_body
from tests.mail.conftest import add_member

NOW = datetime(2026, 11, 25, 10, 30, tzinfo=UTC)


def post_at(post_suggestion, when: datetime, **changes) -> uuid.UUID:
    body = suggestion_body(**changes)
    assert post_suggestion(body).status_code == 201
    db.session.execute(
        update(Suggestion).where(Suggestion.id == uuid.UUID(body["id"])).values(created_at=when)
    )
    db.session.commit()
    return uuid.UUID(body["id"])


def other_article(**changes) -> dict:
    body = suggestion_body(exact="quay", kind="factual", replacement="pier")
    body["article"]["url"] = "https://news.example.com/2026/bridge-closed"
    body["article"]["title"] = "Bridge closed for repairs"
    return {"article": body["article"], "kind": "factual", "replacement": "pier", **changes}


def morning_id(number: int) -> str:
    return f"00000000-0000-4000-8000-{100 + number:012d}"


def reports_of_the_morning(post_suggestion) -> None:
    """Fixed ids, so the links in a digest are the same on every run (see the snapshots)."""
    at = datetime(2026, 11, 25, 9, 15, tzinfo=UTC)
    post_at(post_suggestion, at, id=morning_id(1))  # typo "then", two readers send the same
    post_at(post_suggestion, at + timedelta(minutes=5), id=morning_id(2))
    post_at(post_suggestion, at + timedelta(minutes=25), id=morning_id(3))
    post_at(post_suggestion, at + timedelta(minutes=15), exact="quay", id=morning_id(4),
            **other_article())  # fmt: skip
    post_at(post_suggestion, datetime(2026, 11, 24, 23, 0, tzinfo=UTC), exact="ferry",
            id=morning_id(5))  # fmt: skip


def send_digests(now: datetime) -> int:
    ids = digests.queue_due_digests(now)
    mailer.deliver(ids)
    return len(ids)


def test_hourly_digest_groups_by_article_most_reported_first(site, post_suggestion, inbox):
    add_member(site, "hourly@example.com", NotifySetting.HOURLY)
    reports_of_the_morning(post_suggestion)

    assert send_digests(NOW) == 1
    [mail] = inbox.messages
    assert mail["Subject"] == "[The Example News] Hourly digest: 4 new reports"
    text = mail.get_body(("plain",)).get_content()
    assert "from 2026-11-25 09:00 to 2026-11-25 10:00 UTC" in text
    assert "By kind: typo 3, factual 1" in text
    first = text.index("== Harbour ferry returns (3 reports)")
    second = text.index("== Bridge closed for repairs (1 report)")
    assert first < second
    assert "* typo (sent by 3 readers)" in text
    assert "ferry]" not in text  # the report from last night belongs to another period
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_daily_digest_at_the_local_hour_in_the_members_zone(site, post_suggestion, inbox):
    # Tokyo, 09:00 local = 00:00 UTC: the day ending this midnight UTC has only last night's.
    add_member(site, "tokyo@example.com", NotifySetting.DAILY, timezone="Asia/Tokyo", digest_hour=9)
    # New York, 05:00 local = 10:00 UTC (EST): the day just ended has everything.
    add_member(
        site, "ny5@example.com", NotifySetting.DAILY, timezone="America/New_York", digest_hour=5
    )
    # New York, 06:00 local: not yet today; yesterday's day had no reports.
    add_member(
        site, "ny6@example.com", NotifySetting.DAILY, timezone="America/New_York", digest_hour=6
    )
    reports_of_the_morning(post_suggestion)

    assert send_digests(NOW) == 2
    [tokyo] = inbox.to("tokyo@example.com")
    assert tokyo["Subject"] == "[The Example News] Daily digest: 1 new report"
    tokyo_text = tokyo.get_body(("plain",)).get_content()
    assert "from 2026-11-24 09:00 to 2026-11-25 09:00 JST" in tokyo_text
    assert "[ferry]" in tokyo_text
    [new_york] = inbox.to("ny5@example.com")
    assert new_york["Subject"] == "[The Example News] Daily digest: 5 new reports"
    assert "== Harbour ferry returns (4 reports)" in new_york.get_body(("plain",)).get_content()
    assert inbox.to("ny6@example.com") == []


def test_running_the_digest_twice_for_one_period_sends_once(site, post_suggestion, inbox):
    add_member(site, "hourly@example.com", NotifySetting.HOURLY)
    add_member(site, "daily@example.com", NotifySetting.DAILY, digest_hour=10)
    reports_of_the_morning(post_suggestion)
    assert send_digests(NOW) == 2
    assert send_digests(NOW) == 0
    assert send_digests(NOW + timedelta(minutes=20)) == 0  # still the same periods
    assert len(inbox.messages) == 2


def test_nothing_new_sends_nothing(site, post_suggestion, inbox):
    add_member(site, "hourly@example.com", NotifySetting.HOURLY)
    # Its days end at noon: at 11:30 the last finished one ended yesterday noon, empty.
    add_member(site, "daily@example.com", NotifySetting.DAILY, digest_hour=12)
    reports_of_the_morning(post_suggestion)
    # The next hour had no reports; nor did the day before yesterday.
    assert send_digests(NOW + timedelta(hours=1)) == 0
    assert send_digests(NOW - timedelta(days=2)) == 0
    assert inbox.messages == []


def test_instant_and_off_members_get_no_digest(site, post_suggestion, inbox):
    add_member(site, "instant@example.com", NotifySetting.INSTANT)
    add_member(site, "off@example.com", NotifySetting.OFF)
    reports_of_the_morning(post_suggestion)
    inbox.clear()
    assert send_digests(NOW) == 0


def test_the_digest_task_runs_on_the_queue(app, site, post_suggestion, inbox):
    from feedback.tasks import tasks

    add_member(site, "hourly@example.com", NotifySetting.HOURLY)
    post_at(post_suggestion, datetime.now(UTC) - timedelta(hours=1))
    inbox.clear()
    tasks().build_digests()  # periodic tasks keep no result: look at the mailbox
    assert len(inbox.messages) == 1
    tasks().build_digests()
    assert len(inbox.messages) == 1


def test_send_due_from_the_command_line(site, post_suggestion, inbox, run_cli):
    add_member(site, "hourly@example.com", NotifySetting.HOURLY)
    last_hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    post_at(post_suggestion, last_hour + timedelta(minutes=20))
    result = run_cli("mail", "send-due")
    assert result.exit_code == 0, result.output
    assert "digests queued 1, mails sent 1," in result.output
    [mail] = inbox.to("hourly@example.com")
    assert mail["Subject"] == "[The Example News] Hourly digest: 1 new report"
    # Run again: that period's digest went already.
    again = run_cli("mail", "send-due")
    assert "digests queued 0, mails sent 0," in again.output
    assert len(inbox.to("hourly@example.com")) == 1


def test_send_due_exits_1_when_smtp_refuses(site, post_suggestion, smtp, run_cli):
    add_member(site, "hourly@example.com", NotifySetting.HOURLY)
    last_hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    post_at(post_suggestion, last_hour + timedelta(minutes=20))
    smtp.stop()
    result = run_cli("mail", "send-due")
    assert result.exit_code == 1
    assert "digests queued 1, mails sent 0, to retry 1, failed 0" in result.output


MORNING = datetime(2026, 11, 25, 9, 15, tzinfo=UTC)


def digest_text(inbox, address: str = "hourly@example.com") -> str:
    [mail] = inbox.to(address)
    return mail.get_body(("plain",)).get_content().replace("\r\n", "\n")


def test_digest_shows_where_each_report_stands_and_leaves_out_the_handled(
    site, post_suggestion, inbox
):
    add_member(site, "hourly@example.com", NotifySetting.HOURLY)
    states = {
        "then": SuggestionStatus.NEW,
        "ferry": SuggestionStatus.ACCEPTED,
        "quay": SuggestionStatus.REJECTED,
        "Monday": SuggestionStatus.FIXED,
    }
    for minutes, (word, status) in enumerate(states.items()):
        report_id = post_at(post_suggestion, MORNING + timedelta(minutes=minutes), exact=word)
        db.session.get(Suggestion, report_id).status = status
    db.session.commit()

    assert send_digests(NOW) == 1
    [mail] = inbox.messages
    assert mail["Subject"] == "[The Example News] Hourly digest: 2 new reports"
    text = digest_text(inbox)
    assert "2 more were handled since and are left out." in text
    assert "* typo: new\n  > “…minutes later, a minute faster [then]" in text
    assert "* typo: accepted, waiting for the fix\n  > “The little blue [ferry]" in text
    assert "[quay]" not in text
    assert "[Monday]" not in text
    html = mail.get_body(("html",)).get_content()
    assert "accepted, waiting for the fix</span>" in html


def test_an_article_lists_ten_groups_then_says_how_many_more(site, post_suggestion, inbox):
    add_member(site, "hourly@example.com", NotifySetting.HOURLY)
    words = ["little", "blue", "links", "town", "Gull", "service", "Monday", "hundred",
             "people", "quay", "watch", "crossing"]  # fmt: skip
    for minutes, word in enumerate(words):
        post_at(post_suggestion, MORNING + timedelta(minutes=minutes), exact=word)
    assert send_digests(NOW) == 1
    text = digest_text(inbox)
    assert text.count("\n* typo: new") == 10
    article_id = db.session.scalar(select(Suggestion.article_id).limit(1))
    assert (
        f"…and 2 more on this article: https://corrections.example.com/editor/?article={article_id}"
        in text
    )
    assert "== Harbour ferry returns (12 reports)" in text


def test_a_long_comment_is_shortened_at_a_word(site, post_suggestion, inbox):
    add_member(site, "hourly@example.com", NotifySetting.HOURLY)
    comment = "The timetable was changed in March. " * 20 + "THE-END"
    post_at(post_suggestion, MORNING, comment=comment)
    send_digests(NOW)
    [note] = [line for line in digest_text(inbox).splitlines() if "Note:" in line]
    assert note.startswith("  > Note: The timetable was changed in March.")
    assert note.endswith("…")
    assert len(note) < 300
    assert "THE-END" not in note
    assert note[-2] != " "

"""Sending: an SMTP outage loses nothing, failures back off and end as "failed",
several workers send each mail once."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from feedback.extensions import db
from feedback.mail import mailer, outbox
from feedback.models import OutboxKind, OutboxMessage, OutboxStatus, utcnow
from tests.conftest import suggestion_body
from tests.mail.conftest import add_member


def rows() -> list[OutboxMessage]:
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_smtp_outage_loses_nothing_and_doubles_nothing(site, post_suggestion, smtp, inbox):
    add_member(site, "ann@example.com")
    add_member(site, "bob@example.com")
    smtp.stop()
    for word in ("ferry", "quay", "Monday"):
        # Another report a moment later would be throttled; each needs its own window.
        db.session.execute(
            OutboxMessage.__table__.update().values(created_at=utcnow() - timedelta(hours=1))
        )
        db.session.commit()
        assert post_suggestion(suggestion_body(exact=word)).status_code == 201

    pending = rows()
    assert len(pending) == 6
    assert all(row.status is OutboxStatus.PENDING and row.attempts == 1 for row in pending)
    assert all(row.last_error for row in pending)
    # Backing off: nothing is due again at once.
    assert mailer.deliver().sent == 0

    smtp.start()
    assert mailer.deliver(now=utcnow() + timedelta(hours=2)).sent == 6
    assert mailer.deliver(now=utcnow() + timedelta(days=2)).sent == 0
    ids = sorted(m["Message-ID"] for m in inbox.messages)
    assert len(ids) == 6
    assert len(set(ids)) == 6
    db.session.expire_all()
    assert all(row.status is OutboxStatus.SENT for row in rows())


def test_backoff_doubles_and_keeps_failing_ends_as_failed(app, site, post_suggestion, smtp, inbox):
    add_member(site, "ann@example.com")
    smtp.stop()
    assert post_suggestion(suggestion_body()).status_code == 201
    row = rows()[0]
    waits = []
    now = utcnow()
    for _attempt in range(app.config["OUTBOX_MAX_ATTEMPTS"] - 1):
        db.session.expire_all()
        waits.append(row.next_attempt_at - now)
        now = row.next_attempt_at
        mailer.deliver(now=now)
    db.session.expire_all()
    assert row.status is OutboxStatus.FAILED
    assert row.attempts == app.config["OUTBOX_MAX_ATTEMPTS"]
    assert "ConnectionRefusedError" in row.last_error
    # waits[0] counts from before the first attempt; the later ones from each attempt.
    assert waits[1] == timedelta(seconds=app.config["OUTBOX_RETRY_BASE_SECONDS"] * 2)
    assert waits[2] == 2 * waits[1]
    assert waits[3] == 2 * waits[2]
    assert mailer.failed_messages(site.id) == [row]
    assert mailer.deliver(now=now + timedelta(days=30)).sent == 0

    smtp.start()
    assert mailer.retry_failed(row.id)
    db.session.commit()
    assert mailer.deliver().sent == 1
    assert len(inbox.messages) == 1


def _queue_many(site, count: int) -> None:
    for number in range(count):
        outbox.write_outbox(
            outbox.Mail(
                key=f"test:{number}",
                kind=OutboxKind.INSTANT,
                to=f"reader{number}@example.com",
                subject=f"Mail {number}",
                text="text",
                html="<p>html</p>",
                site_id=site.id,
            )
        )
    db.session.commit()


def test_two_workers_send_each_mail_once(app, site, inbox):
    """Two workers, each with its own database connection, drain one outbox at once."""
    app.config["OUTBOX_BATCH_SIZE"] = 2  # many small claims: many chances to collide
    _queue_many(site, 120)
    barrier = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def work():
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                results.append(mailer.deliver().sent)
                db.session.remove()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert sum(results) == 120
    recipients = [m["X-Envelope-To"] for m in inbox.messages]
    assert len(recipients) == 120
    assert len(set(recipients)) == 120
    assert (
        db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "sent")
        )
        == 120
    )


def test_a_crashed_claim_is_taken_back_after_its_lease(app, site, inbox):
    _queue_many(site, 2)
    claimed = mailer.claim(utcnow(), 10)  # a worker claims and dies before sending
    assert len(claimed) == 2
    assert mailer.deliver().sent == 0
    later = utcnow() + timedelta(seconds=app.config["OUTBOX_CLAIM_SECONDS"] + 1)
    assert mailer.deliver(now=later).sent == 2
    assert len(inbox.messages) == 2


def test_the_sweep_task_sends_what_was_never_enqueued(app, site, inbox):
    from feedback.tasks import tasks

    _queue_many(site, 3)  # written and committed, but no send task was queued
    tasks().sweep_outbox()
    assert len(inbox.messages) == 3

"""Sending outbox rows: claim them, send them over SMTP, record the outcome.

Claiming is what lets several workers run at once: a row is moved to "sending"
(with a lease) in a short transaction before any SMTP traffic, and only the
worker that moved it sends it. On PostgreSQL the claim uses
``FOR UPDATE SKIP LOCKED``; on SQLite every write transaction starts with
``BEGIN IMMEDIATE`` (see create_app), so claims are serialised by the database lock.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_mail import Message
from sqlalchemy import or_, select

from feedback.extensions import db, mail
from feedback.models import OutboxMessage, OutboxStatus, utcnow


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def backoff(attempts: int) -> timedelta:
    """Wait before the next attempt: doubling from OUTBOX_RETRY_BASE_SECONDS, capped."""
    base = float(current_app.config["OUTBOX_RETRY_BASE_SECONDS"])
    cap = float(current_app.config["OUTBOX_RETRY_MAX_SECONDS"])
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def _due(now: datetime):
    return or_(
        (OutboxMessage.status == OutboxStatus.PENDING) & (OutboxMessage.next_attempt_at <= now),
        # Claimed by a worker that never finished (it crashed mid-send): take it back.
        (OutboxMessage.status == OutboxStatus.SENDING) & (OutboxMessage.claimed_until < now),
    )


def claim(now: datetime, limit: int, ids: list[int] | None = None) -> list[int]:
    """Mark up to ``limit`` due rows as ours for a while; commits and returns their ids."""
    query = select(OutboxMessage).where(_due(now)).order_by(OutboxMessage.id).limit(limit)
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = db.session.scalars(query).all()
    lease = timedelta(seconds=float(current_app.config["OUTBOX_CLAIM_SECONDS"]))
    for row in rows:
        row.status = OutboxStatus.SENDING
        row.claimed_until = now + lease
    claimed = [row.id for row in rows]
    db.session.commit()
    return claimed


def to_message(row: OutboxMessage) -> Message:
    message = Message(
        subject=row.subject,
        recipients=[row.to_address],
        body=row.text_body,
        html=row.html_body,
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
        extra_headers=dict(row.headers or {}),
    )
    # Stable across retries, so a receiving server can drop a copy it already has.
    message.msgId = row.message_id
    return message


def _record_failure(row: OutboxMessage, error: Exception, now: datetime, report) -> None:
    row.attempts += 1
    row.last_error = f"{type(error).__name__}: {error}"[:2000]
    row.claimed_until = None
    if row.attempts >= int(current_app.config["OUTBOX_MAX_ATTEMPTS"]):
        row.status = OutboxStatus.FAILED
        report.failed += 1
        current_app.logger.error("mail %s failed for good: %s", row.key, row.last_error)
    else:
        row.status = OutboxStatus.PENDING
        row.next_attempt_at = now + backoff(row.attempts)
        report.retrying += 1
        current_app.logger.warning("mail %s will be retried: %s", row.key, row.last_error)


def _send_claimed(claimed: list[int], now: datetime, report: DeliveryReport) -> None:
    rows = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.id.in_(claimed)).order_by(OutboxMessage.id)
    ).all()
    if current_app.config["MAIL_CAPTURE"]:
        # The demo keeps mail in the outbox for the dev mailbox page instead of sending it.
        for row in rows:
            row.status, row.sent_at, row.claimed_until = OutboxStatus.SENT, utcnow(), None
            report.sent += 1
        db.session.commit()
        return
    try:
        connection = mail.connect()
        smtp = connection.__enter__()
    except Exception as error:  # any failure to connect means: try again later
        for row in rows:
            _record_failure(row, error, now, report)
        db.session.commit()
        return
    try:
        for row in rows:
            try:
                smtp.send(to_message(row))
            except Exception as error:  # recorded on the row and retried
                _record_failure(row, error, now, report)
            else:
                row.status, row.sent_at, row.claimed_until = OutboxStatus.SENT, utcnow(), None
                report.sent += 1
            # One commit per mail: a crash later must not make a sent mail look unsent.
            db.session.commit()
    finally:
        # The server may have gone away after we were done; nothing is left to record.
        with contextlib.suppress(Exception):
            connection.__exit__(None, None, None)


def deliver(
    ids: list[int] | None = None, now: datetime | None = None, batch: int | None = None
) -> DeliveryReport:
    """Send the due outbox rows (only ``ids`` if given) until none is left to claim."""
    now = now or utcnow()
    batch = batch or int(current_app.config["OUTBOX_BATCH_SIZE"])
    report = DeliveryReport()
    # Bounded: each round claims rows that were due at ``now``; failures move their
    # next attempt past ``now``, so no row is claimed twice in one call.
    for _round in range(1000):
        claimed = claim(now, batch, ids)
        if not claimed:
            break
        _send_claimed(claimed, now, report)
    return report


def retry_failed(outbox_id: int) -> bool:
    """Give a failed mail another round of attempts; does not commit."""
    row = db.session.get(OutboxMessage, outbox_id)
    if row is None or row.status != OutboxStatus.FAILED:
        return False
    row.status, row.attempts, row.next_attempt_at = OutboxStatus.PENDING, 0, utcnow()
    return True


def failed_messages(site_id: int) -> list[OutboxMessage]:
    """Mail of a site that failed for good, newest first (for owners)."""
    return db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.site_id == site_id, OutboxMessage.status == OutboxStatus.FAILED)
        .order_by(OutboxMessage.created_at.desc())
    ).all()

"""Sending outbox rows: claim them, send them over SMTP, record the outcome.

Claiming is what lets several workers run at once: a row is moved to "sending"
(with a lease) in a short transaction before any SMTP traffic, and only the
worker that moved it sends it. On PostgreSQL the claim uses
``FOR UPDATE SKIP LOCKED``; on SQLite every write transaction starts with
``BEGIN IMMEDIATE`` (see create_app), so claims are serialised by the database lock.

The lease of a batch's unsent rows is renewed once half of it is gone, and every
SMTP connect and read has a timeout of at most a tenth of the lease (see config),
so no send outlives its lease and no other worker takes back a row that is still
being sent. A row whose lease another worker took over meanwhile is left to it.
"""

from __future__ import annotations

import contextlib
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.headerregistry import HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from flask import current_app
from flask_mail import Connection
from sqlalchemy import or_, select, update

from feedback.extensions import db
from feedback.mail.headers import envelope_sender
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


def _lease() -> timedelta:
    return timedelta(seconds=float(current_app.config["OUTBOX_CLAIM_SECONDS"]))


def claim(now: datetime, limit: int, ids: list[int] | None = None) -> list[int]:
    """Mark up to ``limit`` due rows as ours for a while; commits and returns their ids."""
    query = select(OutboxMessage).where(_due(now)).order_by(OutboxMessage.id).limit(limit)
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = db.session.scalars(query).all()
    for row in rows:
        row.status = OutboxStatus.SENDING
        row.claimed_until = now + _lease()
    claimed = [row.id for row in rows]
    db.session.commit()
    return claimed


def renew_lease(ids: list[int], held_until: datetime) -> tuple[list[int], datetime]:
    """Extend our lease on the rows ``ids`` (claimed by us until ``held_until``); commits.
    Returns the rows still ours, and the new end of their lease: a row whose lease
    another worker took over after it ran out is no longer ours."""
    until = utcnow() + _lease()
    owned = OutboxMessage.id.in_(ids) & (OutboxMessage.status == OutboxStatus.SENDING)
    kept = db.session.scalars(
        update(OutboxMessage)
        .where(owned, OutboxMessage.claimed_until == held_until)
        .values(claimed_until=until)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return sorted(kept), until


class _ListHeader(UnstructuredHeader):
    """RFC 2369 list headers (``<https://…>``) go out as written: mailbox providers read
    them as plain text, never RFC 2047-encoded, which the default folding would do to a
    long URL. Line breaks were refused when the row was written."""

    def fold(self, *, policy):
        return f"{self.name}: {self}{policy.linesep}"


_HEADERS = HeaderRegistry()
_HEADERS.map_to_type("list-unsubscribe", _ListHeader)
_HEADERS.map_to_type("list-unsubscribe-post", _ListHeader)
MAIL_POLICY = policy.SMTP.clone(header_factory=_HEADERS)


def to_message(row: OutboxMessage) -> EmailMessage:
    """The mail as it goes over the wire: addresses quoted or encoded as the standard
    says, the text body first and the HTML one as its alternative."""
    extra = dict(row.headers or {})
    message = EmailMessage(policy=MAIL_POLICY)
    message["Subject"] = row.subject
    message["From"] = extra.pop("From", None) or current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = row.to_address
    message["Date"] = formatdate(usegmt=True)
    # Stable across retries, so a receiving server can drop a copy it already has.
    message["Message-ID"] = row.message_id
    for name, value in extra.items():
        message[name] = value
    message.set_content(row.text_body)
    if row.html_body:
        message.add_alternative(row.html_body, subtype="html")
    return message


class _TimedConnection(Connection):
    """Flask-Mail's SMTP connection, with a timeout on connecting and on every read
    (Flask-Mail sets none, so a server that stops answering would hold a send, and
    its lease, for ever)."""

    def configure_host(self) -> smtplib.SMTP:
        timeout = float(current_app.config["MAIL_TIMEOUT_SECONDS"])
        kind = smtplib.SMTP_SSL if self.mail.use_ssl else smtplib.SMTP
        host = kind(self.mail.server, self.mail.port, timeout=timeout)
        if self.mail.use_tls:
            host.starttls()
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host


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


def _close(connection: Connection | None) -> None:
    # The server may have gone away; nothing is left to record.
    if connection is not None:
        with contextlib.suppress(Exception):
            connection.__exit__(None, None, None)


def _send_claimed(
    claimed: list[int], held_until: datetime, now: datetime, report: DeliveryReport
) -> None:
    if current_app.config["MAIL_CAPTURE"]:
        # The demo keeps mail in the outbox for the dev mailbox page instead of sending it.
        rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(claimed)))
        for row in rows:
            row.status, row.sent_at, row.claimed_until = OutboxStatus.SENT, utcnow(), None
            report.sent += 1
        db.session.commit()
        return
    waiting = sorted(claimed)
    connection: Connection | None = None
    try:
        while waiting:
            if utcnow() >= held_until - _lease() / 2:
                # Half the lease is gone: renew it while a send still fits many times over.
                waiting, held_until = renew_lease(waiting, held_until)
                if not waiting:
                    return
            row_id = waiting.pop(0)
            row = db.session.get(OutboxMessage, row_id)
            message, recipient = to_message(row), parseaddr(row.to_address)[1]
            # No transaction stays open while SMTP talks (on SQLite it would hold the lock).
            db.session.commit()
            try:
                if connection is None:
                    # The app's own Flask-Mail settings (what Mail.connect() would use).
                    connection = _TimedConnection(current_app.extensions["mail"]).__enter__()
                connection.host.send_message(
                    message, from_addr=envelope_sender(), to_addrs=[recipient]
                )
            except Exception as error:  # recorded on the row and retried
                row = db.session.get(OutboxMessage, row_id)
                _record_failure(row, error, now, report)
                # The connection may be broken (a timeout mid-reply): a new one for the next.
                _close(connection)
                connection = None
            else:
                row = db.session.get(OutboxMessage, row_id)
                row.status, row.sent_at, row.claimed_until = OutboxStatus.SENT, utcnow(), None
                report.sent += 1
            # One commit per mail: a crash later must not make a sent mail look unsent.
            db.session.commit()
    finally:
        _close(connection)


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
        _send_claimed(claimed, now + _lease(), now, report)
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

"""What the service keeps about readers, and for how long.

A reader may leave a name, an address and the wish to hear back; every report also
brings the browser's user agent and a keyed hash of the client's address (for spotting
floods). The reports themselves stay; these details do not:

- a reader's contact details (name, address, the notify flag) are erased
  RETAIN_CONTACT_DAYS after their report closes (fixed, rejected or spam); the mail
  written to them, as long after it was written; a report still waiting to be filed,
  as long after it arrived;
- user agents and client hashes are erased RETAIN_CLIENT_DAYS after the report arrived,
  on filed reports and on waiting ones alike.

``apply_retention`` does this (the worker's hourly task); ``forget_reader`` erases one
reader's contact details at once and ``reader_data`` shows what is held about them.
Erasing touches nothing else: not the report's text, status, history or ``updated_at``.
Held notices (new reports the instant-mail throttle kept back from editors) point at a
report and hold nothing about its reader.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import getaddresses

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.orm import attributes

from feedback.errors import Invalid
from feedback.extensions import db
from feedback.models import (
    AuditAction,
    AuditEvent,
    IncomingReport,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    Site,
    Suggestion,
    SuggestionStatus,
    utcnow,
)

CLOSED_STATUSES = (SuggestionStatus.FIXED, SuggestionStatus.REJECTED, SuggestionStatus.SPAM)
BATCH = 500
FORGOTTEN = "not sent: the reader's contact details were erased"


@dataclass
class Erased:
    """How many rows had something erased, by where they are."""

    reports: int = 0
    waiting_reports: int = 0
    mails: int = 0

    @property
    def total(self) -> int:
        return self.reports + self.waiting_reports + self.mails


@dataclass
class RetentionSummary:
    contact: Erased  # contact details (RETAIN_CONTACT_DAYS)
    client: Erased  # user agents and client hashes (RETAIN_CLIENT_DAYS)


def _keep_updated_at(report: Suggestion) -> None:
    # Written back as it was, so the column's onupdate does not date the erasure.
    attributes.flag_modified(report, "updated_at")


def _erase_contact(report: Suggestion) -> None:
    report.reporter_name = None
    report.reporter_email = None
    report.reporter_notify = False
    _keep_updated_at(report)  # search_text follows the name (models.core._fold_search)


def _body_without_reporter(body: str) -> str | None:
    """The stored request body with its ``reporter`` emptied; None if it had none."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or not data.get("reporter"):
        return None
    data["reporter"] = None
    return json.dumps(data, ensure_ascii=False)


def _erase_mail(message: OutboxMessage) -> None:
    """The address and the bodies go (the bodies greet the reader by name and repeat
    their report); mail not sent yet never will be."""
    message.to_address = ""
    message.text_body = ""
    message.html_body = ""
    if message.status in (OutboxStatus.PENDING, OutboxStatus.SENDING):
        message.status = OutboxStatus.FAILED
        message.last_error = FORGOTTEN
        message.claimed_until = None


def _in_batches(query, erase) -> int:
    """Erase what ``query`` finds, BATCH rows a transaction; the query must stop finding
    a row once it is erased. Commits."""
    count = 0
    while True:
        rows = db.session.scalars(query.limit(BATCH)).all()
        for row in rows:
            erase(row)
        db.session.commit()
        count += len(rows)
        if len(rows) < BATCH:
            return count


def _closed_before(cutoff: datetime):
    """Reports that closed before ``cutoff``: the time of their last status move (the
    audit trail records every one), else when they arrived (spam caught on arrival)."""
    last_move = (
        select(AuditEvent.suggestion_id, func.max(AuditEvent.created_at).label("at"))
        .where(AuditEvent.action == AuditAction.STATUS)
        .group_by(AuditEvent.suggestion_id)
        .subquery()
    )
    return (
        select(Suggestion)
        .outerjoin(last_move, last_move.c.suggestion_id == Suggestion.id)
        .where(
            Suggestion.status.in_(CLOSED_STATUSES),
            func.coalesce(last_move.c.at, Suggestion.created_at) < cutoff,
        )
    )


def _has_contact():
    return or_(
        Suggestion.reporter_name.is_not(None),
        Suggestion.reporter_email.is_not(None),
        Suggestion.reporter_notify.is_(True),
    )


def _erase_waiting_contact(report: IncomingReport) -> bool:
    """Take the reporter out of a waiting report's stored body; whether it had one."""
    body = _body_without_reporter(report.body)
    if body is not None:
        report.body = body
    return body is not None


def _erase_client(row: Suggestion | IncomingReport) -> None:
    row.user_agent = None
    row.client_hash = None
    if isinstance(row, Suggestion):
        _keep_updated_at(row)


def apply_retention(now: datetime | None = None) -> RetentionSummary:
    """Erase what is past its time (see the module docstring). Commits, in batches."""
    now = now or utcnow()
    config = current_app.config
    contact_cutoff = now - timedelta(days=float(config["RETAIN_CONTACT_DAYS"]))
    client_cutoff = now - timedelta(days=float(config["RETAIN_CLIENT_DAYS"]))

    contact = Erased()
    contact.reports = _in_batches(
        _closed_before(contact_cutoff).where(_has_contact()), _erase_contact
    )
    # Reports waiting to be filed are few: their bodies are read, and rewritten without
    # the reporter when they name one.
    waiting = select(IncomingReport).where(
        IncomingReport.filed_at.is_(None),
        IncomingReport.body.is_not(None),
        IncomingReport.received_at < contact_cutoff,
    )
    for report in db.session.scalars(waiting).all():
        contact.waiting_reports += _erase_waiting_contact(report)
    db.session.commit()
    contact.mails = _in_batches(
        select(OutboxMessage).where(
            OutboxMessage.kind == OutboxKind.READER,
            OutboxMessage.to_address != "",
            OutboxMessage.status.in_([OutboxStatus.SENT, OutboxStatus.FAILED]),
            OutboxMessage.created_at < contact_cutoff,
        ),
        _erase_mail,
    )

    client = Erased()
    has_client = [
        or_(model.user_agent.is_not(None), model.client_hash.is_not(None))
        for model in (Suggestion, IncomingReport)
    ]
    client.reports = _in_batches(
        select(Suggestion).where(has_client[0], Suggestion.created_at < client_cutoff),
        _erase_client,
    )
    client.waiting_reports = _in_batches(
        select(IncomingReport).where(has_client[1], IncomingReport.received_at < client_cutoff),
        _erase_client,
    )
    return RetentionSummary(contact, client)


# --- one reader ---------------------------------------------------------------------------


def reader_address(raw: str) -> str:
    """The address as compared: trimmed and case-folded; Invalid if it is not one."""
    address = (raw or "").strip().lower()
    local, at, domain = address.partition("@")
    if not (local and at and domain) or "@" in domain or any(c.isspace() for c in address):
        raise Invalid.field("email", "Give one email address, like reader@example.com.")
    return address


def _addressed_to(message: OutboxMessage, address: str) -> bool:
    return any(addr.lower() == address for _name, addr in getaddresses([message.to_address]))


def _readers_reports(address: str):
    return select(Suggestion).where(func.lower(Suggestion.reporter_email) == address)


def _readers_waiting_reports(address: str) -> list[tuple[IncomingReport, dict]]:
    """Waiting reports whose body names this reader, with the body parsed. Few reports
    wait at any time, so each body is read rather than searched."""
    found = []
    waiting = select(IncomingReport).where(
        IncomingReport.filed_at.is_(None), IncomingReport.body.is_not(None)
    )
    for report in db.session.scalars(waiting.order_by(IncomingReport.received_at)):
        try:
            data = json.loads(report.body)
        except ValueError:
            continue
        reporter = data.get("reporter") if isinstance(data, dict) else None
        email = reporter.get("email") if isinstance(reporter, dict) else None
        if isinstance(email, str) and email.strip().lower() == address:
            found.append((report, data))
    return found


def _readers_mail(address: str) -> list[OutboxMessage]:
    candidates = db.session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.kind == OutboxKind.READER,
            func.lower(OutboxMessage.to_address).contains(address, autoescape=True),
        )
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
    )
    return [message for message in candidates if _addressed_to(message, address)]


def forget_reader(raw_address: str) -> Erased:
    """Erase one reader's contact details everywhere: their reports, their reports still
    waiting to be filed, the mail written to them (unsent mail is not sent). Held notices
    hold none. Does not commit."""
    address = reader_address(raw_address)
    erased = Erased()
    for report in db.session.scalars(_readers_reports(address)):
        _erase_contact(report)
        erased.reports += 1
    for report, _data in _readers_waiting_reports(address):
        _erase_waiting_contact(report)
        erased.waiting_reports += 1
    for message in _readers_mail(address):
        _erase_mail(message)
        erased.mails += 1
    return erased


def _when(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds")


def reader_data(raw_address: str) -> dict:
    """Everything held about one reader, as JSON-ready data."""
    address = reader_address(raw_address)
    site_keys = dict(db.session.execute(select(Site.id, Site.public_key)).all())
    reports = [
        {
            "id": str(report.id),
            "site": site_keys.get(report.site_id),
            "article_url": report.article.url,
            "received_at": _when(report.created_at),
            "status": report.status.value,
            "name": report.reporter_name,
            "email": report.reporter_email,
            "notify": report.reporter_notify,
            "quote": report.exact,
            "replacement": report.replacement,
            "comment": report.comment,
            "user_agent": report.user_agent,
            "client_hash": report.client_hash,
        }
        for report in db.session.scalars(
            _readers_reports(address).order_by(Suggestion.created_at, Suggestion.id)
        )
    ]
    waiting = [
        {
            "id": str(report.id),
            "site": site_keys.get(report.site_id),
            "received_at": _when(report.received_at),
            "body": data,
            "user_agent": report.user_agent,
            "client_hash": report.client_hash,
        }
        for report, data in _readers_waiting_reports(address)
    ]
    mails = [
        {
            "id": message.id,
            "to": message.to_address,
            "subject": message.subject,
            "status": message.status.value,
            "written_at": _when(message.created_at),
            "sent_at": _when(message.sent_at),
            "text": message.text_body,
        }
        for message in _readers_mail(address)
    ]
    return {"email": address, "reports": reports, "waiting_reports": waiting, "mails": mails}

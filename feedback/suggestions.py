"""Operations on readers' suggestions: accepting, filing, grouping duplicates.

A report arrives in two steps. ``accept_report`` (the API request) checks everything
that needs no stored data besides the site (the article URL on the site's origins among
it), then stores the body with one INSERT and answers; ``file_report`` (the worker,
moments later) does the rest in one transaction: the text the reader saw, the duplicate
group, the suggestion and its notices. What a reader sends is a claim: it anchors that
reader's report and never becomes what the article reads.
"""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from feedback import anchoring, background, fetching, grouping, revisions, sites, workflow
from feedback.errors import Conflict, Forbidden, Invalid, NotFound
from feedback.extensions import db
from feedback.mail import instant
from feedback.models import (
    IncomingReport,
    Site,
    Suggestion,
    SuggestionStatus,
    utcnow,
)
from feedback.models.core import OPEN_STATUSES
from feedback.schemas import SuggestionIn
from feedback.sites import SiteKey


@dataclass(frozen=True)
class ClientInfo:
    """What the service knows of the sender, besides the body."""

    origin: str | None
    user_agent: str | None
    client_hash: str | None


def request_digest(body: dict) -> str:
    """A stable fingerprint of a request body, to tell a replay from a conflicting reuse."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def find_site(public_key: str) -> SiteKey:
    """The site by its public key, from the per-process directory (no query: it is the
    first thing a flood of made-up keys meets)."""
    site = sites.site_key(public_key)
    if site is None:
        raise NotFound(
            "No site has this key.", {"site": ["Unknown site key."]}, {"site": "unknown_site"}
        )
    return site


def check_origin(site: SiteKey, origin: str | None) -> None:
    """A browser's report must come from one of the site's origins (a server-side client
    sends no Origin)."""
    if origin is not None and not site.allows_origin(origin):
        raise Forbidden(f"Origin {origin} may not send reports for this site.")


def _anchor_quote(text: str, quote: dict) -> anchoring.Quote:
    exact = anchoring.normalise(quote["exact"], trim=False)
    if not exact.strip():
        raise Invalid.field("quote.exact", "Must not be blank.", "blank")
    found = anchoring.locate_quote(
        text,
        exact,
        anchoring.normalise(quote["prefix"], trim=False),
        anchoring.normalise(quote["suffix"], trim=False),
        hint=quote["start"],
    )
    if found is None:
        raise Invalid.field("quote.exact", "Not found in the article text.", "quote_not_found")
    return anchoring.quote_at(text, *found)


@dataclass(frozen=True)
class PreparedReport:
    """A report's fields as they are stored: the text normalised, the quote anchored in it."""

    text: str
    quote: anchoring.Quote | None
    replacement: str | None
    comment: str | None
    reporter_name: str | None
    reporter_email: str | None
    reporter_notify: bool
    honeypot: bool  # the field people leave empty was filled: stored as spam


def check_article_url(site: SiteKey | Site, url: str) -> None:
    """Refuse an article URL off the site's allowed origins: what a reader sends is a
    claim, and a report may only be about the site's own pages."""
    if not site.allows_article_url(url):
        raise Invalid.field(
            "article.url",
            "Not on the site's allowed origins; the site's owner must list every origin"
            " its article URLs use.",
            "off_origins",
        )


def prepare_report(data: dict) -> PreparedReport:
    """Check and normalise a validated body (SuggestionIn); raise Invalid on what no
    schema can tell: a hash that does not match, blank text, a quote not in the text."""
    article_in = data["article"]
    if article_in["sha256"] and article_in["sha256"].lower() != anchoring.text_sha256(
        article_in["text"]
    ):
        raise Invalid.field(
            "article.sha256", "Does not match the SHA-256 of article.text.", "hash_mismatch"
        )
    text = anchoring.normalise(article_in["text"])
    if not text:
        raise Invalid.field("article.text", "Must not be blank.", "blank")
    replacement = data["replacement"]
    reporter = data["reporter"] or {}
    return PreparedReport(
        text=text,
        quote=_anchor_quote(text, data["quote"]) if data["quote"] else None,
        replacement=None if replacement is None else anchoring.normalise(replacement, trim=False),
        comment=(data["comment"] or "").strip() or None,
        reporter_name=(reporter.get("name") or "").strip() or None,
        reporter_email=reporter.get("email") or None,
        reporter_notify=bool(reporter.get("notify")),
        honeypot=bool(data["website"].strip()),
    )


@dataclass(frozen=True)
class Acceptance:
    """The API's answer to a report: what was stored and how far it got."""

    report_id: uuid.UUID
    created: bool  # False for a replay of a report already accepted
    received_at: datetime
    prepared: PreparedReport
    filed: bool  # already a Suggestion (a replay after filing, or an inline task queue)


@functools.cache
def _store_incoming(dialect: str):
    """INSERT … ON CONFLICT (id) DO NOTHING RETURNING id, for the database; built once,
    since building it costs more than running it."""
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(IncomingReport)
    return insert.on_conflict_do_nothing(index_elements=["id"]).returning(IncomingReport.id)


def accept_report(
    site: SiteKey, data: dict, raw_body: dict, body_text: str, client: ClientInfo
) -> Acceptance:
    """Check a reader's report (validated ``data``; ``raw_body`` as parsed and
    ``body_text`` as sent) and store it once for the worker to file. Commits.

    Replaying the same body with the same id returns the first acceptance; the same id
    with another body raises Conflict.
    """
    check_origin(site, client.origin)
    check_article_url(site, data["article"]["url"])
    prepared = prepare_report(data)
    digest = request_digest(raw_body)
    received_at = utcnow()
    inserted = db.session.execute(
        _store_incoming(db.session.get_bind().dialect.name),
        {
            "id": data["id"],
            "site_id": site.id,
            "body": body_text,
            "request_digest": digest,
            "user_agent": (client.user_agent or "")[:500] or None,
            "client_hash": client.client_hash,
            "received_at": received_at,
            "attempts": 0,
        },
    ).scalar()
    if inserted is None:
        db.session.rollback()
        existing = db.session.get(IncomingReport, data["id"])
        if existing is None or existing.request_digest != digest:
            raise Conflict(
                "This id was already used for a different report.",
                {"id": ["Already used for a different report; make a new id."]},
            )
        filed = existing.filed_at is not None
        return Acceptance(data["id"], False, existing.received_at, prepared, filed)
    db.session.commit()
    filed = background.file_report_soon(data["id"])
    return Acceptance(data["id"], True, received_at, prepared, filed)


def _claim_incoming(report_id: uuid.UUID) -> IncomingReport | None:
    """The report, locked until the commit, if it still waits and no one else files it."""
    return db.session.scalar(
        select(IncomingReport)
        .where(IncomingReport.id == report_id, IncomingReport.filed_at.is_(None))
        .with_for_update(skip_locked=True)
    )


def file_report(report_id: uuid.UUID) -> Suggestion | None:
    """File an accepted report as a Suggestion: upsert the article's revision, put it in
    the open group of the same mistake (feedback.grouping), queue the notices, drop the
    stored body. Commits.

    Returns None when there is nothing to do: filed already, or being filed by another
    worker right now.
    """
    incoming = _claim_incoming(report_id)
    if incoming is None:
        db.session.rollback()
        return None
    site = db.session.get(Site, incoming.site_id)
    data = SuggestionIn().load(json.loads(incoming.body))
    # Checked again: the site's origins may have changed while the report waited.
    check_article_url(site, data["article"]["url"])
    prepared = prepare_report(data)
    # The text this reader saw: it anchors this report only (see revisions).
    stored = revisions.record_reader_text(
        site, data["article"]["url"], data["article"]["title"].strip(), prepared.text
    )
    revision = stored.revision
    quote = prepared.quote
    match = grouping.GroupMatch(None, None)
    if quote is not None and not prepared.honeypot:
        grouping.lock_article(revision.article_id)
        match = grouping.find_group(revision, quote, prepared.replacement)
    duplicate_of = match.head

    suggestion = Suggestion(
        id=report_id,
        site_id=site.id,
        article_id=revision.article_id,
        revision_id=revision.id,
        kind=data["kind"],
        exact=quote.exact if quote else None,
        prefix=quote.prefix if quote else None,
        suffix=quote.suffix if quote else None,
        start=quote.start if quote else None,
        end=quote.end if quote else None,
        replacement=prepared.replacement,
        comment=prepared.comment,
        reporter_name=prepared.reporter_name,
        reporter_email=prepared.reporter_email,
        reporter_notify=prepared.reporter_notify,
        status=SuggestionStatus.SPAM if prepared.honeypot else SuggestionStatus.NEW,
        honeypot=prepared.honeypot,
        duplicate_of_id=duplicate_of.id if duplicate_of else None,
        possible_duplicate_of_id=match.possible.id if match.possible else None,
        user_agent=incoming.user_agent,
        client_hash=incoming.client_hash,
        request_digest=incoming.request_digest,
        created_at=incoming.received_at,
    )
    db.session.add(suggestion)
    if duplicate_of is not None:
        workflow.count_new_duplicate(duplicate_of.id)
        if duplicate_of.status != suggestion.status:
            # It joins a group an editor accepted already: the group moves as one.
            db.session.flush()
            workflow.move_status(suggestion, duplicate_of.status, None, "joined its group")
    # Instant notices, once per report group: not for a duplicate, not for spam.
    outbox_ids = [] if prepared.honeypot or duplicate_of else instant.queue_new_report(suggestion)
    incoming.body = None
    incoming.filed_at = utcnow()
    db.session.commit()
    background.send_mail_soon(outbox_ids)
    # The reader's text is not the site's current one: where the site has said what the
    # article reads, the report is placed there (its fix may be made already).
    if not stored.current:
        revisions.reanchor_soon(suggestion.article_id)
    if suggestion.status in OPEN_STATUSES:
        # The article's page is read again on a schedule, and soon when this reader saw
        # a text the service has not (the site may have changed it).
        fetching.after_report_filed(suggestion.article_id, new_text=stored.created)
    return suggestion


def file_report_noting_failure(report_id: uuid.UUID) -> Suggestion | None:
    """file_report, but a failure is written on the waiting report (attempts, last
    error) for the sweep and for people before it is raised again."""
    try:
        return file_report(report_id)
    except Exception as error:
        db.session.rollback()
        incoming = db.session.get(IncomingReport, report_id)
        if incoming is not None and incoming.filed_at is None:
            incoming.attempts += 1
            incoming.last_error = f"{type(error).__name__}: {error}"[:2000]
            db.session.commit()
        raise


def file_waiting_reports() -> int:
    """File the reports still waiting (their task was lost, or failed): the worker's sweep.
    A report that failed FILING_MAX_ATTEMPTS times is left for people, with its error."""
    config = current_app.config
    waiting = db.session.scalars(
        select(IncomingReport.id)
        .where(
            IncomingReport.filed_at.is_(None),
            IncomingReport.attempts < config["FILING_MAX_ATTEMPTS"],
        )
        .order_by(IncomingReport.received_at)
        .limit(config["FILING_SWEEP_BATCH"])
    ).all()
    db.session.rollback()
    filed = 0
    for report_id in waiting:
        try:
            filed += file_report_noting_failure(report_id) is not None
        except Exception:
            current_app.logger.exception("could not file report %s; the sweep retries", report_id)
    return filed

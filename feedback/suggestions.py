"""Operations on readers' suggestions: submitting, grouping duplicates."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from feedback import anchoring, notifications, revisions, tasks, workflow
from feedback.errors import Conflict, Forbidden, Invalid, NotFound
from feedback.extensions import db
from feedback.models import Article, ArticleRevision, Site, Suggestion, SuggestionStatus
from feedback.models.core import OPEN_STATUSES

# Called before the commit of every status change, as (suggestion, old_status, *details):
# feedback.revisions passes (new_status, note). Outbox writes happen here, in the same
# transaction as the change; the reader's notice is one of them.
status_change_listeners: list[Callable[..., None]] = [notifications.queue_reader_notice]


def notify_status_changed(suggestion: Suggestion, old_status: SuggestionStatus, *details) -> None:
    """Tell every status-change listener; call before committing the change."""
    for listener in status_change_listeners:
        listener(suggestion, old_status, *details)


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


def find_site(public_key: str) -> Site:
    site = db.session.scalar(select(Site).where(Site.public_key == public_key))
    if site is None:
        raise NotFound("No site has this key.", {"site": ["Unknown site key."]})
    return site


def _get_or_create(model, lookup: dict, defaults: dict):
    """Select a row, or insert it; a concurrent insert of the same row is tolerated."""
    row = db.session.scalar(select(model).filter_by(**lookup))
    if row is not None:
        return row
    try:
        with db.session.begin_nested():
            row = model(**lookup, **defaults)
            db.session.add(row)
    except IntegrityError:
        row = db.session.scalar(select(model).filter_by(**lookup))
        if row is None:
            raise
    return row


@dataclass(frozen=True)
class StoredText:
    revision: ArticleRevision
    created: bool  # False when the article already had this text
    current: bool  # whether it is the article's current revision (a stale page's is not)


def record_revision(
    site: Site, url: str, title: str, text: str, *, published: bool = False
) -> StoredText:
    """Upsert the article and the revision holding this (normalised) text.

    A text never seen before becomes the article's current revision. A known text
    becomes current again only when ``published`` (the site itself says the article
    reads so now, as when a CMS puts back an older text); a reader with a stale copy
    of the page does not turn the article back.
    """
    article = _get_or_create(Article, {"site_id": site.id, "url": url}, {"title": title})
    if title and article.title != title:
        article.title = title
    digest = anchoring.text_sha256(text)
    for _attempt in range(3):
        revision = db.session.scalar(
            select(ArticleRevision).filter_by(article_id=article.id, sha256=digest)
        )
        if revision is not None:
            if published:
                article.current_revision_number = revision.number
            current = revision.number == article.current_revision_number
            return StoredText(revision, created=False, current=current)
        number = 1 + (
            db.session.scalar(
                select(func.max(ArticleRevision.number)).where(
                    ArticleRevision.article_id == article.id
                )
            )
            or 0
        )
        try:
            with db.session.begin_nested():
                revision = ArticleRevision(
                    article_id=article.id, number=number, text=text, sha256=digest
                )
                db.session.add(revision)
            article.current_revision_number = number
            return StoredText(revision, created=True, current=True)
        except IntegrityError:
            continue  # another request stored a revision at the same moment; look again
    raise Conflict("The article changed too often at once; try again.")


def _anchor_quote(text: str, quote: dict) -> anchoring.Quote:
    exact = anchoring.normalise(quote["exact"], trim=False)
    if not exact.strip():
        raise Invalid.field("quote.exact", "Must not be blank.")
    found = anchoring.locate_quote(
        text,
        exact,
        anchoring.normalise(quote["prefix"], trim=False),
        anchoring.normalise(quote["suffix"], trim=False),
        hint=quote["start"],
    )
    if found is None:
        raise Invalid.field("quote.exact", "Not found in the article text.")
    return anchoring.quote_at(text, *found)


def _open_report_on_same_span(
    suggestion_id: uuid.UUID, article_id: int, quote: anchoring.Quote, replacement: str | None
) -> Suggestion | None:
    """The first open report on an overlapping span with the same quote and fix."""
    return db.session.scalar(
        select(Suggestion)
        .where(
            # Not the report itself, stored a moment ago by a racing retry.
            Suggestion.id != suggestion_id,
            Suggestion.article_id == article_id,
            Suggestion.duplicate_of_id.is_(None),
            Suggestion.status.in_(OPEN_STATUSES),
            Suggestion.exact == quote.exact,
            Suggestion.start < quote.end,
            Suggestion.end > quote.start,
            (Suggestion.replacement == replacement)
            if replacement is not None
            else Suggestion.replacement.is_(None),
        )
        .order_by(Suggestion.created_at, Suggestion.id)
        .limit(1)
    )


def _lock_span(article_id: int, exact: str) -> None:
    """Until the commit, let no other report of the same words of the article look for
    its group, so two readers reporting it at once form one group, not two. SQLite
    writers take turns already (BEGIN IMMEDIATE); PostgreSQL takes a transaction-level
    advisory lock on the article and the words, so other spans are not held up."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(func.pg_advisory_xact_lock(article_id, func.hashtext(exact))))


def _existing_for_replay(suggestion_id: uuid.UUID, digest: str) -> Suggestion | None:
    existing = db.session.get(Suggestion, suggestion_id)
    if existing is not None and existing.request_digest != digest:
        raise Conflict(
            "This id was already used for a different report.",
            {"id": ["Already used for a different report; make a new id."]},
        )
    return existing


def submit_suggestion(
    site: Site, data: dict, raw_body: dict, client: ClientInfo
) -> tuple[Suggestion, bool]:
    """Store a reader's report (validated ``data``, for ``site``) once; return it and
    whether it is new.

    Replaying the same body with the same id returns the stored report; the same
    id with another body raises Conflict. Commits.
    """
    if client.origin is not None and not site.allows_origin(client.origin):
        raise Forbidden(f"Origin {client.origin} may not send reports for this site.")

    digest = request_digest(raw_body)
    existing = _existing_for_replay(data["id"], digest)
    if existing is not None:
        return existing, False

    article_in = data["article"]
    if article_in["sha256"] and article_in["sha256"].lower() != anchoring.text_sha256(
        article_in["text"]
    ):
        raise Invalid.field("article.sha256", "Does not match the SHA-256 of article.text.")
    text = anchoring.normalise(article_in["text"])
    if not text:
        raise Invalid.field("article.text", "Must not be blank.")
    quote = _anchor_quote(text, data["quote"]) if data["quote"] else None
    replacement = data["replacement"]
    if replacement is not None:
        replacement = anchoring.normalise(replacement, trim=False)
    reporter = data["reporter"] or {}
    honeypot = bool(data["website"].strip())

    stored = record_revision(site, article_in["url"], article_in["title"].strip(), text)
    revision = stored.revision
    duplicate_of = None
    if quote is not None and not honeypot:
        _lock_span(revision.article_id, quote.exact)
        duplicate_of = _open_report_on_same_span(
            data["id"], revision.article_id, quote, replacement
        )

    suggestion = Suggestion(
        id=data["id"],
        site_id=site.id,
        article_id=revision.article_id,
        revision_id=revision.id,
        kind=data["kind"],
        exact=quote.exact if quote else None,
        prefix=quote.prefix if quote else None,
        suffix=quote.suffix if quote else None,
        start=quote.start if quote else None,
        end=quote.end if quote else None,
        replacement=replacement,
        comment=(data["comment"] or "").strip() or None,
        reporter_name=(reporter.get("name") or "").strip() or None,
        reporter_email=reporter.get("email") or None,
        reporter_notify=bool(reporter.get("notify")),
        status=SuggestionStatus.SPAM if honeypot else SuggestionStatus.NEW,
        honeypot=honeypot,
        duplicate_of_id=duplicate_of.id if duplicate_of else None,
        user_agent=(client.user_agent or "")[:500] or None,
        client_hash=client.client_hash,
        request_digest=digest,
    )
    try:
        with db.session.begin_nested():
            db.session.add(suggestion)
    except IntegrityError:
        # The same id arrived twice at once (a retry racing the original).
        db.session.rollback()
        existing = _existing_for_replay(data["id"], digest)
        if existing is None:
            raise
        return existing, False
    if duplicate_of is not None:
        workflow.count_new_duplicate(duplicate_of.id)
    # Instant notices, once per report group: not for a duplicate, not for spam.
    outbox_ids = [] if honeypot or duplicate_of else notifications.queue_new_report(suggestion)
    db.session.commit()
    tasks.enqueue_outbox(outbox_ids)
    # A new text: the article's open reports follow it there; a stale page's text: this
    # report is placed in the current one. Otherwise nothing moved (the common case).
    if stored.created or not stored.current:
        revisions.reanchor_soon(suggestion.article_id)
    return suggestion, True

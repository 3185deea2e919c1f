"""Operations on new article revisions: storing them, re-anchoring the open reports of
an article, and noticing when a revision carries a reader's fix."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from feedback import anchoring, background, workflow
from feedback.errors import Conflict, Invalid
from feedback.extensions import db
from feedback.models import Article, ArticleRevision, Site, Suggestion, SuggestionStatus
from feedback.models.core import OPEN_STATUSES, AnchorState


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


def fix_note(revision: ArticleRevision) -> str:
    """What the audit trail says when a revision carried the fix."""
    return f"fixed in revision {revision.number}"


def store_article_text(site: Site, url: str, title: str, text: str) -> StoredText:
    """Store ``text`` (normalised here) as what the article reads now: a new revision,
    or a known one made current again; does not commit."""
    normalised = anchoring.normalise(text)
    if not normalised:
        raise Invalid.field("text", "Must not be blank.")
    return record_revision(site, url, title.strip(), normalised, published=True)


def current_revision(article_id: int) -> ArticleRevision | None:
    """The article's current revision: the one open reports are placed in."""
    return db.session.scalar(
        select(ArticleRevision)
        .join(Article, Article.id == ArticleRevision.article_id)
        .where(
            ArticleRevision.article_id == article_id,
            ArticleRevision.number == Article.current_revision_number,
        )
    )


def _open_quoted_reports(article_id: int):
    return select(Suggestion).where(
        Suggestion.article_id == article_id,
        Suggestion.status.in_(OPEN_STATUSES),
        Suggestion.exact.is_not(None),
    )


def needs_reanchoring(article_id: int) -> bool:
    """Whether an open report of the article was last placed in an older revision."""
    newest = current_revision(article_id)
    if newest is None:
        return False
    behind = _open_quoted_reports(article_id).where(
        func.coalesce(Suggestion.anchor_revision_id, Suggestion.revision_id) != newest.id
    )
    return bool(db.session.scalar(select(behind.exists())))


def reanchor_soon(article_id: int) -> bool:
    """After a commit: queue the re-anchoring of the article's open reports when one
    stands in an older revision; return whether it was queued."""
    needed = needs_reanchoring(article_id)
    # End this session's read before the task runs: an in-process queue (tests, the
    # demo) runs it at once on another session, which SQLite would keep waiting.
    db.session.commit()
    if needed:
        # Stored is stored: if the queue is down, the periodic sweep (articles_behind)
        # catches up.
        background.reanchor_soon(article_id)
    return needed


def articles_behind(limit: int = 100) -> list[int]:
    """Articles with an open report placed in another revision than their current one
    (a queue that was down, a worker that died): for the periodic sweep."""
    placed_in = func.coalesce(Suggestion.anchor_revision_id, Suggestion.revision_id)
    query = (
        select(Suggestion.article_id)
        .join(ArticleRevision, ArticleRevision.id == placed_in)
        .join(Article, Article.id == Suggestion.article_id)
        .where(
            Suggestion.status.in_(OPEN_STATUSES),
            Suggestion.exact.is_not(None),
            ArticleRevision.number != Article.current_revision_number,
        )
        .distinct()
        .order_by(Suggestion.article_id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def current_anchor(suggestion: Suggestion) -> tuple[ArticleRevision, int | None, int | None]:
    """The revision a report was last placed in and its span there (None while orphaned)."""
    if suggestion.anchor_revision_id is not None:
        return suggestion.anchor_revision, suggestion.anchor_start, suggestion.anchor_end
    return suggestion.revision, suggestion.start, suggestion.end


def current_wording(suggestion: Suggestion) -> str | None:
    """The words now standing at the report's span (None while orphaned)."""
    revision, start, end = current_anchor(suggestion)
    if start is None or end is None:
        return None
    return revision.text[start:end]


def article_link(suggestion: Suggestion) -> str:
    """The live article at the report's words as they stand now (Suggestion.article_link)."""
    return suggestion.article_link()


def mark_fixed_by_revision(suggestion: Suggestion, revision: ArticleRevision) -> None:
    """Move a report to fixed because ``revision`` carries its fix; does not commit.

    The status-change listeners (the reader's notice among them) hear of it with the
    audit note ``fix_note(revision)``.
    """
    workflow.move_status(
        suggestion, SuggestionStatus.FIXED, None, fix_note(revision), fixed_in=revision
    )


@dataclass(frozen=True)
class ReanchorSummary:
    """How many open reports ended up in each state (see anchoring.AnchorOutcome)."""

    revision_number: int | None
    outcomes: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())


def reanchor_article(article_id: int) -> ReanchorSummary:
    """Carry every open report of the article into its newest revision; commits.

    Safe to run again or at the same time as another run: each report is placed
    from wherever it last stood, and on PostgreSQL the rows are locked while placed.
    """
    newest = current_revision(article_id)
    if newest is None:
        return ReanchorSummary(None, {})
    query = _open_quoted_reports(article_id).where(
        func.coalesce(Suggestion.anchor_revision_id, Suggestion.revision_id) != newest.id
    )
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Suggestion)
    reports = db.session.scalars(query.order_by(Suggestion.created_at, Suggestion.id)).all()

    texts: dict[int, str] = {}
    maps: dict[int, anchoring.PositionMap] = {}
    outcomes: Counter[str] = Counter()

    def text_of(revision_id: int) -> str:
        if revision_id not in texts:
            texts[revision_id] = db.session.get(ArticleRevision, revision_id).text
        return texts[revision_id]

    def map_from(revision_id: int) -> anchoring.PositionMap:
        if revision_id not in maps:
            maps[revision_id] = anchoring.PositionMap(text_of(revision_id), newest.text)
        return maps[revision_id]

    for report in reports:
        outcome = _reanchor_report(report, newest, text_of, map_from)
        outcomes[outcome] += 1
    db.session.commit()
    if outcomes[anchoring.AnchorOutcome.FIXED]:
        background.send_mail_soon()
    current_app.logger.info(
        "re-anchored %d reports of article %s in revision %s: %s",
        len(reports),
        article_id,
        newest.number,
        dict(outcomes),
    )
    return ReanchorSummary(newest.number, dict(outcomes))


def _reanchor_report(report: Suggestion, newest: ArticleRevision, text_of, map_from) -> str:
    if report.anchor_revision_id is not None and report.anchor_start is not None:
        base_id, start, end = report.anchor_revision_id, report.anchor_start, report.anchor_end
    else:
        # Never moved, or orphaned: look again for the words the reader saw.
        base_id, start, end = report.revision_id, report.start, report.end
    quote = anchoring.quote_at(text_of(base_id), start, end)
    found = anchoring.reanchor(newest.text, quote, report.replacement, map_from(base_id)(start))

    report.anchor_revision_id = newest.id
    if found.outcome is anchoring.AnchorOutcome.ORPHANED:
        report.anchor_state = AnchorState.ORPHANED
        report.anchor_start = report.anchor_end = None
        return found.outcome.value
    report.anchor_state = AnchorState.ANCHORED
    report.anchor_start, report.anchor_end = found.start, found.end
    if found.outcome is anchoring.AnchorOutcome.FIXED:
        mark_fixed_by_revision(report, newest)
    else:
        # Against the reader's words, not the last revision's: a revert clears the flag.
        wording = newest.text[found.start : found.end]
        report.text_changed = not anchoring.same_wording(wording, report.exact)
    return found.outcome.value

"""Operations on article texts: keeping the text each reader saw, storing the texts the
site vouches for, re-anchoring the open reports of an article in its current verified
revision, and noticing when that revision carries a reader's fix.

Whom to believe: a text a reader sends is a claim that anchors only that reader's
report. Only verified texts (the site's CMS, or its page read by the service) move
reports, detect fixes and feed the corrections log and reader notices.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from feedback import anchoring, background, workflow
from feedback.errors import Conflict, Invalid
from feedback.extensions import db
from feedback.models import (
    Article,
    ArticleRevision,
    AuditAction,
    RevisionSource,
    Site,
    Suggestion,
    SuggestionStatus,
)
from feedback.models.core import OPEN_STATUSES, VERIFIED_SOURCES, AnchorState


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
    current: bool  # whether it is the article's current verified revision


def _find_or_add_revision(
    article: Article, text: str, source: RevisionSource, title: str
) -> tuple[ArticleRevision, bool]:
    """The article's revision holding this text, or a new one numbered next; whether new."""
    digest = anchoring.text_sha256(text)
    for _attempt in range(3):
        revision = db.session.scalar(
            select(ArticleRevision).filter_by(article_id=article.id, sha256=digest)
        )
        if revision is not None:
            return revision, False
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
                    article_id=article.id,
                    number=number,
                    text=text,
                    sha256=digest,
                    source=source,
                    title=title,
                )
                db.session.add(revision)
            return revision, True
        except IntegrityError:
            continue  # another request stored a revision at the same moment; look again
    raise Conflict("The article changed too often at once; try again.")


def _article(site: Site, url: str) -> Article:
    return _get_or_create(Article, {"site_id": site.id, "url": url}, {"title": ""})


def record_reader_text(site: Site, url: str, title: str, text: str) -> StoredText:
    """Keep the (normalised) text a reader saw, to anchor that reader's report; does not
    commit. A claim: it never becomes the article's current revision. A text the article
    already has (verified or not) is shared. The reader's title labels the article for
    editors only until a verified text gives one."""
    article = _article(site, url)
    if not article.title and article.current_revision_number is None:
        article.title = title
    revision, created = _find_or_add_revision(article, text, RevisionSource.READER, title)
    current = revision.number == article.current_revision_number and revision.verified
    return StoredText(revision, created=created, current=current)


def record_verified_text(
    site: Site, url: str, title: str, text: str, source: RevisionSource
) -> StoredText:
    """Store ``text`` (normalised here) as what the article reads now, as the site says
    (its CMS, or its page read by the service): a new revision, or a known one made current
    again (a CMS putting back an older text). Does not commit; ``reanchor_soon`` after
    the commit moves the open reports. A known text that was a reader's claim is now
    vouched for by the site and becomes verified."""
    if not source.verified:
        raise ValueError(f"{source} is not a verified source")
    normalised = anchoring.normalise(text)
    if not normalised:
        raise Invalid.field("text", "Must not be blank.")
    title = title.strip()
    article = _article(site, url)
    had_verified = current_verified_revision(article.id) is not None
    revision, created = _find_or_add_revision(article, normalised, source, title)
    if not revision.verified:
        revision.source = source
        revision.title = title
    article.current_revision_number = revision.number
    # Editors see the site's own title from now on, never a reader's.
    article.title = title or (article.title if had_verified else "")
    return StoredText(revision, created=created, current=True)


def fix_note(revision: ArticleRevision) -> str:
    """What the audit trail says when a revision carried the fix."""
    return f"fixed in revision {revision.number}"


def current_verified_revision(article_id: int) -> ArticleRevision | None:
    """The article's current verified revision (from its CMS or its page): the one text
    open reports are placed in, fixes are found in and the public log quotes. None while
    the site has said nothing; then each report stands in the text its reader saw."""
    return db.session.scalar(
        select(ArticleRevision)
        .join(Article, Article.id == ArticleRevision.article_id)
        .where(
            ArticleRevision.article_id == article_id,
            ArticleRevision.number == Article.current_revision_number,
            ArticleRevision.source.in_(VERIFIED_SOURCES),
        )
    )


def _open_quoted_reports(article_id: int):
    return select(Suggestion).where(
        Suggestion.article_id == article_id,
        Suggestion.status.in_(OPEN_STATUSES),
        Suggestion.exact.is_not(None),
    )


def needs_reanchoring(article_id: int) -> bool:
    """Whether an open report of the article stands in another text than its current
    verified revision."""
    newest = current_verified_revision(article_id)
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
    """Articles with an open report placed in another revision than their current verified
    one (a queue that was down, a worker that died): for the periodic sweep. Only the site
    sets a current revision, so articles with none are never behind."""
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


def mark_fixed_by_revision(suggestion: Suggestion, revision: ArticleRevision) -> int:
    """Move the report's whole group (its open reports) to fixed because ``revision``
    carries the fix; returns how many moved; does not commit.

    Each report moves through the transition table, and the status-change listeners
    (each reader's notice among them) hear of it with the audit note ``fix_note(revision)``.
    """
    if not revision.verified:
        raise ValueError("only a verified text can carry a fix")  # a claim never fixes
    return workflow.move_group(
        workflow.group_head(suggestion),
        SuggestionStatus.FIXED,
        None,
        fix_note(revision),
        fixed_in=revision,
        open_only=True,
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
    """Carry every open report of the article into its current verified revision; commits.

    Safe to run again or at the same time as another run: each report is placed
    from wherever it last stood, and on PostgreSQL the rows are locked while placed.
    """
    newest = current_verified_revision(article_id)
    if newest is None:
        return ReanchorSummary(None, {})
    query = _open_quoted_reports(article_id).where(
        func.coalesce(Suggestion.anchor_revision_id, Suggestion.revision_id) != newest.id
    )
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Suggestion)
    reports = db.session.scalars(query.order_by(Suggestion.created_at, Suggestion.id)).all()

    verified_ids = set(
        db.session.scalars(
            select(ArticleRevision.id).where(
                ArticleRevision.article_id == article_id,
                ArticleRevision.source.in_(VERIFIED_SOURCES),
            )
        )
    )
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

    fixed = []
    for report in reports:
        outcome = _reanchor_report(report, newest, verified_ids, text_of, map_from)
        outcomes[outcome] += 1
        if outcome == anchoring.AnchorOutcome.FIXED:
            fixed.append(report)
    # Every report is placed first, then each group with a fixed report moves as one.
    for report in fixed:
        if report.is_open:
            mark_fixed_by_revision(report, newest)
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


def _reanchor_report(
    report: Suggestion, newest: ArticleRevision, verified_ids: set[int], text_of, map_from
) -> str:
    if report.anchor_revision_id in verified_ids and report.anchor_start is not None:
        base_id, start, end = report.anchor_revision_id, report.anchor_start, report.anchor_end
    else:
        # Never moved, orphaned, or placed by a claim before sources were kept: look
        # again for the words the reader saw.
        base_id, start, end = report.revision_id, report.start, report.end
    quote = anchoring.quote_at(text_of(base_id), start, end)
    found = anchoring.reanchor(newest.text, quote, report.replacement, map_from(base_id)(start))

    report.anchor_revision_id = newest.id
    if found.outcome is anchoring.AnchorOutcome.ORPHANED:
        if report.anchor_state != AnchorState.ORPHANED:
            detail = f"text gone in revision {newest.number}"
            workflow.record(report, None, AuditAction.TEXT, detail)
        report.anchor_state = AnchorState.ORPHANED
        report.anchor_start = report.anchor_end = None
        return found.outcome.value
    report.anchor_state = AnchorState.ANCHORED
    report.anchor_start, report.anchor_end = found.start, found.end
    if found.outcome is anchoring.AnchorOutcome.FIXED:
        report.text_changed = False
    else:
        # Against the reader's words, not the last revision's: a revert clears the flag.
        wording = newest.text[found.start : found.end]
        changed = not anchoring.same_wording(wording, report.exact)
        if changed and not report.text_changed:
            detail = f"text changed in revision {newest.number}"
            workflow.record(report, None, AuditAction.TEXT, detail)
        report.text_changed = changed
    return found.outcome.value

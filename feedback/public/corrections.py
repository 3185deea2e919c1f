"""The public corrections log of a site (opt-in): an HTML page and an Atom feed.

Each entry names the article, the old and the new wording and the date of the fix;
nothing about the reader who reported it (not even the report's id, which would open
the reader's comment through the API).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Blueprint, abort, render_template, url_for
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from feedback import revisions
from feedback.anchoring import same_wording
from feedback.extensions import db
from feedback.models import ArticleRevision, Site, Suggestion, SuggestionStatus
from feedback.models.core import VERIFIED_SOURCES
from feedback.text import xml_safe

blp = Blueprint("corrections", __name__, url_prefix="/sites/<public_key>")

PAGE_ENTRIES = 200
FEED_ENTRIES = 50
# Characters of article text shown either side of a correction.
SHOWN_CONTEXT = 40


@dataclass(frozen=True)
class Correction:
    """One published correction."""

    entry_id: str
    article_url: str
    article_link: str  # the article at the corrected words ("open in the article")
    article_title: str
    before: str  # article text just before the corrected words
    old: str
    new: str
    after: str
    fixed_at: datetime


def _in_fixing_revision(group: list[Suggestion]) -> tuple[Suggestion, int, int] | None:
    """The group's report that shows the fix in the revision that carried it, with its
    span there: one whose words there read as its fix, else any placed there."""
    placed = [
        report
        for report in group
        if report.fixed_revision is not None
        and report.anchor_revision_id == report.fixed_revision_id
        and report.anchor_start is not None
    ]
    for report in placed:
        now = report.fixed_revision.text[report.anchor_start : report.anchor_end]
        if report.replacement is not None and same_wording(now, report.replacement):
            return report, report.anchor_start, report.anchor_end
    if placed:
        return placed[0], placed[0].anchor_start, placed[0].anchor_end
    return None


def correction_of(head: Suggestion) -> tuple[str, str, str, str] | None:
    """(before, old, new, after) of a fixed group: the new words and the text around them
    from the revision that carried the fix; for a fix an editor marked as made, the
    reader's suggestion in the context the reader saw. None when there is nothing to show."""
    found = _in_fixing_revision([head, *head.duplicates])
    if found is not None:
        report, start, end = found
        text = report.fixed_revision.text
        before = text[max(0, start - SHOWN_CONTEXT) : start]
        return before, report.exact, text[start:end], text[end : end + SHOWN_CONTEXT]
    if head.replacement is None:
        return None
    before, after = (head.prefix or "")[-SHOWN_CONTEXT:], (head.suffix or "")[:SHOWN_CONTEXT]
    return before, head.exact, head.replacement, after


def published_corrections(site: Site, limit: int) -> list[Correction]:
    """The site's fixed reports of a span, newest fix first: one entry per group (a fix
    moves its whole group), shown by the group's first report. Published: the fixes an
    editor marked and those a verified text (CMS or page) showed."""
    fixed_on = func.coalesce(Suggestion.fixed_at, Suggestion.updated_at)
    reports = db.session.scalars(
        select(Suggestion)
        .outerjoin(ArticleRevision, ArticleRevision.id == Suggestion.fixed_revision_id)
        .where(
            Suggestion.site_id == site.id,
            Suggestion.status == SuggestionStatus.FIXED,
            # Made by an editor, or found in a text from the site; a fix found in a text
            # readers sent (before sources were kept) stays fixed but is not published.
            or_(
                Suggestion.fixed_revision_id.is_(None),
                ArticleRevision.source.in_(VERIFIED_SOURCES),
            ),
            Suggestion.exact.is_not(None),
            Suggestion.duplicate_of_id.is_(None),
            Suggestion.honeypot.is_(False),
        )
        .options(
            selectinload(Suggestion.article),
            selectinload(Suggestion.fixed_revision),
            selectinload(Suggestion.duplicates).selectinload(Suggestion.fixed_revision),
        )
        .order_by(fixed_on.desc(), Suggestion.id)
        .limit(limit)
    )
    corrections = []
    for report in reports:
        shown = correction_of(report)
        if shown is None:
            continue
        before, old, new, after = shown
        corrections.append(
            Correction(
                # Stable, and not the report's own id (see the module docstring).
                entry_id=f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{site.id}/{report.id}')}",
                article_url=report.article.url,
                article_link=revisions.article_link(report),
                article_title=report.article.published_title,
                before=before,
                old=old,
                new=new,
                after=after,
                fixed_at=report.fixed_at or report.updated_at,
            )
        )
    return corrections


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _published_site(public_key: str) -> Site:
    site = db.session.scalar(select(Site).where(Site.public_key == public_key))
    if site is None or not site.corrections_public:
        abort(404)
    return site


@blp.get("/corrections")
def corrections_page(public_key: str):
    """The corrections log as a page."""
    site = _published_site(public_key)
    # What readers and editors wrote may hold control characters, which no page shows.
    return xml_safe(
        render_template(
            "public/corrections.html",
            site=site,
            corrections=published_corrections(site, PAGE_ENTRIES),
            feed_url=url_for(".corrections_feed", public_key=public_key, _external=True),
        )
    )


@blp.get("/corrections.atom")
def corrections_feed(public_key: str):
    """The corrections log as an Atom feed (RFC 4287)."""
    site = _published_site(public_key)
    corrections = published_corrections(site, FEED_ENTRIES)
    updated = max((c.fixed_at for c in corrections), default=site.created_at)
    body = render_template(
        "public/corrections.atom.xml",
        site=site,
        corrections=corrections,
        updated=rfc3339(updated),
        rfc3339=rfc3339,
        feed_url=url_for(".corrections_feed", public_key=public_key, _external=True),
        page_url=url_for(".corrections_page", public_key=public_key, _external=True),
    )
    # The template adds none of the characters XML forbids; stored text may hold them.
    return xml_safe(body), 200, {"Content-Type": "application/atom+xml; charset=utf-8"}

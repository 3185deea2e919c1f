"""Operations on reading articles' pages from their own sites: when to fetch, within
the site's budget, and adopting a plausible text as the article's verified revision.

A fetch is one way a site says what its article reads (the other is its CMS pushing the
text), so fixes are noticed on sites with no CMS integration at all. The page is read
with the snippet's rules (feedback.extraction), checked (feedback.plausibility) and,
when it is plausibly the article, stored as a verified text through the same path as a
CMS push (revisions.record_verified_text), so the open reports re-anchor and fixes are
detected.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import metadata

from flask import current_app
from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from feedback import background, extraction, plausibility, revisions
from feedback.anchoring import Quote
from feedback.extensions import db
from feedback.models import (
    Article,
    ArticleFetch,
    FetchBudget,
    FetchOutcome,
    RevisionSource,
    Site,
    Suggestion,
)
from feedback.models.core import OPEN_STATUSES
from feedback.models.types import utcnow
from feedback.safe_http import FetchError, FetchLimits, Resolver, get_page, system_resolver

# A due fetch is claimed by pushing its due time this far ahead, so two workers sweeping
# at once fetch it once; a worker that dies mid-fetch leaves it due again after this.
CLAIM_SECONDS = 300
# Budget rows older than this are dropped as new hours begin.
BUDGET_KEPT = timedelta(days=1)


@dataclass(frozen=True)
class FetchResult:
    """What one fetch of an article's page came to."""

    outcome: FetchOutcome
    detail: str
    revision_number: int | None = None


def fetch_limits() -> FetchLimits:
    """The fetch limits from the app's FETCH_* settings."""
    config = current_app.config
    user_agent = config["FETCH_USER_AGENT"] or (
        f"reader-feedback/{metadata.version('reader-feedback')}"
        + (f" (+{config['BASE_URL']})" if config["BASE_URL"] else "")
    )
    return FetchLimits(
        connect_timeout=float(config["FETCH_CONNECT_TIMEOUT"]),
        read_timeout=float(config["FETCH_READ_TIMEOUT"]),
        total_seconds=float(config["FETCH_TOTAL_SECONDS"]),
        max_bytes=int(config["FETCH_MAX_BYTES"]),
        user_agent=user_agent,
        allow_private_addresses=bool(config["FETCH_ALLOW_PRIVATE_ADDRESSES"]),
        ca_certs=config["FETCH_CA_CERTS"] or None,
    )


def fetching_on(site: Site) -> bool:
    """Whether the service may fetch this site's pages (the service's and the site's switch)."""
    return bool(current_app.config["FETCH_PAGES"]) and site.options.fetch_pages


def _insert_ignoring_duplicate(model, values: dict) -> None:
    dialect = db.session.get_bind().dialect.name
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(model)
    db.session.execute(insert.values(**values).on_conflict_do_nothing())


def take_budget(site_id: int, now: datetime | None = None) -> bool:
    """Count one fetch against the site's budget for this hour; False when it is spent.
    Commits: the count is shared by every worker through the database."""
    now = now or utcnow()
    hour = now.replace(minute=0, second=0, microsecond=0)
    _insert_ignoring_duplicate(FetchBudget, {"site_id": site_id, "hour": hour, "used": 0})
    taken = db.session.execute(
        update(FetchBudget)
        .where(
            FetchBudget.site_id == site_id,
            FetchBudget.hour == hour,
            FetchBudget.used < current_app.config["FETCH_BUDGET_PER_HOUR"],
        )
        .values(used=FetchBudget.used + 1)
    ).rowcount
    db.session.execute(
        delete(FetchBudget).where(
            FetchBudget.site_id == site_id, FetchBudget.hour < hour - BUDGET_KEPT
        )
    )
    db.session.commit()
    return taken == 1


def _schedule_row(article_id: int) -> ArticleFetch:
    _insert_ignoring_duplicate(ArticleFetch, {"article_id": article_id, "step": 0})
    return db.session.get(ArticleFetch, article_id, populate_existing=True)


def open_quotes(article_id: int) -> list[Quote]:
    """The selectors of the article's open reports, as their readers saw them."""
    rows = db.session.execute(
        select(Suggestion.exact, Suggestion.prefix, Suggestion.suffix).where(
            Suggestion.article_id == article_id,
            Suggestion.status.in_(OPEN_STATUSES),
            Suggestion.exact.is_not(None),
        )
    ).all()
    return [Quote(row.exact, row.prefix or "", row.suffix or "", 0, 0) for row in rows]


def _has_open_reports(article_id: int) -> bool:
    query = select(Suggestion.id).where(
        Suggestion.article_id == article_id, Suggestion.status.in_(OPEN_STATUSES)
    )
    return db.session.scalar(select(query.exists()))


def _minutes(step: int) -> int | None:
    schedule = current_app.config["FETCH_SCHEDULE_MINUTES"]
    return schedule[step] if 0 <= step < len(schedule) else None


def _record(
    article_id: int,
    result: FetchResult,
    *,
    restart: bool = False,
    stop: bool = False,
    retry_at: datetime | None = None,
) -> FetchResult:
    """Write the outcome and the next due time on the article's schedule; commits.

    ``restart``: the page changed, so begin the schedule again; ``stop``: no more
    fetches; ``retry_at``: try again then, same step. Otherwise move one step on, and
    stop at the schedule's end or once nothing is open."""
    row = _schedule_row(article_id)
    now = utcnow()
    row.last_attempt_at = now
    row.last_outcome = result.outcome
    row.last_detail = result.detail[:2000]
    if stop:
        row.due_at = None
    elif retry_at is not None:
        row.due_at = retry_at
    else:
        row.step = 0 if restart else row.step + 1
        minutes = _minutes(row.step)
        open_left = _has_open_reports(article_id)
        row.due_at = now + timedelta(minutes=minutes) if minutes is not None and open_left else None
    db.session.commit()
    log = current_app.logger.info if result.outcome in _USUAL else current_app.logger.warning
    log("fetch of article %s: %s: %s", article_id, result.outcome.value, result.detail)
    return result


_USUAL = frozenset({FetchOutcome.ADOPTED, FetchOutcome.UNCHANGED})


def fetch_article(article_id: int, *, resolver: Resolver = system_resolver) -> FetchResult:
    """Fetch the article's page now and adopt its text when plausible; commits.

    Paywalls, consent walls, empty shells and error pages are logged and ignored: they
    never become a revision, so they never orphan a report.
    """
    article = db.session.get(Article, article_id)
    if article is None:
        raise LookupError(f"no article {article_id}")
    site = article.site
    if not fetching_on(site):
        off = FetchResult(FetchOutcome.SKIPPED, "fetching pages is off for this site")
        return _record(article_id, off, stop=True)
    if not take_budget(site.id):
        next_hour = utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        spent = FetchResult(FetchOutcome.SKIPPED, "the site's fetch budget for this hour is spent")
        return _record(article_id, spent, retry_at=next_hour)
    url, origins = article.url, list(site.allowed_origins or [])
    quotes = open_quotes(article_id)
    current = revisions.current_verified_revision(article_id)
    previous = (current.number, current.text) if current is not None else None
    db.session.commit()  # hold no transaction open across the network

    try:
        page = get_page(url, origins, fetch_limits(), resolver)
        found = extraction.extract_article(
            page.html, page_url=page.url, article_url=url, quotes=quotes
        )
    except (FetchError, extraction.PageTooComplex) as error:
        failed = FetchResult(FetchOutcome.FAILED, str(error))
        return _record(article_id, failed)
    verdict = plausibility.judge(found.text, quotes, previous[1] if previous else None)
    if not verdict.plausible:
        ignored = FetchResult(FetchOutcome.IMPLAUSIBLE, f"{page.url}: {verdict.reason}")
        return _record(article_id, ignored)

    article = db.session.get(Article, article_id)
    current = revisions.current_verified_revision(article_id)
    stored = revisions.record_verified_text(
        article.site,
        url,
        found.title or (current.title if current else ""),
        found.text,
        RevisionSource.FETCHED,
    )
    number = stored.revision.number
    db.session.commit()
    revisions.reanchor_soon(article_id)
    changed = previous is None or previous[0] != number
    outcome = FetchOutcome.ADOPTED if changed else FetchOutcome.UNCHANGED
    what = f"revision {number}" if changed else f"still revision {number}"
    result = FetchResult(outcome, f"{what} from {page.url}: {verdict.reason}", number)
    return _record(article_id, result, restart=changed)


def after_report_filed(article_id: int, *, new_text: bool) -> None:
    """After a report is filed and committed: begin the article's fetch schedule again,
    and when the report brought a text not seen before, fetch the page soon (at most
    once per article every FETCH_MIN_INTERVAL_MINUTES). Commits."""
    config = current_app.config
    if not config["FETCH_PAGES"]:
        return
    site = db.session.scalar(
        select(Site).join(Article, Article.site_id == Site.id).where(Article.id == article_id)
    )
    if site is None or not fetching_on(site):
        db.session.rollback()  # end the read: on SQLite it would hold up other writers
        return
    now = utcnow()
    row = _schedule_row(article_id)
    first = now + timedelta(minutes=_minutes(0) or 0)
    row.step = 0
    row.due_at = min(row.due_at, first) if row.due_at else first
    db.session.commit()
    if not new_text:
        return
    # Taken with one conditional UPDATE, so reports arriving together fetch once.
    interval = timedelta(minutes=config["FETCH_MIN_INTERVAL_MINUTES"])
    reserved = db.session.execute(
        update(ArticleFetch)
        .where(
            ArticleFetch.article_id == article_id,
            or_(
                ArticleFetch.last_attempt_at.is_(None),
                ArticleFetch.last_attempt_at <= now - interval,
            ),
        )
        .values(last_attempt_at=now)
    ).rowcount
    db.session.commit()
    if reserved:
        background.fetch_page_soon(article_id)


def fetch_due_articles(limit: int = 50) -> int:
    """Fetch every article whose scheduled fetch is due (the periodic task); how many."""
    now = utcnow()
    due = db.session.execute(
        select(ArticleFetch.article_id, ArticleFetch.due_at)
        .where(ArticleFetch.due_at <= now)
        .order_by(ArticleFetch.due_at)
        .limit(limit)
    ).all()
    db.session.rollback()
    fetched = 0
    for article_id, due_at in due:
        claimed = db.session.execute(
            update(ArticleFetch)
            .where(ArticleFetch.article_id == article_id, ArticleFetch.due_at == due_at)
            .values(due_at=now + timedelta(seconds=CLAIM_SECONDS))
        ).rowcount
        db.session.commit()
        if not claimed:
            continue  # another worker took it
        try:
            fetch_article(article_id)
            fetched += 1
        except Exception:
            db.session.rollback()
            current_app.logger.exception("fetch of article %s failed; retried later", article_id)
    return fetched

"""A site's numbers over a period, for the stats page: reports per day, how report
groups are split by kind and by outcome, how fast editors first act, and the
most-reported articles.

Every function takes the site and a half-open UTC period ``[start, end)`` and returns
plain dataclasses, so the numbers can be checked without HTTP. Counting and grouping
happen in SQL; only the median is taken in Python, over the period's durations.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from feedback.extensions import db
from feedback.models import Article, Suggestion, SuggestionKind, SuggestionStatus, utcnow

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
TOP_ARTICLES = 10


@dataclass(frozen=True)
class DayCount:
    day: date
    count: int


@dataclass(frozen=True)
class Share:
    """One kind or one outcome: how many report groups, and their share of all groups."""

    key: str
    count: int
    percent: float


@dataclass(frozen=True)
class ResponseTime:
    """Time from a group's first report to an editor's first action on it."""

    median: timedelta | None  # None when no group of the period was acted on yet
    measured: int  # groups with a first action
    untouched: int  # groups nobody has acted on yet


@dataclass(frozen=True)
class TopArticle:
    article_id: int
    title: str
    url: str
    reports: int


@dataclass(frozen=True)
class Bar:
    """One day of the bar chart, in SVG user units."""

    day: date
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class SiteStats:
    start: datetime
    end: datetime
    per_day: list[DayCount]
    total_reports: int
    groups: int
    by_kind: list[Share]
    by_status: list[Share]
    response: ResponseTime
    top_articles: list[TopArticle]


def parse_days(raw: str | None) -> int:
    """The period length asked for, or the default for anything not offered."""
    try:
        days = int(raw or "")
    except ValueError:
        return DEFAULT_PERIOD
    return days if days in PERIODS else DEFAULT_PERIOD


def period(days: int, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The last ``days`` whole UTC days, today included: ``[start, end)``."""
    today = (now or utcnow()).astimezone(UTC).date()
    end = datetime.combine(today + timedelta(days=1), time(), tzinfo=UTC)
    return end - timedelta(days=days), end


def previous_period(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The period of the same length just before ``[start, end)``, to compare with."""
    return start - (end - start), start


def change(now: int, before: int) -> str:
    """A number against the previous period's: "+3 (+60 %)", "+4" (none before), "no
    change"; a fall takes a true minus sign."""
    if now == before:
        return "no change"
    sign = "+" if now > before else "\N{MINUS SIGN}"
    difference = f"{sign}{abs(now - before)}"
    if not before:
        return difference
    return f"{difference} ({sign}{abs(now - before) * 100 / before:.0f} %)"


def _in_period(site_id: int, start: datetime, end: datetime) -> list:
    return [
        Suggestion.site_id == site_id,
        Suggestion.created_at >= start,
        Suggestion.created_at < end,
    ]


def _group_heads(site_id: int, start: datetime, end: datetime) -> list:
    return [*_in_period(site_id, start, end), Suggestion.duplicate_of_id.is_(None)]


def _utc_day(column):
    """The UTC calendar day of a timestamp column, on PostgreSQL and SQLite."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    # SQLite keeps UTC text (see UTCDateTime); date() cuts it to YYYY-MM-DD.
    return func.date(column)


def _as_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def reports_per_day(site_id: int, start: datetime, end: datetime) -> list[DayCount]:
    """Every report (duplicates too) by the UTC day it came in; days without any count 0."""
    day = _utc_day(Suggestion.created_at).label("day")
    rows = db.session.execute(
        select(day, func.count()).where(*_in_period(site_id, start, end)).group_by(day)
    ).all()
    counts = {_as_date(found): count for found, count in rows}
    first = start.astimezone(UTC).date()
    last = (end.astimezone(UTC) - timedelta(microseconds=1)).date()
    return [
        DayCount(first + timedelta(days=offset), counts.get(first + timedelta(days=offset), 0))
        for offset in range((last - first).days + 1)
    ]


def _shares(counts: dict[str, int], keys: list[str]) -> list[Share]:
    total = sum(counts.values())
    return [
        Share(key, counts.get(key, 0), (100 * counts.get(key, 0) / total) if total else 0.0)
        for key in keys
    ]


def _count_groups_by(column, site_id: int, start: datetime, end: datetime) -> dict[str, int]:
    rows = db.session.execute(
        select(column, func.count()).where(*_group_heads(site_id, start, end)).group_by(column)
    ).all()
    return {str(getattr(key, "value", key)): count for key, count in rows}


def shares_by_kind(site_id: int, start: datetime, end: datetime) -> list[Share]:
    """Report groups that started in the period, by kind (every kind listed, even at 0)."""
    counts = _count_groups_by(Suggestion.kind, site_id, start, end)
    return _shares(counts, [kind.value for kind in SuggestionKind])


def shares_by_status(site_id: int, start: datetime, end: datetime) -> list[Share]:
    """Report groups that started in the period, by where they stand now."""
    counts = _count_groups_by(Suggestion.status, site_id, start, end)
    return _shares(counts, [status.value for status in SuggestionStatus])


def response_time(site_id: int, start: datetime, end: datetime) -> ResponseTime:
    """Median time to an editor's first action over the period's report groups."""
    heads = _group_heads(site_id, start, end)
    pairs = db.session.execute(
        select(Suggestion.created_at, Suggestion.first_action_at).where(
            *heads, Suggestion.first_action_at.is_not(None)
        )
    ).all()
    untouched = db.session.scalar(
        select(func.count()).where(*heads, Suggestion.first_action_at.is_(None))
    )
    seconds = [max(0.0, (acted - created).total_seconds()) for created, acted in pairs]
    median = timedelta(seconds=statistics.median(seconds)) if seconds else None
    return ResponseTime(median=median, measured=len(seconds), untouched=untouched or 0)


def top_articles(
    site_id: int, start: datetime, end: datetime, limit: int = TOP_ARTICLES
) -> list[TopArticle]:
    """The articles with the most reports (readers, duplicates included) in the period."""
    reports = func.sum(Suggestion.report_count).label("reports")
    rows = db.session.execute(
        select(Article.id, Article.title, Article.url, reports)
        .join(Article, Article.id == Suggestion.article_id)
        .where(*_group_heads(site_id, start, end))
        .group_by(Article.id, Article.title, Article.url)
        .order_by(reports.desc(), Article.id)
        .limit(limit)
    ).all()
    return [TopArticle(row.id, row.title, row.url, int(row.reports)) for row in rows]


def site_stats(site_id: int, start: datetime, end: datetime) -> SiteStats:
    per_day = reports_per_day(site_id, start, end)
    by_kind = shares_by_kind(site_id, start, end)
    return SiteStats(
        start=start,
        end=end,
        per_day=per_day,
        total_reports=sum(day.count for day in per_day),
        groups=sum(share.count for share in by_kind),
        by_kind=by_kind,
        by_status=shares_by_status(site_id, start, end),
        response=response_time(site_id, start, end),
        top_articles=top_articles(site_id, start, end),
    )


def chart_bars(per_day: list[DayCount], width: float, height: float, gap: float = 1) -> list[Bar]:
    """Bars filling ``width`` x ``height``, the busiest day reaching the top."""
    if not per_day:
        return []
    highest = max(day.count for day in per_day) or 1
    slot = width / len(per_day)
    bars = []
    for index, day in enumerate(per_day):
        bar_height = round(height * day.count / highest, 2)
        bars.append(
            Bar(
                day=day.day,
                count=day.count,
                x=round(index * slot, 2),
                y=round(height - bar_height, 2),
                width=round(max(slot - gap, 0.5), 2),
                height=bar_height,
            )
        )
    return bars


def human_duration(span: timedelta | None) -> str:
    """Briefly: "under a minute", "42 min", "3 h 20 min", "2 d 4 h"."""
    if span is None:
        return "none yet"
    minutes = int(span.total_seconds() // 60)
    if minutes < 1:
        return "under a minute"
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"

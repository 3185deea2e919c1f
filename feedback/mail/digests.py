"""Digests: members who asked for hourly or daily mail get the period's new reports,
grouped by article, once per period."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from feedback.extensions import db
from feedback.links import link_for
from feedback.mail.headers import checked_address, mailable, single_line, unsubscribe_headers
from feedback.mail.outbox import Mail, key_taken, write_outbox
from feedback.mail.render import ReportView, render_mail
from feedback.models import (
    Membership,
    NotifySetting,
    OutboxKind,
    OutboxMessage,
    Suggestion,
    SuggestionKind,
    SuggestionStatus,
    User,
    utcnow,
    zone_of,
)


def digest_period(member: Membership, now: datetime) -> tuple[datetime, datetime] | None:
    """The newest finished digest period (UTC start, end) of the member at ``now``."""
    local = now.astimezone(zone_of(member.user))
    if member.notify == NotifySetting.HOURLY:
        end = local.replace(minute=0, second=0, microsecond=0)
        start = end - timedelta(hours=1)
    elif member.notify == NotifySetting.DAILY:
        end = local.replace(hour=member.digest_hour % 24, minute=0, second=0, microsecond=0)
        if end > local:
            end -= timedelta(days=1)  # wall-clock arithmetic: the same local hour a day before
        start = end - timedelta(days=1)
    else:
        return None
    return start.astimezone(UTC), end.astimezone(UTC)


# An article lists at most this many report groups, then "and N more" with a link.
ITEMS_PER_ARTICLE = 10
# A longer comment is cut at a word boundary; the report page has it whole.
COMMENT_CHARS = 280


@dataclass
class ArticleDigest:
    title: str
    url: str
    total: int  # reports still open
    reports: list[ReportView]  # the first ITEMS_PER_ARTICLE groups
    more: int = 0  # groups beyond those
    more_url: str = ""
    handled: int = 0  # reports of the period already handled, left out
    kinds: Counter = field(default_factory=Counter)


def digest_content(site_id: int, start: datetime, end: datetime) -> list[ArticleDigest]:
    """The period's reports still open, by article (the most-reported first), each group
    with where it stands now; what editors handled since is counted, not listed."""
    rows = db.session.scalars(
        select(Suggestion)
        .where(
            Suggestion.site_id == site_id,
            Suggestion.created_at >= start,
            Suggestion.created_at < end,
            Suggestion.honeypot.is_(False),
            Suggestion.status != SuggestionStatus.SPAM,
        )
        .order_by(Suggestion.created_at, Suggestion.id)
        .options(selectinload(Suggestion.article), selectinload(Suggestion.duplicate_of))
    ).all()
    by_article: dict[int, list[Suggestion]] = {}
    for row in rows:
        by_article.setdefault(row.article_id, []).append(row)
    articles = []
    for reports in by_article.values():
        # One entry per group: its first report here, counting the copies readers sent.
        # A copy of a group that began in an earlier period is the entry of that group.
        groups: dict[object, list[Suggestion]] = {}
        for report in reports:
            groups.setdefault(report.duplicate_of_id or report.id, []).append(report)
        open_groups = [group for group in groups.values() if _group_open(group[0])]
        open_groups.sort(key=lambda group: -len(group))
        views = [
            ReportView.of(group[0], len(group) - 1, comment_limit=COMMENT_CHARS)
            for group in open_groups[:ITEMS_PER_ARTICLE]
        ]
        still_open = sum(len(group) for group in open_groups)
        article = reports[0].article
        articles.append(
            ArticleDigest(
                title=single_line(article.title or article.url, 300),
                url=article.url,
                total=still_open,
                reports=views,
                more=max(0, len(open_groups) - ITEMS_PER_ARTICLE),
                more_url=link_for("editor.queue", article=article.id),
                handled=len(reports) - still_open,
                kinds=Counter(group[0].kind.value for group in open_groups for _ in group),
            )
        )
    articles.sort(key=lambda a: (-a.total, a.title))
    return articles


def _group_open(report: Suggestion) -> bool:
    """Whether the report's group still waits for editors (its head decides)."""
    return (report.duplicate_of or report).is_open


def digest_key(member: Membership, now: datetime) -> str | None:
    """The outbox key of the member's digest for the period just finished (None: the
    member gets no digests): the same digest can never be queued twice."""
    period = digest_period(member, now)
    if period is None:
        return None
    return f"digest:{member.user_id}:{member.site_id}:{period[1]:%Y%m%dT%H%MZ}"


# Digest contents met in one run, by (site id, period start, period end): every member of
# a site with the same period gets the same reports.
DigestContents = dict[tuple[int, datetime, datetime], list[ArticleDigest]]


def queue_digest(
    member: Membership, now: datetime, contents: DigestContents | None = None
) -> OutboxMessage | None:
    """Queue the member's digest for the period just finished; None if nothing new or
    already queued. Does not commit."""
    period = digest_period(member, now)
    if period is None or not mailable(member):
        return None
    start, end = period
    key = digest_key(member, now)
    if key_taken(key):
        return None
    contents = {} if contents is None else contents
    if (member.site_id, start, end) not in contents:
        contents[member.site_id, start, end] = digest_content(member.site_id, start, end)
    articles = [article for article in contents[member.site_id, start, end] if article.total]
    if not articles:
        return None  # nothing new, or all of it handled already
    kinds = sum((article.kinds for article in articles), Counter())
    total = sum(a.total for a in articles)
    handled = sum(a.handled for a in contents[member.site_id, start, end])
    zone = zone_of(member.user)
    site = member.site
    label = "Hourly" if member.notify == NotifySetting.HOURLY else "Daily"
    text, html = render_mail(
        "digest", site=site, user=member.user, articles=articles, total=total, label=label,
        handled=handled,
        kinds=[(kind.value, kinds[kind.value]) for kind in SuggestionKind if kinds[kind.value]],
        start=start.astimezone(zone), end=end.astimezone(zone), queue_url=link_for("editor.queue"),
    )  # fmt: skip
    noun = "report" if total == 1 else "reports"
    return write_outbox(
        Mail(
            key=key,
            kind=OutboxKind.DIGEST,
            to=checked_address(member.user.email, member.user.name),
            subject=f"[{site.name}] {label} digest: {total} new {noun}",
            text=text,
            html=html,
            site_id=site.id,
            user_id=member.user_id,
            headers=unsubscribe_headers(member.user_id, site.id),
        )
    )


DIGEST_BATCH = 200


def queue_due_digests(now: datetime | None = None) -> list[int]:
    """Queue every member's digest for the period just finished; commits per batch of
    members, so that a run over many members costs each commit only its own batch (a
    crash loses at most a batch, which the next run queues again)."""
    now = now or utcnow()
    ids: list[int] = []
    contents: DigestContents = {}
    member_ids = db.session.scalars(
        select(Membership.id)
        .join(User)
        .where(
            Membership.notify.in_([NotifySetting.HOURLY, NotifySetting.DAILY]),
            User.active.is_(True),
        )
        .order_by(Membership.id)
    ).all()
    for offset in range(0, len(member_ids), DIGEST_BATCH):
        batch = db.session.scalars(
            select(Membership)
            .where(Membership.id.in_(member_ids[offset : offset + DIGEST_BATCH]))
            .options(selectinload(Membership.user), selectinload(Membership.site))
            .order_by(Membership.id)
        ).all()
        keys = {member.id: digest_key(member, now) for member in batch}
        queued = set(
            db.session.scalars(
                select(OutboxMessage.key).where(
                    OutboxMessage.key.in_([key for key in keys.values() if key])
                )
            )
        )
        for member in batch:
            if keys[member.id] is None or keys[member.id] in queued:
                continue
            row = queue_digest(member, now, contents)
            if row is not None:
                db.session.flush()
                ids.append(row.id)
        db.session.commit()
    return ids

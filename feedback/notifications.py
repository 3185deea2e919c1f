"""What to tell whom, and writing it to the outbox.

Every function here that writes does so in the caller's transaction and never
commits: a notice exists exactly when the event that causes it was committed.
Each outbox row has a unique key naming the notice, so the same notice (or the
same digest period) cannot be queued twice, even by two processes at once.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import formataddr, parseaddr
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, has_request_context, render_template, request
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import delete, event, func, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from feedback.extensions import db
from feedback.models import (
    HeldNotice,
    Membership,
    NotifySetting,
    OutboxKind,
    OutboxMessage,
    Site,
    Suggestion,
    SuggestionKind,
    SuggestionStatus,
    User,
    utcnow,
)

# Where the editor UI shows one report; the only place mail knows its URL shape.
REPORT_PATH = "/editor/suggestions/{id}"
QUEUE_PATH = "/editor/"
SETTINGS_PATH = "/editor/notifications"
UNSUBSCRIBE_SALT = "feedback.unsubscribe"
_LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class UnsafeHeader(ValueError):
    """A value meant for a mail header could smuggle in another header."""


# --- header hygiene -------------------------------------------------------------------


def single_line(value: str, limit: int = 200) -> str:
    """Reader text fit for a header: line breaks become spaces, other controls go."""
    flat = _CONTROL.sub("", _LINE_BREAKS.sub(" ", value or ""))
    flat = " ".join(flat.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def checked_address(address: str, name: str = "") -> str:
    """``Name <address>`` for a To header; refuses an address that could inject headers."""
    if not address or _CONTROL.search(address) or _LINE_BREAKS.search(address):
        raise UnsafeHeader("line break or control character in a mail address")
    parsed_name, parsed = parseaddr(address)
    if parsed != address.strip() or parsed.count("@") != 1 or " " in parsed or parsed_name:
        raise UnsafeHeader(f"not a single plain mail address: {address!r}")
    return formataddr((single_line(name, 100), parsed)) if name else parsed


# --- links, ids, tokens ---------------------------------------------------------------


def absolute_url(path: str) -> str:
    """A link for a mail: BASE_URL, else the current request's host."""
    base = current_app.config["BASE_URL"]
    if not base and has_request_context():
        base = request.host_url
    return (base or "http://localhost").rstrip("/") + path


def message_id_for(key: str) -> str:
    """A Message-ID that depends only on the notice, so a resend is recognisably the same."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    sender = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"] or "")[1]
    domain = sender.rpartition("@")[2] or urlsplit(absolute_url("/")).hostname or "localhost"
    return f"<{digest}@{single_line(domain, 100)}>"


class _UnsubscribeSigner(TimestampSigner):
    """A timestamp signer whose issue time can be set, so tests can make an old token."""

    def __init__(self, *args, issued_at: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.issued_at = issued_at

    def get_timestamp(self) -> int:
        return self.issued_at if self.issued_at is not None else super().get_timestamp()


def _unsubscribe_serializer(issued_at: int | None = None) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"],
        salt=UNSUBSCRIBE_SALT,
        signer=_UnsubscribeSigner,
        signer_kwargs={"issued_at": issued_at},
    )


def unsubscribe_token(user_id: int, site_id: int, issued_at: int | None = None) -> str:
    """A signed token naming one member of one site (``issued_at`` is for tests)."""
    return _unsubscribe_serializer(issued_at).dumps({"u": user_id, "s": site_id})


def read_unsubscribe_token(token: str) -> tuple[int, int] | None:
    """(user id, site id) from a valid, unexpired token; None otherwise."""
    max_age = int(current_app.config["UNSUBSCRIBE_MAX_AGE_DAYS"]) * 86400
    try:
        data = _unsubscribe_serializer().loads(token, max_age=max_age)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), int) for k in "us"):
        return None
    return data["u"], data["s"]


def unsubscribe_headers(user_id: int, site_id: int) -> dict[str, str]:
    url = absolute_url(f"/unsubscribe/{unsubscribe_token(user_id, site_id)}")
    # RFC 8058: a mail provider may POST to the link to unsubscribe in one click.
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


# --- what a report looks like in a mail -----------------------------------------------


# The snippet sends this much context each side of a quote (see DESIGN.md).
CONTEXT_LENGTH = 32
KIND_PHRASES = {
    "typo": "a typo",
    "factual": "a factual error",
    "unclear": "an unclear passage",
    "other": "a problem",
}


@dataclass(frozen=True)
class ReportView:
    """One report, as the mail templates show it."""

    kind: str
    prefix: str
    exact: str | None
    suffix: str
    replacement: str | None
    comment: str | None
    article_title: str
    article_url: str
    report_url: str
    duplicates: int = 0
    # Whether the context was cut short (else the quote stands near the text's start/end).
    cut_before: bool = False
    cut_after: bool = False

    @property
    def kind_phrase(self) -> str:
        return KIND_PHRASES.get(self.kind, "a problem")

    @classmethod
    def of(cls, suggestion: Suggestion, duplicates: int = 0) -> ReportView:
        article = suggestion.article
        return cls(
            kind=suggestion.kind.value,
            prefix=(suggestion.prefix or "").lstrip(),
            exact=suggestion.exact,
            suffix=(suggestion.suffix or "").rstrip(),
            replacement=suggestion.replacement,
            comment=suggestion.comment,
            article_title=article.title or article.url,
            article_url=article.url,
            report_url=absolute_url(REPORT_PATH.format(id=suggestion.id)),
            duplicates=duplicates,
            cut_before=len(suggestion.prefix or "") >= CONTEXT_LENGTH,
            cut_after=len(suggestion.suffix or "") >= CONTEXT_LENGTH,
        )


@dataclass
class Mail:
    key: str
    kind: OutboxKind
    to: str
    subject: str
    text: str
    html: str
    site_id: int | None = None
    user_id: int | None = None
    headers: dict[str, str] = field(default_factory=dict)


def render_mail(template: str, **context) -> tuple[str, str]:
    """(text, HTML) bodies from ``templates/email/<template>.txt`` and ``.html``."""
    context.setdefault("settings_url", absolute_url(SETTINGS_PATH))
    text = render_template(f"email/{template}.txt", **context)
    html = render_template(f"email/{template}.html", **context)
    return text.strip() + "\n", html


def write_outbox(mail: Mail) -> OutboxMessage | None:
    """Add the mail to the outbox in the current transaction; None if its key is taken."""
    for name, value in [("To", mail.to), *mail.headers.items()]:
        if _LINE_BREAKS.search(value) or _LINE_BREAKS.search(name):
            raise UnsafeHeader(f"line break in header {name}")
    exists = select(OutboxMessage.id).where(OutboxMessage.key == mail.key)
    if db.session.scalar(exists) is not None:
        return None
    row = OutboxMessage(
        key=mail.key,
        kind=mail.kind,
        site_id=mail.site_id,
        user_id=mail.user_id,
        to_address=mail.to,
        subject=single_line(mail.subject, 250),
        text_body=mail.text,
        html_body=mail.html,
        headers=dict(mail.headers),
        message_id=message_id_for(mail.key),
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return None  # another process queued the same notice a moment ago
    return row


# --- instant notices --------------------------------------------------------------------


def _throttle() -> timedelta:
    return timedelta(minutes=float(current_app.config["INSTANT_THROTTLE_MINUTES"]))


def _last_instant_at(user_id: int, site_id: int) -> datetime | None:
    return db.session.scalar(
        select(func.max(OutboxMessage.created_at)).where(
            OutboxMessage.kind == OutboxKind.INSTANT,
            OutboxMessage.user_id == user_id,
            OutboxMessage.site_id == site_id,
        )
    )


def _members(site_id: int, notify: NotifySetting | None = None, lock: bool = False):
    query = (
        select(Membership)
        .join(User)
        .where(Membership.site_id == site_id, User.active.is_(True))
        .order_by(Membership.id)
    )
    if notify is not None:
        query = query.where(Membership.notify == notify)
    if lock and db.session.get_bind().dialect.name == "postgresql":
        # Two reports at once must not both slip past one member's throttle.
        query = query.with_for_update(of=Membership)
    return [member for member in db.session.scalars(query) if _mailable(member)]


def _mailable(member: Membership) -> bool:
    """Whether the member's address is safe to put in a To header; a bad one is logged
    and skipped, so it cannot fail the report (or the digest run) that would mail it."""
    try:
        checked_address(member.user.email, member.user.name)
    except UnsafeHeader:
        current_app.logger.warning("address of user %s refused for mail", member.user_id)
        return False
    return True


def _instant_mail(member: Membership, suggestion: Suggestion, more: int) -> Mail:
    site = member.site
    report = ReportView.of(suggestion)
    what = f"“{single_line(report.exact, 60)}”" if report.exact else "the whole article"
    subject = f"[{site.name}] New {report.kind} report on {what}"
    if more:
        subject += f" and {more} more"
    text, html = render_mail(
        "instant", site=site, user=member.user, report=report, more=more,
        queue_url=absolute_url(QUEUE_PATH),
    )  # fmt: skip
    return Mail(
        key=f"instant:{member.user_id}:{suggestion.id}",
        kind=OutboxKind.INSTANT,
        to=checked_address(member.user.email, member.user.name),
        subject=subject,
        text=text,
        html=html,
        site_id=site.id,
        user_id=member.user_id,
        headers=unsubscribe_headers(member.user_id, site.id),
    )


def queue_new_report(suggestion: Suggestion, now: datetime | None = None) -> list[int]:
    """Queue the instant notices for a new report group; returns the outbox ids.

    Call before the commit that stores the report, never for a duplicate or spam.
    """
    members = _members(suggestion.site_id, NotifySetting.INSTANT, lock=True)
    # Read the clock once the members are locked: a report filed meanwhile by another
    # worker may have mailed them, and its mail must not look newer than "now".
    now = now or utcnow()
    ids: list[int] = []
    for member in members:
        last = _last_instant_at(member.user_id, suggestion.site_id)
        if last is not None and last > now - _throttle():
            db.session.add(
                HeldNotice(
                    user_id=member.user_id, site_id=suggestion.site_id, suggestion_id=suggestion.id
                )
            )
            continue
        more = db.session.execute(
            delete(HeldNotice).where(
                HeldNotice.user_id == member.user_id, HeldNotice.site_id == suggestion.site_id
            )
        ).rowcount
        row = write_outbox(_instant_mail(member, suggestion, more))
        if row is not None:
            db.session.flush()
            ids.append(row.id)
    db.session.flush()
    return ids


def release_held_notices(now: datetime | None = None) -> list[int]:
    """Mail what the throttle held back once its window is over, with no new report to
    carry it; does not commit. Returns the outbox ids written."""
    pairs = db.session.execute(select(HeldNotice.user_id, HeldNotice.site_id).distinct()).all()
    if pairs and db.session.get_bind().dialect.name == "postgresql":
        # Lock the members first and in id order, as queue_new_report does, so releasing
        # and filing a report at once wait for each other instead of deadlocking.
        db.session.scalars(
            select(Membership.id)
            .where(tuple_(Membership.user_id, Membership.site_id).in_(pairs))
            .order_by(Membership.id)
            .with_for_update()
        ).all()
    now = now or utcnow()
    ids: list[int] = []
    for user_id, site_id in pairs:
        member = db.session.scalar(select(Membership).filter_by(user_id=user_id, site_id=site_id))
        held = db.session.scalars(
            select(HeldNotice)
            .filter_by(user_id=user_id, site_id=site_id)
            .order_by(HeldNotice.created_at.desc(), HeldNotice.id.desc())
        ).all()
        if (
            member is None
            or member.notify != NotifySetting.INSTANT
            or not member.user.active
            or not _mailable(member)
        ):
            for notice in held:
                db.session.delete(notice)  # they asked for quiet; the digest or queue has it
            continue
        last = _last_instant_at(user_id, site_id)
        if last is not None and last > now - _throttle():
            continue
        newest = db.session.get(Suggestion, held[0].suggestion_id)
        for notice in held:
            db.session.delete(notice)
        row = write_outbox(_instant_mail(member, newest, len(held) - 1))
        if row is not None:
            db.session.flush()
            ids.append(row.id)
    return ids


# --- digests ----------------------------------------------------------------------------


def zone_of(user: User) -> ZoneInfo:
    try:
        return ZoneInfo(user.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


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


@dataclass
class ArticleDigest:
    title: str
    url: str
    total: int
    reports: list[ReportView]


def digest_content(site_id: int, start: datetime, end: datetime) -> list[ArticleDigest]:
    """New reports of the period by article, the most-reported article first."""
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
        .options(selectinload(Suggestion.article))
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
        views = [ReportView.of(group[0], len(group) - 1) for group in groups.values()]
        views.sort(key=lambda view: -view.duplicates)
        article = reports[0].article
        articles.append(
            ArticleDigest(article.title or article.url, article.url, len(reports), views)
        )
    articles.sort(key=lambda a: (-a.total, a.title))
    return articles


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
    if period is None or not _mailable(member):
        return None
    start, end = period
    key = digest_key(member, now)
    if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)):
        return None
    contents = {} if contents is None else contents
    if (member.site_id, start, end) not in contents:
        contents[member.site_id, start, end] = digest_content(member.site_id, start, end)
    articles = contents[member.site_id, start, end]
    if not articles:
        return None
    kinds = Counter()
    for article in articles:
        for report in article.reports:
            kinds[report.kind] += 1 + report.duplicates
    total = sum(a.total for a in articles)
    zone = zone_of(member.user)
    site = member.site
    label = "Hourly" if member.notify == NotifySetting.HOURLY else "Daily"
    text, html = render_mail(
        "digest", site=site, user=member.user, articles=articles, total=total, label=label,
        kinds=[(kind.value, kinds[kind.value]) for kind in SuggestionKind if kinds[kind.value]],
        start=start.astimezone(zone), end=end.astimezone(zone), queue_url=absolute_url(QUEUE_PATH),
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


# --- readers ----------------------------------------------------------------------------


def queue_reader_notice(suggestion: Suggestion, old_status, *_rest) -> OutboxMessage | None:
    """Status-change listener: tell a consenting reader their report was fixed (or,
    if the site wants, rejected). Does not commit."""
    status = suggestion.status
    if status == old_status or not suggestion.reporter_notify or not suggestion.reporter_email:
        return None
    site = db.session.get(Site, suggestion.site_id)
    if status == SuggestionStatus.REJECTED:
        if not (site.settings or {}).get("notify_readers_on_reject"):
            return None
    elif status != SuggestionStatus.FIXED:
        return None
    try:
        to = checked_address(suggestion.reporter_email, suggestion.reporter_name or "")
    except UnsafeHeader:
        current_app.logger.warning("reader address of report %s refused", suggestion.id)
        return None
    report = ReportView.of(suggestion)
    template = "reader_fixed" if status == SuggestionStatus.FIXED else "reader_rejected"
    text, html = render_mail(
        template, site=site, report=report, name=single_line(suggestion.reporter_name or "", 100)
    )
    title = single_line(report.article_title, 120)
    subject = (
        f"Thank you: your correction to “{title}” was made"
        if status == SuggestionStatus.FIXED
        else f"About your report on “{title}”"
    )
    return write_outbox(
        Mail(
            key=f"reader:{suggestion.id}:{status.value}",
            kind=OutboxKind.READER,
            to=to,
            subject=f"[{site.name}] {subject}",
            text=text,
            html=html,
            site_id=site.id,
        )
    )


def set_member_notify(user_id: int, site_id: int, notify: NotifySetting) -> bool:
    """Change one member's setting for one site; False if there is no such member."""
    member = db.session.scalar(select(Membership).filter_by(user_id=user_id, site_id=site_id))
    if member is None:
        return False
    member.notify = notify
    if notify != NotifySetting.INSTANT:
        db.session.execute(
            delete(HeldNotice).where(HeldNotice.user_id == user_id, HeldNotice.site_id == site_id)
        )
    return True


def default_notify(site: Site) -> NotifySetting:
    """The setting a new member of the site starts with (owners choose; instant if unset)."""
    return _site_default(site.settings)


def _site_default(settings: dict | None) -> NotifySetting:
    try:
        return NotifySetting((settings or {}).get("default_notify") or "instant")
    except ValueError:
        return NotifySetting.INSTANT


@event.listens_for(Membership, "before_insert")
def _start_with_the_site_default(_mapper, connection, member: Membership) -> None:
    """A new member with no setting of their own starts with the site's default.

    An ORM hook, so every way of adding a member (CLI, editor UI, demo) follows it.
    """
    if member.notify is not None:
        return
    site_id = member.site_id if member.site_id is not None else member.site.id
    member.notify = _site_default(
        connection.scalar(select(Site.settings).where(Site.id == site_id))
    )

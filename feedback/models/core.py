"""Sites, their articles and revisions, and the readers' suggestions."""

from __future__ import annotations

import enum
import hashlib
import secrets
import uuid
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    DDL,
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    event,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.anchoring import QUOTE_CONTEXT_CHARS, text_fragment_url
from feedback.extensions import db
from feedback.models.types import ONLY_ON, UTCDateTime, string_enum, utcnow
from feedback.origins import origin_allowed, url_on_origins
from feedback.text import folded_for_search, title_without_suffix

if TYPE_CHECKING:
    from feedback.models.accounts import User


def trigram_index(name: str, column: str) -> Index:
    """A PostgreSQL trigram (pg_trgm) GIN index of ``column``: it serves the queue's
    ``LIKE '%words%'`` searches of 3+ characters. PostgreSQL only: SQLite would make a
    plain B-tree of the whole text, which no such search can use."""
    index = Index(
        name,
        column,
        postgresql_using="gin",
        postgresql_ops={column: "gin_trgm_ops"},
        info={ONLY_ON: "postgresql"},
    )
    return index.ddl_if(dialect="postgresql")


# The trigram indexes need the extension (contrib, trusted: a database owner may add it).
event.listen(
    db.metadata,
    "before_create",
    DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"),
)


class NotifySetting(enum.StrEnum):
    """How a member hears of a site's new reports."""

    INSTANT = "instant"
    HOURLY = "hourly"
    DAILY = "daily"
    OFF = "off"


TITLE_SUFFIX_MAX = 200


@dataclass(frozen=True)
class SiteSettings:
    """A site's options, typed; stored as JSON in ``Site.settings``."""

    # The mail setting a new member of the site starts with.
    default_notify: NotifySetting = NotifySetting.INSTANT
    # Whether readers who asked to hear back are also told of a rejection.
    notify_readers_on_reject: bool = False
    # Whether the site publishes its corrections log.
    corrections_public: bool = False
    # Whether the service may read the site's article pages to confirm fixes.
    fetch_pages: bool = True
    # A suffix the site puts on its titles (besides " — Site name"), left off in lists.
    title_suffix: str = ""

    @classmethod
    def from_json(cls, raw: dict | None) -> SiteSettings:
        """The settings stored for a site; a missing or unknown value reads as its default."""
        raw = raw or {}
        try:
            notify = NotifySetting(raw.get("default_notify") or NotifySetting.INSTANT)
        except ValueError:
            notify = NotifySetting.INSTANT
        return cls(
            default_notify=notify,
            notify_readers_on_reject=bool(raw.get("notify_readers_on_reject")),
            corrections_public=bool(raw.get("corrections_public")),
            fetch_pages=bool(raw.get("fetch_pages", True)),
            title_suffix=str(raw.get("title_suffix") or "")[:TITLE_SUFFIX_MAX],
        )

    def as_json(self) -> dict:
        return {**asdict(self), "default_notify": self.default_notify.value}


class Site(db.Model):
    """A publication that embeds the snippet."""

    __tablename__ = "site"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Public: it stands in the script tag of every page.
    public_key: Mapped[str] = mapped_column(String(64), unique=True)
    allowed_origins: Mapped[list[str]] = mapped_column(JSON, default=list)
    # For server-to-server calls (a CMS pushing revisions); only its hash is kept.
    secret_hash: Mapped[str] = mapped_column(String(64))
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    articles: Mapped[list[Article]] = relationship(back_populates="site")

    @staticmethod
    def new_public_key() -> str:
        return secrets.token_urlsafe(12)

    @staticmethod
    def hash_secret(secret: str) -> str:
        # The secret is 256 random bits, so a fast hash is enough (no dictionary to guess from).
        return hashlib.sha256(secret.encode()).hexdigest()

    def rotate_secret(self) -> str:
        """Make a new server-to-server secret, keep only its hash, return it once."""
        secret = "fbs_" + secrets.token_urlsafe(32)
        self.secret_hash = self.hash_secret(secret)
        return secret

    def check_secret(self, secret: str) -> bool:
        return secrets.compare_digest(self.secret_hash, self.hash_secret(secret))

    def allows_origin(self, origin: str) -> bool:
        return origin_allowed(origin, self.allowed_origins or [])

    def allows_article_url(self, url: str) -> bool:
        return url_on_origins(url, self.allowed_origins or [])

    def script_tag(self, service_url: str) -> str:
        """The tag the site pastes into its article pages, for the service at ``service_url``."""
        src = f"{service_url.rstrip('/')}/static/js/feedback.js"
        return f'<script src="{src}" data-site="{self.public_key}" async></script>'

    @property
    def options(self) -> SiteSettings:
        """The site's settings, typed (the one way to read them)."""
        return SiteSettings.from_json(self.settings)

    def change_options(self, **changes) -> SiteSettings:
        """Change some settings, keeping the others (the one way to write them)."""
        options = replace(self.options, **changes)
        # Reassign, not mutate: the JSON column notices only a new value.
        self.settings = {**(self.settings or {}), **options.as_json()}
        return options

    @property
    def corrections_public(self) -> bool:
        """Whether the site publishes its corrections log (opt-in, in its settings)."""
        return self.options.corrections_public


class Article(db.Model):
    """One article of a site, identified by its normalised canonical URL."""

    __tablename__ = "article"
    __table_args__ = (
        UniqueConstraint("site_id", "url"),
        trigram_index("ix_article_search_title_trgm", "search_title"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2048))
    # What editors see: the title of the newest verified text; until there is one, the
    # first reader's (a claim, never published).
    title: Mapped[str] = mapped_column(String(500), default="")
    # The title case-folded, for the queue's search (kept by ``_fold_title``).
    search_title: Mapped[str] = mapped_column(String(500), default="")
    # The verified revision the article reads as now (revisions.current_verified_revision):
    # usually the newest verified one, but a CMS may put back an older text, which is then
    # current again. Empty while the site has said nothing: a reader's text never sets it.
    current_revision_number: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    site: Mapped[Site] = relationship(back_populates="articles")
    revisions: Mapped[list[ArticleRevision]] = relationship(
        back_populates="article", order_by="ArticleRevision.number"
    )

    @property
    def published_title(self) -> str:
        """The title shown to the public and to readers: the site's own, from its verified
        text; the URL while it has none (a reader's title is only a claim)."""
        verified_title = self.title if self.current_revision_number is not None else ""
        return verified_title or self.url

    @property
    def short_title(self) -> str:
        """The title without the site's name or its set suffix at the end (for lists)."""
        return title_without_suffix(self.title, self.site.name, self.site.options.title_suffix)


@event.listens_for(Article, "before_insert")
@event.listens_for(Article, "before_update")
def _fold_title(_mapper, _connection, article: Article) -> None:
    article.search_title = folded_for_search(article.title)


class RevisionSource(enum.StrEnum):
    """Who said an article reads as a revision's text. Only the site itself is believed."""

    CMS = "cms"  # pushed by the site's CMS with the site secret (PUT /api/v1/articles)
    FETCHED = "fetched"  # read by the service from the site's own page (feedback.fetching)
    READER = "reader"  # sent by a reader with a report: a claim about the page
    UNKNOWN = "unknown"  # stored before sources were kept: counts as a claim

    @property
    def verified(self) -> bool:
        return self in VERIFIED_SOURCES


# The sources that say what the article reads; every other text is a reader's claim.
VERIFIED_SOURCES = frozenset({RevisionSource.CMS, RevisionSource.FETCHED})


class ArticleRevision(db.Model):
    """One distinct normalised text of an article; reports on the same text share it.

    A verified text (``source`` cms or fetched) says what the article reads; any other
    is a claim that anchors only the reports sent with it.
    """

    __tablename__ = "article_revision"
    __table_args__ = (
        UniqueConstraint("article_id", "sha256"),
        UniqueConstraint("article_id", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    # Up to 500,000 characters, and most paths need only the number: loaded on first use.
    text: Mapped[str] = mapped_column(Text, deferred=True)
    sha256: Mapped[str] = mapped_column(String(64))
    # A row that does not say counts as a claim.
    source: Mapped[RevisionSource] = mapped_column(
        string_enum(RevisionSource), server_default=RevisionSource.UNKNOWN.value
    )
    # The title sent with the text (the site's own for a verified text, else a claim).
    title: Mapped[str] = mapped_column(String(500), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    article: Mapped[Article] = relationship(back_populates="revisions")

    @property
    def verified(self) -> bool:
        return self.source.verified


class AnchorState(enum.StrEnum):
    """Whether a report's span can still be found in the article's newest revision."""

    ANCHORED = "anchored"
    ORPHANED = "orphaned"  # its words are gone from the newest revision


class SuggestionKind(enum.StrEnum):
    TYPO = "typo"
    FACTUAL = "factual"
    UNCLEAR = "unclear"
    OTHER = "other"


class SuggestionStatus(enum.StrEnum):
    NEW = "new"
    ACCEPTED = "accepted"
    FIXED = "fixed"
    REJECTED = "rejected"
    SPAM = "spam"


OPEN_STATUSES = frozenset({SuggestionStatus.NEW, SuggestionStatus.ACCEPTED})

# The one rule for which status moves are allowed; the UI offers only these.
ALLOWED_TRANSITIONS: dict[SuggestionStatus, frozenset[SuggestionStatus]] = {
    SuggestionStatus.NEW: frozenset(
        {
            SuggestionStatus.ACCEPTED,
            SuggestionStatus.FIXED,
            SuggestionStatus.REJECTED,
            SuggestionStatus.SPAM,
        }
    ),
    SuggestionStatus.ACCEPTED: frozenset(
        {SuggestionStatus.FIXED, SuggestionStatus.REJECTED, SuggestionStatus.NEW}
    ),
    SuggestionStatus.FIXED: frozenset({SuggestionStatus.NEW}),
    SuggestionStatus.REJECTED: frozenset({SuggestionStatus.NEW}),
    SuggestionStatus.SPAM: frozenset({SuggestionStatus.NEW}),
}


_GROUP_HEADS = sql_text("duplicate_of_id IS NULL")
_DUPLICATES = sql_text("duplicate_of_id IS NOT NULL")
_ORPHANED_HEADS = sql_text("duplicate_of_id IS NULL AND anchor_state = 'orphaned'")


class Suggestion(db.Model):
    """A reader's report: a span of one revision of an article and what it should say."""

    __tablename__ = "suggestion"
    __table_args__ = (
        Index("ix_suggestion_site_status_created", "site_id", "status", "created_at"),
        Index("ix_suggestion_article_status", "article_id", "status"),
        # The queue's keyset orders (newest/oldest, most reported) over group heads only:
        # partial, so the index gives the rows in order (IS NULL is no equality to skip).
        Index(
            "ix_suggestion_heads_created",
            "site_id",
            "created_at",
            "id",
            postgresql_where=_GROUP_HEADS,
            sqlite_where=_GROUP_HEADS,
        ),
        Index(
            "ix_suggestion_heads_reports",
            "site_id",
            "report_count",
            "created_at",
            "id",
            postgresql_where=_GROUP_HEADS,
            sqlite_where=_GROUP_HEADS,
        ),
        # A group's later reports. Partial: on the ~90% of rows that head a group the
        # index would hold only NULLs, and SQLite's planner, counting each NULL as a
        # distinct value, would then take it for "IS NULL" and sort the whole list.
        Index(
            "ix_suggestion_duplicate_of_id",
            "duplicate_of_id",
            postgresql_where=_DUPLICATES,
            sqlite_where=_DUPLICATES,
        ),
        # The queue counts the heads whose text is gone on every page.
        Index(
            "ix_suggestion_orphaned_heads",
            "site_id",
            "status",
            postgresql_where=_ORPHANED_HEADS,
            sqlite_where=_ORPHANED_HEADS,
        ),
        trigram_index("ix_suggestion_search_text_trgm", "search_text"),
    )

    # Made by the client, so a retried POST is recognised (idempotency key).
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"))
    revision_id: Mapped[int] = mapped_column(ForeignKey("article_revision.id"))
    kind: Mapped[SuggestionKind] = mapped_column(string_enum(SuggestionKind))
    # W3C Web Annotation TextQuoteSelector + TextPositionSelector over the
    # normalised text, in code points. All empty for a note about the whole article.
    exact: Mapped[str | None] = mapped_column(Text)
    prefix: Mapped[str | None] = mapped_column(Text)
    suffix: Mapped[str | None] = mapped_column(Text)
    start: Mapped[int | None] = mapped_column(Integer)
    end: Mapped[int | None] = mapped_column(Integer)
    replacement: Mapped[str | None] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(Text)
    reporter_name: Mapped[str | None] = mapped_column(String(200))
    reporter_email: Mapped[str | None] = mapped_column(String(254))
    reporter_notify: Mapped[bool] = mapped_column(Boolean, default=False)
    # The quote, the fix, the comment and the reporter's name case-folded, for the
    # queue's search in any script (SQLite folds ASCII only); kept by ``_fold_search``.
    search_text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[SuggestionStatus] = mapped_column(
        string_enum(SuggestionStatus), default=SuggestionStatus.NEW
    )
    # Set when the report repeats an open one; points at the group's first report.
    duplicate_of_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("suggestion.id", ondelete="SET NULL")
    )
    # On a group's first report: an older open group it may repeat (overlapping or close
    # words, another resulting text; feedback.grouping). Shown to editors, who decide.
    possible_duplicate_of_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("suggestion.id", ondelete="SET NULL"), index=True
    )
    # True when the honeypot field was filled: stored as spam, answered as a success.
    honeypot: Mapped[bool] = mapped_column(Boolean, default=False)
    user_agent: Mapped[str | None] = mapped_column(String(500))
    client_hash: Mapped[str | None] = mapped_column(String(64))
    # SHA-256 of the request as validated, to tell a replay from a conflicting reuse of the id.
    request_digest: Mapped[str] = mapped_column(String(64))
    # The newest revision the report was re-anchored against (feedback.revisions) and
    # where its span stands there; empty until the article gets a newer revision than
    # the report's own. While orphaned, start and end are empty.
    anchor_revision_id: Mapped[int | None] = mapped_column(
        ForeignKey("article_revision.id", ondelete="SET NULL")
    )
    anchor_start: Mapped[int | None] = mapped_column(Integer)
    anchor_end: Mapped[int | None] = mapped_column(Integer)
    anchor_state: Mapped[AnchorState] = mapped_column(
        string_enum(AnchorState), default=AnchorState.ANCHORED
    )
    # The span now reads neither as the reader saw it nor as the fix: an editor should look.
    text_changed: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set when a revision was found to carry the fix (feedback.revisions).
    fixed_revision_id: Mapped[int | None] = mapped_column(
        ForeignKey("article_revision.id", ondelete="SET NULL")
    )
    fixed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # On a group's first report: how many readers reported it (itself and its duplicates).
    # Kept here rather than counted so the queue can sort by it on an index.
    report_count: Mapped[int] = mapped_column(Integer, default=1)
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    # When an editor first did something with the report (for the stats page).
    first_action_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    site: Mapped[Site] = relationship()
    article: Mapped[Article] = relationship()
    revision: Mapped[ArticleRevision] = relationship(foreign_keys=[revision_id])
    anchor_revision: Mapped[ArticleRevision | None] = relationship(
        foreign_keys=[anchor_revision_id]
    )
    fixed_revision: Mapped[ArticleRevision | None] = relationship(foreign_keys=[fixed_revision_id])
    duplicate_of: Mapped[Suggestion | None] = relationship(
        remote_side=[id], back_populates="duplicates", foreign_keys=[duplicate_of_id]
    )
    duplicates: Mapped[list[Suggestion]] = relationship(
        back_populates="duplicate_of",
        order_by="Suggestion.created_at",
        foreign_keys=[duplicate_of_id],
    )
    possible_duplicate_of: Mapped[Suggestion | None] = relationship(
        remote_side=[id], foreign_keys=[possible_duplicate_of_id]
    )
    assignee: Mapped[User | None] = relationship()

    @property
    def has_quote(self) -> bool:
        return self.exact is not None

    def article_link(self) -> str:
        """The live article's URL with a text fragment at the report's words as they
        stand now: for a fixed report, the new words. The bare URL when they are gone or
        there is no quote; the one link for the queue, the report page, mail and the
        corrections log (here, below them all, so that mail may use it too)."""
        url = self.article.url
        if not self.has_quote:
            return url
        if self.anchor_revision_id is None:
            # Still in the text the reader saw: the report's own context, no text to load.
            return text_fragment_url(url, self.exact, self.prefix or "", self.suffix or "")
        if self.anchor_start is None or self.anchor_end is None:
            return url
        text, start, end = self.anchor_revision.text, self.anchor_start, self.anchor_end
        context = QUOTE_CONTEXT_CHARS
        return text_fragment_url(
            url, text[start:end], text[max(0, start - context) : start], text[end : end + context]
        )

    @property
    def may_repeat(self) -> Suggestion | None:
        """The open group (its first report) this report's group may repeat, while the
        two are still apart; see ``possible_duplicate_of_id``."""
        other = self.possible_duplicate_of
        if other is None:
            return None
        other = other.duplicate_of or other
        if other.id == (self.duplicate_of_id or self.id) or not other.is_open:
            return None
        return other

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def can_move_to(self, status: SuggestionStatus) -> bool:
        return status in ALLOWED_TRANSITIONS[self.status]


@event.listens_for(Suggestion, "before_insert")
@event.listens_for(Suggestion, "before_update")
def _fold_search(_mapper, _connection, report: Suggestion) -> None:
    report.search_text = folded_for_search(
        report.exact, report.replacement, report.comment, report.reporter_name
    )

"""When the service reads an article's page from its site, and how much it may."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from feedback.extensions import db
from feedback.models.types import UTCDateTime, string_enum


class FetchOutcome(enum.StrEnum):
    """What the last fetch of an article's page came to."""

    ADOPTED = "adopted"  # a new verified text (or a known one made current again)
    UNCHANGED = "unchanged"  # the page reads as the current verified text
    IMPLAUSIBLE = "implausible"  # a paywall, consent wall, empty shell or error page
    FAILED = "failed"  # not fetched: refused, unreachable, not HTML, too large, …
    SKIPPED = "skipped"  # fetching is off, or the site's hourly budget is spent


class ArticleFetch(db.Model):
    """An article's fetch schedule (a backoff while it has open reports) and the last
    fetch's outcome; one row per article fetched at least once or due to be."""

    __tablename__ = "article_fetch"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("article.id", ondelete="CASCADE"), primary_key=True
    )
    # When the next fetch is due; empty once the schedule has run out (or nothing is open).
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Position in FETCH_SCHEDULE_MINUTES: each fetch that finds nothing new moves it on.
    step: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_outcome: Mapped[FetchOutcome | None] = mapped_column(string_enum(FetchOutcome))
    # One line: why it failed or was ignored, or what was adopted.
    last_detail: Mapped[str | None] = mapped_column(Text)


class FetchBudget(db.Model):
    """Fetches a site used in one clock hour, shared by every worker process."""

    __tablename__ = "fetch_budget"

    site_id: Mapped[int] = mapped_column(
        ForeignKey("site.id", ondelete="CASCADE"), primary_key=True
    )
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)

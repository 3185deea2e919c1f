"""Readers' reports as they arrived, before the worker files them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column

from feedback.extensions import db
from feedback.models.types import UTCDateTime, utcnow

_WAITING = sql_text("filed_at IS NULL")


class IncomingReport(db.Model):
    """A report accepted by the API: checked, then stored with one INSERT and answered.

    The worker files it (feedback.suggestions.file_report): the article's revision, the
    duplicate group, the suggestion and its notices, in one transaction that also drops
    the body. The row stays as the receipt of its id, so a retry is still recognised.
    """

    __tablename__ = "incoming_report"
    __table_args__ = (
        # The sweep looks for reports still waiting; there are few at any time.
        Index(
            "ix_incoming_report_waiting",
            "received_at",
            postgresql_where=_WAITING,
            sqlite_where=_WAITING,
        ),
    )

    # The client's id, which becomes the suggestion's id.
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), index=True)
    # The request body exactly as sent (JSON); emptied once filed.
    body: Mapped[str | None] = mapped_column(Text)
    # The same fingerprint as Suggestion.request_digest: a replay, or a reuse of the id?
    request_digest: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(500))
    client_hash: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    filed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Failed filing attempts and the last error, for the sweep's retries and for people.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)

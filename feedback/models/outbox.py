"""Mail waiting to be sent, and instant notices the throttle held back."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from feedback.extensions import db
from feedback.models.types import UTCDateTime, string_enum, utcnow


class OutboxKind(enum.StrEnum):
    INSTANT = "instant"  # a member hears of a new report at once
    DIGEST = "digest"  # a member's hourly or daily summary
    READER = "reader"  # a reader hears what became of their report
    ACCOUNT = "account"  # a member's password link (forgotten password, invitation)


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its next attempt
    SENDING = "sending"  # claimed by a worker until claimed_until
    SENT = "sent"
    FAILED = "failed"  # gave up after OUTBOX_MAX_ATTEMPTS; an owner may retry it
    CANCELLED = "cancelled"  # held for an editor's decision that was undone; never sent


class OutboxMessage(db.Model):
    """One mail, written in the same transaction as the event that causes it.

    ``key`` names the notice (which report, which member, which digest period), so
    writing the same notice twice fails on the unique constraint instead of mailing twice.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_status_next_attempt", "status", "next_attempt_at"),
        # The instant throttle asks for a member's newest instant mail on a site.
        Index("ix_outbox_member_kind_created", "user_id", "site_id", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[OutboxKind] = mapped_column(string_enum(OutboxKind))
    site_id: Mapped[int | None] = mapped_column(
        ForeignKey("site.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    # Extra headers (List-Unsubscribe …), already checked for line breaks.
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    message_id: Mapped[str] = mapped_column(String(250))
    status: Mapped[OutboxStatus] = mapped_column(
        string_enum(OutboxStatus), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Not sent before this; a reader's mail about a decision waits out its undo window.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A worker that dies mid-send leaves the row "sending"; after this the sweep takes it back.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The editor's decision that caused the mail: undoing it cancels the mail.
    decision_id: Mapped[int | None] = mapped_column(
        ForeignKey("decision.id", ondelete="SET NULL"), index=True
    )


class HeldNotice(db.Model):
    """A new report the instant throttle kept back from a member; the next instant mail
    to that member for that site counts it as "and N more"."""

    __tablename__ = "held_notice"
    __table_args__ = (UniqueConstraint("user_id", "site_id", "suggestion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    suggestion_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("suggestion.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

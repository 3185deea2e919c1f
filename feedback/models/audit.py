"""What happened to a report, and the editors' notes on it. Rows are written once and
never changed: the trail must be trustworthy."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.extensions import db
from feedback.models.accounts import User
from feedback.models.types import UTCDateTime, string_enum, utcnow


class AuditAction(enum.StrEnum):
    STATUS = "status"  # detail: "new → accepted"
    ASSIGNED = "assigned"  # detail: the assignee's name, or empty when unassigned
    DUPLICATE = "duplicate"  # detail: the id of the report it now repeats
    SPLIT = "split"  # detail: the id of the report it no longer repeats
    NOTE = "note"  # an internal note was added (its text is in EditorNote)
    TEXT = "text"  # a new revision moved or orphaned the span
    UNDO = "undo"  # an editor took back their decision; detail: "accepted → new"


class Decision(db.Model):
    """One editor's decision on one or more reports (a key, a button, a bulk action):
    what Undo takes back. Its audit events hold each report's state before it; the
    readers' mail it caused waits in the outbox until ``undo_until``."""

    __tablename__ = "decision"
    __table_args__ = (Index("ix_decision_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    # What the editor is told (the undo toast): "The report is now accepted."
    summary: Mapped[str] = mapped_column(String(300), default="")
    # The editors' message to the readers who asked to hear back, if any.
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    undo_until: Mapped[datetime] = mapped_column(UTCDateTime)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def undoable(self, now: datetime | None = None) -> bool:
        return self.undone_at is None and (now or utcnow()) <= self.undo_until


class AuditEvent(db.Model):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_suggestion", "suggestion_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("suggestion.id", ondelete="CASCADE")
    )
    # Empty when the service itself acted (a revision carried the fix, say).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    action: Mapped[AuditAction] = mapped_column(string_enum(AuditAction))
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The editor's decision this event is part of (one decision may move a whole group).
    decision_id: Mapped[int | None] = mapped_column(
        ForeignKey("decision.id", ondelete="SET NULL"), index=True
    )
    # The report's fields as they were before this event (what an undo restores).
    before: Mapped[dict | None] = mapped_column(JSON)

    user: Mapped[User | None] = relationship()

    @property
    def actor(self) -> str:
        if self.user is None:
            return "the service" if self.user_id is None else "a former member"
        return self.user.name or self.user.email


class EditorNote(db.Model):
    """An internal note on a report; readers never see it."""

    __tablename__ = "editor_note"
    __table_args__ = (Index("ix_editor_note_suggestion", "suggestion_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("suggestion.id", ondelete="CASCADE")
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User | None] = relationship()


class ImmutableRowError(RuntimeError):
    pass


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(EditorNote, "before_update")
def _refuse_update(_mapper, _connection, target) -> None:
    raise ImmutableRowError(f"{type(target).__name__} rows are never changed")


@event.listens_for(AuditEvent, "before_delete")
@event.listens_for(EditorNote, "before_delete")
def _refuse_delete(_mapper, _connection, target) -> None:
    raise ImmutableRowError(f"{type(target).__name__} rows are never deleted")

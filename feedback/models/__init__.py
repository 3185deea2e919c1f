"""The data model. Each module holds one area; importing this package registers all."""

from feedback.models.accounts import Membership, NotifySetting, Role, User
from feedback.models.audit import AuditAction, AuditEvent, EditorNote
from feedback.models.core import (
    Article,
    ArticleRevision,
    Site,
    Suggestion,
    SuggestionKind,
    SuggestionStatus,
)
from feedback.models.intake import IncomingReport
from feedback.models.outbox import HeldNotice, OutboxKind, OutboxMessage, OutboxStatus
from feedback.models.types import UTCDateTime, utcnow

__all__ = [
    "Article",
    "ArticleRevision",
    "AuditAction",
    "AuditEvent",
    "EditorNote",
    "HeldNotice",
    "IncomingReport",
    "Membership",
    "NotifySetting",
    "OutboxKind",
    "OutboxMessage",
    "OutboxStatus",
    "Role",
    "Site",
    "Suggestion",
    "SuggestionKind",
    "SuggestionStatus",
    "UTCDateTime",
    "User",
    "utcnow",
]

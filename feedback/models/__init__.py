"""The data model. Each module holds one area; importing this package registers all."""

from feedback.models.accounts import Membership, Role, SignIn, User, zone_of
from feedback.models.audit import AuditAction, AuditEvent, Decision, EditorNote
from feedback.models.core import (
    Article,
    ArticleRevision,
    NotifySetting,
    RevisionSource,
    Site,
    SiteSettings,
    Suggestion,
    SuggestionKind,
    SuggestionStatus,
)
from feedback.models.fetching import ArticleFetch, FetchBudget, FetchOutcome
from feedback.models.intake import IncomingReport
from feedback.models.outbox import HeldNotice, OutboxKind, OutboxMessage, OutboxStatus
from feedback.models.types import UTCDateTime, utcnow

__all__ = [
    "Article",
    "ArticleFetch",
    "ArticleRevision",
    "AuditAction",
    "AuditEvent",
    "Decision",
    "EditorNote",
    "FetchBudget",
    "FetchOutcome",
    "HeldNotice",
    "IncomingReport",
    "Membership",
    "NotifySetting",
    "OutboxKind",
    "OutboxMessage",
    "OutboxStatus",
    "RevisionSource",
    "Role",
    "SignIn",
    "Site",
    "SiteSettings",
    "Suggestion",
    "SuggestionKind",
    "SuggestionStatus",
    "UTCDateTime",
    "User",
    "utcnow",
    "zone_of",
]

"""How a report looks in a mail, and the bodies rendered from the mail templates."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import render_template

from feedback.anchoring import QUOTE_CONTEXT_CHARS
from feedback.links import link_for
from feedback.mail.headers import LINE_BREAKS, single_line
from feedback.models import Suggestion, SuggestionStatus
from feedback.models.core import AnchorState

STATUS_LABELS = {
    SuggestionStatus.NEW: "new",
    SuggestionStatus.ACCEPTED: "accepted, waiting for the fix",
    SuggestionStatus.FIXED: "fixed",
    SuggestionStatus.REJECTED: "rejected",
    SuggestionStatus.SPAM: "spam",
}
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
    article_link: str  # the article at the report's words ("open in the article")
    report_url: str
    duplicates: int = 0
    # Whether the context was cut short (else the quote stands near the text's start/end).
    cut_before: bool = False
    cut_after: bool = False
    # Where the report's group stands now, in words ("new", "accepted, waiting for …").
    status: str = ""

    @property
    def kind_phrase(self) -> str:
        return KIND_PHRASES.get(self.kind, "a problem")

    @classmethod
    def of(
        cls, suggestion: Suggestion, duplicates: int = 0, comment_limit: int | None = None
    ) -> ReportView:
        """``comment_limit``: shorten the comment to about this many characters (digests)."""
        article = suggestion.article
        comment = suggestion.comment
        if comment and comment_limit:
            comment = shorten(comment, comment_limit)
        return cls(
            kind=suggestion.kind.value,
            prefix=(suggestion.prefix or "").lstrip(),
            exact=suggestion.exact,
            suffix=(suggestion.suffix or "").rstrip(),
            replacement=suggestion.replacement,
            comment=comment,
            article_title=single_line(article.title or article.url, 300),
            article_url=article.url,
            article_link=suggestion.article_link(),
            report_url=link_for("editor.report", suggestion_id=suggestion.id),
            duplicates=duplicates,
            # The snippet sends this much context each side of a quote, the server keeps it.
            cut_before=len(suggestion.prefix or "") >= QUOTE_CONTEXT_CHARS,
            cut_after=len(suggestion.suffix or "") >= QUOTE_CONTEXT_CHARS,
            status=status_label(suggestion),
        )


def status_label(suggestion: Suggestion) -> str:
    """Where a report stands now, as a mail says it; its group's head decides."""
    head = suggestion.duplicate_of or suggestion
    label = STATUS_LABELS.get(head.status, head.status.value)
    if head.is_open and head.anchor_state == AnchorState.ORPHANED:
        return f"{label}; its words are gone from the article"
    if head.is_open and head.text_changed:
        return f"{label}; the text there has changed"
    return label


def shorten(text: str, limit: int) -> str:
    """``text`` cut at the last word boundary before ``limit`` characters, with "…"."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"


_QUOTE_BREAKS = re.compile(r"\r\n|" + LINE_BREAKS.pattern.replace("]+", "]"))


_TEXT_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def quoted(text: str, mark: str = "> ") -> str:
    """Reader text for a plain-text body, every line behind ``mark``: however it is laid
    out, nothing a reader wrote stands at the start of a line as if the service said it."""
    lines = _QUOTE_BREAKS.split(_TEXT_CONTROLS.sub("", text))
    return "\n".join(f"{mark}{line}".rstrip() for line in lines)


def inline(text: str) -> str:
    """Reader text kept on one line, its own spacing otherwise as it was."""
    return _TEXT_CONTROLS.sub("", LINE_BREAKS.sub(" ", text or ""))


def render_mail(template: str, **context) -> tuple[str, str]:
    """(text, HTML) bodies from ``templates/email/<template>.txt`` and ``.html``."""
    context.setdefault("settings_url", link_for("notification_settings.show"))
    context.setdefault("quoted", quoted)
    context.setdefault("inline", inline)
    text = render_template(f"email/{template}.txt", **context)
    html = render_template(f"email/{template}.html", **context)
    return text.strip() + "\n", html

"""How a report looks in a mail, and the bodies rendered from the mail templates."""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template

from feedback.anchoring import QUOTE_CONTEXT_CHARS
from feedback.links import link_for
from feedback.models import Suggestion

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
            report_url=link_for("editor.report", suggestion_id=suggestion.id),
            duplicates=duplicates,
            # The snippet sends this much context each side of a quote, the server keeps it.
            cut_before=len(suggestion.prefix or "") >= QUOTE_CONTEXT_CHARS,
            cut_after=len(suggestion.suffix or "") >= QUOTE_CONTEXT_CHARS,
        )


def render_mail(template: str, **context) -> tuple[str, str]:
    """(text, HTML) bodies from ``templates/email/<template>.txt`` and ``.html``."""
    context.setdefault("settings_url", link_for("notification_settings.show"))
    text = render_template(f"email/{template}.txt", **context)
    html = render_template(f"email/{template}.html", **context)
    return text.strip() + "\n", html

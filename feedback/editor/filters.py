"""Template helpers of the editor UI: ages, local times, quotes in context, diffs."""

from __future__ import annotations

import re
from datetime import datetime

from flask import Flask
from flask_login import current_user

from feedback.anchoring import QUOTE_CONTEXT_CHARS
from feedback.models import SuggestionStatus, utcnow, zone_of
from feedback.worddiff import word_diff

CONTEXT_CHARS = 40
_SPACE = re.compile(r"\s")

STATUS_ACTIONS = {
    SuggestionStatus.ACCEPTED: "Accept",
    SuggestionStatus.FIXED: "Mark fixed",
    SuggestionStatus.REJECTED: "Reject",
    SuggestionStatus.SPAM: "Spam",
    SuggestionStatus.NEW: "Reopen",
}


def age(moment: datetime | None) -> str:
    """How long ago, briefly: "just now", "5 min", "3 h", "2 d", "6 wk"."""
    if moment is None:
        return ""
    seconds = max(0, int((utcnow() - moment).total_seconds()))
    if seconds < 60:
        return "just now"
    for unit, size in (("wk", 7 * 86400), ("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return "just now"


def ago(moment: datetime | None) -> str:
    """As ``age``, in a sentence: "5 min ago", "just now"."""
    brief = age(moment)
    return brief if brief in ("", "just now") else f"{brief} ago"


def local_time(moment: datetime | None) -> str:
    """The moment in the signed-in user's time zone."""
    if moment is None:
        return ""
    return moment.astimezone(zone_of(current_user)).strftime("%Y-%m-%d %H:%M %Z")


def before_context(prefix: str | None, size: int = CONTEXT_CHARS) -> str:
    """The last ``size`` characters or fewer of the text before a quote, starting at a
    word: a word the cut would halve is left out, and "…" says text was left out."""
    text = prefix or ""
    if len(text) > size:
        halved = not text[-size - 1].isspace()
        text = text[-size:]
    elif len(text) >= QUOTE_CONTEXT_CHARS:
        # As long as the snippet sends: cut from the article at any character.
        halved = True
    else:
        return text  # the article's start
    if halved and not text[0].isspace():
        space = _SPACE.search(text)
        text = text[space.end() :] if space else ""
    return "…" + text.lstrip()


def after_context(suffix: str | None, size: int = CONTEXT_CHARS) -> str:
    """The first ``size`` characters or fewer of the text after a quote, ending at a
    word's end, then "…"."""
    text = suffix or ""
    if len(text) > size:
        halved = not text[size].isspace()
        text = text[:size]
    elif len(text) >= QUOTE_CONTEXT_CHARS:
        halved = True
    else:
        return text  # the article's end
    if halved and not text[-1].isspace():
        spaces = [found.start() for found in _SPACE.finditer(text)]
        text = text[: spaces[-1]] if spaces else ""
    return text.rstrip() + "…"


def nav_memberships():
    """The signed-in user's sites, for the navigation."""
    from feedback.editor.access import memberships

    return memberships() if current_user.is_authenticated else []


def register(app: Flask) -> None:
    app.add_template_global(nav_memberships)
    app.add_template_filter(age)
    app.add_template_filter(ago)
    app.add_template_filter(local_time)
    app.add_template_filter(before_context)
    app.add_template_filter(after_context)
    app.add_template_global(word_diff)
    app.add_template_global(STATUS_ACTIONS, "status_actions")

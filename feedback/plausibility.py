"""Whether a text read from a site's page is plausibly its article, before it is adopted.

A fetch can bring back a paywall, a cookie-consent wall, an empty shell that fills
itself in with JavaScript, or a "page not found" answered with 200. None of those may
become the article's verified text: re-anchoring would orphan every report. A fetched
text is plausible when it still holds most open reports' context (the words the readers
saw around their quotes), or most of the words of the previous verified text; and
never when it has lost nearly all of that previous text, whatever else it holds (a
paywall that shows the first paragraph).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from feedback.anchoring import LINE_BREAKS, WHITESPACE, Quote

# A side of a quote's context shorter than this proves nothing (", the" is everywhere).
MIN_CONTEXT_CHARS = 8
# "Most": more than this share of the reports, or of the previous text's words.
MOST = 0.5
# Below this share of the previous verified text's words, the page is another page.
MIN_WORDS_KEPT = 0.25
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Verdict:
    """Whether to adopt a fetched text, and why, in one line for the log."""

    plausible: bool
    reason: str
    reports_held: int = 0
    reports_checked: int = 0
    words_kept: float | None = None


def _flat(text: str) -> str:
    """Line breaks as spaces: a page's block structure may differ from a reader's copy."""
    for char in LINE_BREAKS:
        text = text.replace(char, " ")
    return text


def _evidence(quote: Quote) -> list[str]:
    """The pieces of a report's context worth looking for in a text."""
    strip = WHITESPACE + LINE_BREAKS
    sides = [_flat(side).strip(strip) for side in (quote.prefix, quote.suffix)]
    sides = [side for side in sides if len(side) >= MIN_CONTEXT_CHARS]
    if sides:
        return sides
    exact = _flat(quote.exact).strip(strip)
    return [exact] if len(exact) >= MIN_CONTEXT_CHARS else []


def words_kept(previous: str, text: str) -> float:
    """The share of the previous text's words (counted with repeats) still in ``text``."""
    before = Counter(_WORD.findall(previous.casefold()))
    total = sum(before.values())
    if not total:
        return 1.0
    after = Counter(_WORD.findall(text.casefold()))
    return sum((before & after).values()) / total


def judge(text: str, quotes: Sequence[Quote], previous: str | None) -> Verdict:
    """Whether ``text`` (a fetched, normalised article text) is plausibly the article,
    given the open reports' selectors and the previous verified text (None if none)."""
    if not _WORD.search(text):
        return Verdict(False, "the page has no text (a shell that needs JavaScript?)")
    flat = _flat(text)
    checked = held = 0
    for quote in quotes:
        pieces = _evidence(quote)
        if not pieces:
            continue
        checked += 1
        held += any(piece in flat for piece in pieces)
    kept = words_kept(previous, text) if previous is not None else None
    counts = {"reports_held": held, "reports_checked": checked, "words_kept": kept}
    summary = f"holds the context of {held} of {checked} open reports" + (
        f" and {kept:.0%} of the previous verified text's words" if kept is not None else ""
    )
    if kept is not None and kept < MIN_WORDS_KEPT:
        return Verdict(False, f"another page: {summary}", **counts)
    if checked and held > MOST * checked:
        return Verdict(True, summary, **counts)
    if kept is not None and kept > MOST:
        return Verdict(True, summary, **counts)
    if not checked and kept is None:
        return Verdict(False, "no open report's context or verified text to check it against")
    return Verdict(
        False, f"not the article (paywall, consent wall or error page?): {summary}", **counts
    )

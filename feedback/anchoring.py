"""Text normalisation and quote selectors, shared by the server and the snippet.

The normalisation rule (``static/js/feedback.js`` copies it exactly; both are
checked against ``tests/vectors/normalisation.json``):

1. Unicode NFC.
2. A run of whitespace characters (``WHITESPACE`` or ``LINE_BREAKS``) becomes
   one ``"\\n"`` if it holds a line break, else one space.
3. The result is trimmed of those characters at both ends.

Positions (``start``, ``end``) count Unicode code points of the normalised
text, which is how Python indexes ``str``. JavaScript strings index UTF-16
code units, so the snippet converts: an emoji outside the Basic Multilingual
Plane is one code point but two UTF-16 units.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

# Listed one by one, not ``\s``: Python's and JavaScript's ``\s`` differ.
WHITESPACE = (
    "\t\v\f \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u202f\u205f\u3000\ufeff"
)
LINE_BREAKS = "\n\r\u2028\u2029"
_RUN = re.compile(f"[{re.escape(WHITESPACE + LINE_BREAKS)}]+")
CONTEXT_CHARS = 32


def _collapse(match: re.Match[str]) -> str:
    run = match.group()
    return "\n" if any(char in LINE_BREAKS for char in run) else " "


def normalise(text: str, *, trim: bool = True) -> str:
    """Apply the normalisation rule; ``trim=False`` keeps one edge space (for quote parts)."""
    collapsed = _RUN.sub(_collapse, unicodedata.normalize("NFC", text))
    return collapsed.strip(WHITESPACE + LINE_BREAKS) if trim else collapsed


def text_sha256(text: str) -> str:
    """Hex SHA-256 of the UTF-8 bytes of ``text``."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Quote:
    """A TextQuoteSelector and TextPositionSelector pair over one normalised text."""

    exact: str
    prefix: str
    suffix: str
    start: int
    end: int


def quote_at(text: str, start: int, end: int, context: int = CONTEXT_CHARS) -> Quote:
    """Build the selectors for ``text[start:end]`` with ``context`` characters either side."""
    return Quote(
        exact=text[start:end],
        prefix=text[max(0, start - context) : start],
        suffix=text[end : end + context],
        start=start,
        end=end,
    )


def _common_suffix_length(a: str, b: str) -> int:
    length = 0
    for left, right in zip(reversed(a), reversed(b), strict=False):
        if left != right:
            break
        length += 1
    return length


def _common_prefix_length(a: str, b: str) -> int:
    length = 0
    for left, right in zip(a, b, strict=False):
        if left != right:
            break
        length += 1
    return length


def locate_quote(
    text: str, exact: str, prefix: str = "", suffix: str = "", hint: int | None = None
) -> tuple[int, int] | None:
    """Where ``exact`` stands in ``text``: at ``hint`` if it reads so there, else the
    occurrence whose surroundings best match ``prefix``/``suffix`` (ties: nearest the
    hint, then the first). None when the quote is nowhere in the text."""
    if not exact:
        return None
    length = len(exact)
    if hint is not None and hint >= 0 and text[hint : hint + length] == exact:
        return hint, hint + length

    best: tuple[int, int, int] | None = None  # (-context score, distance, position)
    position = text.find(exact)
    while position != -1:
        score = _common_suffix_length(text[max(0, position - len(prefix)) : position], prefix)
        score += _common_prefix_length(
            text[position + length : position + length + len(suffix)], suffix
        )
        distance = abs(position - hint) if hint is not None else 0
        candidate = (-score, distance, position)
        if best is None or candidate < best:
            best = candidate
        position = text.find(exact, position + 1)
    if best is None:
        return None
    return best[2], best[2] + length

"""The sentence around a report's words, as the report page shows it: enough to decide,
never the article's first 500 characters of headline and byline."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A sentence ends after . ! ? … (and closing quotes or brackets) before a space, or at a
# line break: headlines and bylines stand on lines of their own.
_SENTENCE_END = re.compile("[.!?\u2026][\"'\u201d\u2019\u00bb)\\]]*\\s|\n")
# However long the sentence, at most this many characters either side of the words.
SIDE_LIMIT = 180


@dataclass(frozen=True)
class Sentence:
    before: str
    words: str
    after: str
    cut_before: bool  # the sentence goes on before ``before`` ("…")
    cut_after: bool


def _cut_start(text: str, low: int, start: int) -> tuple[int, bool]:
    """Where the shown text begins: the sentence's start, or a word start within reach."""
    if start - low <= SIDE_LIMIT:
        return low, False
    bound = start - SIDE_LIMIT
    space = text.find(" ", bound, start)
    return (space + 1 if space != -1 else bound), True


def _cut_end(text: str, end: int, high: int) -> tuple[int, bool]:
    if high - end <= SIDE_LIMIT:
        return high, False
    bound = end + SIDE_LIMIT
    space = text.rfind(" ", end, bound)
    return (space if space > end else bound), True


def sentence_around(text: str, start: int, end: int) -> Sentence:
    """The sentence (or sentences, when the words cross an end) holding ``text[start:end]``,
    cut at a word near SIDE_LIMIT characters either side when longer."""
    low = 0
    for found in _SENTENCE_END.finditer(text, 0, start):
        low = found.end()
    following = _SENTENCE_END.search(text, max(end, low))
    # The end mark and any closing quote stay; the space or line break after them goes.
    high = len(text) if following is None else following.end() - 1
    shown_low, cut_before = _cut_start(text, low, start)
    shown_high, cut_after = _cut_end(text, end, high)
    return Sentence(
        before=text[shown_low:start].lstrip(),
        words=text[start:end],
        after=text[end:shown_high].rstrip(),
        cut_before=cut_before,
        cut_after=cut_after,
    )

"""Text normalisation and quote selectors, shared by the server and the snippet.

The normalisation rule (``static/js/src/shared/text.js`` copies it exactly; both are
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

import bisect
import difflib
import enum
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from urllib.parse import quote as url_quote

# Listed one by one, not ``\s``: Python's and JavaScript's ``\s`` differ.
WHITESPACE = (
    "\t\v\f \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u202f\u205f\u3000\ufeff"
)
LINE_BREAKS = "\n\r\u2028\u2029"
# Only the runs the rule changes: two or more characters, or one that is not already a
# plain space or "\n" (most text has single spaces only, and matching those is the cost).
_RUN = re.compile(
    f"[{re.escape(WHITESPACE + LINE_BREAKS)}]{{2,}}"
    f"|[{re.escape(WHITESPACE.replace(' ', '') + LINE_BREAKS.replace(chr(10), ''))}]"
)
# How pages are read into text, shared with the snippet (feedback.extraction applies it).
EXTRACTION_RULES: dict = json.loads(
    resources.files(__package__).joinpath("extraction_rules.json").read_text("utf-8")
)
# Code points of context either side of a quote (TextQuoteSelector prefix and suffix).
QUOTE_CONTEXT_CHARS: int = EXTRACTION_RULES["quote_context_chars"]


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


def quote_at(text: str, start: int, end: int, context: int = QUOTE_CONTEXT_CHARS) -> Quote:
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


# --- Following a span into a newer revision -------------------------------------------
#
# A report's span is carried from the revision it was last anchored in (``old``) to
# the newest one (``new``) in bounded steps, each cheaper and surer than the next:
#
# 1. the full quote (prefix + exact + suffix) stands where the position map expects it;
# 2. the full quote stands elsewhere (the occurrence nearest the expected place);
# 3. the prefix and the suffix still stand close together near the expected place: the
#    text between them is the span's new wording, which tells "fixed" (it reads as the
#    replacement), "orphaned" (it is gone) and "changed" (anything else) apart;
# 4. the exact words stand near the expected place with at least half of their context,
#    or are long (UNIQUE_MIN_CHARS) and stand only once in the whole text;
# 5. a fuzzy match of the quote with its context within a window around the expected
#    place, accepted at FUZZY_MIN_SCORE or better.
# Nothing found: orphaned.

# How far from the expected place steps 3 and 4 look, in code points either side.
SEARCH_WINDOW = 4096
# How far the fuzzy step looks either side of the expected span. Small, because a
# fuzzy alignment costs about window x quote; a span that moved further was found by
# steps 2-4 already unless its whole neighbourhood was rewritten.
FUZZY_WINDOW = 256
# rapidfuzz partial_ratio score (0-100, normalised Indel similarity) a fuzzy match
# needs; below it the span counts as gone. 80 tolerates a few edited characters in a
# quote with its 64 characters of context, and rejects an unrelated sentence.
FUZZY_MIN_SCORE = 80.0
# Quotes shorter than this (with their context) are not matched fuzzily: too many
# unrelated places in a long article score high against a few characters.
FUZZY_MIN_NEEDLE = 24
# Step 3 trusts a prefix/suffix pair only when together they are this long.
BRACKET_MIN_CONTEXT = 12
# Step 4 takes words this long that stand once in the whole text, whatever the context.
UNIQUE_MIN_CHARS = 8
# Steps 2-4 look at no more than this many occurrences of a needle (a very common word).
MAX_OCCURRENCES = 200


class AnchorOutcome(enum.StrEnum):
    """Where a report stands in a newer revision."""

    ANCHORED = "anchored"  # the same words, possibly moved
    CHANGED = "changed"  # found, but the words now read differently
    FIXED = "fixed"  # the words now read as the reader's replacement
    ORPHANED = "orphaned"  # the words are gone


@dataclass(frozen=True)
class Reanchored:
    outcome: AnchorOutcome
    start: int | None = None
    end: int | None = None
    # Which step decided (1-5, 0 when orphaned): for tests, benchmarks and debugging.
    step: int = 0


class PositionMap:
    """Maps positions of one text into a newer text, as a hint for where a span went.

    Lines are diffed (cheap even for 500,000 characters, since an edit rarely touches
    most paragraphs); a changed stretch of lines is diffed again by sentences while
    longer than REFINE_LIMIT, then by words. Inside a stretch still unmatched, the
    common beginning and end of its old and new text map exactly; a position in the
    rewritten middle maps to the middle's start.
    """

    def __init__(self, old: str, new: str):
        self.new_length = len(new)
        # (old_start, old_end, new_start, new_end, common_start, common_end)
        self._blocks: list[tuple[int, int, int, int, int, int]] = []
        self._refine(old, new, (0, len(old), 0, len(new)), (_LINE, _SENTENCE, _WORD))
        self._starts = [block[0] for block in self._blocks]

    def _refine(self, old: str, new: str, stretch, levels) -> None:
        old_start, old_end, new_start, new_end = stretch
        blocks = _diff_blocks(
            old[old_start:old_end], new[new_start:new_end], old_start, new_start, levels[0]
        )
        for equal, *block in blocks:
            if equal or len(levels) == 1:
                self._add(old, new, *block)
            elif max(block[1] - block[0], block[3] - block[2]) <= REFINE_LIMIT:
                self._refine(old, new, block, levels[-1:])
            else:
                self._refine(old, new, block, levels[1:])

    def _add(self, old: str, new: str, old_start, old_end, new_start, new_end) -> None:
        old_part, new_part = old[old_start:old_end], new[new_start:new_end]
        common_start = _common_prefix_length(old_part, new_part)
        limit = min(len(old_part), len(new_part)) - common_start
        common_end = min(_common_suffix_length(old_part, new_part), limit)
        self._blocks.append((old_start, old_end, new_start, new_end, common_start, common_end))

    def __call__(self, position: int) -> int:
        if not self._blocks:
            return min(position, self.new_length)
        index = max(0, bisect.bisect_right(self._starts, position) - 1)
        old_start, old_end, new_start, new_end, common_start, common_end = self._blocks[index]
        offset = position - old_start
        if offset <= common_start:
            mapped = new_start + offset
        elif offset >= (old_end - old_start) - common_end:
            mapped = new_end - (old_end - position)
        else:
            mapped = new_start + common_start
        return max(0, min(mapped, self.new_length))


# A changed stretch up to this long is diffed word by word; a longer one by sentences first.
REFINE_LIMIT = 20_000
_LINE = re.compile(r"[^\n]*\n|[^\n]+")
_SENTENCE = re.compile(r"[^.!?\n]*[.!?\n]+\s*|[^.!?\n]+")
_WORD = re.compile(r"\S+\s*|\s+")


def _diff_blocks(old: str, new: str, old_base: int, new_base: int, token: re.Pattern[str]):
    """Runs of ``old`` and ``new`` that a token diff pairs up, as (equal, old_start,
    old_end, new_start, new_end) with absolute offsets: equal runs and the changed
    runs between them."""
    old_tokens = token.findall(old)
    new_tokens = token.findall(new)
    old_offsets = _offsets(old_tokens, old_base)
    new_offsets = _offsets(new_tokens, new_base)
    matcher = difflib.SequenceMatcher(None, old_tokens, new_tokens, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        yield tag == "equal", old_offsets[i1], old_offsets[i2], new_offsets[j1], new_offsets[j2]


def _offsets(tokens: list[str], base: int) -> list[int]:
    offsets = [base]
    for part in tokens:
        offsets.append(offsets[-1] + len(part))
    return offsets


def same_wording(a: str, b: str) -> bool:
    """Equal but for whitespace at the edges (a selection often takes a space along)."""
    return a.strip(WHITESPACE + LINE_BREAKS) == b.strip(WHITESPACE + LINE_BREAKS)


def _judge(wording: str, exact: str, replacement: str | None) -> AnchorOutcome:
    """What the words now standing where the span was say about the report."""
    if same_wording(wording, exact):
        return AnchorOutcome.ANCHORED
    if replacement is not None and same_wording(wording, replacement):
        return AnchorOutcome.FIXED
    if not wording.strip(WHITESPACE + LINE_BREAKS):
        return AnchorOutcome.ORPHANED
    return AnchorOutcome.CHANGED


def _nearest(text: str, needle: str, expected: int, low: int, high: int, limit: int):
    """Occurrences of ``needle`` starting within [low, high], nearest ``expected`` first."""
    found: list[int] = []
    position = text.find(needle, max(0, low))
    while position != -1 and position <= high and len(found) < limit:
        found.append(position)
        position = text.find(needle, position + 1)
    return sorted(found, key=lambda at: (abs(at - expected), at))


def _full_quote(text: str, quote: Quote, expected: int) -> int | None:
    """Step 2: the start of ``exact`` where prefix + exact + suffix stand, nearest first."""
    needle = quote.prefix + quote.exact + quote.suffix
    best: int | None = None
    position = text.find(needle)
    count = 0
    while position != -1 and count < MAX_OCCURRENCES:
        start = position + len(quote.prefix)
        if best is None or abs(start - expected) < abs(best - expected):
            best = start
        position = text.find(needle, position + 1)
        count += 1
    return best


def _bracket(
    text: str, quote: Quote, replacement: str | None, expected: int
) -> tuple[int, int] | None:
    """Step 3: the stretch between the stored prefix and suffix near the expected place."""
    # Whitespace next to the span is left out: deleting a word merges the spaces on
    # either side of it into one, which neither the prefix nor the suffix would match.
    prefix = quote.prefix.rstrip(WHITESPACE + LINE_BREAKS)
    suffix = quote.suffix.lstrip(WHITESPACE + LINE_BREAKS)
    if len(prefix) + len(suffix) < BRACKET_MIN_CONTEXT:
        return None
    # A rewrite may make the span longer, but not without bound: past this the prefix
    # and suffix are more likely two unrelated places than one span's two sides.
    max_gap = 2 * max(len(quote.exact), len(replacement or "")) + 64
    if prefix:
        expected_prefix = expected - len(quote.prefix)
        found = _nearest(
            text,
            prefix,
            expected_prefix,
            expected_prefix - SEARCH_WINDOW,
            expected_prefix + SEARCH_WINDOW,
            MAX_OCCURRENCES,
        )
        if not found:
            # The position map can be far off inside a long rewritten stretch (a text
            # without line breaks); one scan of the whole text is still cheap.
            found = _nearest(text, prefix, expected_prefix, 0, len(text), MAX_OCCURRENCES)
        candidates = [at + len(prefix) for at in found]
    else:
        # An empty prefix means the span began the text; it still must, to count.
        candidates = [0]
    # In a repetitive text the context may stand at several places close together;
    # the stretch that reads as the exact words or the fix wins, else the nearest.
    stretches: list[tuple[int, int]] = []
    for start in candidates[:8]:
        if suffix:
            limit = start + max_gap + len(suffix)
            ends = _nearest(text, suffix, start, start, limit - len(suffix), 8)
        else:
            ends = [len(text)] if len(text) - start <= max_gap else []
        for end in sorted(ends):
            stretches.append(_trim(text, start, end))
    for start, end in stretches:
        wording = text[start:end]
        if same_wording(wording, quote.exact) or (
            replacement is not None and same_wording(wording, replacement)
        ):
            return start, end
    return stretches[0] if stretches else None


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """The stretch without whitespace at its edges (the reader's span had none)."""
    while start < end and text[start] in WHITESPACE + LINE_BREAKS:
        start += 1
    while end > start and text[end - 1] in WHITESPACE + LINE_BREAKS:
        end -= 1
    return start, end


def _with_context(text: str, quote: Quote, expected: int) -> int | None:
    """Step 4: ``exact`` near the expected place with at least half its context intact."""
    length = len(quote.exact)
    needed = (len(quote.prefix) + len(quote.suffix) + 1) // 2
    best: tuple[int, int, int] | None = None  # (-score, distance, position)
    for position in _nearest(
        text,
        quote.exact,
        expected,
        expected - SEARCH_WINDOW,
        expected + SEARCH_WINDOW,
        MAX_OCCURRENCES,
    ):
        score = _common_suffix_length(
            text[max(0, position - len(quote.prefix)) : position], quote.prefix
        ) + _common_prefix_length(
            text[position + length : position + length + len(quote.suffix)], quote.suffix
        )
        if score < needed:
            continue
        candidate = (-score, abs(position - expected), position)
        if best is None or candidate < best:
            best = candidate
    return None if best is None else best[2]


def _fuzzy(text: str, quote: Quote, expected: int) -> tuple[int, int] | None:
    """Step 5: where the quote's span lands in the best fuzzy match of quote + context."""
    from rapidfuzz import fuzz
    from rapidfuzz.distance import Levenshtein

    needle = quote.prefix + quote.exact + quote.suffix
    if len(needle) < FUZZY_MIN_NEEDLE:
        return None
    low = max(0, expected - len(quote.prefix) - FUZZY_WINDOW)
    high = min(len(text), expected + len(quote.exact) + len(quote.suffix) + FUZZY_WINDOW)
    window = text[low:high]
    if not window:
        return None
    alignment = fuzz.partial_ratio_alignment(needle, window, score_cutoff=FUZZY_MIN_SCORE)
    if alignment is None:
        return None
    region_start = low + alignment.dest_start
    region = text[region_start : low + alignment.dest_end]
    # Carry the span's two ends through the character alignment of quote and region.
    opcodes = Levenshtein.opcodes(needle, region)
    mapped_start = _carry(opcodes, len(quote.prefix), at_end=False)
    mapped_end = _carry(opcodes, len(quote.prefix) + len(quote.exact), at_end=True)
    if mapped_end < mapped_start:
        return None
    return region_start + mapped_start, region_start + mapped_end


def _carry(opcodes, position: int, *, at_end: bool) -> int:
    """Where ``position`` of the source lands in the destination of an alignment.

    Text inserted right at a span's edge is counted outside the span: a start takes the
    block that begins at it, an end the block that finishes at it.
    """
    for _tag, i1, i2, j1, j2 in opcodes:
        inside = (i1 < position <= i2) if at_end else (i1 <= position < i2)
        if inside:
            return j1 + min(position - i1, j2 - j1)
    return opcodes.dest_len


def _stretch(
    text: str, start: int, end: int, quote: Quote, replacement: str | None, step: int
) -> Reanchored:
    """Judge the stretch of ``text`` that now stands where the span was."""
    outcome = _judge(text[start:end], quote.exact, replacement)
    if outcome is AnchorOutcome.ORPHANED:
        return Reanchored(outcome, None, None, step)
    inner = text.find(quote.exact, start, end)
    if outcome is AnchorOutcome.CHANGED and inner != -1:
        # Words were added next to the span, which itself still reads the same.
        return Reanchored(AnchorOutcome.ANCHORED, inner, inner + len(quote.exact), step)
    return Reanchored(outcome, start, end, step)


def reanchor(new_text: str, quote: Quote, replacement: str | None, expected: int) -> Reanchored:
    """Find ``quote`` (selectors over the older text) in ``new_text``; ``expected`` is
    where the span's start should be (from a PositionMap) and ``replacement`` the
    reader's normalised suggestion, to recognise a fix."""
    length = len(quote.exact)
    expected = max(0, min(expected, len(new_text)))
    # 1. Where it was expected, with all of its context.
    low = expected - len(quote.prefix)
    if (
        low >= 0
        and new_text.startswith(quote.exact, expected)
        and new_text.startswith(quote.prefix, low)
        and new_text.startswith(quote.suffix, expected + length)
    ):
        return Reanchored(AnchorOutcome.ANCHORED, expected, expected + length, 1)
    # 2. With all of its context, elsewhere.
    start = _full_quote(new_text, quote, expected)
    if start is not None:
        return Reanchored(AnchorOutcome.ANCHORED, start, start + length, 2)
    # 3. Its context, with whatever stands between now.
    bracket = _bracket(new_text, quote, replacement, expected)
    if bracket is not None:
        return _stretch(new_text, *bracket, quote, replacement, step=3)
    # 4. Its words, with part of their context, or long words standing only once.
    start = _with_context(new_text, quote, expected)
    if start is None and length >= UNIQUE_MIN_CHARS and new_text.count(quote.exact) == 1:
        start = new_text.find(quote.exact)
    if start is not None:
        return Reanchored(AnchorOutcome.ANCHORED, start, start + length, 4)
    # 5. Something like it, close by.
    fuzzy = _fuzzy(new_text, quote, expected)
    if fuzzy is not None:
        return _stretch(new_text, *fuzzy, quote, replacement, step=5)
    return Reanchored(AnchorOutcome.ORPHANED)


# Words of context either side in a text fragment: enough to pick one occurrence, short
# enough to survive small edits around it.
FRAGMENT_CONTEXT_WORDS = 3


def _fragment_part(text: str) -> str:
    # "-", "," and "&" separate the parts of a text directive, so they are escaped too.
    return url_quote(text, safe="").replace("-", "%2D")


def text_fragment_url(url: str, exact: str, before: str = "", after: str = "") -> str:
    """``url`` with a text fragment (``#:~:text=prefix-,exact,-suffix``) that scrolls
    to and marks ``exact``; ``before``/``after`` are the text around it."""
    words_before = " ".join(before.split()[-FRAGMENT_CONTEXT_WORDS:])
    words_after = " ".join(after.split()[:FRAGMENT_CONTEXT_WORDS])
    directive = _fragment_part(" ".join(exact.split()))
    if words_before:
        directive = f"{_fragment_part(words_before)}-,{directive}"
    if words_after:
        directive = f"{directive},-{_fragment_part(words_after)}"
    return f"{url.split('#', 1)[0]}#:~:text={directive}"

"""Property tests of following a span into a newer text (anchoring.reanchor)."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from feedback import anchoring
from feedback.anchoring import AnchorOutcome, PositionMap, quote_at, reanchor

# fmt: off
WORDS = [
    "the", "a", "of", "to", "in", "and", "harbour", "ferry", "island", "quay", "crossing",
    "minutes", "service", "council", "said", "on", "Monday", "people", "town", "old", "blue",
    "little", "timetable", "faster", "than", "then",
]
# fmt: on
# Edits at least this far (in code points) from the span leave its context intact.
AWAY = anchoring.QUOTE_CONTEXT_CHARS + 8


@dataclass
class Article:
    """Tokens (each a word with the separator after it) and where the span is."""

    tokens: list[str]
    span_first: int  # index of the span's first token
    span_length: int  # tokens in the span

    def text(self) -> str:
        return "".join(self.tokens).rstrip(" \n")

    def span(self) -> tuple[int, int]:
        start = sum(len(token) for token in self.tokens[: self.span_first])
        words = "".join(self.tokens[self.span_first : self.span_first + self.span_length])
        return start, start + len(words.rstrip(" \n"))

    def distance_from_span(self, index: int) -> int:
        """Code points between token ``index`` and the span (0 when inside)."""
        start, end = self.span()
        token_start = sum(len(token) for token in self.tokens[:index])
        token_end = (
            token_start + len(self.tokens[index]) if index < len(self.tokens) else token_start
        )
        if token_end <= start:
            return start - token_end
        if token_start >= end:
            return token_start - end
        return 0


def separator():
    return st.sampled_from([" "] * 9 + ["\n"])


@st.composite
def tokens(draw, min_size=1, max_size=80):
    words = draw(st.lists(st.sampled_from(WORDS), min_size=min_size, max_size=max_size))
    return [word + draw(separator()) for word in words]


@st.composite
def articles(draw, span_words=None):
    before = draw(tokens(min_size=0))
    after = draw(tokens(min_size=0))
    span = span_words if span_words is not None else draw(tokens(max_size=3))
    return Article(before + span + after, len(before), len(span))


edit = st.tuples(
    st.sampled_from(["insert", "delete", "replace"]),
    st.floats(min_value=0, max_value=1),
    st.sampled_from(WORDS),
    separator(),
)


def apply_edits(article: Article, edits, away: int = AWAY) -> Article:
    """Apply word edits that stay ``away`` from the span, tracking where the span goes."""
    tokens_now = list(article.tokens)
    current = Article(tokens_now, article.span_first, article.span_length)
    for kind, where, word, sep in edits:
        index = int(where * len(tokens_now))
        if kind == "insert":
            if current.distance_from_span(index) >= away:
                if index <= current.span_first:
                    current.span_first += 1
                tokens_now.insert(index, word + sep)
            continue
        if index >= len(tokens_now) or current.distance_from_span(index) < away:
            continue
        if kind == "delete":
            del tokens_now[index]
            if index < current.span_first:
                current.span_first -= 1
        else:
            tokens_now[index] = word + sep
    return current


def follow(old: str, span: tuple[int, int], new: str, replacement: str | None):
    start, end = span
    quote = quote_at(old, start, end)
    return reanchor(new, quote, replacement, PositionMap(old, new)(start))


@settings(max_examples=300, deadline=None)
@given(article=articles(), edits=st.lists(edit, max_size=12))
def test_edits_away_from_the_span_keep_it_at_its_new_place(article, edits):
    old = article.text()
    old_span = article.span()
    quote = quote_at(old, *old_span)
    # A quote that stands twice with all its context has no one "right place".
    assume(old.count(quote.prefix + quote.exact + quote.suffix) == 1)
    edited = apply_edits(article, edits)
    new = edited.text()
    new_quote = quote_at(new, *edited.span())
    assume(new.count(new_quote.prefix + new_quote.exact + new_quote.suffix) == 1)

    found = follow(old, old_span, new, "something else")

    assert found.outcome is AnchorOutcome.ANCHORED
    assert (found.start, found.end) == edited.span()
    assert new[found.start : found.end] == quote.exact


# A misspelling that the vocabulary never produces, as a reader's report usually quotes.
TYPO = ["Gul1 Islnad "]


@settings(max_examples=300, deadline=None)
@given(article=articles(span_words=TYPO), edits=st.lists(edit, max_size=12))
def test_deleting_the_span_orphans_it(article, edits):
    old = article.text()
    old_span = article.span()
    edited = apply_edits(article, edits)
    del edited.tokens[edited.span_first : edited.span_first + edited.span_length]
    new = anchoring.normalise(edited.text())
    assert "Islnad" not in new

    found = follow(old, old_span, new, "Gull Island")

    assert found.outcome is AnchorOutcome.ORPHANED
    assert found.start is None


@settings(max_examples=300, deadline=None)
@given(
    article=articles(span_words=TYPO),
    edits=st.lists(edit, max_size=12),
    replacement=st.lists(st.sampled_from([*WORDS, "Gull", "Island"]), max_size=4),
)
def test_replacing_the_span_with_the_suggestion_marks_it_fixed(article, edits, replacement):
    suggestion = " ".join(replacement)
    old = article.text()
    old_span = article.span()
    # Telling a fix from a rewrite needs some context (see BRACKET_MIN_CONTEXT); real
    # articles have it, a one-line test text may not.
    context = quote_at(old, *old_span)
    assume(len(context.prefix.strip()) + len(context.suffix.strip()) >= 20)
    edited = apply_edits(article, edits)
    first = edited.span_first
    edited.tokens[first : first + edited.span_length] = [suggestion + " "] if suggestion else []
    new = anchoring.normalise(edited.text())

    found = follow(old, old_span, new, suggestion)

    assert found.outcome is AnchorOutcome.FIXED
    assert anchoring.same_wording(new[found.start : found.end], suggestion)


@settings(max_examples=300, deadline=None)
@given(article=articles(span_words=TYPO), edits=st.lists(edit, max_size=12))
def test_edits_right_next_to_a_distinct_span_keep_it(article, edits):
    # Edits may rewrite all of the context here; a span that stands once still is found.
    old = article.text()
    old_span = article.span()
    edited = apply_edits(article, edits, away=1)
    new = edited.text()

    found = follow(old, old_span, new, "Gull Island")

    assert found.outcome is AnchorOutcome.ANCHORED
    assert (found.start, found.end) == edited.span()

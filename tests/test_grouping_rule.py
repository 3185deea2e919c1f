"""The rule for "the same mistake" (feedback.grouping.compare), on texts alone: in one
verified text by the spans' positions, and without one by the quotes with their context."""

from __future__ import annotations

import pytest

from feedback import anchoring
from feedback.grouping import Likeness, Standing, compare

TEXT = (
    "The harbour office said the old pier was built in 1968 and rebuilt twice since.\n"
    "The little blue ferry reached the island eleven minutes later, a minute faster then "
    "the timetable promises, and the crew said it would encompase every island stop."
)


def standing(text: str, exact: str, fix: str | None, *, nth: int = 0, verified=True) -> Standing:
    """A report of the ``nth`` ``exact`` in ``text``, as stored (quote with its context)."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(exact, start + 1)
    quote = anchoring.quote_at(text, start, start + len(exact))
    span = (quote.start, quote.end) if verified else None
    return Standing(quote.exact, quote.prefix, quote.suffix, fix, span)


CASES = [
    # (first report, second report, likeness)
    (("then", "than"), ("faster then", "faster than"), Likeness.SAME),
    (("1968", "1966"), ("built in 1968", "built in 1966"), Likeness.SAME),
    (("then", "than"), ("then ", "than "), Likeness.SAME),  # a selection took a space along
    (("encompase", "encompass"), ("encompase", "encompass"), Likeness.SAME),
    (("then", None), ("then", None), Likeness.SAME),  # no fix: the same words
    (("then", "than"), ("then", "that"), Likeness.NEAR),  # same words, another text
    (("then", "than"), ("faster then", "quicker than"), Likeness.NEAR),
    (("then", None), ("faster then", None), Likeness.NEAR),
    (("then", "than"), ("faster", "quicker"), Likeness.NEAR),  # 1 character apart
    (("1968", "1966"), ("was", "is"), Likeness.NEAR),  # 10 characters apart
    (("1968", "1966"), ("pier", "quay"), Likeness.APART),  # 14 characters apart
    (("then", "than"), ("eleven", "twelve"), Likeness.APART),
]


@pytest.mark.parametrize("verified", [True, False], ids=["in-verified-text", "by-context"])
@pytest.mark.parametrize(("first", "second", "expected"), CASES)
def test_the_rule(first, second, expected, verified):
    a = standing(TEXT, *first, verified=verified)
    b = standing(TEXT, *second, verified=verified)
    text = TEXT if verified else None
    assert compare(a, b, text) is expected
    assert compare(b, a, text) is expected  # the order of the two reports does not matter


def test_by_context_two_readers_texts_may_differ_away_from_the_words():
    """Two readers saw different texts (a paragraph was added above, a word changed far
    below): their quotes with context still say it is one place."""
    other = "A new first paragraph, added after the first reader's visit.\n" + TEXT.replace(
        "twice since", "three times since"
    )
    a = standing(TEXT, "encompase", "encompass", verified=False)
    b = standing(other, "encompase", "encompass", verified=False)
    assert compare(a, b, None) is Likeness.SAME
    near = standing(other, "faster then", "faster than", verified=False)
    assert compare(standing(TEXT, "then", "than", verified=False), near, None) is Likeness.SAME


def test_by_context_the_same_words_elsewhere_are_another_mistake():
    text = TEXT + "\nAnother crew member said the route would encompase the old quay as well."
    first = standing(text, "encompase", "encompass", verified=False)
    second = standing(text, "encompase", "encompass", nth=1, verified=False)
    assert compare(first, second, None) is Likeness.APART
    # In the verified text too, where the positions tell them apart.
    assert (
        compare(
            standing(text, "encompase", "encompass"),
            standing(text, "encompase", "encompass", nth=1),
            text,
        )
        is Likeness.APART
    )


def test_by_context_a_short_shared_stretch_is_not_enough():
    """Windows that agree only on the words and a few characters around them are two
    places that happen to read alike."""
    one = "Completely different opening words here, and then the crew said it would encompase it."
    two = "Nothing alike at all before this point, so then the crew said it would encompase it."
    a = standing(one, "encompase", "encompass", verified=False)
    b = standing(two, "encompase", "encompass", verified=False)
    assert compare(a, b, None) is Likeness.APART


def test_by_context_words_at_the_start_of_the_text():
    """A quote at the start of its text has a short prefix: that edge is the text's."""
    text = "Teh ferry returned on Monday, a minute faster than the timetable promises."
    a = standing(text, "Teh", "The", verified=False)
    b = standing(text, "Teh ferry", "The ferry", verified=False)
    assert compare(a, b, None) is Likeness.SAME


def test_positions_from_one_text_only():
    """With a verified text, a report not placed in it (no span there) is compared by
    its quote, never by positions from another text."""
    a = standing(TEXT, "encompase", "encompass")
    moved = "A line added above by the site.\n" + TEXT
    b = standing(moved, "encompase", "encompass")  # its span counts in another text
    b = Standing(b.exact, b.prefix, b.suffix, b.replacement, None)
    assert compare(a, b, TEXT) is Likeness.SAME

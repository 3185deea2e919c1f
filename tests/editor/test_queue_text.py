"""How the queue shows text: context cut at words, titles without the site's suffix,
search text folded."""

# ruff: noqa: RUF001 - Cyrillic, Greek and typographic dashes are the point of some tests

from __future__ import annotations

import pytest

from feedback.editor.filters import after_context, before_context
from feedback.text import folded_for_search, title_without_suffix

TEXT = "The little blue ferry that links the old town with Gull Island"


@pytest.mark.parametrize("size", range(1, len(TEXT) + 2))
def test_context_is_cut_at_word_boundaries(size):
    words = set(TEXT.split())
    before, after = before_context(TEXT, size), after_context(TEXT, size)
    for shown, marker in ((before, before.startswith("…")), (after, after.endswith("…"))):
        assert marker  # the text is as long as the snippet sends: cut somewhere
        assert set(shown.strip("…").split()) <= words, shown  # whole words only
        assert len(shown.strip("…")) <= size
    assert TEXT.endswith(before.lstrip("…"))
    assert TEXT.startswith(after.rstrip("…"))


def test_context_as_the_snippet_sent_it_loses_its_outer_half_word():
    """The snippet sends 32 characters each side, cut at any character; shorter context
    reaches the article's start or end and is whole."""
    prefix = TEXT[-32:]  # "ks the old town with Gull Island"
    suffix = TEXT[:32]  # "The little blue ferry that links", maybe "linkside" in full
    assert before_context(prefix) == "…the old town with Gull Island"
    assert after_context(suffix) == "The little blue ferry that…"
    assert before_context("Gull Island ") == "Gull Island "
    assert after_context(" went back.") == " went back."
    assert after_context(" went back into service on Monday") == " went back into service on…"


def test_context_keeps_a_word_that_starts_right_at_the_cut():
    assert before_context("abc defgh ijk", 9) == "…defgh ijk"
    assert after_context("abc defgh ijk", 9) == "abc defgh…"
    assert before_context("one twothreefour", 8) == "…"  # only half a word would fit
    assert after_context("Расположеный у моря город", 14) == "Расположеный у…"
    assert before_context(None) == after_context("") == ""


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Ferry returns — The Demo Gazette", "Ferry returns"),
        ("Ferry returns | The Demo Gazette", "Ferry returns"),
        ("Ferry returns - The Demo Gazette", "Ferry returns"),
        ("Ferry returns – the demo gazette", "Ferry returns"),
        ("Jean-Luc Picard - The Demo Gazette", "Jean-Luc Picard"),
        ("Ferry returns · Sport — The Demo Gazette", "Ferry returns"),
        ("Ferry returns · Sport", "Ferry returns"),
        ("Ferry returns", "Ferry returns"),
        ("The Demo Gazette", "The Demo Gazette"),  # never left empty
        ("Ferry returns The Demo Gazette", "Ferry returns The Demo Gazette"),
        ("Gazette-Demo", "Gazette-Demo"),
    ],
)
def test_titles_lose_the_site_suffix(title, expected):
    assert title_without_suffix(title, "The Demo Gazette", "· Sport") == expected


def test_titles_without_a_site_name_or_suffix_stay():
    assert title_without_suffix("  A title — ", "", "") == "A title —"


def test_search_text_is_case_folded_in_every_script():
    assert folded_for_search("Расположеный", None, "STRAẞE", "Ὀδυσσεύς") == (
        "расположеный\nstrasse\nὀδυσσεύσ"
    )

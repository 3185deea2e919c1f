"""The normalisation rule and quote location, including the vectors the snippet shares."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedback.anchoring import (
    LINE_BREAKS,
    WHITESPACE,
    locate_quote,
    normalise,
    quote_at,
    text_sha256,
)

VECTORS = json.loads((Path(__file__).parent / "vectors" / "normalisation.json").read_text())

# Text drawn mostly from the characters the rule cares about, plus anything else.
interesting_text = st.text(
    alphabet=st.one_of(
        st.sampled_from([*WHITESPACE, *LINE_BREAKS, "e", "\u0301", "\U0001f525", "ж"]),
        st.characters(),
    ),
    max_size=200,
)


@pytest.mark.parametrize("case", VECTORS["cases"], ids=[c["name"] for c in VECTORS["cases"]])
def test_shared_vectors(case):
    assert normalise(case["input"]) == case["output"]


def test_vectors_cover_the_rule():
    names = {case["name"] for case in VECTORS["cases"]}
    assert {"crlf", "decomposed e acute", "emoji outside BMP", "no-break space"} <= names


@given(interesting_text)
def test_normalising_twice_changes_nothing(text):
    once = normalise(text)
    assert normalise(once) == once


@given(interesting_text)
def test_normalised_text_has_no_whitespace_runs_or_edges(text):
    result = normalise(text)
    assert result == result.strip(WHITESPACE + LINE_BREAKS)
    for char in WHITESPACE:
        if char != " ":
            assert char not in result
    assert "  " not in result
    assert "\n\n" not in result
    assert " \n" not in result
    assert "\n " not in result


@given(st.text(min_size=1, max_size=300), st.data())
def test_located_quote_reads_back_as_exact(text, data):
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    quote = quote_at(text, start, end)
    hint = data.draw(st.one_of(st.none(), st.integers(0, len(text))))
    found = locate_quote(text, quote.exact, quote.prefix, quote.suffix, hint)
    assert found is not None
    assert text[found[0] : found[1]] == quote.exact


@given(st.text(min_size=1, max_size=300), st.data())
def test_exact_position_is_kept(text, data):
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    quote = quote_at(text, start, end)
    assert locate_quote(text, quote.exact, quote.prefix, quote.suffix, start) == (start, end)


def test_context_picks_the_right_occurrence():
    text = "the cat sat on the mat by the cat door"
    assert locate_quote(text, "cat", "by the ", " door") == (30, 33)
    assert locate_quote(text, "cat", "the ", " sat") == (4, 7)


def test_missing_quote_is_none():
    assert locate_quote("the cat sat", "dog") is None
    assert locate_quote("the cat sat", "") is None


def test_positions_count_code_points():
    text = normalise("Fire \U0001f525 at the hall")
    start = text.index("at")
    assert start == 7  # the emoji is one code point (two UTF-16 units in JavaScript)
    assert quote_at(text, start, start + 2).exact == "at"


def test_sha256_is_of_utf8():
    # "é" is two bytes in UTF-8 (c3 a9); its digest, as the browser's Web Crypto computes it.
    assert text_sha256("é") == "4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c"

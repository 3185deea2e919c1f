"""Reading an article out of a page's HTML: the vectors the snippet shares, and the
parser's behaviour on hostile pages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedback import anchoring
from feedback.anchoring import Quote
from feedback.extraction import (
    CANDIDATE_MIN_CHARS,
    MAX_NESTING_COST,
    PageTooComplex,
    extract_article,
    nesting_cost,
    read_text,
)

VECTORS = json.loads(
    (Path(__file__).parent / "vectors" / "extraction.json").read_text(encoding="utf-8")
)


def quotes_of(case) -> list[Quote]:
    return [Quote(q["exact"], q["prefix"], q["suffix"], 0, 0) for q in case.get("quotes", [])]


@pytest.mark.parametrize("case", VECTORS["cases"], ids=[c["name"] for c in VECTORS["cases"]])
def test_shared_vectors(case):
    found = extract_article(
        case["html"],
        page_url=case.get("page_url"),
        article_url=case.get("article_url"),
        quotes=quotes_of(case),
    )
    assert found.text == case["text"]
    assert found.container == case["container"]
    assert found.choice == case["choice"]
    if "title" in case:
        assert found.title == case["title"]


def test_vector_texts_are_normalised():
    # A vector whose text the normaliser would still change could never pass in JS either.
    for case in VECTORS["cases"]:
        assert anchoring.normalise(case["text"]) == case["text"], case["name"]


def test_rules_file_is_one_source_for_the_context_length():
    assert anchoring.QUOTE_CONTEXT_CHARS == anchoring.EXTRACTION_RULES["quote_context_chars"] == 32
    assert len(anchoring.quote_at("x" * 100, 50, 51).prefix) == anchoring.QUOTE_CONTEXT_CHARS


def test_rules_file_ships_inside_the_package():
    from importlib import resources

    assert resources.files("feedback").joinpath("extraction_rules.json").is_file()


def test_deep_nesting_does_not_exhaust_the_stack():
    html = "<span>" * 50_000 + "deep words" + "</span>" * 50_000
    assert extract_article(html).text == "deep words"


def test_pathological_nesting_is_refused_before_parsing():
    # 50,000 nested <div>s would keep the tree builder busy for about ten seconds.
    with pytest.raises(PageTooComplex):
        extract_article("<div>" * 50_000 + "deep words")
    # A deep real page is far below the cap: 2,000 levels and 5,000 paragraphs in them.
    page = "<div>" * 2_000 + "<p>words</p>" * 5_000 + "</div>" * 2_000
    assert nesting_cost(page) < MAX_NESTING_COST
    assert extract_article(page).text.count("words") == 5_000


def test_minimum_counts_code_points():
    emoji = "\U0001f525" * CANDIDATE_MIN_CHARS
    found = extract_article(f"<article id=a>{emoji}</article><p>outside</p>")
    assert found.container == "a"
    found = extract_article(f"<article id=a>{emoji[1:]}</article><p>outside</p>")
    assert found.container == "body"


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(codec="utf-8"), max_size=300))
def test_any_markup_gives_normalised_text(markup):
    found = extract_article(markup)
    assert anchoring.normalise(found.text) == found.text
    assert "\x00" not in found.text


@settings(max_examples=100, deadline=None)
@given(st.text(st.characters(codec="utf-8", exclude_characters="<&\r\x00"), max_size=200))
def test_plain_paragraph_reads_as_its_normalised_text(words):
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(f"<p>{words}</p>")
    expected = anchoring.normalise(words.replace("\n", " "))
    assert read_text(tree.body) == expected

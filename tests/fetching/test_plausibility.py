"""Plausibility: a fetched text is adopted only when it is plausibly the article."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from feedback.anchoring import quote_at
from feedback.plausibility import judge, words_kept
from tests.conftest import ARTICLE_TEXT

STORY = (
    ARTICLE_TEXT + "\nThe council paid for new engines after the winter storms damaged the old "
    "ones, and the crew trained for three weeks on the new controls.\nTickets cost the same "
    "as last year, and children under twelve travel free on weekends until the end of May."
)
PAYWALL = "Subscribe to keep reading\nYou have read all your free articles this month.\nSign in"
CONSENT = (
    "We value your privacy\nWe and our 812 partners store and access information on your "
    "device, such as cookies.\nAccept all\nReject all\nManage options"
)
NOT_FOUND = "Page not found\nSorry, we could not find the page you were looking for.\nHome"


def quote_of(text: str, words: str):
    start = text.index(words)
    return quote_at(text, start, start + len(words))


QUOTES = [
    quote_of(STORY, "then"),
    quote_of(STORY, "eleven minutes"),
    quote_of(STORY, "winter storms"),
]


def test_the_same_text_is_plausible():
    verdict = judge(STORY, QUOTES, None)
    assert verdict.plausible
    assert (verdict.reports_held, verdict.reports_checked) == (3, 3)


def test_the_fixed_text_is_plausible():
    fixed = STORY.replace("faster then", "faster than").replace("winter storms", "winter storm")
    assert judge(fixed, QUOTES, STORY).plausible
    assert judge(fixed, QUOTES, None).plausible


def test_walls_and_error_pages_are_not():
    for page in (PAYWALL, CONSENT, NOT_FOUND):
        assert not judge(page, QUOTES, None).plausible
        verdict = judge(page, QUOTES, STORY)
        assert not verdict.plausible
        assert verdict.reports_held == 0
        assert verdict.words_kept < 0.25


def test_an_empty_shell_is_not():
    verdict = judge("", QUOTES, STORY)
    assert not verdict.plausible
    assert "no text" in verdict.reason
    assert not judge("… — ·", QUOTES, None).plausible


def test_a_teaser_that_holds_a_report_but_lost_the_article_is_not():
    # A paywall that shows the first paragraph: it still holds the first report's context,
    # but not most of the previous verified text.
    first_paragraph = STORY.split("\n")[0] + "\nSubscribe to read on"
    verdict = judge(first_paragraph, [quote_of(STORY, "Gull Island")], STORY)
    assert verdict.reports_held == 1
    assert not verdict.plausible


def test_a_rewrite_that_keeps_most_words_is_plausible_though_reports_lost_their_context():
    edited = STORY.replace(STORY.split("\n")[1], "The first crossing drew a crowd.")
    verdict = judge(edited, QUOTES, STORY)
    assert verdict.reports_held == 1  # "eleven minutes" and "then" stood in the rewritten part
    assert verdict.plausible  # most of the previous text is still there


def test_most_means_more_than_half():
    other = quote_of(STORY, "children under twelve")
    gone = [quote_of("x" * 40 + " unrelated words here " + "y" * 40, "unrelated")] * 2
    assert not judge(STORY, [other, *gone], None).plausible  # 1 of 3
    assert judge(STORY, [other, other, gone[0]], None).plausible  # 2 of 3


def test_line_breaks_do_not_matter():
    # A reader's page may break lines where the fetched page runs on.
    assert judge(STORY.replace("\n", " "), QUOTES, None).plausible


def test_nothing_to_check_against():
    verdict = judge(STORY, [], None)
    assert not verdict.plausible
    assert "nothing" in verdict.reason or "no open report" in verdict.reason
    # Short quotes at the very edges of a tiny text prove nothing either.
    assert not judge("Hi", [quote_at("Hi", 0, 2)], None).plausible


def test_words_kept_counts_repeats():
    assert words_kept("a a a b", "a b") == 0.5
    assert words_kept("", "anything") == 1.0
    assert words_kept("The Ferry", "the ferry") == 1.0


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="0123456789 ,.\n€", max_size=300))
def test_text_with_none_of_the_story_never_passes_for_it(text):
    assert not judge(text, QUOTES, STORY).plausible
    assert not judge(text, QUOTES, None).plausible


@settings(max_examples=100, deadline=None)
@given(st.integers(0, len(STORY)), st.text(alphabet="abc xyz\n", max_size=40))
def test_a_small_edit_anywhere_stays_plausible(at, inserted):
    edited = STORY[:at] + inserted + STORY[at:]
    assert judge(edited, QUOTES, STORY).plausible

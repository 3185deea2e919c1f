"""Each step of anchoring.reanchor, and the thresholds it states."""

from __future__ import annotations

from rapidfuzz import fuzz

from feedback import anchoring
from feedback.anchoring import AnchorOutcome, PositionMap, quote_at, reanchor
from tests.conftest import ARTICLE_TEXT

SPAN = ARTICLE_TEXT.index("then")


def follow(new: str, replacement: str | None = "than", old: str = ARTICLE_TEXT, span=None):
    start, end = span or (SPAN, SPAN + 4)
    return reanchor(new, quote_at(old, start, end), replacement, PositionMap(old, new)(start))


def test_unchanged_text_keeps_the_span_in_place():
    found = follow(ARTICLE_TEXT)
    assert (found.outcome, found.start, found.end, found.step) == (
        AnchorOutcome.ANCHORED,
        SPAN,
        SPAN + 4,
        1,
    )


def test_text_added_before_moves_the_span():
    new = "Updated at noon.\n" + ARTICLE_TEXT
    found = follow(new)
    assert (found.outcome, found.start, found.step) == (AnchorOutcome.ANCHORED, SPAN + 17, 1)


def test_a_moved_paragraph_is_found_by_its_full_quote():
    first, second = ARTICLE_TEXT.split("\n")
    new = second + "\n" + first
    found = follow(new)
    assert found.outcome is AnchorOutcome.ANCHORED
    assert found.start == new.index("then")
    assert found.step in (1, 2)


def test_the_suggested_words_in_place_mean_fixed():
    new = ARTICLE_TEXT.replace("faster then", "faster than")
    found = follow(new)
    assert (found.outcome, found.step) == (AnchorOutcome.FIXED, 3)
    assert new[found.start : found.end] == "than"


def test_fixed_when_the_suggestion_keeps_the_old_words():
    # "minute" -> "whole minute": the old words stand inside the new ones.
    start = ARTICLE_TEXT.index("minute faster")
    new = ARTICLE_TEXT.replace("a minute faster", "a whole minute faster")
    found = follow(new, "whole minute", span=(start, start + 6))
    assert found.outcome is AnchorOutcome.FIXED
    assert new[found.start : found.end] == "whole minute"


def test_other_words_in_place_mean_changed():
    new = ARTICLE_TEXT.replace("faster then", "faster than planned, beating")
    found = follow(new)
    assert (found.outcome, found.step) == (AnchorOutcome.CHANGED, 3)
    assert new[found.start : found.end] == "than planned, beating"


def test_deleted_words_mean_orphaned():
    new = anchoring.normalise(ARTICLE_TEXT.replace("then", ""))
    assert follow(new).outcome is AnchorOutcome.ORPHANED


def test_deleting_is_a_fix_when_deleting_was_suggested():
    new = anchoring.normalise(ARTICLE_TEXT.replace("then", ""))
    found = follow(new, replacement="")
    assert found.outcome is AnchorOutcome.FIXED


def test_a_removed_paragraph_orphans_its_reports():
    new = ARTICLE_TEXT.split("\n")[0]
    assert follow(new).outcome is AnchorOutcome.ORPHANED


def test_words_kept_with_half_their_context_stay_anchored():
    # A short, common word whose prefix was rewritten and suffix kept: step 4.
    start = ARTICLE_TEXT.index("on Monday")
    new = ARTICLE_TEXT.replace("went back into service on", "returned to service on")
    found = follow(new, None, span=(start, start + 2))
    assert (found.outcome, found.step) == (AnchorOutcome.ANCHORED, 4)
    assert found.start == new.index("on Monday")


def test_fuzzy_match_tolerates_small_edits_on_both_sides():
    new = ARTICLE_TEXT.replace(
        "minute faster then the timetable", "minute fastr then teh timetable"
    )
    found = follow(new)
    assert (found.outcome, found.step) == (AnchorOutcome.ANCHORED, 5)
    assert new[found.start : found.end] == "then"


def test_fuzzy_match_recognises_a_fix_amid_small_edits():
    new = ARTICLE_TEXT.replace(
        "minute faster then the timetable", "minute fastr than teh timetable"
    )
    found = follow(new)
    assert (found.outcome, found.step) == (AnchorOutcome.FIXED, 5)


def test_fuzzy_threshold_is_what_decides():
    """Just above FUZZY_MIN_SCORE anchors, just below orphans."""
    long_text = (
        "The council met on Tuesday to discuss the harbour budget for next year. "
        "Members agreed to repair the quay, paint the ferry and hire two more crew. "
        "A vote on the new timetable was put off until the spring session."
    )
    # A short, common word: only its context tells where it stands (step 4 needs half
    # of that context intact, which the edits below never leave).
    start = long_text.index("the ferry")
    quote = quote_at(long_text, start, start + len("the"))
    needle = quote.prefix + quote.exact + quote.suffix

    def edited(changes: int) -> str:
        # Change every n-th letter of the quote's neighbourhood to "x".
        chars = list(long_text)
        positions = [
            at
            for at in range(start - len(quote.prefix), start + len(needle) - len(quote.prefix))
            if chars[at].isalpha() and not start <= at < start + len(quote.exact)
        ]
        step = max(1, len(positions) // max(1, changes))
        for at in positions[::step][:changes]:
            chars[at] = "x"
        return "".join(chars)

    scores = {}
    for changes in range(1, 40):
        new = edited(changes)
        window = new[max(0, start - 300) : start + 300]
        scores[changes] = fuzz.partial_ratio(needle, window)
    above = max(n for n, score in scores.items() if score >= anchoring.FUZZY_MIN_SCORE)
    below = min(n for n, score in scores.items() if score < anchoring.FUZZY_MIN_SCORE)
    # With half of the context changed, steps 1-4 cannot help; only the score decides.
    kept = reanchor(edited(above), quote, None, start)
    lost = reanchor(edited(below), quote, None, start)
    assert (kept.outcome, kept.step) == (AnchorOutcome.ANCHORED, 5)
    assert lost.outcome is AnchorOutcome.ORPHANED


def test_a_rewritten_sentence_orphans_the_report():
    first = ARTICLE_TEXT.split("\n")[0]
    new = first + "\nThe crossing took eleven minutes, one fewer than timetabled."
    assert follow(new).outcome is AnchorOutcome.ORPHANED


def test_position_map_is_exact_around_word_edits():
    old = "alpha beta gamma delta epsilon zeta eta theta"
    new = "alpha gamma delta INSERTED epsilon zeta eta theta iota"
    mapping = PositionMap(old, new)
    for word in ("alpha", "gamma", "delta", "epsilon", "theta"):
        assert mapping(old.index(word)) == new.index(word)

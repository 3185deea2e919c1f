"""The queue's views in Chromium: tabs with counts, search on `/` (any script, reporters'
names), chips, folded filters, the cursor kept across reloads and bulk actions, the sticky
bulk bar, the `f` and `m` keys, and the phone layout; keyboard only, axe at zero."""

# ruff: noqa: RUF001 - Cyrillic reports are the point of some of these tests

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from feedback.demo import DEMO_EDITOR_EMAIL
from tests.browser.editor_helpers import (
    badge,
    expect_current,
    open_queue,
    post_report,
    post_reports,
    row,
    row_ids,
    rows,
    sign_in,
    statuses,
    wait_for_script,
)
from tests.browser.test_snippet_access import assert_no_axe_violations

pytestmark = pytest.mark.browser

CITY = "Расположеный у моря город принимает гостей круглый год, и набережная полна людей."


@pytest.fixture(autouse=True)
def no_reports_yet(live_server):
    live_server.clear()


def tab(page: Page, name: str):
    return page.locator(f'nav.tabs a[data-tab="{name}"]')


def press_until_focused(page: Page, selector: str, key: str = "Tab", limit: int = 60) -> None:
    """Move the focus with the keyboard alone until it is on ``selector``."""
    target = page.locator(selector)
    for _ in range(limit):
        if target.evaluate("(element) => element === document.activeElement"):
            return
        page.keyboard.press(key)
    raise AssertionError(f"the keyboard never reached {selector}")


def test_tabs_with_counts_by_keyboard(page: Page, live_server):
    new_one, accepted, fixed = post_reports(live_server, 3)
    sign_in(page, live_server)
    open_queue(page, live_server)
    expect_current(page, fixed)
    page.keyboard.press("f")  # mark fixed; the next report is current
    expect(badge(page, fixed)).to_have_text("fixed")
    expect_current(page, accepted)
    page.keyboard.press("a")
    expect(badge(page, accepted)).to_have_text("accepted")
    expect_current(page, new_one)
    assert statuses(live_server) == {new_one: "new", accepted: "accepted", fixed: "fixed"}

    page.reload()
    wait_for_script(page)
    expect(tab(page, "new")).to_have_attribute("aria-current", "page")
    expect(tab(page, "new").locator(".count")).to_have_text("1")
    expect(tab(page, "accepted")).to_have_text(re.compile(r"Accepted, waiting for the fix\s+1"))
    expect(tab(page, "done").locator(".count")).to_have_text("1")
    expect(tab(page, "gone").locator(".count")).to_have_text("0")
    assert row_ids(page) == [new_one]

    # To the Done tab with the keyboard alone.
    press_until_focused(page, 'nav.tabs a[data-tab="done"]')
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"tab=done"))
    wait_for_script(page)
    assert row_ids(page) == [fixed]
    expect(tab(page, "done")).to_have_attribute("aria-current", "page")
    assert_no_axe_violations(page)


def test_slash_searches_in_any_script_and_reporters_names(page: Page, live_server):
    city = post_report(
        live_server,
        text=CITY,
        exact="Расположеный",
        replacement="Расположенный",
        title="Город у моря — The Demo Gazette",
        comment="Двойная «н» в причастии.",
    )
    named = post_report(live_server, reporter={"name": "Grace Hopper"}, comment="Typo.")
    other = post_report(live_server, exact="ferry", replacement="boat", comment="Boat.")
    sign_in(page, live_server)
    open_queue(page, live_server)
    assert set(row_ids(page)) == {city, named, other}

    page.keyboard.press("/")
    search = page.locator("#search")
    expect(search).to_be_focused()
    page.keyboard.type("расположеный")  # lower case: the report has a capital
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"q="))
    wait_for_script(page)
    assert row_ids(page) == [city]
    # The title is shown without the site's name.
    expect(row(page, city).locator("td.article a")).to_have_text("Город у моря")
    chip = page.locator(".chips .chip")
    expect(chip).to_have_count(1)
    expect(chip).to_contain_text("Search: “расположеный”")

    # A reporter's name, in another case; the search box holds the last search.
    page.keyboard.press("/")
    expect(search).to_be_focused()
    expect(search).to_have_value("расположеный")
    page.keyboard.type("HOPPER")  # "/" selected the old words: typing replaces them
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"q=HOPPER"))
    wait_for_script(page)
    assert row_ids(page) == [named]
    assert_no_axe_violations(page)


def test_chips_remove_one_filter_each_by_keyboard(page: Page, live_server):
    wanted = post_report(live_server, kind="factual", comment="The bridge opened in 1998.")
    post_report(live_server, kind="typo", comment="The bridge is misspelt.")
    post_report(live_server, kind="factual", comment="Wrong mayor.")
    sign_in(page, live_server)
    open_queue(page, live_server, "?kind=factual&q=bridge")
    assert row_ids(page) == [wanted]
    # The filters are folded away; the chips say what is in force.
    expect(page.locator("details.more-filters")).not_to_have_attribute("open", "")
    expect(page.locator('select[name="kind"]')).to_be_hidden()
    expect(page.locator("details.more-filters summary .count")).to_have_text("2")
    chips = page.locator(".chips .chip")
    expect(chips).to_have_count(2)

    press_until_focused(page, '.chips a[aria-label="Remove the filter Kind: factual"]')
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/editor/\?q=bridge$"))
    wait_for_script(page)
    assert len(row_ids(page)) == 2  # both bridges, any kind
    expect(chips).to_have_count(1)

    # Unfold the filters by keyboard, pick a kind, apply.
    press_until_focused(page, "details.more-filters > summary")
    page.keyboard.press("Enter")
    expect(page.locator("details.more-filters")).to_have_attribute("open", "")
    page.locator('select[name="kind"]').focus()
    page.keyboard.press("End")  # the last kind: other
    press_until_focused(page, 'form.filters button:has-text("Apply")')
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"kind=other"))
    expect(page.locator(".empty")).to_contain_text("No reports match.")
    assert_no_axe_violations(page)


def test_the_cursor_stays_put_after_reloads_and_bulk_actions(page: Page, live_server):
    reports = post_reports(live_server, 6)
    newest_first = list(reversed(reports))
    sign_in(page, live_server)
    open_queue(page, live_server)
    for _ in range(3):
        page.keyboard.press("j")
    expect_current(page, newest_first[3])
    page.reload()
    wait_for_script(page)
    expect_current(page, newest_first[3])

    # Select the current report and the next one, reject both: they leave the New tab and
    # the cursor is on the report now in their place.
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(page.locator("#selected-count")).to_have_text("2 selected")
    page.get_by_role("button", name="Reject", exact=True).click()
    expect(page.locator("#queue tbody tr")).to_have_count(4)
    assert row_ids(page) == newest_first[:3] + newest_first[5:]
    expect_current(page, newest_first[5])


def test_the_bulk_bar_stays_on_screen_and_assigns_to_me(page: Page, live_server):
    reports = post_reports(live_server, 30)
    sign_in(page, live_server)
    page.set_viewport_size({"width": 1280, "height": 800})
    open_queue(page, live_server)
    for _ in range(25):
        page.keyboard.press("j")
    page.keyboard.press("x")
    bar = page.locator(".bulk-bar")
    box = bar.bounding_box()
    assert page.evaluate("window.scrollY") > 300  # the list scrolled to the cursor
    assert box is not None
    assert -1 <= box["y"] <= 5, box  # and the bar is at the top
    chosen = list(reversed(reports))[25]
    page.get_by_role("button", name="Assign to me").click()
    expect(row(page, chosen).locator(".assignee")).to_have_text("Demo Editor")
    expect_current(page, chosen)


def test_m_assigns_the_current_report_to_me(page: Page, live_server):
    older, newer = post_reports(live_server, 2)
    sign_in(page, live_server)
    open_queue(page, live_server)
    page.keyboard.press("j")
    expect_current(page, older)
    page.keyboard.press("m")
    expect(row(page, older).locator(".assignee")).to_have_text("Demo Editor")
    expect(page.locator("p.announce")).to_have_text("Assigned to Demo Editor.")
    expect(row(page, newer).locator(".assignee")).to_have_text("–")
    page.reload()
    wait_for_script(page)
    expect(row(page, older).locator(".assignee")).to_have_text("Demo Editor")
    # The shortcuts list names the new keys.
    page.keyboard.press("?")
    shortcuts = page.locator("#shortcuts")
    for words in ("Mark fixed", "Assign to me", "Search the queue"):
        expect(shortcuts).to_contain_text(words)


def test_phones_get_cards_and_no_sideways_scrolling(browser, live_server):
    post_report(
        live_server,
        text=CITY,
        exact="Расположеный",
        replacement="Расположенный",
        title="Город у моря — The Demo Gazette",
        comment="Двойная «н» в причастии; " + "очень длинный комментарий " * 12,
        reporter={"name": "Нина Петрова", "email": "nina@example.org", "notify": True},
    )
    post_reports(live_server, 4)
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    try:
        page = context.new_page()
        sign_in(page, live_server, DEMO_EDITOR_EMAIL)
        open_queue(page, live_server, "?kind=typo")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width
        first = rows(page).first
        assert first.evaluate("(row) => getComputedStyle(row).display") == "flex"
        box = first.bounding_box()
        assert box is not None
        assert box["width"] <= 390
        expect(page.locator("table.queue thead")).to_have_css("position", "absolute")
        expect(page.locator('select[name="kind"]')).to_be_hidden()  # folded
        expect(page.locator("#search")).to_be_visible()
        assert_no_axe_violations(page)
        page.locator("details.more-filters > summary").click()
        expect(page.locator('select[name="kind"]')).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert_no_axe_violations(page)
    finally:
        context.close()

"""Groups in Chromium: two readers' overlapping reports of one mistake are one row; a
close report with another fix is its own row, flagged "possible duplicate", and the flag
leads (by keyboard too) to the report it may repeat, whose page lists it back; at phone
width the flag wraps instead of widening the page; axe finds nothing."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.editor_helpers import open_queue, post_report, row, row_ids, sign_in
from tests.browser.test_snippet_access import assert_no_axe_violations

pytestmark = pytest.mark.browser

PATH = "/news/ferry-returns"


@pytest.fixture(autouse=True)
def no_reports_yet(live_server):
    live_server.clear()


def test_possible_duplicates_are_flagged_and_lead_to_each_other(page: Page, live_server):
    first = post_report(live_server, path=PATH, exact="then", replacement="than")
    same = post_report(live_server, path=PATH, exact="faster then", replacement="faster than")
    other = post_report(live_server, path=PATH, exact="then", replacement="that")

    sign_in(page, live_server)
    open_queue(page, live_server)
    assert row_ids(page) == [other, first]  # "faster then" joined the first group
    expect(row(page, first).locator(".readers")).to_have_text("2")
    expect(row(page, first).locator(".possible-duplicate")).to_have_count(0)
    flag = row(page, other).locator(".possible-duplicate")
    expect(flag).to_have_text("possible duplicate of “then” → “than”")
    assert_no_axe_violations(page)

    # The flag is a link a keyboard reaches: focus it and follow it.
    flag.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/editor/suggestions/{first}")
    back = page.locator("#possibly-repeated")
    expect(back).to_contain_text("Later reports may repeat this one")
    expect(back.locator(".possible-duplicate")).to_have_text("possible duplicate “then” → “that”")
    assert_no_axe_violations(page)

    back.locator(".possible-duplicate").click()
    expect(page).to_have_url(f"{live_server.url}/editor/suggestions/{other}")
    expect(page.locator("#possible-duplicate")).to_contain_text(
        "possible duplicate of “then” → “than”"
    )
    assert_no_axe_violations(page)
    assert same not in row_ids(page)


def test_the_flag_wraps_on_a_phone(browser, live_server):
    post_report(live_server, path=PATH, exact="then", replacement="than")
    other = post_report(
        live_server,
        path=PATH,
        exact="a minute faster then the timetable",
        replacement="one minute quicker than the published timetable",
    )
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        sign_in(page, live_server)
        open_queue(page, live_server)
        expect(row(page, other).locator(".possible-duplicate")).to_be_visible()
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        page.goto(f"{live_server.url}/editor/suggestions/{other}")
        expect(page.locator("#possible-duplicate")).to_be_visible()
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
    finally:
        context.close()

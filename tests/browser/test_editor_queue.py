"""The editor's triage queue in Chromium: signing in, keyboard triage, bulk actions,
filters kept in the URL, and keyset pages."""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from feedback.demo import DEMO_EDITOR_EMAIL, DEMO_EDITOR_PASSWORD
from feedback.extensions import db
from feedback.models import Suggestion, SuggestionStatus
from tests.browser.editor_helpers import (
    CURRENT,
    badge,
    expect_current,
    open_filters,
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

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def no_reports_yet(live_server):
    live_server.clear()


def test_sign_in_through_the_form(page: Page, live_server):
    sign_in_url = live_server.url + "/editor/sign-in"
    page.goto(sign_in_url)
    page.locator('input[name="email"]').fill(DEMO_EDITOR_EMAIL)
    page.locator('input[name="password"]').fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    expect(page).to_have_url(sign_in_url)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    # The email is kept; the password is not.
    expect(page.locator('input[name="email"]')).to_have_value(DEMO_EDITOR_EMAIL)
    expect(page.locator('input[name="password"]')).to_have_value("")

    page.locator('input[name="password"]').fill(DEMO_EDITOR_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live_server.url + "/editor/")
    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_the_queue_asks_for_a_sign_in_first(page: Page, live_server):
    page.goto(live_server.url + "/editor/")
    expect(page).to_have_url(re.compile(re.escape(live_server.url) + r"/editor/sign-in\b"))


def test_keyboard_triage(page: Page, live_server):
    oldest, second, third, newest = post_reports(live_server, 4)
    sign_in(page, live_server)
    open_queue(page, live_server)
    assert row_ids(page) == [newest, third, second, oldest]
    expect_current(page, newest)

    page.keyboard.press("j")
    expect_current(page, third)
    page.keyboard.press("k")
    expect_current(page, newest)

    # a accepts the current report, then the next one is current.
    page.keyboard.press("a")
    expect(badge(page, newest)).to_have_text("accepted")
    expect(row(page, newest)).to_have_class(re.compile(r"\bdone\b"))
    expect_current(page, third)

    page.keyboard.press("j")
    expect_current(page, second)
    page.keyboard.press("r")
    expect(badge(page, second)).to_have_text("rejected")
    expect_current(page, oldest)

    # Typing in the search field is typing, not a shortcut: the current report stays new.
    search = page.locator('input[name="q"]')
    search.click()
    page.keyboard.type("a")
    expect(search).to_have_value("a")
    page.keyboard.press("j")
    expect(search).to_have_value("aj")
    expect_current(page, oldest)
    page.evaluate("document.activeElement.blur()")

    page.keyboard.press("k")
    page.keyboard.press("k")
    expect_current(page, third)
    page.keyboard.press("s")
    expect(badge(page, third)).to_have_text("spam")
    expect_current(page, second)

    expect(badge(page, oldest)).to_have_text("new")
    expect(row(page, oldest)).not_to_have_class(re.compile(r"\bdone\b"))
    assert statuses(live_server) == {
        newest: "accepted",
        third: "spam",
        second: "rejected",
        oldest: "new",
    }

    # ? shows the shortcuts, and hides them again.
    dialog = page.locator("#shortcuts")
    expect(dialog).to_be_hidden()
    page.keyboard.press("?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading", name="Keyboard shortcuts")).to_be_visible()
    # With the dialog open, the other shortcuts rest.
    page.keyboard.press("j")
    expect_current(page, second)
    page.keyboard.press("?")
    expect(dialog).to_be_hidden()

    # A reload shows what was stored: only the new report is left in the New tab.
    page.reload()
    wait_for_script(page)
    assert row_ids(page) == [oldest]
    expect(badge(page, oldest)).to_have_text("new")
    open_queue(page, live_server, "?tab=accepted")
    assert row_ids(page) == [newest]
    expect(badge(page, newest)).to_have_text("accepted")


@pytest.mark.parametrize("key", ["o", "Enter"])
def test_open_the_current_report_and_accept_it_there(page: Page, live_server, key):
    older, newer = post_reports(live_server, 2)
    sign_in(page, live_server)
    open_queue(page, live_server)
    page.keyboard.press("j")
    expect_current(page, older)
    page.keyboard.press(key)
    report_url = f"{live_server.url}/editor/suggestions/{older}"
    expect(page).to_have_url(report_url)
    status = page.locator("#status")
    expect(status).to_have_text("new")
    expect(page.locator("main > p.announce")).to_have_count(1)  # the script is running

    # u goes back to the queue, the cursor on the report.
    page.keyboard.press("u")
    expect(page).to_have_url(
        re.compile(re.escape(live_server.url) + rf"/editor/\?after=\S+#report-{older}$")
    )
    expect_current(page, older)
    page.keyboard.press(key)
    expect(page).to_have_url(report_url)
    expect(page.locator("main > p.announce")).to_have_count(1)

    # Acting moves on: this is the last report, so back to the queue, where it has left
    # the tab of new reports.
    page.keyboard.press("a")
    expect(page.locator("#undo-toast")).to_contain_text("The report is now accepted.")
    expect(page).to_have_url(live_server.url + "/editor/")
    wait_for_script(page)
    assert row_ids(page) == [newer]
    assert statuses(live_server) == {older: "accepted", newer: "new"}


def test_bulk_reject_the_selected_reports(page: Page, live_server):
    oldest, middle, newest = post_reports(live_server, 3)
    sign_in(page, live_server)
    open_queue(page, live_server)
    assert row_ids(page) == [newest, middle, oldest]

    count = page.locator("#selected-count")
    page.keyboard.press("x")  # the current row: the newest
    expect(row(page, newest).locator('input[name="ids"]')).to_be_checked()
    expect(count).to_have_text("1 selected")
    row(page, oldest).locator('input[name="ids"]').check()  # and one box by the mouse
    expect(count).to_have_text("2 selected")
    expect(row(page, middle).locator('input[name="ids"]')).not_to_be_checked()

    page.get_by_role("button", name="Reject", exact=True).click()
    # What was done, in the undo toast.
    expect(page.locator("#undo-toast .toast-message")).to_have_text("2 reports now rejected.")
    expect(page).to_have_url(re.compile(re.escape(live_server.url) + r"/editor/\??$"))
    wait_for_script(page)
    assert row_ids(page) == [middle]
    assert statuses(live_server) == {newest: "rejected", middle: "new", oldest: "rejected"}


def test_shortcuts_work_after_ticking_a_box_with_the_mouse(page: Page, live_server):
    oldest, middle, newest = post_reports(live_server, 3)
    sign_in(page, live_server)
    open_queue(page, live_server)
    row(page, newest).locator('input[name="ids"]').check()
    expect(page.locator("#selected-count")).to_have_text("1 selected")
    # The ticked box has the focus now; a checkbox takes no typing, so j and x still work.
    page.keyboard.press("j")
    expect_current(page, middle)
    page.keyboard.press("x")
    expect(page.locator("#selected-count")).to_have_text("2 selected")
    expect(row(page, oldest).locator('input[name="ids"]')).not_to_be_checked()


# Holds every fetch of the page until the test opens the gate; counts those unanswered.
GATED_FETCH = """(() => {
    const original = window.fetch.bind(window);
    let open;
    const gate = new Promise((resolve) => { open = resolve; });
    window.__calls = [];
    window.__pending = 0;
    window.__release = () => open();
    window.fetch = (url, options) => {
        window.__calls.push([String(url), String(options && options.body)]);
        window.__pending += 1;
        return gate.then(() => original(url, options)).finally(() => { window.__pending -= 1; });
    };
})();"""


def test_a_quick_second_key_does_not_act_on_the_same_report(page: Page, live_server):
    older, newer = post_reports(live_server, 2)
    sign_in(page, live_server)
    page.add_init_script(GATED_FETCH)
    open_queue(page, live_server)
    expect_current(page, newer)
    page.keyboard.press("a")
    page.keyboard.press("r")  # before the server has answered the a
    calls = page.evaluate("window.__calls")
    page.evaluate("window.__release()")
    page.wait_for_function("() => window.__pending === 0")
    expect(badge(page, newer)).not_to_have_text("new")

    newer_url = f"/editor/suggestions/{newer}/status"
    assert calls[0] == [newer_url, "status=accepted"]
    assert [newer_url, "status=rejected"] not in calls, calls
    assert statuses(live_server)[newer] == "accepted"
    assert statuses(live_server)[older] in ("new", "rejected")


def set_status(live_server, report_id: str, status: SuggestionStatus) -> None:
    """Set a report's status straight in the database (test set-up only)."""
    with live_server.app.app_context():
        report = db.session.get(Suggestion, uuid.UUID(report_id))
        report.status = status
        db.session.commit()
        db.session.remove()


def test_filters_live_in_the_url(page: Page, live_server):
    wanted = post_report(
        live_server, kind="factual", comment="The bridge opened in 1998, not 1989."
    )
    wrong_kind = post_report(live_server, kind="typo", comment="The bridge is misspelt.")
    no_match = post_report(live_server, kind="factual", comment="Wrong mayor named.")
    accepted = post_report(live_server, kind="factual", comment="The bridge is older.")
    set_status(live_server, accepted, SuggestionStatus.ACCEPTED)

    sign_in(page, live_server)
    open_queue(page, live_server)
    assert set(row_ids(page)) == {wanted, wrong_kind, no_match}

    form = page.locator("form.filters")
    open_filters(page)
    form.locator('select[name="kind"]').select_option("factual")
    form.locator('input[name="q"]').fill("bridge")
    form.get_by_role("button", name="Apply").click()

    expect(page).to_have_url(re.compile(r"kind=factual"))
    wait_for_script(page)
    query = parse_qs(urlsplit(page.url).query)
    assert query["kind"] == ["factual"]
    assert query["q"] == ["bridge"]
    assert "tab" not in query
    assert row_ids(page) == [wanted]
    for absent in (wrong_kind, no_match, accepted):
        expect(row(page, absent)).to_have_count(0)
    # The form shows the filters it applied, and the chips name them.
    expect(form.locator('select[name="kind"]')).to_have_value("factual")
    expect(form.locator('input[name="q"]')).to_have_value("bridge")
    expect(page.locator(".chips .chip")).to_contain_text(["Search: “bridge”", "Kind: factual"])

    # The URL is a bookmark: a new page opened on it shows the same rows.
    bookmark = page.url
    again = page.context.new_page()
    again.goto(bookmark)
    wait_for_script(again)
    assert row_ids(again) == [wanted]
    expect(again.locator('form.filters select[name="kind"]')).to_have_value("factual")
    again.close()


def test_a_bookmarked_filter_survives_signing_in(browser, live_server):
    wanted = post_report(live_server, kind="unclear", comment="Which quay?")
    post_report(live_server, kind="typo")
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/editor/?kind=unclear")
        expect(page).to_have_url(re.compile(r"/editor/sign-in\?"))
        page.locator('input[name="email"]').fill(DEMO_EDITOR_EMAIL)
        page.locator('input[name="password"]').fill(DEMO_EDITOR_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(f"{live_server.url}/editor/?kind=unclear")
        wait_for_script(page)
        assert row_ids(page) == [wanted]
    finally:
        context.close()


def walk_pages(page: Page) -> tuple[list[list[str]], list[str]]:
    """Next to the last page, then Previous back to the first: each page's row ids and URL."""
    pages: list[list[str]] = []
    urls: list[str] = []

    def visit() -> None:
        wait_for_script(page)
        urls.append(page.url)
        pages.append(row_ids(page))

    visit()
    for rel in ("next", "prev"):
        link = page.locator(f'nav.pager a[rel="{rel}"]')
        while link.count():
            link.click()
            expect(page).to_have_url(re.compile("after=" if rel == "next" else "before="))
            visit()
            assert len(pages) < 20, "the pages never end"
    return pages, urls


def test_pages_walk_forwards_and_back(page: Page, live_server, monkeypatch):
    monkeypatch.setitem(live_server.app.config, "QUEUE_PAGE_SIZE", 3)
    created = post_reports(live_server, 7)
    newest_first = list(reversed(created))
    sign_in(page, live_server)
    open_queue(page, live_server)

    pages, urls = walk_pages(page)
    expect(page.locator('nav.pager a[rel="prev"]')).to_have_count(0)

    assert pages[0] == newest_first[0:3]
    assert pages[1] == newest_first[3:6]
    assert pages[2] == newest_first[6:7]
    assert pages[3] == pages[1]
    assert pages[4] == pages[0]
    forwards = [report_id for ids in pages[:3] for report_id in ids]
    assert forwards == newest_first
    assert len(set(forwards)) == 7
    for url in urls:
        query = parse_qs(urlsplit(url).query)
        assert not {"offset", "page", "start"} & set(query), url
    assert [sorted(parse_qs(urlsplit(url).query)) for url in urls] == [
        [],
        ["after"],
        ["after"],
        ["before"],
        ["before"],
    ]
    # j moves within the page only.
    for _ in range(5):
        page.keyboard.press("j")
    expect(rows(page).last).to_have_class(CURRENT)


def test_pages_keep_the_filters_and_the_order(page: Page, live_server, monkeypatch):
    monkeypatch.setitem(live_server.app.config, "QUEUE_PAGE_SIZE", 2)
    factual = []
    for number in range(7):
        kind = "factual" if number % 2 == 0 else "typo"
        report_id = post_report(live_server, kind=kind, title=f"Story {number}")
        if kind == "factual":
            factual.append(report_id)
    sign_in(page, live_server)
    open_queue(page, live_server)
    form = page.locator("form.filters")
    open_filters(page)
    form.locator('select[name="kind"]').select_option("factual")
    form.locator('select[name="sort"]').select_option("oldest")
    form.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"sort=oldest"))

    pages, urls = walk_pages(page)
    assert pages == [factual[0:2], factual[2:4], factual[0:2]]
    for url in urls:
        query = parse_qs(urlsplit(url).query)
        assert query["kind"] == ["factual"], url
        assert query["sort"] == ["oldest"], url


def test_pages_in_most_reported_order(page: Page, live_server, monkeypatch):
    monkeypatch.setitem(live_server.app.config, "QUEUE_PAGE_SIZE", 2)
    readers = {"a": 3, "b": 1, "c": 2, "d": 1, "e": 2}
    heads = {name: post_report(live_server, path=f"/most/{name}") for name in readers}
    for name, count in readers.items():
        for _ in range(count - 1):  # the same words, the same fix: one more reader
            post_report(live_server, path=f"/most/{name}")
    sign_in(page, live_server)
    open_queue(page, live_server, "?sort=most")
    expect(rows(page).first.locator("td.number")).to_have_text("3")

    pages, urls = walk_pages(page)
    order = [heads[name] for name in ("a", "e", "c", "d", "b")]
    assert pages == [order[0:2], order[2:4], order[4:5], order[2:4], order[0:2]]
    assert all(parse_qs(urlsplit(url).query)["sort"] == ["most"] for url in urls)

"""One report's page in Chromium, by keyboard: everything needed to decide above the fold,
j/k through the queue's filter, acting moves on, u back to the queue at the report, the
undo toast (and z), the message to the readers, "Duplicate of", text gone, and axe."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from feedback import revisions
from feedback.extensions import db
from feedback.models import AuditEvent, OutboxMessage, Site, Suggestion
from feedback.models.core import RevisionSource
from tests.browser.editor_helpers import (
    badge,
    expect_current,
    open_queue,
    post_report,
    row,
    sign_in,
    statuses,
)
from tests.browser.test_snippet_access import assert_no_axe_violations
from tests.conftest import ARTICLE_TEXT

pytestmark = pytest.mark.browser

DESK = {"width": 1280, "height": 800}
TOAST = "#undo-toast"


@pytest.fixture(autouse=True)
def no_reports_yet(live_server):
    live_server.clear()


@pytest.fixture
def desk(browser):
    context = browser.new_context(viewport=DESK)
    yield context.new_page()
    context.close()


def above_the_fold(page: Page, selector: str) -> None:
    """The element is on the first screen, whole, without scrolling."""
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    assert page.evaluate("window.scrollY") == 0
    assert box["y"] >= 0, (selector, box)
    assert box["y"] + box["height"] <= page.viewport_size["height"], (selector, box)


def script_ready(page: Page) -> None:
    """The page's keyboard script runs (keys pressed before it loads would be lost)."""
    expect(page.locator("main > p.announce")).to_have_count(1)


def report_url(live_server, report_id: str) -> re.Pattern:
    return re.compile(re.escape(f"{live_server.url}/editor/suggestions/{report_id}") + r"(\?|$)")


def test_decide_first_then_move_on_and_undo_by_keyboard(desk: Page, live_server):
    oldest = post_report(live_server, title="Story one", comment="Comparative, so “than”.")
    middle = post_report(live_server, exact="little", replacement="small", title="Story two")
    newest = post_report(live_server, exact="eleven", replacement="twelve", kind="factual")
    page = desk
    sign_in(page, live_server)
    open_queue(page, live_server, "?kind=typo")  # a filter the report page walks
    expect_current(page, middle)
    page.keyboard.press("o")
    expect(page).to_have_url(report_url(live_server, middle))
    script_ready(page)
    assert "kind=typo" in page.url

    # The sentence with the change inline, the comment, the actions with their keys.
    sentence = page.locator("#sentence")
    expect(sentence).to_have_text(
        "The littlesmall blue ferry that links the old town with Gull Island went back into "
        "service on Monday."
    )
    expect(sentence.locator("del")).to_have_text("little")
    expect(sentence.locator("ins")).to_have_text("small")
    for selector in ("#sentence", "#comment", "#status-form", "#live-link"):
        above_the_fold(page, selector)
    expect(page.locator('#status-form button[data-status="accepted"] kbd')).to_have_text("a")
    assert_no_axe_violations(page)

    # j: the next report of the filtered queue (the factual one is not in it); k: back.
    page.keyboard.press("j")
    expect(page).to_have_url(report_url(live_server, oldest))
    script_ready(page)
    expect(page.locator("#next-report")).to_have_count(0)
    page.keyboard.press("k")
    expect(page).to_have_url(report_url(live_server, middle))
    script_ready(page)

    # Acting moves on, and the toast offers to undo it.
    page.keyboard.press("r")
    expect(page).to_have_url(report_url(live_server, oldest))
    script_ready(page)
    toast = page.locator(TOAST)
    expect(toast).to_be_visible()
    expect(toast).to_contain_text("The report is now rejected.")
    assert statuses(live_server)[middle] == "rejected"
    assert_no_axe_violations(page)

    # z takes it back and returns to that report, as it was.
    page.keyboard.press("z")
    expect(page).to_have_url(report_url(live_server, middle))
    script_ready(page)
    expect(page.locator("#status")).to_have_text("new")
    expect(toast).to_be_hidden()
    assert statuses(live_server) == {oldest: "new", middle: "new", newest: "new"}
    with live_server.app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.suggestion_id == uuid.UUID(middle))
        ).all()
        assert [action.value for action in actions] == ["status", "undo"]
        db.session.remove()

    # u: back to the queue, its filter kept, the cursor on this report.
    page.keyboard.press("u")
    expect(page).to_have_url(re.compile(r"/editor/\?.*kind=typo.*#report-" + middle))
    expect_current(page, middle)


def test_the_toast_undoes_in_the_queue_and_after_a_bulk_action(page: Page, live_server):
    first = post_report(live_server, title="Story one")
    second = post_report(live_server, exact="little", replacement="small", title="Story two")
    sign_in(page, live_server)
    open_queue(page, live_server)
    expect_current(page, second)

    page.keyboard.press("a")
    toast = page.locator(TOAST)
    expect(toast).to_contain_text("The report is now accepted.")
    expect(badge(page, second)).to_have_text("accepted")
    assert_no_axe_violations(page)
    page.keyboard.press("z")
    expect(badge(page, second)).to_have_text("new")
    expect(row(page, second)).not_to_have_class(re.compile(r"\bdone\b"))
    expect(toast).to_be_hidden()
    expect_current(page, second)
    assert statuses(live_server)[second] == "new"

    # A bulk action reloads the queue without its reports; Undo brings them back.
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    page.get_by_role("button", name="Spam", exact=True).click()
    expect(toast).to_contain_text("2 reports now spam.")
    expect(row(page, first)).to_have_count(0)
    toast.get_by_role("button", name="Undo").focus()
    page.keyboard.press("Enter")
    expect(row(page, first)).to_have_count(1)
    expect(row(page, second)).to_have_count(1)
    assert statuses(live_server) == {first: "new", second: "new"}


def test_the_toast_goes_when_the_time_is_up(page: Page, live_server, monkeypatch):
    monkeypatch.setitem(live_server.app.config, "UNDO_SECONDS", 2)
    report = post_report(live_server)
    sign_in(page, live_server)
    open_queue(page, live_server)
    page.keyboard.press("s")
    toast = page.locator(TOAST)
    expect(toast).to_be_visible()
    expect(toast).to_be_hidden(timeout=4000)
    page.keyboard.press("z")  # nothing left to undo
    page.wait_for_timeout(300)
    assert statuses(live_server)[report] == "spam"


def test_a_message_to_the_reader_goes_with_the_fix(desk: Page, live_server):
    report = post_report(
        live_server, reporter={"name": "Rita", "email": "rita@example.net", "notify": True}
    )
    page = desk
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/editor/suggestions/{report}")
    box = page.get_by_label(re.compile("Message to the reader who asked to hear back"))
    expect(page.locator(".message-label")).to_contain_text("sent with Mark fixed")
    above_the_fold(page, "#reader-message")
    box.focus()
    page.keyboard.type("Fixed, thank you: it was our typo.")
    page.keyboard.press("f")  # typing, not a shortcut
    expect(box).to_have_value("Fixed, thank you: it was our typo.f")
    page.keyboard.press("Backspace")
    page.keyboard.press("Shift+Tab")  # out of the field
    page.keyboard.press("f")
    expect(page.locator(TOAST)).to_contain_text("The report is now fixed.")
    assert statuses(live_server)[report] == "fixed"
    with live_server.app.app_context():
        [mail] = db.session.scalars(select(OutboxMessage).filter_by(kind="reader")).all()
        assert "Fixed, thank you: it was our typo." in mail.text_body
        assert mail.decision_id is not None
        db.session.remove()


def test_duplicate_of_offers_the_quote_and_the_fix_and_picks_nothing(desk: Page, live_server):
    path = f"/news/{uuid.uuid4().hex}"
    post_report(live_server, path=path, exact="little", replacement="small")
    report = post_report(live_server, path=path)
    page = desk
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/editor/suggestions/{report}")
    select_box = page.get_by_label("Duplicate of")
    expect(select_box).to_have_value("")
    options = select_box.locator("option").all_inner_texts()
    assert options[0] == "Choose the report it repeats…"
    assert options[1].startswith("“little” → “small” · 1 reader")
    # Nothing picked: the browser asks for a choice and nothing changes.
    page.get_by_role("button", name="Mark as duplicate").click()
    expect(page).to_have_url(report_url(live_server, report))
    script_ready(page)
    with live_server.app.app_context():
        assert db.session.get(Suggestion, uuid.UUID(report)).duplicate_of_id is None
        db.session.remove()


def test_text_gone_shows_what_the_article_reads_there_now(desk: Page, live_server):
    report = post_report(live_server, exact="eleven", replacement="twelve", kind="factual")
    rewritten = ARTICLE_TEXT.replace(
        "which reached the island eleven minutes later, a minute faster then the timetable "
        "promises.",
        "which took a quarter of an hour in the fog.",
    )
    with live_server.app.app_context():
        found = db.session.get(Suggestion, uuid.UUID(report))
        site = db.session.get(Site, found.site_id)
        revisions.record_verified_text(
            site, found.article.url, "Harbour ferry returns", rewritten, RevisionSource.CMS
        )
        db.session.commit()
        revisions.reanchor_article(found.article_id)
        db.session.remove()
    page = desk
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/editor/suggestions/{report}")
    now = page.locator("#now-reads")
    expect(now).to_contain_text("The words are gone; there the article now reads")
    expect(now).to_contain_text("which took a quarter of an hour in the fog.")
    expect(now).to_contain_text("The site's current text, revision 2.")
    above_the_fold(page, "#now-reads")
    expect(page.locator("#history")).to_contain_text("text gone in revision 2")
    assert_no_axe_violations(page)


def test_one_history_line_per_decision_and_the_queue_opens_the_article(desk: Page, live_server):
    path = f"/news/{uuid.uuid4().hex}"
    first = post_report(live_server, path=path)
    post_report(live_server, path=path)
    post_report(live_server, path=path)  # three readers, one group
    page = desk
    sign_in(page, live_server)
    open_queue(page, live_server)
    link = row(page, first).get_by_role("link", name="Open in the article")
    href = link.get_attribute("href")
    answer = page.request.get(live_server.url + href, max_redirects=0)
    assert answer.status == 302
    assert "#:~:text=a%20minute%20faster-,then,-the%20timetable" in answer.headers["location"]

    page.keyboard.press("a")
    expect(page.locator(TOAST)).to_contain_text("The 3 reports of the group are now accepted.")
    page.goto(f"{live_server.url}/editor/suggestions/{first}")
    lines = page.locator("#history li")
    expect(lines).to_have_count(2)  # reported, and the one decision
    expect(lines.nth(1)).to_contain_text("status — new → accepted (3 reports of the group)")

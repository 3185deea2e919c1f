"""A morning's session replayed in Chromium: about forty reports over four articles
(one in Russian, long comments, readers who asked to hear back), decided one after the
other from the report pages by keyboard alone, one decision undone and one made again.

It shows that every decision is reachable without scrolling at 1280 by 800, that nothing
scrolls sideways at 390 px, and that an undone decision mails nobody while a decision
made again after an undo mails its reader once (a real SMTP server, the worker's sweep).
"""

from __future__ import annotations

import re
import time
import uuid

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from feedback.extensions import db
from feedback.models import OutboxMessage, OutboxStatus, Suggestion, SuggestionStatus
from tests.browser.editor_helpers import open_queue, rows, sign_in
from tests.browser.session_reports import REPORTS, post_session_reports
from tests.browser.test_snippet_access import assert_no_axe_violations
from tests.conftest import run_periodic_task
from tests.mail.conftest import smtp  # noqa: F401

pytestmark = pytest.mark.browser

UNDO_SECONDS = 5
# The readers whose decisions the editor takes back: Edith's fix is undone and the report
# only accepted (she must get no mail); Anna's fix is undone and made again with another
# message (she gets that one mail).
EDITH = "edith.marsh@example.org"
ANNA = "anna.petrova@example.org"
# What the editor does with the other reports, in turn.
ROUND = ["a", "r", "f", "a", "s", "f", "a", "r"]


@pytest.fixture
def session_server(live_server, monkeypatch, smtp):  # noqa: F811
    live_server.clear()
    config = live_server.app.config
    monkeypatch.setitem(config, "MAIL_TIMEOUT_SECONDS", 5)
    # Flask-Mail keeps the server it was set up with: point that at the test's server.
    mail = live_server.app.extensions["mail"]
    monkeypatch.setattr(mail, "server", "127.0.0.1")
    monkeypatch.setattr(mail, "port", smtp.port)
    monkeypatch.setitem(config, "UNDO_SECONDS", UNDO_SECONDS)
    yield live_server
    live_server.clear()


def script_ready(page: Page) -> None:
    expect(page.locator("main > p.announce")).to_have_count(1)


def on_first_screen(page: Page, selector: str) -> None:
    """The element is whole on the first screen: reachable without scrolling."""
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    assert box["y"] >= 0, (page.url, selector, box)
    assert box["y"] + box["height"] <= page.viewport_size["height"], (page.url, selector, box)


def no_sideways_scrolling(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], (page.url, width)


def current_report(page: Page) -> str | None:
    found = re.search(r"/editor/suggestions/([0-9a-f-]{36})", page.url)
    return found.group(1) if found else None


def decide(page: Page, key: str, message: str | None = None) -> None:
    """Press the decision's key; with a message, Tab to its box first and type it."""
    if message is not None:
        for _ in range(60):
            if page.evaluate("document.activeElement?.id") == "reader-message":
                break
            page.keyboard.press("Tab")
        page.keyboard.type(message)
        page.keyboard.press("Shift+Tab")  # out of the box: keys are shortcuts again
    before = page.url
    page.keyboard.press(key)
    expect(page).not_to_have_url(before)
    script_ready(page)


def undo(page: Page, report_id: str) -> None:
    expect(page.locator("#undo-toast")).to_be_visible()
    page.keyboard.press("z")
    expect(page).to_have_url(re.compile(f"/editor/suggestions/{report_id}"))
    script_ready(page)
    expect(page.locator("#status")).to_have_text("new")


def reporter_of(live_server, report_id: str) -> str | None:
    with live_server.app.app_context():
        email = db.session.get(Suggestion, uuid.UUID(report_id)).reporter_email
        db.session.remove()
        return email


def test_a_morning_of_forty_reports(browser, session_server, smtp):  # noqa: F811
    live_server = session_server
    ids = post_session_reports(live_server)
    assert len(ids) == len(REPORTS) >= 40

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    sign_in(page, live_server)
    open_queue(page, live_server)
    groups = rows(page).count()
    assert 25 <= groups < len(ids)  # several readers sent the same fixes
    page.keyboard.press("o")
    script_ready(page)

    seen: list[str] = []
    undone_once: set[str] = set()
    turn = 0
    while (report_id := current_report(page)) is not None:
        assert len(seen) < groups + 5, "the session never ends"
        # Everything needed for this decision is on the first screen.
        assert page.evaluate("window.scrollY") == 0
        on_first_screen(page, "#change")
        on_first_screen(page, "#sentence, #change")
        on_first_screen(page, ".reader-comment h2")
        if page.locator(".comment-text").count():
            on_first_screen(page, ".comment-text")
        on_first_screen(page, "#status-form .moves")
        if page.locator("#reader-message").count():
            on_first_screen(page, "#reader-message")
        if len(seen) in (0, 12):
            assert_no_axe_violations(page)
        seen.append(report_id)

        reporter = reporter_of(live_server, report_id)
        if reporter == EDITH and report_id not in undone_once:
            decide(page, "f", "Thank you, corrected to twelve minutes.")
            undone_once.add(report_id)
            undo(page, report_id)
            decide(page, "a")
        elif reporter == ANNA and report_id not in undone_once:
            decide(page, "f", "Исправили, спасибо!")
            undone_once.add(report_id)
            undo(page, report_id)
            decide(page, "f", "Исправлено. Спасибо за внимательность!")
        else:
            decide(page, ROUND[turn % len(ROUND)])
            turn += 1

    # The last decision returns to the queue: every group was decided once.
    expect(page).to_have_url(re.compile(r"/editor/(\?.*)?$"))
    assert len(set(seen)) == len(seen) == groups
    assert len(undone_once) == 2
    context.close()

    # At phone width nothing scrolls sideways: the queue, and report pages of each article.
    phone = browser.new_context(viewport={"width": 390, "height": 844})
    small = phone.new_page()
    sign_in(small, live_server)
    for tab in ("", "?tab=accepted", "?tab=done"):
        open_queue(small, live_server, tab)
        no_sideways_scrolling(small)
    for report_id in dict.fromkeys(seen[::6]):
        small.goto(f"{live_server.url}/editor/suggestions/{report_id}")
        script_ready(small)
        no_sideways_scrolling(small)
    phone.close()

    # Once the undo window is over, the worker's outbox sweep sends what stands.
    time.sleep(UNDO_SECONDS + 1)
    app = live_server.app
    with app.app_context():
        run_periodic_task(app.extensions["huey"], "sweep_outbox")
        db.session.remove()
        fixed_readers = db.session.scalars(
            select(Suggestion.reporter_email).where(
                Suggestion.status == SuggestionStatus.FIXED,
                Suggestion.reporter_notify.is_(True),
            )
        ).all()
        cancelled = db.session.scalars(
            select(OutboxMessage.to_address).where(OutboxMessage.status == OutboxStatus.CANCELLED)
        ).all()
        db.session.remove()

    assert smtp.inbox.to(EDITH) == []  # her fix was undone: no mail
    assert any(EDITH in address for address in cancelled)
    [anna] = smtp.inbox.to(ANNA)
    text = anna.get_body(("plain",)).get_content()
    assert "Исправлено. Спасибо за внимательность!" in text
    assert "Исправили, спасибо!" not in text
    for reader in fixed_readers:
        assert len(smtp.inbox.to(reader)) == 1, reader
    assert len(fixed_readers) >= 4

"""The demo's seeded reports: anchored in the very text the snippet reads from the page,
and triaged by the demo editor with the keyboard alone."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from feedback.demo import (
    DEMO_EDITOR_EMAIL,
    DEMO_EDITOR_PASSWORD,
    DEMO_REPORTS,
    seed_demo_reports,
)
from feedback.extensions import db
from feedback.models import Site, Suggestion
from tests.browser.test_snippet import dialog, open_demo, stored


def test_seeded_reports_share_the_revision_the_snippet_sends(page, live_server):
    live_server.clear()
    with live_server.app.app_context():
        site = db.session.scalar(select(Site).filter_by(public_key=live_server.site_key))
        assert seed_demo_reports(site, live_server.url) == len(DEMO_REPORTS)
        db.session.remove()

    open_demo(page, live_server)
    page.get_by_role("button", name="send a note about the whole article").click()
    box = dialog(page)
    box.get_by_label("Comment").fill("Is the ferry running on Sundays?")
    box.get_by_role("button", name="Send").click()
    expect(box.get_by_role("status")).to_have_text("Thank you!")
    stored(page, live_server, count=len(DEMO_REPORTS) + 1)

    with live_server.app.app_context():
        rows = db.session.scalars(select(Suggestion)).all()
        assert len({(row.article_id, row.revision_id) for row in rows}) == 1
        db.session.remove()
    live_server.clear()


def test_the_demo_editor_triages_the_demo_reports_by_keyboard_alone(page, live_server):
    live_server.clear()
    with live_server.app.app_context():
        site = db.session.scalar(select(Site).filter_by(public_key=live_server.site_key))
        seed_demo_reports(site, live_server.url)
        db.session.remove()

    page.goto(live_server.url + "/editor/")  # sends to the sign-in page, the email focused
    # Keys typed before the page has focused the field would be lost; wait for the focus.
    expect(page.get_by_label("Email")).to_be_focused()
    page.keyboard.type(DEMO_EDITOR_EMAIL)
    page.keyboard.press("Tab")
    page.keyboard.type(DEMO_EDITOR_PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(live_server.url + "/editor/")
    rows = page.locator("#queue tbody tr")
    expect(rows).to_have_count(len(DEMO_REPORTS) - 1)  # two readers sent the same fix
    page.wait_for_function("document.querySelector('#queue tr.current')")

    for key in ("a", "r", "s", "a", "r"):
        page.keyboard.press(key)
    expect(page.locator("#queue tr.done")).to_have_count(len(DEMO_REPORTS) - 1)

    with live_server.app.app_context():
        heads = db.session.scalars(
            select(Suggestion)
            .where(Suggestion.duplicate_of_id.is_(None))
            .order_by(Suggestion.created_at.desc())
        ).all()
        assert [head.status.value for head in heads] == [
            "accepted",
            "rejected",
            "spam",
            "accepted",
            "rejected",
        ]
        # The second reader's "then" → "than" moved with its group.
        [grouped] = [head for head in heads if head.duplicates]
        assert [row.status for row in grouped.duplicates] == [grouped.status]
        db.session.remove()
    live_server.clear()

"""The demo's seeded reports are anchored in the very text the snippet reads from the page."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from feedback.demo import DEMO_REPORTS, seed_demo_reports
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

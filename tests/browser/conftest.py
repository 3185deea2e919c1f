"""A live service in a thread on its own database, and Debian's Chromium via Playwright."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from feedback.demo import seed_demo
from feedback.extensions import db
from feedback.models import Decision, IncomingReport, Suggestion
from tests.conftest import empty_all_tables, make_test_app
from tests.servers import serve_in_thread

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@dataclass
class LiveServer:
    url: str
    site_key: str
    app: Flask

    def suggestions(self) -> list[dict]:
        """Every stored suggestion, oldest first, as plain dicts."""
        with self.app.app_context():
            rows = db.session.scalars(select(Suggestion).order_by(Suggestion.created_at)).all()
            result = [
                {
                    "id": str(row.id),
                    "kind": row.kind.value,
                    "exact": row.exact,
                    "prefix": row.prefix,
                    "suffix": row.suffix,
                    "start": row.start,
                    "end": row.end,
                    "replacement": row.replacement,
                    "comment": row.comment,
                    "reporter_name": row.reporter_name,
                    "reporter_email": row.reporter_email,
                    "notify": row.reporter_notify,
                    "status": row.status.value,
                    "article_url": row.article.url,
                    "article_text": row.revision.text,
                }
                for row in rows
            ]
            db.session.remove()
            return result

    def clear(self) -> None:
        with self.app.app_context():
            db.session.execute(Suggestion.__table__.delete())
            db.session.execute(IncomingReport.__table__.delete())  # and their receipts
            # Decisions about them too: one still in its window would offer its undo.
            db.session.execute(Decision.__table__.delete())
            db.session.commit()
            db.session.remove()


@pytest.fixture(scope="session")
def live_server(databases, tmp_path_factory):
    instance = tmp_path_factory.mktemp("live-instance")
    os.environ["FEEDBACK_INSTANCE_PATH"] = str(instance)
    app = make_test_app(databases.make("live"), instance)
    with app.app_context():
        db.create_all()
    with serve_in_thread(app) as url:
        with app.app_context():
            site_key = seed_demo([url]).site.public_key
            db.session.remove()
        yield LiveServer(url=url, site_key=site_key, app=app)
    with app.app_context():
        empty_all_tables()
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing at /usr/bin/chromium; CI must run browser tests")
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser):
    browser_context = browser.new_context()
    yield browser_context
    browser_context.close()


@pytest.fixture
def page(context):
    return context.new_page()

"""Shared steps of the editor UI browser tests: reports posted through the public API to
the live server, signing in through the form, and reading the queue's rows."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
import uuid

from playwright.sync_api import Locator, Page, expect

from feedback.demo import DEMO_EDITOR_EMAIL, DEMO_EDITOR_PASSWORD
from tests.conftest import ARTICLE_TEXT, suggestion_body

ROWS = "#queue tbody tr"
CURRENT = re.compile(r"\bcurrent\b")


def post_report(
    live_server,
    *,
    text: str = ARTICLE_TEXT,
    exact: str | None = "then",
    title: str = "Harbour ferry returns",
    path: str | None = None,
    **changes,
) -> str:
    """POST a reader's report for the demo site to the live server, from its own (allowed)
    origin, on its own article unless ``path`` says which; return the report's id."""
    path = path or f"/news/{uuid.uuid4().hex}"
    body = suggestion_body(text, exact, site="demo", **changes)
    body["article"]["url"] = live_server.url + path
    body["article"]["title"] = title
    request = urllib.request.Request(
        live_server.url + "/api/v1/suggestions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Origin": live_server.url},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 201, response.status
    except urllib.error.HTTPError as error:
        raise AssertionError(f"report refused: {error.code} {error.read().decode()}") from None
    return body["id"]


def post_reports(live_server, count: int, **changes) -> list[str]:
    """``count`` reports, one after the other (so oldest first), each on its own article."""
    return [post_report(live_server, title=f"Story {number}", **changes) for number in range(count)]


def sign_in(page: Page, live_server, email: str = DEMO_EDITOR_EMAIL) -> None:
    """Sign in through the form as the demo editor; lands on the queue."""
    page.goto(live_server.url + "/editor/sign-in")
    page.locator('input[name="email"]').fill(email)
    page.locator('input[name="password"]').fill(DEMO_EDITOR_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live_server.url + "/editor/")


def rows(page: Page) -> Locator:
    return page.locator(ROWS)


def row(page: Page, report_id: str) -> Locator:
    return page.locator(f'{ROWS}[data-id="{report_id}"]')


def badge(page: Page, report_id: str) -> Locator:
    return row(page, report_id).locator(".status .badge")


def open_queue(page: Page, live_server, query: str = "") -> None:
    """Open the queue and wait for the keyboard script to mark a row current."""
    page.goto(f"{live_server.url}/editor/{query}")
    wait_for_script(page)


def open_filters(page: Page) -> None:
    """Unfold the queue's filters (folded away until asked for)."""
    summary = page.locator("details.more-filters > summary")
    if page.locator("details.more-filters[open]").count() == 0:
        summary.click()
    expect(page.locator("details.more-filters")).to_have_attribute("open", "")


def wait_for_script(page: Page) -> None:
    """Wait until the keyboard script has put the cursor on a row (the first, or the one
    it had on this list before)."""
    if rows(page).count():
        expect(page.locator(f"{ROWS}.current")).to_have_count(1)


def row_ids(page: Page) -> list[str]:
    return rows(page).evaluate_all("(rows) => rows.map((row) => row.dataset.id)")


def expect_current(page: Page, report_id: str) -> None:
    expect(row(page, report_id)).to_have_class(CURRENT)
    expect(page.locator(f"{ROWS}.current")).to_have_count(1)


def statuses(live_server) -> dict[str, str]:
    """Every stored report's status, by id."""
    return {item["id"]: item["status"] for item in live_server.suggestions()}

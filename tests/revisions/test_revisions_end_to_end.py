"""End to end over real HTTP and SMTP: a reader reports on revision 1, the CMS pushes
revision 2 with the fix, the report is fixed, the reader's mail arrives and the site's
corrections feed lists it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from feedback.extensions import db
from tests.conftest import ARTICLE_TEXT, SITE_ORIGIN, suggestion_body
from tests.revisions.conftest import ARTICLE_URL
from tests.revisions.test_revisions_corrections import ATOM, RFC3339, parse_feed
from tests.servers import serve_in_thread


def call(method: str, url: str, body: dict | None = None, headers: dict | None = None):
    request = urllib.request.Request(
        url,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture
def app_config(smtp_inbox) -> dict:
    port, _inbox = smtp_inbox
    return {"HUEY_IMMEDIATE": True, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port}


def test_revision_push_fixes_report_and_publishes_it(
    app, site, site_secret, status_changes, smtp_inbox
):
    site.settings = {"corrections_public": True}
    db.session.commit()
    report = suggestion_body(reporter={"email": "ann@example.net", "notify": True})
    feed_path = f"/sites/{site.public_key}/corrections.atom"
    # The test's own session lets go of the database while the server works on it.
    db.session.remove()

    with serve_in_thread(app) as base:
        status, _ = call("POST", base + "/api/v1/suggestions", report, {"Origin": SITE_ORIGIN})
        assert status == 201

        fixed_text = ARTICLE_TEXT.replace("faster then", "faster than")
        status, body = call(
            "PUT",
            base + "/api/v1/articles",
            {"url": ARTICLE_URL, "title": "Harbour ferry returns", "text": fixed_text},
            {"Authorization": f"Bearer {site_secret}"},
        )
        assert status == 201
        assert json.loads(body)["revision"]["number"] == 2

        status, body = call("GET", f"{base}/api/v1/suggestions/{report['id']}")
        assert status == 200
        assert json.loads(body)["status"] == "fixed"

        status, feed_body = call("GET", base + feed_path)
        assert status == 200

    assert [(change[0].hex, change[2].value, change[3]) for change in status_changes] == [
        (report["id"].replace("-", ""), "fixed", "fixed in revision 2")
    ]
    # The reader asked to hear back, and does, over real SMTP.
    _port, inbox = smtp_inbox
    (mail,) = inbox.messages
    assert mail["X-Envelope-To"] == "ann@example.net"
    assert "was made" in mail["Subject"]
    body_text = mail.get_body(("plain",)).get_content()
    assert "Harbour ferry returns" in body_text

    feed = parse_feed(feed_body)
    assert feed.tag == f"{ATOM}feed"
    assert RFC3339.match(feed.find(f"{ATOM}updated").text)
    (entry,) = feed.findall(f"{ATOM}entry")
    assert "“then” now reads “than”" in entry.find(f"{ATOM}content").text
    # Open in the article: at the new words.
    assert entry.find(f"{ATOM}link").get("href") == (
        f"{ARTICLE_URL}#:~:text=a%20minute%20faster-,than,-the%20timetable%20promises."
    )
    assert b"ann@example.net" not in feed_body

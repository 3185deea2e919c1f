"""The built-in demo: one site, one editor, the demo article. Safe to run again."""

from __future__ import annotations

import html
import json
import re
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

from flask import Flask, current_app
from sqlalchemy import select

from feedback import anchoring, members, revisions, sites
from feedback.extensions import db
from feedback.models import Membership, RevisionSource, Role, Site, Suggestion, User
from feedback.schemas import SuggestionIn
from feedback.suggestions import ClientInfo, accept_report, file_report, find_site

DEMO_SITE_KEY = "demo"
DEMO_EDITOR_EMAIL = "editor@demo.example"
DEMO_EDITOR_PASSWORD = "demo-password"  # noqa: S105 - printed on screen for the local demo
# The instant-notice throttle of the demo, unless FEEDBACK_INSTANT_THROTTLE_MINUTES says.
DEMO_THROTTLE_MINUTES = 1


@dataclass(frozen=True)
class DemoSeed:
    site: Site
    editor: User


def seed_demo(origins: list[str]) -> DemoSeed:
    """Create or update the demo site (allowing ``origins``) and its editor; commits."""
    site = db.session.scalar(select(Site).where(Site.public_key == DEMO_SITE_KEY))
    if site is None:
        site, _secret = sites.create_site("The Demo Gazette", [], public_key=DEMO_SITE_KEY)
    site.allowed_origins = sorted(sites.parse_origins([*(site.allowed_origins or []), *origins]))

    editor = db.session.scalar(select(User).where(User.email == DEMO_EDITOR_EMAIL))
    if editor is None:
        editor = User(email=DEMO_EDITOR_EMAIL, name="Demo Editor")
        members.set_password(editor, DEMO_EDITOR_PASSWORD)
        db.session.add(editor)
    db.session.flush()
    membership = db.session.scalar(select(Membership).filter_by(user_id=editor.id, site_id=site.id))
    if membership is None:
        db.session.add(Membership(user=editor, site=site, role=Role.OWNER))
    db.session.commit()
    return DemoSeed(site=site, editor=editor)


# --- readers' reports on the demo article, so the queue has something to triage -------

_BLOCK_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "div", "br", "blockquote"}
_REPORT_NAMESPACE = uuid.UUID("0b5c1a52-6f0e-4b8e-9d1c-5a7e2f6d9c11")


@dataclass(frozen=True)
class DemoReport:
    key: str  # names the report (its id is made from it)
    kind: str
    exact: str | None
    replacement: str | None
    comment: str | None
    reporter: dict | None = None


DEMO_REPORTS = [
    DemoReport(
        "than",
        "typo",
        "then",
        "than",
        None,
        {"name": "Ada", "email": "ada@example.org", "notify": True},
    ),
    DemoReport("than-again", "typo", "then", "than", "Comparison, so 'than'."),
    DemoReport(
        "its-workshop", "typo", "it's workshop", "its workshop", "Possessive: no apostrophe."
    ),
    DemoReport("the-the", "typo", "the the", "the", None),
    DemoReport(
        "built",
        "factual",
        "1968",
        "1966",
        "The board's own history page says the ferry was launched in 1966.",
        {"name": "Ben", "email": "ben@example.org", "notify": False},
    ),
    DemoReport(
        "fares", "unclear", None, None, "Do bicycles of islanders over sixty-five travel free too?"
    ),
]


class _ArticleText(HTMLParser):
    """The text of the page's ``data-feedback-article`` element, as the snippet reads it:
    block elements start and end lines, line breaks in text are spaces."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if self.depth == 0 and "data-feedback-article" in dict(attrs):
            self.depth = 1
        elif self.depth:
            self.depth += tag not in ("br", "img", "hr", "meta", "link", "input")
            if tag in _BLOCK_TAGS:
                self.parts.append("\n")

    def handle_endtag(self, tag):
        if self.depth:
            if tag in _BLOCK_TAGS:
                self.parts.append("\n")
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data.replace("\r", " ").replace("\n", " "))


def article_text(page_html: str) -> str:
    parser = _ArticleText()
    parser.feed(page_html)
    return anchoring.normalise("".join(parser.parts))


def seed_demo_reports(site: Site, base_url: str) -> int:
    """Send the demo reports on the demo article as readers would, with the text, URL
    and title the snippet reads from the page; only while the site has no report at
    all, so a demo that has been played with is left as it is. Returns how many were new."""
    if db.session.scalar(select(Suggestion.id).where(Suggestion.site_id == site.id).limit(1)):
        return 0
    page = current_app.test_client().get("/", base_url=base_url).get_data(as_text=True)
    text = article_text(page)
    title = html.unescape(re.search(r"<title>(.*?)</title>", page, re.S).group(1).strip())
    article_url = base_url.rstrip("/") + "/"
    # The service serves the demo article itself, so it stands in for the site's CMS: the
    # article's own text is verified, and a fix pushed later is found in it.
    revisions.record_verified_text(site, article_url, title, text, RevisionSource.CMS)
    db.session.commit()
    new = 0
    for demo_report in DEMO_REPORTS:
        body = {
            "id": str(uuid.uuid5(_REPORT_NAMESPACE, demo_report.key)),
            "site": site.public_key,
            "kind": demo_report.kind,
            "article": {
                "url": article_url,
                "title": title,
                "text": text,
                "sha256": anchoring.text_sha256(text),
            },
            "replacement": demo_report.replacement,
            "comment": demo_report.comment,
            "reporter": demo_report.reporter,
        }
        if demo_report.exact is not None:
            start = text.index(demo_report.exact)
            quote = anchoring.quote_at(text, start, start + len(demo_report.exact))
            body["quote"] = {
                "exact": quote.exact,
                "prefix": quote.prefix,
                "suffix": quote.suffix,
                "start": quote.start,
                "end": quote.end,
            }
        data = SuggestionIn().load(body)
        client = ClientInfo(origin=None, user_agent="demo seed", client_hash=None)
        acceptance = accept_report(find_site(site.public_key), data, body, json.dumps(body), client)
        file_report(acceptance.report_id)  # at once, whatever the task queue
        new += acceptance.created
    return new


# --- the worker's clock, for a demo that has no worker -----------------------------------


def run_due_jobs(app: Flask, minute: datetime) -> list[str]:
    """Run the periodic tasks whose schedule matches ``minute`` (UTC), as the worker's
    consumer would; a failing one is logged and the others still run. Their names."""
    huey = app.extensions["huey"]
    ran = []
    for task in huey.read_periodic(minute.astimezone(UTC).replace(tzinfo=None)):
        try:
            task.execute()
        except Exception:
            app.logger.exception("scheduled job %s failed; it runs again next time", task.name)
        ran.append(task.name)
    return ran


def start_scheduled_jobs(app: Flask, stop: threading.Event) -> threading.Thread:
    """A thread that runs the periodic tasks (held notices, digests, sweeps) at the start
    of every minute until ``stop`` is set: the demo's queue runs in-process, with no
    consumer to keep the schedule."""

    def loop() -> None:
        while True:
            now = datetime.now(UTC)
            next_minute = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
            if stop.wait((next_minute - now).total_seconds()):
                return
            run_due_jobs(app, next_minute)

    thread = threading.Thread(target=loop, name="demo-scheduled-jobs", daemon=True)
    thread.start()
    return thread

"""Fixtures for revisions: the site's server secret, a CMS push, recorded status changes."""

from __future__ import annotations

import socket
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from feedback import workflow
from feedback.extensions import db

ARTICLE_URL = "https://news.example.com/2026/ferry-returns"


@pytest.fixture
def app_config() -> dict:
    # Queued work runs at once, in-process: a test sees its effect when the request ends.
    return {"HUEY_IMMEDIATE": True}


@pytest.fixture
def site_secret(site) -> str:
    secret = site.rotate_secret()
    db.session.commit()
    return secret


@pytest.fixture
def push_article(client, site_secret):
    """PUT an article's text as the site's CMS would."""

    def push(text: str, url: str = ARTICLE_URL, title: str = "Harbour ferry returns", **kw):
        headers = {"Authorization": f"Bearer {kw.pop('secret', site_secret)}"}
        body = {"url": url, "title": title, "text": text, **kw}
        return client.put("/api/v1/articles", json=body, headers=headers)

    return push


@pytest.fixture
def status_changes(monkeypatch) -> list[tuple]:
    """Every status change announced to the listeners, as (id, old, new, note)."""
    heard: list[tuple] = []
    listeners = list(getattr(workflow, "status_change_listeners", []))
    listeners.append(lambda report, old, new, note, **_: heard.append((report.id, old, new, note)))
    monkeypatch.setattr(workflow, "status_change_listeners", listeners, raising=False)
    return heard


class Inbox:
    """What a real SMTP server (aiosmtpd, on 127.0.0.1) received."""

    def __init__(self):
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_inbox():
    """An SMTP server for the test; yields (port, inbox)."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()

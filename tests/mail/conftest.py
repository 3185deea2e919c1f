"""Mail fixtures: a real SMTP server (aiosmtpd) on 127.0.0.1, members, and helpers."""

from __future__ import annotations

import socket
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from feedback.extensions import db
from feedback.models import Membership, NotifySetting, Role, Site, User

BASE_URL = "https://corrections.example.com"


class Inbox:
    """What the SMTP server received, parsed."""

    def __init__(self):
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []  # each message's bytes as they came over the wire
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        message["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
        with self._lock:
            self.messages.append(message)
            self.raw.append(envelope.original_content or envelope.content)
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["X-Envelope-To"] == address]

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.raw.clear()


class SMTPServer:
    """An aiosmtpd server that can be stopped and started again on the same port."""

    def __init__(self):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.inbox = Inbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp():
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def inbox(smtp) -> Inbox:
    return smtp.inbox


@pytest.fixture
def app_config(smtp) -> dict:
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp.port,
        "MAIL_DEFAULT_SENDER": "Corrections desk <corrections@example.com>",
        "BASE_URL": BASE_URL,
        "INSTANT_THROTTLE_MINUTES": 5,
        "HUEY_IMMEDIATE": True,
    }


def add_member(
    site: Site,
    email: str,
    notify: NotifySetting = NotifySetting.INSTANT,
    *,
    role: Role = Role.EDITOR,
    timezone: str = "UTC",
    digest_hour: int = 8,
    name: str = "",
) -> Membership:
    user = db.session.query(User).filter_by(email=email).one_or_none()
    if user is None:
        user = User(email=email, name=name or email.split("@")[0].title(), timezone=timezone)
        db.session.add(user)
    member = Membership(user=user, site=site, role=role, notify=notify, digest_hour=digest_hour)
    db.session.add(member)
    db.session.commit()
    return member

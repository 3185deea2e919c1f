"""Mail as it arrives at the SMTP server: header bytes, addresses, and leases that hold
while a server is slow."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import select

from feedback import create_app
from feedback.config import ConfigurationError
from feedback.extensions import db
from feedback.mail import mailer
from feedback.mail.outbox import Mail, write_outbox
from feedback.models import OutboxKind, OutboxMessage, OutboxStatus, SuggestionStatus
from tests.conftest import suggestion_body
from tests.mail.conftest import Inbox, SMTPServer, add_member
from tests.mail.test_mail_reader import change_status, post_report

HOSTILE_NAME = "<b onmouseover=alert(1)>Eve</b>\"', Mallory <x@evil.example>"


def header_lines(raw: bytes) -> dict[str, str]:
    """The raw header block, unfolded, by lower-case name."""
    block = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    unfolded = re.sub(r"\r\n[ \t]+", " ", block)
    return {
        line.split(":", 1)[0].lower(): line.split(":", 1)[1].strip()
        for line in unfolded.split("\r\n")
    }


def test_list_unsubscribe_goes_out_as_a_plain_url(site, post_suggestion, inbox):
    add_member(site, "ann@example.com")
    assert post_suggestion(suggestion_body()).status_code == 201
    [raw] = inbox.raw
    lines = header_lines(raw)
    assert re.fullmatch(
        r"<https://corrections\.example\.com/unsubscribe/[\w.-]+>", lines["list-unsubscribe"]
    )
    assert lines["list-unsubscribe-post"] == "List-Unsubscribe=One-Click"
    assert b"=?utf-8?" not in re.search(rb"List-Unsubscribe:[^\r]*", raw).group(0)


def test_a_hostile_member_name_is_quoted_in_to(site, post_suggestion, inbox):
    member = add_member(site, "eve@example.com", name=HOSTILE_NAME)
    assert member.user.name == HOSTILE_NAME
    assert post_suggestion(suggestion_body()).status_code == 201
    [mail] = inbox.messages
    # One mailbox, the name exactly as given, the injected address nowhere a recipient.
    [address] = mail["To"].addresses
    assert (address.display_name, address.addr_spec) == (HOSTILE_NAME, "eve@example.com")
    assert mail["X-Envelope-To"] == "eve@example.com"
    to_line = header_lines(inbox.raw[0])["to"]
    assert to_line.startswith('"<b onmouseover=alert(1)>Eve</b>\\"\', Mallory <x@evil.example>"')


def test_reader_mail_comes_from_the_site_by_name(site, post_suggestion, inbox):
    site.name = 'The "Example" News, Gull Island'
    db.session.commit()
    report = post_report(post_suggestion, notify=True, name="Ëva Ŕeader")
    change_status(report, SuggestionStatus.FIXED)
    [mail] = inbox.to("rita@example.net")
    [sender] = mail["From"].addresses
    assert sender.display_name == 'The "Example" News, Gull Island'
    assert sender.addr_spec == "corrections@example.com"
    [to] = mail["To"].addresses
    assert to.display_name == "Ëva Ŕeader"
    # Non-ASCII names travel as RFC 2047 encoded words; the raw header is ASCII.
    assert "=?utf-8?" in header_lines(inbox.raw[0])["to"]


# --- leases -------------------------------------------------------------------------------

LEASE_SECONDS = 2
SMTP_TIMEOUT = 0.2
HANG_SECONDS = 3.5  # longer than the lease


class HangingInbox(Inbox):
    """Takes the first message in (counted as received), then says nothing for longer
    than the lease."""

    def __init__(self):
        super().__init__()
        self.hung = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)
        if not self.hung.is_set():
            self.hung.set()
            await asyncio.sleep(HANG_SECONDS)  # the sender may hang up meanwhile
        return answer


@pytest.fixture
def hanging_smtp():
    server = SMTPServer()
    server.inbox = HangingInbox()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app_config(request, smtp) -> dict:
    port = smtp.port
    if "hanging_smtp" in request.fixturenames:
        port = request.getfixturevalue("hanging_smtp").port
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": port,
        "MAIL_DEFAULT_SENDER": "Corrections desk <corrections@example.com>",
        "BASE_URL": "https://corrections.example.com",
        "HUEY_IMMEDIATE": True,
        "OUTBOX_CLAIM_SECONDS": LEASE_SECONDS,
        "MAIL_TIMEOUT_SECONDS": SMTP_TIMEOUT,
    }


def queue_mails(count: int) -> None:
    for number in range(count):
        write_outbox(
            Mail(
                key=f"lease:{number}",
                kind=OutboxKind.ACCOUNT,
                to=f"member{number}@example.com",
                subject=f"Mail {number}",
                text=f"Mail number {number}.\n",
                html=f"<p>Mail number {number}.</p>",
            )
        )
    db.session.commit()


def test_a_server_that_hangs_past_the_lease_gets_each_mail_once(app, hanging_smtp):
    """Worker A's first send hangs longer than the lease; worker B sweeps after the lease
    would have run out. Nothing is sent twice, nothing is lost."""
    inbox = hanging_smtp.inbox
    queue_mails(3)
    db.session.remove()
    sent: list[int] = []
    errors: list[BaseException] = []

    def worker():
        try:
            with app.app_context():
                sent.append(mailer.deliver().sent)
                db.session.remove()
        except BaseException as error:
            errors.append(error)

    first = threading.Thread(target=worker)
    first.start()
    assert inbox.hung.wait(timeout=30)
    time.sleep(LEASE_SECONDS + 0.5)  # the lease taken before the hang has run out
    second = threading.Thread(target=worker)
    second.start()
    for thread in (first, second):
        thread.join(timeout=60)
    assert not errors

    received = Counter(message["Message-ID"] for message in inbox.messages)
    assert set(received.values()) == {1}, received
    db.session.expire_all()
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    # The hung mail timed out: it waits for its retry (the server may have it: the stable
    # Message-ID lets it drop the copy). The others went once, after a new connection.
    assert [row.status for row in rows] == [
        OutboxStatus.PENDING,
        OutboxStatus.SENT,
        OutboxStatus.SENT,
    ]
    assert "timed out" in rows[0].last_error
    assert sum(sent) == 2


def test_the_lease_is_renewed_during_a_long_batch(app, smtp):
    """A batch that takes longer than the lease keeps its rows: a second worker started
    after the first lease ran out finds nothing of the first worker's to take."""
    queue_mails(4)
    claimed = mailer.claim(mailer.utcnow(), 10)
    held_until = db.session.scalar(select(OutboxMessage.claimed_until))
    kept, renewed_until = mailer.renew_lease(claimed, held_until)
    assert kept == claimed
    assert renewed_until > held_until
    # Another worker took one row over (its lease had run out): it is no longer ours.
    taken = db.session.get(OutboxMessage, claimed[0])
    taken.claimed_until = renewed_until.replace(microsecond=(renewed_until.microsecond + 1) % 10**6)
    db.session.commit()
    kept_again, _ = mailer.renew_lease(claimed, renewed_until)
    assert kept_again == claimed[1:]


def test_a_lease_shorter_than_ten_smtp_timeouts_is_refused(test_database, tmp_path):
    with pytest.raises(ConfigurationError, match="at least 10 times"):
        create_app(
            {"TESTING": True, "OUTBOX_CLAIM_SECONDS": 60, "MAIL_TIMEOUT_SECONDS": 30,
             **test_database.app_config()}
        )  # fmt: skip

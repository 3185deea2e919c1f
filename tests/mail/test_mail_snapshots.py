"""Bodies of each kind of mail, compared with snapshots reviewed by eye.

After changing a template on purpose: FEEDBACK_UPDATE_SNAPSHOTS=1 pytest tests/mail,
then read the changed files under tests/mail/snapshots/ before committing them.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from feedback.extensions import db
from feedback.models import NotifySetting, OutboxKind, OutboxMessage, SuggestionStatus, utcnow
from tests.conftest import suggestion_body
from tests.mail.conftest import add_member
from tests.mail.test_mail_digest import NOW, reports_of_the_morning, send_digests
from tests.mail.test_mail_reader import change_status, fix_by_the_sites_text, post_report

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("FEEDBACK_UPDATE_SNAPSHOTS") == "1"


def check(name: str, row: OutboxMessage) -> None:
    for suffix, body in (("txt", row.text_body), ("html", row.html_body)):
        path = SNAPSHOTS / f"{name}.{suffix}"
        if UPDATE:
            path.write_text(body, encoding="utf-8")
        assert path.exists(), f"no snapshot {path.name}; run with FEEDBACK_UPDATE_SNAPSHOTS=1"
        assert body == path.read_text(encoding="utf-8"), f"{path.name} differs"


def rows(kind: OutboxKind) -> list[OutboxMessage]:
    return db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
    ).all()


def fixed_id(number: int) -> str:
    return f"00000000-0000-4000-8000-{number:012d}"


def test_instant_notices(site, post_suggestion):
    add_member(site, "ann@example.com", name="Ann Editor")
    body = suggestion_body(id=fixed_id(1), comment="Should be <than>, & not 'then'.")
    assert post_suggestion(body).status_code == 201
    for number, word in ((2, "ferry"), (3, "quay")):
        assert post_suggestion(suggestion_body(id=fixed_id(number), exact=word)).status_code == 201
    db.session.execute(update(OutboxMessage).values(created_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    note = suggestion_body(id=fixed_id(4), exact=None, kind="factual", replacement=None,
                           comment="The island is Puffin Island, not Gull Island.")  # fmt: skip
    assert post_suggestion(note).status_code == 201
    first, with_more = rows(OutboxKind.INSTANT)
    check("instant", first)
    check("instant_and_more", with_more)


def test_digest(site, post_suggestion):
    add_member(site, "ann@example.com", NotifySetting.HOURLY, name="Ann Editor")
    reports_of_the_morning(post_suggestion)
    send_digests(NOW)
    [digest] = rows(OutboxKind.DIGEST)
    check("digest", digest)


@pytest.mark.parametrize("status", [SuggestionStatus.FIXED, SuggestionStatus.REJECTED])
def test_reader_notices(site, post_suggestion, status):
    site.settings = {"notify_readers_on_reject": True}
    db.session.commit()
    report = post_report(post_suggestion, notify=True)
    change_status(report, status)
    [row] = rows(OutboxKind.READER)
    check(f"reader_{status.value}", row)


def test_reader_notice_of_a_fix_the_sites_text_carries(client, site, post_suggestion):
    report = post_report(post_suggestion, notify=True)
    fix_by_the_sites_text(client, site, report)
    [row] = rows(OutboxKind.READER)
    check("reader_fixed_in_revision", row)

"""Writing a mail to the outbox, in the transaction of the event that causes it."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from feedback.extensions import db
from feedback.mail.headers import LINE_BREAKS, UnsafeHeader, message_id_for, single_line
from feedback.models import OutboxKind, OutboxMessage


@dataclass
class Mail:
    key: str
    kind: OutboxKind
    to: str
    subject: str
    text: str
    html: str
    site_id: int | None = None
    user_id: int | None = None
    headers: dict[str, str] = field(default_factory=dict)


def key_taken(key: str) -> bool:
    """Whether a mail with this key is in the outbox already."""
    return db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None


def write_outbox(mail: Mail) -> OutboxMessage | None:
    """Add the mail to the outbox in the current transaction; None if its key is taken."""
    for name, value in [("To", mail.to), *mail.headers.items()]:
        if LINE_BREAKS.search(value) or LINE_BREAKS.search(name):
            raise UnsafeHeader(f"line break in header {name}")
    if key_taken(mail.key):
        return None
    row = OutboxMessage(
        key=mail.key,
        kind=mail.kind,
        site_id=mail.site_id,
        user_id=mail.user_id,
        to_address=mail.to,
        subject=single_line(mail.subject, 250),
        text_body=mail.text,
        html_body=mail.html,
        headers=dict(mail.headers),
        message_id=message_id_for(mail.key),
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return None  # another process queued the same notice a moment ago
    return row

"""Writing a mail to the outbox, in the transaction of the event that causes it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from feedback.extensions import db
from feedback.mail.headers import LINE_BREAKS, UnsafeHeader, message_id_for, single_line
from feedback.models import OutboxKind, OutboxMessage, OutboxStatus, utcnow


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
    # Held until then (an editor's decision may still be undone); None: send at once.
    not_before: datetime | None = None
    decision_id: int | None = None


def key_taken(key: str) -> bool:
    """Whether a mail with this key is in the outbox already."""
    return db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None


def fresh_key(base: str) -> str | None:
    """The key for a notice named ``base``: ``base`` itself, or, once that mail was
    cancelled (its decision undone), ``base:2``, ``base:3``…; None when the notice was
    written and not cancelled (it is sent, or on its way)."""
    cancelled = db.session.scalars(
        select(OutboxMessage.key).where(
            OutboxMessage.key.startswith(base, autoescape=True),
            OutboxMessage.status == OutboxStatus.CANCELLED,
        )
    ).all()
    key = base
    for generation in range(2, len(cancelled) + 3):
        if key not in cancelled:
            break
        key = f"{base}:{generation}"
    return None if key_taken(key) else key


def cancel_held(decision_id: int) -> bool:
    """Cancel the mail a decision caused, all still waiting; False (and nothing
    cancelled) when some of it is already sent or being sent. Does not commit."""
    query = select(OutboxMessage).where(OutboxMessage.decision_id == decision_id)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()  # a worker claiming one now waits, then skips it
    rows = db.session.scalars(query).all()
    if any(row.status != OutboxStatus.PENDING for row in rows):
        return False
    for row in rows:
        row.status = OutboxStatus.CANCELLED
    return True


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
        next_attempt_at=mail.not_before or utcnow(),
        decision_id=mail.decision_id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return None  # another process queued the same notice a moment ago
    return row

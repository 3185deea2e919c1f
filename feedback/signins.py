"""Sign-ins: each signed-in browser is a row, and its cookies carry only that row's key.

Flask's session cookie and Flask-Login's remember cookie are signed, not stored: a copy
kept from before a sign-out would work for as long as it lasts. Here the cookies name a
sign-in (``User.get_id`` is its key), and the user loader accepts a key only while its row
exists and has not expired, so ending a sign-in (deleting its row) ends every copy of its
cookies. This is Flask-Login's "alternative tokens" way, one token per browser.

None commits: the caller commits once the whole change is made.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from feedback.extensions import db
from feedback.models import SignIn, User, utcnow
from feedback.models.accounts import sign_in_key_hash


def lifetime(remember: bool) -> timedelta:
    """How long a sign-in lasts at most: REMEMBER_DAYS with "remember me", else
    SIGN_IN_HOURS (the browser forgets the session cookie sooner when it closes)."""
    config = current_app.config
    if remember:
        return timedelta(days=float(config["REMEMBER_DAYS"]))
    return timedelta(hours=float(config["SIGN_IN_HOURS"]))


def start(user: User, remember: bool) -> str:
    """A new sign-in for ``user``; returns its key (also set as ``user.sign_in_key``).
    The user's expired sign-ins are cleared out on the way."""
    now = utcnow()
    db.session.execute(delete(SignIn).where(SignIn.user_id == user.id, SignIn.expires_at <= now))
    key = secrets.token_urlsafe(32)
    db.session.add(
        SignIn(
            user_id=user.id,
            key_hash=sign_in_key_hash(key),
            remember=remember,
            created_at=now,
            expires_at=now + lifetime(remember),
        )
    )
    db.session.flush()
    user.sign_in_key = key
    return key


def end(key: str) -> None:
    """End the sign-in with this key (nothing if there is none)."""
    if key:
        db.session.execute(delete(SignIn).where(SignIn.key_hash == sign_in_key_hash(key)))


def end_all(user: User, keep: str | None = None) -> int:
    """End every sign-in of ``user``, except the one with key ``keep``; how many ended."""
    query = delete(SignIn).where(SignIn.user_id == user.id)
    if keep:
        query = query.where(SignIn.key_hash != sign_in_key_hash(keep))
    return db.session.execute(query).rowcount or 0


def forget_expired() -> int:
    """Delete every sign-in past its time (the loader refuses them already); how many."""
    return db.session.execute(delete(SignIn).where(SignIn.expires_at <= utcnow())).rowcount or 0


def count_open(user: User) -> int:
    """The user's sign-ins that have not expired (this browser's included)."""
    return db.session.scalar(
        select(func.count())
        .select_from(SignIn)
        .where(SignIn.user_id == user.id, SignIn.expires_at > utcnow())
    )

"""Editors and their membership of sites."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    event,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.extensions import db, login_manager
from feedback.models.core import NotifySetting, Site, SiteSettings
from feedback.models.types import UTCDateTime, string_enum, utcnow
from feedback.permissions import Action, Role, permits

_password_hasher = PasswordHasher()
# (hasher, a hash of no one's password made by it): checked when there is no real hash to
# check, so that costs what a wrong password costs (see password_matches).
_decoy: tuple[PasswordHasher, str] | None = None


def _decoy_hash() -> str:
    global _decoy
    if _decoy is None or _decoy[0] is not _password_hasher:
        _decoy = (_password_hasher, _password_hasher.hash(secrets.token_urlsafe(32)))
    return _decoy[1]


def password_matches(user: User | None, password: str) -> bool:
    """Whether ``password`` is ``user``'s. For no user, or one without a password yet, a
    decoy hash is checked all the same: the time taken must not tell who has an account."""
    if user is None or not user.password_hash:
        _verify(_decoy_hash(), password)
        return False
    return _verify(user.password_hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _password_hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class User(UserMixin, db.Model):
    """Someone who signs in to the editor UI."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased so sign-in is case-insensitive on every database.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # IANA zone name: times are shown, and daily digests sent, in it.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    # The key of the sign-in this request runs under (see SignIn): Flask-Login keeps
    # get_id() in the session and the remember cookie. Not a column.
    sign_in_key = None

    @property
    def is_active(self) -> bool:  # Flask-Login asks this
        return self.active

    def get_id(self) -> str:
        """The sign-in's key, never the user's id: a cookie then names one sign-in, which
        ends on the server (see SignIn). Empty, and so signing in nobody, without one."""
        return self.sign_in_key or ""

    # UserMixin compares users by get_id(), which names a sign-in here, not a user: two
    # users loaded without one would be equal. A row is one object per session, so the
    # object's identity is the user's.
    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__

    def set_password(self, password: str) -> None:
        self.password_hash = _password_hasher.hash(password)

    @property
    def display_name(self) -> str:
        return self.name or self.email

    def check_password(self, password: str) -> bool:
        return password_matches(self, password)


def sign_in_key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class SignIn(db.Model):
    """One signed-in browser: what its session and remember cookies name. Deleting the
    row ends it, whatever copies of those cookies exist (feedback.signins)."""

    __tablename__ = "sign_in"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    # SHA-256 of the key the cookies carry: the table alone lets no one sign in.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    remember: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class Membership(db.Model):
    """A user's role on one site, and how that user hears about its new reports."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "site_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(string_enum(Role))
    notify: Mapped[NotifySetting] = mapped_column(
        string_enum(NotifySetting),
        default=NotifySetting.INSTANT,
    )
    # Local hour (0-23, in the user's zone) at which a daily digest goes out.
    digest_hour: Mapped[int] = mapped_column(Integer, default=8)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    site: Mapped[Site] = relationship()

    def may(self, action: Action | str) -> bool:
        """Whether the member's role permits ``action`` (see feedback.permissions)."""
        return permits(self.role, Action(action))


@event.listens_for(Membership, "before_insert")
def _start_with_the_site_default(_mapper, connection, member: Membership) -> None:
    """A new member with no setting of their own starts with the site's default.

    An ORM hook, so every way of adding a member (CLI, editor UI, demo) follows it.
    """
    if member.notify is not None:
        return
    site_id = member.site_id if member.site_id is not None else member.site.id
    stored = connection.scalar(select(Site.settings).where(Site.id == site_id))
    member.notify = SiteSettings.from_json(stored).default_notify


def zone_of(user) -> ZoneInfo:
    """The time zone times are shown to ``user`` in (and their digests kept to); UTC for
    anyone without a valid one, signed out included."""
    try:
        return ZoneInfo(getattr(user, "timezone", "") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@login_manager.user_loader
def load_user(key: str) -> User | None:
    """Flask-Login's way back from the session or remember cookie: the user of an
    unexpired sign-in with this key, while their account is active."""
    if not key or len(key) > 100:
        return None
    found = db.session.execute(
        select(SignIn, User)
        .join(User, User.id == SignIn.user_id)
        .where(SignIn.key_hash == sign_in_key_hash(key), SignIn.expires_at > utcnow())
    ).first()
    if found is None or not found.User.is_active:
        return None
    user = found.User
    user.sign_in_key = key
    return user

"""Operations on editors and their membership of sites: adding and inviting a member,
changing a role, removing a member, the password and email rules, password links and
each member's mail setting.

The editor UI and the ``feedback editor`` command both call these, so a rule holds
however a change is made. None commits: the caller commits once the whole change is
made (and hands the outbox ids to the queue after that commit).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select

from feedback import signins
from feedback.errors import Conflict, Invalid
from feedback.extensions import db
from feedback.links import link_for
from feedback.mail.headers import UnsafeHeader, checked_address, single_line
from feedback.mail.instant import forget_held_notices
from feedback.mail.outbox import Mail, write_outbox
from feedback.mail.render import render_mail
from feedback.models import Membership, NotifySetting, OutboxKind, Role, Site, User
from feedback.models.accounts import password_matches

MIN_PASSWORD_LENGTH = 10
EMAIL_MAX = 254
MEMBER_NAME_MAX = 200
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PASSWORD_SALT = "feedback.password-link"  # noqa: S105 - a signing salt, not a secret
NOT_AN_EMAIL = "That is not an email address."


# --- the rules ------------------------------------------------------------------------


def checked_email(raw: str) -> str:
    """The address as stored (trimmed, lower-case) if it is one plain mail address we can
    safely write to; Invalid otherwise."""
    email = (raw or "").strip().lower()
    if len(email) > EMAIL_MAX or not _EMAIL.match(email):
        raise Invalid.field("email", NOT_AN_EMAIL)
    try:
        checked_address(email)
    except UnsafeHeader:
        raise Invalid.field("email", NOT_AN_EMAIL) from None
    return email


def check_password(password: str) -> None:
    """Invalid unless the password is long enough."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid.field(
            "password", f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters."
        )


def authenticate(email: str, password: str) -> User | None:
    """The active user with this address and password; None for anything else, after the
    same work either way (an unknown address checks a decoy hash)."""
    user = db.session.scalar(select(User).where(User.email == email)) if email else None
    if not password_matches(user, password) or not user.is_active:
        return None
    return user


def set_password(user: User, password: str, keep_sign_in: str | None = None) -> int:
    """Give the user this password, if it follows the rule, and end every sign-in of
    theirs but ``keep_sign_in`` (a key): whoever knew the old password, or kept a
    cookie, is out. Returns how many sign-ins ended."""
    check_password(password)
    user.set_password(password)
    return signins.end_all(user, keep=keep_sign_in)


def change_password(user: User, current: str, new: str, keep_sign_in: str | None) -> int:
    """A signed-in user's own change: the current password first, then as set_password."""
    if not password_matches(user, current):
        raise Invalid.field("current_password", "That is not your current password.")
    return set_password(user, new, keep_sign_in=keep_sign_in)


def _checked_name(name: str) -> str:
    name = (name or "").strip()
    if len(name) > MEMBER_NAME_MAX:
        raise Invalid.field("name", f"Keep the name to {MEMBER_NAME_MAX} characters.")
    return name


def _keep_an_owner(member: Membership, message: str) -> None:
    """The last-owner rule: a site always keeps at least one owner."""
    if member.role != Role.OWNER:
        return
    owners = db.session.scalar(
        select(func.count()).where(
            Membership.site_id == member.site_id, Membership.role == Role.OWNER
        )
    )
    if owners <= 1:
        raise Conflict(message, {"role": [message]})


# --- changes --------------------------------------------------------------------------


def lock_site(site_id: int) -> None:
    """Lock the site's row until commit (PostgreSQL; SQLite writes one at a time anyway)
    and forget what the session read before: two owners changing members at once
    cannot both take away the last owner."""
    db.session.execute(select(Site.id).where(Site.id == site_id).with_for_update())
    db.session.expire_all()


@dataclass
class NewMember:
    membership: Membership
    # The invitation mail, when the address had no account yet and no password was set.
    outbox_id: int | None = None


def find_member(site_id: int, user_id: int) -> Membership | None:
    return db.session.scalar(select(Membership).filter_by(site_id=site_id, user_id=user_id))


def add_member(
    site: Site, email: str, role: Role, name: str = "", password: str | None = None
) -> NewMember:
    """Make the person with this address a member of the site. Someone without an
    account gets one, with ``password`` if given, else an invitation to set one."""
    email = checked_email(email)
    name = _checked_name(name)
    if password is not None:
        check_password(password)  # before anything is written
    user = db.session.scalar(select(User).where(User.email == email))
    if user is not None and find_member(site.id, user.id) is not None:
        raise Conflict(f"{email} is already a member of this site.", {"email": ["taken"]})
    outbox_id = None
    if user is None:
        user = User(email=email, name=name)
        if password is not None:
            set_password(user, password)
        db.session.add(user)
        db.session.flush()
        if password is None:
            outbox_id = queue_password_mail(user, invited_to=site.name)
    membership = Membership(user_id=user.id, site_id=site.id, role=role)
    db.session.add(membership)
    db.session.flush()
    return NewMember(membership, outbox_id)


def change_role(member: Membership, role: Role) -> bool:
    """Give the member another role; False if it is theirs already."""
    if member.role == role:
        return False
    _keep_an_owner(member, "The site needs an owner: make someone else owner first.")
    member.role = role
    return True


def remove_member(member: Membership) -> None:
    """End the membership; the account stays."""
    _keep_an_owner(
        member, "The site needs an owner: make someone else owner before removing this one."
    )
    db.session.delete(member)


def set_member_notify(user_id: int, site_id: int, notify: NotifySetting) -> bool:
    """Change one member's setting for one site; False if there is no such member."""
    member = find_member(site_id, user_id)
    if member is None:
        return False
    member.notify = notify
    if notify != NotifySetting.INSTANT:
        forget_held_notices(user_id, site_id)
    return True


# --- password links -------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=PASSWORD_SALT)


def _hash_fingerprint(user: User) -> str:
    return hashlib.sha256(f"{user.id}:{user.password_hash}".encode()).hexdigest()[:16]


def password_token(user: User) -> str:
    return _serializer().dumps([user.id, _hash_fingerprint(user)])


def user_for_token(token: str) -> User | None:
    """The user a password link is for, while it is fresh and unused."""
    max_age = int(current_app.config["PASSWORD_LINK_MAX_AGE_MINUTES"]) * 60
    try:
        user_id, fingerprint = _serializer().loads(token, max_age=max_age)
    except (BadSignature, ValueError, TypeError):
        return None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.is_active or fingerprint != _hash_fingerprint(user):
        return None
    return user


def queue_password_mail(user: User, invited_to: str | None = None) -> int | None:
    """Write a password link for ``user`` to the outbox (does not commit); an invitation
    when ``invited_to`` names the site they were added to. Returns the outbox id."""
    token = password_token(user)
    link = link_for("auth.set_password", token=token)
    template = "account_invite" if invited_to else "account_password"
    text, html = render_mail(template, user=user, link=link, site_name=invited_to)
    subject = (
        f"You have been added to {single_line(invited_to, 120)}"
        if invited_to
        else "Set a new password"
    )
    row = write_outbox(
        Mail(
            key=f"password:{user.id}:{hashlib.sha256(token.encode()).hexdigest()[:32]}",
            kind=OutboxKind.ACCOUNT,
            to=checked_address(user.email, user.name),
            subject=f"Reader corrections: {subject}",
            text=text,
            html=html,
            user_id=user.id,
        )
    )
    if row is None:
        return None
    db.session.flush()
    return row.id

"""Signing in and out, and setting a password from a mailed link.

Failed sign-ins are throttled per account and per client (Flask-Limiter, counted only
when the attempt fails). A password link is signed, expires, and stops working once
used, because it carries a fingerprint of the password hash it replaces.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from feedback import tasks
from feedback.extensions import client_ip_hash, db, limiter
from feedback.mail import headers, outbox
from feedback.mail.render import render_mail
from feedback.models import OutboxKind, User

blp = Blueprint("auth", __name__, url_prefix="/editor")

PASSWORD_SALT = "feedback.password-link"  # noqa: S105 - a signing salt, not a secret
MIN_PASSWORD_LENGTH = 10
# Checked against a real hash when the email is unknown, so both answers take as long.
_DUMMY_USER = User(email="", password_hash="")


def _email_field() -> str:
    return (request.form.get("email") or "").strip().lower()


def _account_key() -> str:
    digest = hashlib.sha256(_email_field().encode()).hexdigest()[:32]
    return f"account:{digest}"


def _failed(response) -> bool:
    return response.status_code == 401


def _setting(name: str):
    """A limit read from the settings when the request comes (Flask-Limiter calls it)."""
    return lambda: current_app.config[name]


def safe_next(target: str | None, default: str) -> str:
    """Only a path inside the editor UI: never another host (no open redirect)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/editor"):
        return default
    if "\\" in target:
        return default
    return target


@blp.errorhandler(429)
def too_many_attempts(_error):
    return render_template(
        "editor/sign_in.html",
        error="Too many failed attempts. Wait a few minutes, then try again.",
        email=_email_field(),
    ), 429


@blp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(
    _setting("SIGNIN_LIMIT_PER_ACCOUNT"),
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_failed,
)
@limiter.limit(
    _setting("SIGNIN_LIMIT_PER_CLIENT"),
    key_func=client_ip_hash,
    methods=["POST"],
    deduct_when=_failed,
)
def sign_in():
    target = safe_next(request.values.get("next"), url_for("editor.queue"))
    if current_user.is_authenticated:
        return redirect(target)
    if request.method == "GET":
        return render_template("editor/sign_in.html", email="", next=target)
    email = _email_field()
    user = db.session.scalar(select(User).where(User.email == email)) if email else None
    password = request.form.get("password") or ""
    valid = (user or _DUMMY_USER).check_password(password) and user is not None
    if not valid or not user.is_active:
        return render_template(
            "editor/sign_in.html", error="Wrong email or password.", email=email, next=target
        ), 401
    login_user(user, remember=bool(request.form.get("remember")))
    return redirect(target)


@blp.post("/sign-out")
@login_required
def sign_out():
    logout_user()
    flash("You are signed out.")
    return redirect(url_for(".sign_in"))


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
    link = headers.absolute_url(url_for("auth.set_password", token=token))
    template = "account_invite" if invited_to else "account_password"
    text, html = render_mail(template, user=user, link=link, site_name=invited_to)
    subject = (
        f"You have been added to {headers.single_line(invited_to, 120)}"
        if invited_to
        else "Set a new password"
    )
    row = outbox.write_outbox(
        outbox.Mail(
            key=f"password:{user.id}:{hashlib.sha256(token.encode()).hexdigest()[:32]}",
            kind=OutboxKind.ACCOUNT,
            to=headers.checked_address(user.email, user.name),
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


@blp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(_setting("PASSWORD_MAIL_LIMIT"), key_func=client_ip_hash, methods=["POST"])
@limiter.limit(_setting("PASSWORD_MAIL_LIMIT"), key_func=_account_key, methods=["POST"])
def forgot_password():
    if request.method == "GET":
        return render_template("editor/forgot_password.html", sent=False)
    email = _email_field()
    user = db.session.scalar(select(User).where(User.email == email)) if email else None
    outbox_id = None
    if user is not None and user.is_active:
        outbox_id = queue_password_mail(user)
        db.session.commit()
    tasks.enqueue_outbox([outbox_id] if outbox_id else [])
    # The same answer either way: the page must not tell who has an account.
    return render_template("editor/forgot_password.html", sent=True)


@blp.route("/password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    user = user_for_token(token)
    if user is None:
        return render_template("editor/set_password.html", invalid=True), 400
    if request.method == "GET":
        return render_template("editor/set_password.html", invalid=False, user=user)
    password = request.form.get("password") or ""
    error = None
    if len(password) < MIN_PASSWORD_LENGTH:
        error = f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters."
    elif password != request.form.get("confirm"):
        error = "The two passwords differ."
    if error:
        return render_template(
            "editor/set_password.html", invalid=False, user=user, error=error
        ), 422
    user.set_password(password)
    db.session.commit()
    login_user(user)
    flash("Your password is set.")
    return redirect(url_for("editor.queue"))

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
from sqlalchemy import select

from feedback import background, members
from feedback.errors import Invalid
from feedback.extensions import client_ip_hash, db, limiter
from feedback.models import User

blp = Blueprint("auth", __name__, url_prefix="/editor")


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
    user = members.user_for_sign_in(email, request.form.get("password") or "")
    if user is None:
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
        outbox_id = members.queue_password_mail(user)
        db.session.commit()
    background.send_mail_soon([outbox_id] if outbox_id else [])
    # The same answer either way: the page must not tell who has an account.
    return render_template("editor/forgot_password.html", sent=True)


@blp.route("/password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    user = members.user_for_token(token)
    if user is None:
        return render_template("editor/set_password.html", invalid=True), 400
    if request.method == "GET":
        return render_template("editor/set_password.html", invalid=False, user=user)
    password = request.form.get("password") or ""
    try:
        members.check_password(password)
    except Invalid as refused:
        error = refused.message_of("password")
    else:
        error = None if password == request.form.get("confirm") else "The two passwords differ."
    if error:
        return render_template(
            "editor/set_password.html", invalid=False, user=user, error=error
        ), 422
    members.set_password(user, password)
    db.session.commit()
    login_user(user)
    flash("Your password is set.")
    return redirect(url_for("editor.queue"))

"""Signing in and out, the account page (password change, signing out everywhere), and
setting a password from a mailed link.

Each sign-in is a row on the server (feedback.signins) that the cookies only name:
signing out ends it, a new password ends the user's other sign-ins. Failed sign-ins are
throttled per account and per client (Flask-Limiter, counted only when the attempt
fails). A password link is signed, expires, and stops working once used, because it
carries a fingerprint of the password hash it replaces.
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

from feedback import background, members, signins
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
    user = members.authenticate(email, request.form.get("password") or "")
    if user is None:
        return render_template(
            "editor/sign_in.html", error="Wrong email or password.", email=email, next=target
        ), 401
    _start_sign_in(user, remember=bool(request.form.get("remember")))
    return redirect(target)


def _start_sign_in(user: User, remember: bool) -> None:
    """A new sign-in on the server, then the cookies that name it."""
    signins.start(user, remember)
    db.session.commit()
    login_user(user, remember=remember)


@blp.post("/sign-out")
@login_required
def sign_out():
    signins.end(current_user.get_id())
    db.session.commit()
    logout_user()
    flash("You are signed out.")
    return redirect(url_for(".sign_in"))


@blp.post("/sign-out-everywhere")
@login_required
def sign_out_everywhere():
    ended = signins.end_all(current_user)
    db.session.commit()
    logout_user()
    flash(f"You are signed out everywhere ({_browsers(ended)}).")
    return redirect(url_for(".sign_in"))


def _browsers(count: int) -> str:
    return "1 browser" if count == 1 else f"{count} browsers"


def _account_page(errors: dict[str, str] | None = None, status: int = 200):
    return render_template(
        "editor/account.html",
        errors=errors or {},
        open_sign_ins=signins.count_open(current_user),
        remember_days=current_app.config["REMEMBER_DAYS"],
        sign_in_hours=current_app.config["SIGN_IN_HOURS"],
    ), status


@blp.get("/account")
@login_required
def account():
    return _account_page()


def _current_user_key() -> str:
    return f"password-change:{current_user.get_id()}"


def _refused(response) -> bool:
    return response.status_code == 422


@blp.post("/account/password")
@login_required
@limiter.limit(
    _setting("SIGNIN_LIMIT_PER_ACCOUNT"), key_func=_current_user_key, deduct_when=_refused
)
def change_password():
    """The signed-in user's new password; their other sign-ins end, this one stays."""
    password = request.form.get("password") or ""
    try:
        if password != request.form.get("confirm"):
            raise Invalid.field("confirm", "The two passwords differ.")
        ended = members.change_password(
            current_user,
            request.form.get("current_password") or "",
            password,
            keep_sign_in=current_user.get_id(),
        )
    except Invalid as refused:
        db.session.rollback()
        errors = {field: refused.message_of(field) for field in refused.fields}
        return _account_page(errors, 422)
    db.session.commit()
    flash(
        "Your password is changed."
        + (f" Signed out on {_browsers(ended)} elsewhere." if ended else "")
    )
    return redirect(url_for(".account"))


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
    # Every sign-in of the account ends (whoever had the old password, or a cookie, is
    # out); this browser starts a new one.
    members.set_password(user, password)
    _start_sign_in(user, remember=False)
    flash("Your password is set.")
    return redirect(url_for("editor.queue"))

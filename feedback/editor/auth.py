"""Signing in and out, the account page (password change, signing out everywhere), and
setting a password from a mailed link.

Each sign-in is a row on the server (feedback.signins) that the cookies only name:
signing out ends it, a new password ends the user's other sign-ins. A password link is
signed, expires, and stops working once used, because it carries a fingerprint of the
password hash it replaces.

Failed sign-ins (Flask-Limiter, counted only when the attempt fails) are limited so that
strangers cannot lock an editor out (docs/editors.md, "Failed sign-ins"):
- per account and client: a few tries, then that client waits. The client is the
  address, or, for a browser that has signed in to the account before, that browser
  (its "known browser" cookie);
- per client, over all accounts: one address trying many accounts;
- per account, a much higher ceiling against guessing from many addresses. Known
  browsers are exempt from it, and from the per-client limit: other people's failures
  never hold back a browser the editor has signed in with.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
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

from feedback import background, members, signins
from feedback.errors import Invalid
from feedback.extensions import client_ip_hash, db, limiter
from feedback.models import User

blp = Blueprint("auth", __name__, url_prefix="/editor")


def _email_field() -> str:
    return (request.form.get("email") or "").strip().lower()


def _account_digest() -> str:
    """The form's address as a keyed hash: the limiter's keys and the known-browser
    cookie name accounts without holding an address anyone could read back."""
    key = current_app.config["SECRET_KEY"].encode()
    address = _email_field().encode()
    return hmac.new(key, b"account:" + address, hashlib.sha256).hexdigest()[:32]


def _account_key() -> str:
    return f"account:{_account_digest()}"


def _failed(response) -> bool:
    return response.status_code == 401


# --- known browsers ---------------------------------------------------------------------

KNOWN_BROWSER_COOKIE = "known_browser"
KNOWN_BROWSER_SALT = "feedback.known-browser"
KNOWN_BROWSER_DAYS = 90
# Accounts one browser is remembered for (the most recent ones).
KNOWN_BROWSER_ACCOUNTS = 5


def _known_browser_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=KNOWN_BROWSER_SALT)


def _known_browser() -> tuple[str, list[str]]:
    """(this browser's random id, digests of the accounts it signed in to), from its
    signed cookie; ("", []) for a browser that never signed in here."""
    cookie = request.cookies.get(KNOWN_BROWSER_COOKIE)
    if not cookie:
        return "", []
    try:
        browser, accounts = _known_browser_serializer().loads(
            cookie, max_age=KNOWN_BROWSER_DAYS * 24 * 3600
        )
    except (BadSignature, ValueError, TypeError):
        return "", []
    if not isinstance(browser, str) or not isinstance(accounts, list):
        return "", []
    return browser, [account for account in accounts if isinstance(account, str)]


def _known_for_this_account() -> bool:
    """Whether this browser has signed in to the account in the form before."""
    return _account_digest() in _known_browser()[1]


def _account_and_client_key() -> str:
    browser, accounts = _known_browser()
    client = f"browser:{browser}" if _account_digest() in accounts else client_ip_hash()
    return f"account:{_account_digest()}:{client}"


def _remember_this_browser(response) -> None:
    """Set the known-browser cookie: this account joins the ones it signed in to."""
    browser, accounts = _known_browser()
    account = _account_digest()
    accounts = [*[a for a in accounts if a != account], account][-KNOWN_BROWSER_ACCOUNTS:]
    value = _known_browser_serializer().dumps([browser or secrets.token_urlsafe(16), accounts])
    config = current_app.config
    response.set_cookie(
        KNOWN_BROWSER_COOKIE,
        value,
        max_age=timedelta(days=KNOWN_BROWSER_DAYS),
        path="/editor",
        secure=config["REMEMBER_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )


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
    if request.endpoint == "auth.change_password":
        return _account_page(
            {"current_password": "Too many wrong tries. Wait a few minutes, then try again."},
            429,
        )
    return render_template(
        "editor/sign_in.html",
        error="Too many failed attempts. Wait a few minutes, then try again.",
        email=_email_field(),
    ), 429


@blp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(
    _setting("SIGNIN_LIMIT_PER_ACCOUNT_AND_CLIENT"),
    key_func=_account_and_client_key,
    methods=["POST"],
    deduct_when=_failed,
)
@limiter.limit(
    _setting("SIGNIN_LIMIT_PER_CLIENT"),
    key_func=client_ip_hash,
    methods=["POST"],
    deduct_when=_failed,
    exempt_when=_known_for_this_account,
)
@limiter.limit(
    _setting("SIGNIN_LIMIT_PER_ACCOUNT"),
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_failed,
    exempt_when=_known_for_this_account,
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
    response = redirect(target)
    _remember_this_browser(response)
    return response


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
    _setting("SIGNIN_LIMIT_PER_ACCOUNT_AND_CLIENT"),
    key_func=_current_user_key,
    deduct_when=_refused,
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

"""Signing in and out, throttled failures, password links, and the headers every page sends."""

from __future__ import annotations

import re
import statistics
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from feedback.extensions import db
from feedback.models import OutboxKind, OutboxMessage, SignIn, Suggestion, User, accounts
from tests.conftest import run_periodic_task
from tests.editor.conftest import PASSWORD, EditorClient, add_user, csrf_from


@pytest.fixture
def app_config() -> dict:
    return {
        "MAIL_CAPTURE": True,
        "SIGNIN_LIMIT_PER_ACCOUNT_AND_CLIENT": "3 per 15 minutes",
        "SIGNIN_LIMIT_PER_CLIENT": "5 per 15 minutes",
        "SIGNIN_LIMIT_PER_ACCOUNT": "8 per 15 minutes",
        "PASSWORD_MAIL_LIMIT": "2 per hour",
    }


@pytest.fixture
def ann(app) -> User:
    return add_user("Ann@Example.com", name="Ann")


def test_sign_in_is_case_insensitive_and_returns_to_the_page_asked_for(ann, app):
    client = EditorClient(app.test_client())
    response = client.post(
        "/editor/sign-in",
        {"email": " ANN@example.COM ", "password": PASSWORD, "next": "/editor/?kind=typo"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/editor/?kind=typo"
    assert client.get("/editor/").status_code == 200


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/editor", "/\\evil.example", "/api/v1/x"]
)
def test_sign_in_never_redirects_off_the_editor(ann, app, target):
    client = EditorClient(app.test_client())
    response = client.post(
        "/editor/sign-in", {"email": ann.email, "password": PASSWORD, "next": target}
    )
    assert response.headers["Location"] == "/editor/"


def test_a_wrong_password_is_refused_with_a_message(ann, app):
    client = EditorClient(app.test_client())
    response = client.post("/editor/sign-in", {"email": ann.email, "password": "nope"})
    assert response.status_code == 401
    assert "Wrong email or password." in response.text
    assert client.get("/editor/").status_code == 302


def test_an_unknown_email_gets_the_same_answer(app):
    client = EditorClient(app.test_client())
    response = client.post("/editor/sign-in", {"email": "who@example.com", "password": "x"})
    assert response.status_code == 401
    assert "Wrong email or password." in response.text


def test_a_deactivated_user_cannot_sign_in(ann, app):
    ann.active = False
    db.session.commit()
    client = EditorClient(app.test_client())
    assert client.sign_in(ann.email).status_code == 401


def _from(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def _wrong(client: EditorClient, email: str, address: str) -> int:
    form = {"email": email, "password": "not the password"}
    return client.post("/editor/sign-in", form, **_from(address)).status_code


def _right(client: EditorClient, email: str, address: str) -> int:
    form = {"email": email, "password": PASSWORD}
    return client.post("/editor/sign-in", form, **_from(address)).status_code


def test_failed_sign_ins_hold_back_that_client_for_that_account(ann, app):
    attacker = EditorClient(app.test_client())
    assert [_wrong(attacker, ann.email, "203.0.113.9") for _ in range(3)] == [401] * 3
    blocked = attacker.post(
        "/editor/sign-in", {"email": ann.email, "password": PASSWORD}, **_from("203.0.113.9")
    )
    assert blocked.status_code == 429
    assert "Too many failed attempts" in blocked.text
    # The editor, from anywhere else, is not held back by it.
    assert _right(EditorClient(app.test_client()), ann.email, "198.51.100.7") == 302


@pytest.mark.parametrize("app_config", [{}])  # the limits as shipped
def test_wrong_passwords_from_five_addresses_do_not_lock_the_editor_out(ann, app):
    for number in range(5):
        stranger = EditorClient(app.test_client())
        assert _wrong(stranger, ann.email, f"203.0.113.{number + 1}") == 401
    assert _right(EditorClient(app.test_client()), ann.email, "198.51.100.7") == 302


def test_guessing_from_many_addresses_meets_the_account_ceiling(ann, app):
    known = EditorClient(app.test_client())
    assert _right(known, ann.email, "198.51.100.7") == 302  # the editor's own browser
    known.post("/editor/sign-out")
    for number in range(8):  # the ceiling: 8 failures in all, from 4 addresses
        stranger = EditorClient(app.test_client())
        assert _wrong(stranger, ann.email, f"203.0.113.{number // 2 + 1}") == 401
    # A new browser now waits, even with the right password ...
    assert _right(EditorClient(app.test_client()), ann.email, "198.51.100.8") == 429
    # ... but a browser that signed in to the account before is not held back,
    assert _right(known, ann.email, "198.51.100.7") == 302
    # and its own failures still count for it alone.
    known.post("/editor/sign-out")
    assert [_wrong(known, ann.email, "198.51.100.7") for _ in range(3)] == [401] * 3
    assert _right(known, ann.email, "198.51.100.7") == 429


def test_a_forged_known_browser_cookie_counts_for_nothing(ann, app):
    for number in range(8):
        assert _wrong(EditorClient(app.test_client()), ann.email, f"203.0.113.{number}") == 401
    forger = EditorClient(app.test_client())
    forger.client.set_cookie("known_browser", "WyJ4IiwgWyJ5Il1d.forged.signature", path="/editor")
    assert _right(forger, ann.email, "198.51.100.9") == 429


def test_failed_sign_ins_are_throttled_per_client(app):
    for number in range(3):
        add_user(f"user{number}@example.com")
    client = EditorClient(app.test_client())
    for attempt in range(5):
        email = f"user{attempt % 3}@example.com"
        assert client.post("/editor/sign-in", {"email": email, "password": "x"}).status_code == 401
    assert client.sign_in("user0@example.com").status_code == 429


def test_successful_sign_ins_do_not_count(ann, app):
    for _ in range(6):
        client = EditorClient(app.test_client())
        assert client.sign_in(ann.email).status_code == 302


def test_sign_out_ends_the_session(ann, app):
    client = EditorClient(app.test_client())
    client.sign_in(ann.email)
    assert client.get("/editor/").status_code == 200
    assert client.post("/editor/sign-out").status_code == 302
    assert client.get("/editor/").status_code == 302


def _password_link(user: User) -> str:
    row = db.session.scalar(
        select(OutboxMessage)
        .filter_by(kind=OutboxKind.ACCOUNT, user_id=user.id)
        .order_by(OutboxMessage.id.desc())
    )
    assert row is not None, "no password mail was written"
    found = re.search(r"https?://\S+/editor/password/(\S+)", row.text_body)
    return "/editor/password/" + found.group(1)


def test_forgot_password_mails_a_link_that_works_once(ann, app):
    client = EditorClient(app.test_client())
    response = client.post("/editor/forgot-password", {"email": "ann@example.com"})
    assert "a link to set a new password is on its way" in response.text
    link = _password_link(ann)

    assert "For ann@example.com" in client.get(link).text
    new_password = "a brand new passphrase"
    short = client.post(link, {"password": "short", "confirm": "short"})
    assert short.status_code == 422
    assert "at least 10 characters" in short.text
    differ = client.post(link, {"password": new_password, "confirm": new_password + "!"})
    assert differ.status_code == 422
    done = client.post(link, {"password": new_password, "confirm": new_password})
    assert done.status_code == 302
    assert client.get("/editor/").status_code == 200  # signed in by the link

    fresh = EditorClient(app.test_client())
    assert fresh.sign_in(ann.email, new_password).status_code == 302
    # Used once, the link is dead.
    again = fresh.client.get(link)
    assert again.status_code == 400
    assert "not valid any more" in again.text


def test_forgot_password_answers_alike_for_unknown_addresses(app):
    client = EditorClient(app.test_client())
    response = client.post("/editor/forgot-password", {"email": "nobody@example.com"})
    assert response.status_code == 200
    assert "a link to set a new password is on its way" in response.text
    assert db.session.scalar(select(OutboxMessage)) is None


def test_a_tampered_or_expired_link_is_refused(ann, app):
    client = EditorClient(app.test_client())
    client.post("/editor/forgot-password", {"email": ann.email})
    link = _password_link(ann)
    assert client.get(link[:-3] + "abc").status_code == 400
    app.config["PASSWORD_LINK_MAX_AGE_MINUTES"] = -1
    assert client.get(link).status_code == 400
    refused = client.post(link, {"password": "x" * 12, "confirm": "x" * 12})
    assert refused.status_code == 400
    assert ann.check_password(PASSWORD)


def test_password_mails_are_limited(ann, app):
    client = EditorClient(app.test_client())
    for _ in range(2):
        assert client.post("/editor/forgot-password", {"email": ann.email}).status_code == 200
    assert client.post("/editor/forgot-password", {"email": ann.email}).status_code == 429


def test_pages_send_a_strict_content_security_policy(ann, app):
    client = EditorClient(app.test_client())
    client.sign_in(ann.email)
    for path in ("/editor/sign-in", "/editor/"):
        headers = client.client.get(path).headers
        policy = dict(
            part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";")
        )
        assert policy["script-src"] == "'self'"
        assert policy["style-src"] == "'self'"
        assert policy["frame-ancestors"] == "'none'"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_session_cookie_is_http_only_and_same_site(ann, app):
    client = EditorClient(app.test_client())
    response = client.sign_in(ann.email)
    cookie = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_the_keyboard_script_is_told_when_the_session_has_ended(app, site, report):
    made = report()
    client = EditorClient(app.test_client())
    response = client.post_json(f"/editor/suggestions/{made.id}/status", {"status": "accepted"})
    assert response.status_code == 401
    assert response.get_json()["error"]["message"] == "Your session has ended; sign in again."
    page = client.get("/editor/?kind=typo")
    assert page.status_code == 302
    assert page.headers["Location"] == "/editor/sign-in?next=%2Feditor%2F%3Fkind%3Dtypo"


# --- answers no cache may keep -----------------------------------------------------------


def test_signed_in_pages_and_exports_are_never_stored(app, site, users, report):
    report()
    client = EditorClient(app.test_client())
    assert client.get("/editor/sign-in").headers["Cache-Control"] == "private, no-store"
    client.sign_in(users["owner"].email)
    made = db.session.scalar(select(Suggestion))
    for path in (
        "/editor/",
        f"/editor/suggestions/{made.id}",
        "/editor/notifications",
        f"/editor/sites/{site.id}/settings",
        f"/editor/sites/{site.id}/stats",
        f"/editor/sites/{site.id}/export.csv",
        f"/editor/sites/{site.id}/export.jsonld",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "private, no-store", path
    # A page readers see stays cacheable.
    assert "no-store" not in (client.get("/").headers.get("Cache-Control") or "")


# --- mail links come from the configured address only ------------------------------------


def _ask_for_a_password_link_from(app, host: str, email: str) -> None:
    """The forgot-password form, filled in on a request whose Host is ``host``."""
    client = app.test_client()
    base_url = f"http://{host}"
    token = csrf_from(client.get("/editor/forgot-password", base_url=base_url).text)
    answer = client.post(
        "/editor/forgot-password",
        data={"email": email, "csrf_token": token},
        base_url=base_url,
        headers={"X-Forwarded-Host": host},
    )
    assert answer.status_code == 200


def test_a_password_link_ignores_the_host_the_request_names(ann, app):
    _ask_for_a_password_link_from(app, "evil.example", ann.email)
    row = db.session.scalar(select(OutboxMessage).filter_by(user_id=ann.id))
    assert "evil.example" not in row.text_body + row.html_body
    assert "http://localhost/editor/password/" in row.text_body


@pytest.mark.parametrize("app_config", [{"BASE_URL": "https://corrections.example.com/"}])
def test_a_password_link_uses_the_public_address(ann, app):
    _ask_for_a_password_link_from(app, "evil.example", ann.email)
    row = db.session.scalar(select(OutboxMessage).filter_by(user_id=ann.id))
    assert "https://corrections.example.com/editor/password/" in row.text_body
    assert "evil.example" not in row.text_body + row.html_body


# --- sign-in takes as long for an unknown address ----------------------------------------


def test_an_unknown_address_checks_a_password_hash_too(ann, app, monkeypatch):
    checked = []

    class CountingHasher(PasswordHasher):
        def verify(self, password_hash, password):
            checked.append(password_hash)
            return super().verify(password_hash, password)

    monkeypatch.setattr(accounts, "_password_hasher", CountingHasher(time_cost=1, memory_cost=1024))
    client = EditorClient(app.test_client())
    client.post("/editor/sign-in", {"email": "nobody@example.com", "password": "guess"})
    assert len(checked) == 1
    assert checked[0].startswith("$argon2id$")
    # An invited editor who never chose a password: a hash is checked all the same.
    invited = add_user("invited@example.com")
    invited.password_hash = ""
    db.session.commit()
    client.post("/editor/sign-in", {"email": "invited@example.com", "password": "guess"})
    assert len(checked) == 2


def _seconds_to_refuse(client: EditorClient, email: str) -> float:
    started = time.perf_counter()
    response = client.post("/editor/sign-in", {"email": email, "password": "wrong guess"})
    assert response.status_code == 401
    return time.perf_counter() - started


def test_an_unknown_address_answers_as_slowly_as_a_wrong_password(app, monkeypatch):
    # Production-like hashing work, so the hash (not the request) dominates the time.
    monkeypatch.setattr(
        accounts, "_password_hasher", PasswordHasher(time_cost=2, memory_cost=32768)
    )
    for limit in ("PER_ACCOUNT_AND_CLIENT", "PER_CLIENT", "PER_ACCOUNT"):
        app.config[f"SIGNIN_LIMIT_{limit}"] = "1000 per minute"
    known = add_user("known@example.com")
    client = EditorClient(app.test_client())
    times: dict[str, list[float]] = {known.email: [], "stranger@example.com": []}
    for attempt in range(8):  # taken in turns, so a busy machine slows both alike
        for email, taken in times.items():
            seconds = _seconds_to_refuse(client, email)
            if attempt:  # the first of each warms up
                taken.append(seconds)
    known_time, unknown_time = (statistics.median(taken) for taken in times.values())
    # Unfixed, an unknown address answered about 20 times faster.
    assert 0.5 < unknown_time / known_time < 2, (unknown_time, known_time)


# --- sign-ins end on the server -----------------------------------------------------------

COOKIES = ("session", "remember_token")


def _remembered(app, email: str) -> EditorClient:
    client = EditorClient(app.test_client())
    response = client.post(
        "/editor/sign-in", {"email": email, "password": PASSWORD, "remember": "1"}
    )
    assert response.status_code == 302
    return client


def _copied_cookies(client: EditorClient) -> dict[str, str]:
    return {name: client.client.get_cookie(name).value for name in COOKIES}


def _replay(app, cookies: dict[str, str]) -> int:
    """The status of /editor/ for a new browser that carries only these cookies."""
    thief = EditorClient(app.test_client())
    for name, value in cookies.items():
        thief.client.set_cookie(name, value)
    return thief.get("/editor/").status_code


def _each_cookie_alone(cookies: dict[str, str]) -> list[dict[str, str]]:
    return [{name: value} for name, value in cookies.items()]


def test_cookies_kept_from_before_sign_out_open_nothing(ann, app):
    client = _remembered(app, ann.email)
    cookies = _copied_cookies(client)
    # Copies work while the sign-in lasts: each cookie on its own opens the editor.
    assert [_replay(app, alone) for alone in _each_cookie_alone(cookies)] == [200, 200]

    assert client.post("/editor/sign-out").status_code == 302

    assert client.get("/editor/").status_code == 302
    assert [_replay(app, alone) for alone in _each_cookie_alone(cookies)] == [302, 302]
    assert _replay(app, cookies) == 302
    assert db.session.scalar(select(func.count()).select_from(SignIn)) == 0


def test_signing_out_ends_only_that_browser(ann, app):
    laptop = _remembered(app, ann.email)
    phone = _remembered(app, ann.email)
    laptop.post("/editor/sign-out")
    assert phone.get("/editor/").status_code == 200
    assert _replay(app, _copied_cookies(phone)) == 200


def test_a_password_reset_ends_every_sign_in(ann, app):
    laptop = _remembered(app, ann.email)
    stolen = _copied_cookies(laptop)
    other = EditorClient(app.test_client())
    other.post("/editor/forgot-password", {"email": ann.email})
    link = _password_link(ann)
    new_password = "a brand new passphrase"
    assert other.post(link, {"password": new_password, "confirm": new_password}).status_code == 302

    assert other.get("/editor/").status_code == 200  # the browser that reset it
    assert laptop.get("/editor/").status_code == 302
    assert [_replay(app, alone) for alone in _each_cookie_alone(stolen)] == [302, 302]


def test_changing_the_password_ends_the_other_sign_ins(ann, app):
    laptop = _remembered(app, ann.email)
    phone = _remembered(app, ann.email)
    phone_cookies = _copied_cookies(phone)
    assert "On 2 browsers, this one included." in laptop.get("/editor/account").text

    new_password = "a brand new passphrase"
    wrong = laptop.post(
        "/editor/account/password",
        {"current_password": "not it at all", "password": new_password, "confirm": new_password},
    )
    assert wrong.status_code == 422
    assert "That is not your current password." in wrong.text
    differ = laptop.post(
        "/editor/account/password",
        {"current_password": PASSWORD, "password": new_password, "confirm": "something else"},
    )
    assert differ.status_code == 422
    assert "The two passwords differ." in differ.text
    assert phone.get("/editor/").status_code == 200  # refusals change nothing

    changed = laptop.post(
        "/editor/account/password",
        {"current_password": PASSWORD, "password": new_password, "confirm": new_password},
    )
    assert changed.status_code == 302
    page = laptop.get("/editor/account")
    assert "Your password is changed. Signed out on 1 browser elsewhere." in page.text
    assert "On this browser only." in page.text
    assert phone.get("/editor/").status_code == 302
    assert [_replay(app, alone) for alone in _each_cookie_alone(phone_cookies)] == [302, 302]
    db.session.expire_all()
    assert ann.check_password(new_password)


def test_sign_out_everywhere_ends_every_sign_in(ann, app):
    laptop = _remembered(app, ann.email)
    phone = _remembered(app, ann.email)
    stolen = _copied_cookies(laptop)
    page = laptop.get("/editor/account").text
    assert 'action="/editor/sign-out-everywhere"' in page

    response = laptop.post("/editor/sign-out-everywhere")
    assert response.status_code == 302
    assert response.headers["Location"] == "/editor/sign-in"
    assert "You are signed out everywhere (2 browsers)." in laptop.get("/editor/sign-in").text
    assert laptop.get("/editor/").status_code == 302
    assert phone.get("/editor/").status_code == 302
    assert [_replay(app, alone) for alone in _each_cookie_alone(stolen)] == [302, 302]
    # Signing in again works as ever.
    assert laptop.sign_in(ann.email).status_code == 302
    assert laptop.get("/editor/").status_code == 200


def test_the_remember_cookie_lasts_thirty_days(ann, app):
    client = EditorClient(app.test_client())
    response = client.post(
        "/editor/sign-in", {"email": ann.email, "password": PASSWORD, "remember": "1"}
    )
    (header,) = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("remember_")]
    expires = parsedate_to_datetime(header.split("Expires=")[1].split(";")[0])
    assert abs(expires - datetime.now(UTC) - timedelta(days=30)) < timedelta(minutes=5)
    sign_in = db.session.scalar(select(SignIn))
    assert sign_in.remember
    assert abs(sign_in.expires_at - datetime.now(UTC) - timedelta(days=30)) < timedelta(minutes=5)


@pytest.mark.parametrize("remember", [True, False])
def test_an_expired_sign_in_opens_nothing(ann, app, remember):
    client = EditorClient(app.test_client())
    form = {"email": ann.email, "password": PASSWORD}
    client.post("/editor/sign-in", {**form, "remember": "1"} if remember else form)
    sign_in = db.session.scalar(select(SignIn))
    lasts = timedelta(days=30) if remember else timedelta(hours=12)
    assert abs(sign_in.expires_at - sign_in.created_at - lasts) < timedelta(seconds=1)
    cookies = {name: client.client.get_cookie(name) for name in COOKIES}
    sign_in.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    assert client.get("/editor/").status_code == 302
    assert _replay(app, {k: c.value for k, c in cookies.items() if c is not None}) == 302


def test_a_deactivated_account_is_signed_out(ann, app):
    client = _remembered(app, ann.email)
    ann.active = False
    db.session.commit()
    assert client.get("/editor/").status_code == 302


def test_a_cookie_naming_a_user_id_opens_nothing(ann, app):
    """Cookies made before sign-ins were stored named the user's id."""
    client = EditorClient(app.test_client())
    with client.client.session_transaction() as session:
        session["_user_id"] = str(ann.id)
        session["_fresh"] = True
    assert client.get("/editor/").status_code == 302


def test_users_are_equal_only_to_themselves(ann, app):
    """get_id() names a sign-in, so it must not decide which users are the same."""
    bob = add_user("bob@example.com")
    assert ann != bob
    assert ann == db.session.get(User, ann.id)
    assert len({ann, bob}) == 2


def test_wrong_current_passwords_on_the_account_page_are_limited(ann, app):
    client = EditorClient(app.test_client())
    client.sign_in(ann.email)
    form = {"current_password": "a guess", "password": "x" * 12, "confirm": "x" * 12}
    assert [client.post("/editor/account/password", form).status_code for _ in range(3)] == [
        422
    ] * 3
    refused = client.post("/editor/account/password", {**form, "current_password": PASSWORD})
    assert refused.status_code == 429
    assert "Too many wrong tries" in refused.text
    db.session.expire_all()
    assert ann.check_password(PASSWORD)


def test_the_worker_forgets_expired_sign_ins_each_hour(ann, app):
    _remembered(app, ann.email)
    current = _remembered(app, ann.email)
    first = db.session.scalar(select(SignIn).order_by(SignIn.id))
    first.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    db.session.commit()
    assert run_periodic_task(app.extensions["huey"], "forget_expired_sign_ins") == 1
    assert db.session.scalar(select(func.count()).select_from(SignIn)) == 1
    assert current.get("/editor/").status_code == 200


def test_an_operator_ends_an_editors_sign_ins_from_the_command_line(ann, app, run_cli):
    laptop = _remembered(app, ann.email)
    stolen = _copied_cookies(_remembered(app, ann.email))
    other = _remembered(app, add_user("bob@example.com").email)

    result = run_cli("editor", "sign-out", "ANN@example.com")
    assert result.exit_code == 0, result.output
    assert result.output == "ann@example.com: 2 sign-ins ended\n"
    assert laptop.get("/editor/").status_code == 302
    assert _replay(app, stolen) == 302
    assert other.get("/editor/").status_code == 200  # someone else's stay

    unknown = run_cli("editor", "sign-out", "nobody@example.com")
    assert unknown.exit_code == 2
    assert "no editor has the address 'nobody@example.com'" in unknown.output

"""Every POST under /editor needs the session's CSRF token: without it, or with a wrong
one, the answer is 400 and nothing changes; the same POST with the token goes through,
so the token is the only difference. And the session cookie cannot be read by scripts,
is not sent by other sites' forms, and (outside the tests) only travels over HTTPS.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from feedback.extensions import db
from feedback.members import password_token
from feedback.models import User
from feedback.models.outbox import OutboxMessage
from tests.conftest import empty_all_tables, make_test_app
from tests.editor.conftest import PASSWORD, EditorClient, add_user
from tests.editor.test_access_matrix import (
    CASES,
    PUBLIC_ENDPOINTS,
    Case,
    World,
    db_state,
    prepare,
)

# How a forged request gets its token wrong.
BAD_TOKENS = ("missing", "garbage", "other-session")
NEW_PASSWORD = "a brand new passphrase"


def _allowed_role(case: Case) -> str | None:
    """A signed-in role the row lets through (owners first), or None."""
    for role in ("owner", "editor", "viewer", "outsider"):
        if case.expected[role] < 400 and role not in case.known_bugs:
            return role
    return None


POST_CASES = [case for case in CASES if case.method == "POST" and _allowed_role(case)]


@pytest.fixture
def world(site, other_site, users, post_suggestion) -> World:
    return World(site, other_site, users, post_suggestion)


@pytest.fixture
def other_session_token(app) -> str:
    """A genuine token, of someone else's session (an attacker's own visit, say)."""
    return EditorClient(app.test_client()).csrf_token()


def forged_post(client: EditorClient, url: str, data: dict, bad: str, other_token: str):
    data = dict(data)
    if bad == "missing":
        return client.post(url, data, csrf=False)
    data["csrf_token"] = "not-a-token" if bad == "garbage" else other_token
    return client.post(url, data)


def assert_csrf_refusal(response) -> None:
    assert response.status_code == 400, response.get_data(as_text=True)[:500]
    assert "CSRF" in response.get_data(as_text=True)


def _case_params(bad_tokens=BAD_TOKENS) -> list:
    return [
        pytest.param(case, bad, id=f"{case.name}-{bad}")
        for case in POST_CASES
        for bad in bad_tokens
    ]


@pytest.mark.parametrize(("case", "bad"), _case_params())
def test_forged_post_is_refused_and_changes_nothing(
    app, world, editor_client, other_session_token, case, bad
):
    role = _allowed_role(case)
    client = editor_client(world.users[role])
    world.actor = world.users[role]  # an undo is only ever the deciding editor's own
    url, data = prepare(app, case, world)
    before = db_state()

    assert_csrf_refusal(forged_post(client, url, data, bad, other_session_token))
    assert db_state() == before

    # The very same request with the session's token does what it says.
    response = client.post(url, data)
    assert response.status_code == case.expected[role], response.get_data(as_text=True)[:500]
    assert db_state() != before
    if case.effect is not None:
        case.effect(world, world.users[role])


@pytest.mark.parametrize("bad", ["missing", "garbage", "other-session"])
@pytest.mark.parametrize("case", [case for case in POST_CASES if case.json], ids=lambda c: c.name)
def test_forged_json_post_is_refused(app, world, editor_client, other_session_token, case, bad):
    """The keyboard script sends the token in the X-CSRFToken header: the same rule."""
    role = _allowed_role(case)
    client = editor_client(world.users[role])
    world.actor = world.users[role]
    url, data = prepare(app, case, world)
    before = db_state()
    headers = {"Accept": "application/json"}
    if bad != "missing":
        headers["X-CSRFToken"] = "not-a-token" if bad == "garbage" else other_session_token

    response = client.client.post(url, data=data, headers=headers)

    assert response.status_code == 400
    assert db_state() == before
    assert client.post_json(url, data).status_code == 200
    assert db_state() != before


# --- sign-in, sign-out and the password pages -------------------------------------------


def _signed_in(client: EditorClient) -> bool:
    response = client.get("/editor/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def _user(email: str) -> User:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).filter_by(email=email))


@pytest.mark.parametrize("bad", BAD_TOKENS)
def test_sign_in(editor_client, users, other_session_token, bad):
    client = editor_client(None)
    form = {"email": users["editor"].email, "password": PASSWORD}

    assert_csrf_refusal(forged_post(client, "/editor/sign-in", form, bad, other_session_token))
    assert not _signed_in(client)

    assert client.post("/editor/sign-in", form).status_code == 302
    assert _signed_in(client)


@pytest.mark.parametrize("bad", BAD_TOKENS)
def test_sign_out(editor_client, users, other_session_token, bad):
    client = editor_client(users["editor"])

    assert_csrf_refusal(forged_post(client, "/editor/sign-out", {}, bad, other_session_token))
    assert _signed_in(client)

    response = client.post("/editor/sign-out")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/editor/sign-in")
    assert not _signed_in(client)


def _outbox_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))


@pytest.mark.parametrize("bad", BAD_TOKENS)
def test_forgot_password(editor_client, users, other_session_token, bad):
    client = editor_client(None)
    form = {"email": users["editor"].email}

    response = forged_post(client, "/editor/forgot-password", form, bad, other_session_token)
    assert_csrf_refusal(response)
    assert _outbox_count() == 0

    assert client.post("/editor/forgot-password", form).status_code == 200
    assert _outbox_count() == 1


@pytest.mark.parametrize("bad", BAD_TOKENS)
def test_set_password(editor_client, users, other_session_token, bad):
    user = users["editor"]
    url = f"/editor/password/{password_token(user)}"
    client = editor_client(None)
    assert client.get(url).status_code == 200
    form = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    before = db_state()

    assert_csrf_refusal(forged_post(client, url, form, bad, other_session_token))
    assert db_state() == before
    assert _user(user.email).check_password(PASSWORD)
    assert not _signed_in(client)

    assert client.post(url, form).status_code == 302
    assert _user(user.email).check_password(NEW_PASSWORD)
    assert _signed_in(client)


@pytest.mark.parametrize("bad", BAD_TOKENS)
def test_sign_out_everywhere(editor_client, users, other_session_token, bad):
    client = editor_client(users["editor"])
    elsewhere = editor_client(users["editor"])
    url = "/editor/sign-out-everywhere"

    assert_csrf_refusal(forged_post(client, url, {}, bad, other_session_token))
    assert _signed_in(client)
    assert _signed_in(elsewhere)

    response = client.post(url)
    assert response.status_code == 302
    assert not _signed_in(client)
    assert not _signed_in(elsewhere)


AUTH_POSTS = {
    "auth.sign_in",
    "auth.sign_out",
    "auth.sign_out_everywhere",
    "auth.forgot_password",
    "auth.set_password",
}


def test_every_editor_post_route_is_checked(app):
    posts = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/editor") and "POST" in rule.methods
    }
    checked = {case.endpoint for case in POST_CASES} | AUTH_POSTS
    assert AUTH_POSTS <= PUBLIC_ENDPOINTS
    missing = sorted(posts - checked)
    assert not missing, f"POST routes under /editor with no CSRF test: {missing}"


# --- the session cookie -----------------------------------------------------------------


def _set_cookie(response, name: str) -> str:
    """The Set-Cookie header of cookie ``name``, lower-cased."""
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            return header.lower()
    raise AssertionError(f"no {name} cookie in {response.headers.getlist('Set-Cookie')}")


def _cookie_attributes(header: str) -> set[str]:
    return {part.strip() for part in header.split(";")[1:]}


def _sign_in(client: EditorClient, email: str):
    response = client.post(
        "/editor/sign-in", {"email": email, "password": PASSWORD, "remember": "1"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def test_session_cookies_are_http_only_and_same_site_lax(editor_client, users):
    response = _sign_in(editor_client(None), users["viewer"].email)

    for name in ("session", "remember_token"):
        attributes = _cookie_attributes(_set_cookie(response, name))
        assert "httponly" in attributes, name
        assert "samesite=lax" in attributes, name


def test_session_cookies_are_secure_outside_the_tests(test_database, tmp_path, monkeypatch):
    monkeypatch.setenv("FEEDBACK_INSTANCE_PATH", str(tmp_path / "instance"))
    production = make_test_app(
        test_database, tmp_path, TESTING=False, SECRET_KEY="x" * 32, MAIL_CAPTURE=True
    )
    with production.app_context():
        db.create_all()
        try:
            add_user("secure@example.com")
            response = _sign_in(EditorClient(production.test_client()), "secure@example.com")
            for name in ("session", "remember_token"):
                attributes = _cookie_attributes(_set_cookie(response, name))
                assert "secure" in attributes, name
                assert "httponly" in attributes, name
                assert "samesite=lax" in attributes, name
        finally:
            db.session.remove()
            empty_all_tables()
            db.engine.dispose()

"""Editor UI fixtures: members with roles, a client that signs in and sends CSRF tokens,
and reports posted through the public API."""

from __future__ import annotations

import re
import uuid

import pytest
from argon2 import PasswordHasher
from flask import g
from flask.testing import FlaskClient

from feedback.extensions import db
from feedback.models import Membership, Role, Site, Suggestion, User, accounts
from tests.conftest import suggestion_body

PASSWORD = "correct horse battery staple"
_CSRF_FIELD = re.compile(r'name="csrf-token" content="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    found = _CSRF_FIELD.search(html)
    assert found, "the page carries no CSRF token"
    return found.group(1) or found.group(2)


def _forget_cached_user() -> None:
    # The tests hold an app context open, and requests share its ``g``, where Flask-Login
    # caches the signed-in user and Flask-WTF the session's token: without this, one
    # client would see another's.
    g.pop("_login_user", None)
    g.pop("csrf_token", None)


class _FreshUserClient(FlaskClient):
    def open(self, *args, **kwargs):
        _forget_cached_user()
        try:
            return super().open(*args, **kwargs)
        finally:
            _forget_cached_user()


class EditorClient:
    """A test client for the editor UI that adds the session's CSRF token to each POST."""

    def __init__(self, client):
        client.__class__ = _FreshUserClient
        self.client = client
        self._token: str | None = None

    def csrf_token(self) -> str:
        if self._token is None:
            self._token = csrf_from(self.client.get("/editor/sign-in").get_data(as_text=True))
        return self._token

    def get(self, url: str, **kwargs):
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict | None = None, csrf: bool = True, **kwargs):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.csrf_token())
        return self.client.post(url, data=data, **kwargs)

    def post_json(self, url: str, data: dict | None = None, **kwargs):
        """As the keyboard script does: form body, token in a header, JSON answer."""
        headers = {"X-CSRFToken": self.csrf_token(), "Accept": "application/json"}
        return self.client.post(url, data=data or {}, headers=headers, **kwargs)

    def sign_in(self, email: str, password: str = PASSWORD):
        return self.post("/editor/sign-in", {"email": email, "password": password})


def add_user(email: str, password: str = PASSWORD, name: str = "") -> User:
    user = User(email=email.lower(), name=name)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def add_member(site: Site, role: Role, email: str, name: str = "") -> User:
    user = db.session.query(User).filter_by(email=email.lower()).one_or_none()
    if user is None:
        user = add_user(email, name=name)
    db.session.add(Membership(user_id=user.id, site_id=site.id, role=role))
    db.session.commit()
    return user


@pytest.fixture(autouse=True)
def _quick_password_hashing(monkeypatch):
    # The same argon2id, with less work per hash: the tests make and check many passwords.
    monkeypatch.setattr(accounts, "_password_hasher", PasswordHasher(time_cost=1, memory_cost=1024))


@pytest.fixture
def app_config() -> dict:
    # Mail stays in the outbox, where the tests look for it.
    return {"MAIL_CAPTURE": True}


@pytest.fixture
def users(site, other_site) -> dict[str, User]:
    """One user per role on ``site``, and a member of ``other_site`` only."""
    return {
        "owner": add_member(site, Role.OWNER, "owner@example.com", "Olive Owner"),
        "editor": add_member(site, Role.EDITOR, "editor@example.com", "Eddie Editor"),
        "viewer": add_member(site, Role.VIEWER, "viewer@example.com", "Vera Viewer"),
        "outsider": add_member(other_site, Role.OWNER, "outsider@example.com", "Otto Outsider"),
    }


@pytest.fixture
def editor_client(app):
    """``editor_client(user)``: a fresh client signed in as ``user`` (None: anonymous)."""

    def make(user: User | None = None) -> EditorClient:
        client = EditorClient(app.test_client())
        if user is not None:
            response = client.sign_in(user.email)
            assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return make


@pytest.fixture
def report(post_suggestion):
    """``report(**changes)``: post a reader's report through the API; returns it stored.
    ``text`` and ``exact`` pick the article text and the quote; ``url`` and ``title``
    name another article."""

    def make(url: str | None = None, title: str | None = None, **changes) -> Suggestion:
        body = suggestion_body(**changes)
        if url is not None:
            body["article"]["url"] = url
        if title is not None:
            body["article"]["title"] = title
        response = post_suggestion(body)
        assert response.status_code in (200, 201), response.get_json()
        return db.session.get(Suggestion, uuid.UUID(body["id"]))

    return make

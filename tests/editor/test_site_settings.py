"""The owners' settings page of a site: name, origins, options, script tag, secret,
members; and who may see and change it."""

from __future__ import annotations

import http.cookiejar
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import g
from sqlalchemy import func, select, update

from feedback.extensions import db
from feedback.models import (
    Membership,
    NotifySetting,
    OutboxKind,
    OutboxMessage,
    Role,
    Site,
    User,
)
from tests.editor.conftest import PASSWORD, add_member, csrf_from
from tests.servers import serve_in_thread


@pytest.fixture
def app_config() -> dict:
    # Mail stays in the outbox (as the demo does): no SMTP server needed.
    return {"MAIL_CAPTURE": True}


def url(site: Site, path: str = "") -> str:
    return f"/editor/sites/{site.id}/settings{path}"


def fresh(site: Site) -> Site:
    db.session.expire_all()
    return db.session.get(Site, site.id)


def role_of(site: Site, user: User) -> Role | None:
    db.session.expire_all()
    member = db.session.scalar(select(Membership).filter_by(site_id=site.id, user_id=user.id))
    return member.role if member else None


def membership_id(site: Site, user: User) -> int:
    return db.session.scalar(select(Membership.id).filter_by(site_id=site.id, user_id=user.id))


@pytest.fixture
def owner(editor_client, users):
    return editor_client(users["owner"])


def text(response) -> str:
    return response.get_data(as_text=True)


def test_owner_sees_the_settings(owner, site, users):
    response = owner.get(url(site))
    assert response.status_code == 200
    page = text(response)
    assert "The Example News" in page
    assert "https://news.example.com\nhttps://*.example.org" in page
    # The members, with their roles.
    for user in ("owner", "editor", "viewer"):
        assert users[user].email in page
    assert users["outsider"].email not in page
    assert f"/editor/sites/{site.id}/export.jsonld" in page
    assert f"/editor/sites/{site.id}/export.csv" in page
    # The page's behaviour comes from a file, never inline script or style.
    assert "/static/editor/sites.js" in page
    assert "<script>" not in page
    assert "style=" not in page


def test_script_tag_uses_the_external_static_url(owner, site):
    page = text(owner.get(url(site)))
    tag = (
        "&lt;script src=&#34;http://localhost/static/js/feedback.js&#34; "
        "data-site=&#34;example-key&#34; async&gt;&lt;/script&gt;"
    )
    assert tag in page
    assert 'data-copy-target="script-tag"' in page


@pytest.mark.parametrize("app_config", [{"BASE_URL": "https://fb.example.com/"}])
def test_script_tag_uses_base_url_when_set(owner, site):
    page = text(owner.get(url(site)))
    assert "https://fb.example.com/static/js/feedback.js" in page


def test_rename(owner, site):
    response = owner.post(url(site, "/name"), {"name": "  The Daily Example  "})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(url(site))
    assert fresh(site).name == "The Daily Example"
    assert "Site name saved." in text(owner.get(url(site)))


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_bad_name_changes_nothing(owner, site, name):
    response = owner.post(url(site, "/name"), {"name": name})
    assert response.status_code == 422
    assert 'class="field-error" id="name-error"' in text(response)
    assert fresh(site).name == "The Example News"


def test_save_origins_canonicalises_and_drops_blanks_and_repeats(owner, site):
    lines = "https://News.Example.com/\n\n  https://*.example.net  \nhttps://news.example.com:443\n"
    response = owner.post(url(site, "/origins"), {"origins": lines})
    assert response.status_code == 303
    assert fresh(site).allowed_origins == ["https://news.example.com", "https://*.example.net"]


def test_bad_origin_line_changes_nothing_and_says_which(owner, site):
    lines = "https://news.example.com\nhttps://ok.example.net\nftp://files.example.com\n"
    response = owner.post(url(site, "/origins"), {"origins": lines})
    assert response.status_code == 422
    page = text(response)
    assert "Line 3:" in page
    assert "ftp://files.example.com" in page
    # What was typed stays in the field, to be corrected.
    assert "https://ok.example.net" in page
    assert fresh(site).allowed_origins == ["https://news.example.com", "https://*.example.org"]


def test_options(owner, site, users):
    assert not site.corrections_public
    response = owner.post(
        url(site, "/options"),
        {"corrections_public": "1", "notify_readers_on_reject": "1", "default_notify": "daily"},
    )
    assert response.status_code == 303
    changed = fresh(site)
    assert changed.corrections_public
    assert changed.settings["notify_readers_on_reject"] is True
    assert changed.settings["default_notify"] == "daily"
    # The public corrections log is published now, and the page links to it.
    assert owner.get("/sites/example-key/corrections").status_code == 200
    assert "/sites/example-key/corrections" in text(owner.get(url(site)))
    # A new member starts with the default.
    add_member(changed, Role.VIEWER, "newcomer@example.com")
    newcomer = db.session.scalar(select(User).filter_by(email="newcomer@example.com"))
    member = db.session.scalar(select(Membership).filter_by(user_id=newcomer.id))
    assert member.notify == NotifySetting.DAILY

    # Unticked boxes are sent as nothing: they turn the options off.
    response = owner.post(url(site, "/options"), {"default_notify": "off"})
    assert response.status_code == 303
    changed = fresh(site)
    assert not changed.corrections_public
    assert changed.settings["notify_readers_on_reject"] is False
    assert changed.settings["default_notify"] == "off"
    assert owner.get("/sites/example-key/corrections").status_code == 404


def test_options_keep_other_settings(owner, site):
    site.settings = {"something_else": 7}
    db.session.commit()
    owner.post(url(site, "/options"), {"corrections_public": "1", "default_notify": "hourly"})
    assert fresh(site).settings == {
        "something_else": 7,
        "corrections_public": True,
        "notify_readers_on_reject": False,
        "default_notify": "hourly",
        "fetch_pages": True,
        "title_suffix": "",
    }


def test_owner_sets_the_title_suffix_the_queue_leaves_off(owner, site):
    response = owner.post(url(site, "/title-suffix"), {"title_suffix": "  · Sport  "})
    assert response.status_code == 303
    assert fresh(site).options.title_suffix == "· Sport"
    page = text(owner.get(url(site)))
    assert "Titles are listed without “· Sport” too." in page
    assert re.search(r'name="title_suffix" value="· Sport"', owner.get(url(site)).text)

    too_long = "x" * 201
    response = owner.post(url(site, "/title-suffix"), {"title_suffix": too_long})
    assert response.status_code == 422
    assert "Keep the suffix to 200 characters or fewer." in response.text
    assert f'value="{too_long}"' in response.text  # what was typed stays, to be fixed
    assert fresh(site).options.title_suffix == "· Sport"  # and nothing changed

    response = owner.post(url(site, "/title-suffix"), {"title_suffix": ""})
    assert response.status_code == 303
    assert fresh(site).options.title_suffix == ""


def test_owner_turns_reading_the_sites_pages_off_and_on(owner, site):
    page = text(owner.get(url(site)))
    assert "Reading your pages" in page
    assert re.search(
        r'name="fetch_pages" value="1"\s+checked', owner.get(url(site)).get_data(as_text=True)
    )
    response = owner.post(url(site, "/fetching"), {})
    assert response.status_code == 303
    assert not fresh(site).options.fetch_pages
    assert "no longer reads" in text(owner.get(url(site)))
    response = owner.post(url(site, "/fetching"), {"fetch_pages": "1"})
    assert response.status_code == 303
    assert fresh(site).options.fetch_pages


def test_unknown_default_notify_changes_nothing(owner, site):
    response = owner.post(
        url(site, "/options"), {"corrections_public": "1", "default_notify": "weekly"}
    )
    assert response.status_code == 422
    assert fresh(site).settings == {}


def test_rotate_secret_shows_it_once(owner, site):
    old = "fbs_old-secret"
    site.secret_hash = Site.hash_secret(old)
    db.session.commit()
    response = owner.post(url(site, "/secret"), {"confirm": "1"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    page = text(response)
    found = re.search(r'<code id="new-secret" class="secret">(fbs_[^<]+)</code>', page)
    assert found
    secret = found.group(1)
    assert "stopped working" in page
    changed = fresh(site)
    assert changed.check_secret(secret)
    assert not changed.check_secret(old)
    # Not in the URL, not in a flash message, not on the next page.
    assert "Location" not in response.headers
    again = text(owner.get(url(site)))
    assert secret not in again
    assert 'id="new-secret"' not in again


def test_new_secret_needs_confirmation(owner, site):
    secret_hash = site.secret_hash
    for data in ({}, {"confirm": "0"}, {"confirm": "yes"}):
        response = owner.post(url(site, "/secret"), data)
        assert response.status_code == 422
        page = text(response)
        assert "Tick the box to confirm" in page
        assert 'id="new-secret"' not in page
        assert fresh(site).secret_hash == secret_hash


def test_add_a_new_user_sends_an_invitation(owner, site):
    response = owner.post(
        url(site, "/members"),
        {"email": "  New.Person@Example.com ", "name": "New Person", "role": "editor"},
    )
    assert response.status_code == 303, text(response)
    user = db.session.scalar(select(User).filter_by(email="new.person@example.com"))
    assert user is not None
    assert user.name == "New Person"
    assert user.password_hash == ""
    assert role_of(site, user) == Role.EDITOR
    mails = db.session.scalars(select(OutboxMessage).filter_by(user_id=user.id)).all()
    assert [mail.kind for mail in mails] == [OutboxKind.ACCOUNT]
    assert "The Example News" in mails[0].subject
    page = text(owner.get(url(site)))
    assert "new.person@example.com added as editor" in page


def test_add_an_existing_user(owner, site, other_site, users):
    outsider = users["outsider"]
    response = owner.post(
        url(site, "/members"), {"email": "OUTSIDER@example.com", "role": "viewer"}
    )
    assert response.status_code == 303
    assert role_of(site, outsider) == Role.VIEWER
    assert role_of(other_site, outsider) == Role.OWNER
    assert db.session.scalars(select(OutboxMessage)).all() == []
    assert db.session.query(User).filter_by(email="outsider@example.com").count() == 1


@pytest.mark.parametrize(
    ("email", "role", "message"),
    [
        ("editor@example.com", "viewer", "already a member"),
        ("not-an-email", "viewer", "not an email address"),
        ("two@example.com, three@example.com", "viewer", "not an email address"),
        ("someone@example.com", "admin", "Choose owner, editor or viewer"),
        ("", "viewer", "not an email address"),
    ],
)
def test_refused_additions_change_nothing(owner, site, users, email, role, message):
    members_before = db.session.query(Membership).count()
    users_before = db.session.query(User).count()
    response = owner.post(url(site, "/members"), {"email": email, "role": role})
    assert response.status_code == 422
    assert message in text(response)
    assert db.session.query(Membership).count() == members_before
    assert db.session.query(User).count() == users_before
    assert role_of(site, users["editor"]) == Role.EDITOR
    assert db.session.scalars(select(OutboxMessage)).all() == []


def test_change_role(owner, site, users):
    editor_id = membership_id(site, users["editor"])
    response = owner.post(url(site, f"/members/{editor_id}/role"), {"role": "owner"})
    assert response.status_code == 303
    assert role_of(site, users["editor"]) == Role.OWNER
    response = owner.post(url(site, f"/members/{editor_id}/role"), {"role": "viewer"})
    assert response.status_code == 303
    assert role_of(site, users["editor"]) == Role.VIEWER


def test_unknown_role_changes_nothing(owner, site, users):
    editor_id = membership_id(site, users["editor"])
    response = owner.post(url(site, f"/members/{editor_id}/role"), {"role": "boss"})
    assert response.status_code == 422
    assert role_of(site, users["editor"]) == Role.EDITOR


def test_remove_member(owner, site, users):
    viewer_id = membership_id(site, users["viewer"])
    response = owner.post(url(site, f"/members/{viewer_id}/remove"))
    assert response.status_code == 303
    assert role_of(site, users["viewer"]) is None
    # The account stays; only its membership of this site goes.
    assert db.session.get(User, users["viewer"].id) is not None


def test_member_of_another_site_is_not_found(owner, site, other_site, users):
    outsider_id = membership_id(other_site, users["outsider"])
    assert owner.post(url(site, f"/members/{outsider_id}/remove")).status_code == 404
    assert (
        owner.post(url(site, f"/members/{outsider_id}/role"), {"role": "viewer"}).status_code == 404
    )
    assert role_of(other_site, users["outsider"]) == Role.OWNER


def test_last_owner_cannot_be_removed_or_demoted(owner, site, users):
    owner_id = membership_id(site, users["owner"])
    for path, data in (
        ("/remove", {}),
        ("/role", {"role": "editor"}),
        ("/role", {"role": "viewer"}),
    ):
        response = owner.post(url(site, f"/members/{owner_id}{path}"), data)
        assert response.status_code == 422
        assert "The site needs an owner" in text(response)
        assert role_of(site, users["owner"]) == Role.OWNER


def test_an_owner_may_step_down_when_another_owner_remains(owner, site, users):
    second = add_member(site, Role.OWNER, "second@example.com")
    owner_id = membership_id(site, users["owner"])
    response = owner.post(url(site, f"/members/{owner_id}/role"), {"role": "editor"})
    assert response.status_code == 303
    # No longer an owner: off to the queue, not to a page they may not see.
    assert response.headers["Location"].endswith("/editor/")
    assert role_of(site, users["owner"]) == Role.EDITOR
    assert owner.get(url(site)).status_code == 403
    # Now the other owner is the last one.
    second_id = membership_id(site, second)
    assert owner.post(url(site, f"/members/{second_id}/remove")).status_code == 403
    assert role_of(site, second) == Role.OWNER


def _all_posts(site: Site, users) -> list[tuple[str, dict]]:
    editor_id = membership_id(site, users["editor"])
    return [
        (url(site, "/name"), {"name": "Taken over"}),
        (url(site, "/origins"), {"origins": "https://evil.example.com"}),
        (url(site, "/options"), {"corrections_public": "1", "default_notify": "off"}),
        (url(site, "/secret"), {"confirm": "1"}),
        (url(site, "/members"), {"email": "friend@example.com", "role": "owner"}),
        (url(site, f"/members/{editor_id}/role"), {"role": "owner"}),
        (url(site, f"/members/{editor_id}/remove"), {}),
    ]


def _unchanged(site: Site, users, secret_hash: str) -> None:
    now = fresh(site)
    assert now.name == "The Example News"
    assert now.allowed_origins == ["https://news.example.com", "https://*.example.org"]
    assert now.settings == {}
    assert now.secret_hash == secret_hash
    assert role_of(site, users["editor"]) == Role.EDITOR
    assert db.session.scalar(select(User).filter_by(email="friend@example.com")) is None


@pytest.mark.parametrize(("who", "status"), [("editor", 403), ("viewer", 403), ("outsider", 404)])
def test_only_owners(editor_client, site, users, who, status):
    client = editor_client(users[who])
    secret_hash = site.secret_hash
    assert client.get(url(site)).status_code == status
    for path, data in _all_posts(site, users):
        assert client.post(path, data).status_code == status, path
    _unchanged(site, users, secret_hash)


def test_anonymous_is_sent_to_sign_in(editor_client, site, users):
    client = editor_client(None)
    secret_hash = site.secret_hash
    response = client.get(url(site))
    assert response.status_code == 302
    assert "/editor/sign-in" in response.headers["Location"]
    for path, data in _all_posts(site, users):
        response = client.post(path, data)
        assert response.status_code == 302, path
        assert "/editor/sign-in" in response.headers["Location"]
    _unchanged(site, users, secret_hash)


def test_posts_without_csrf_token_are_refused(owner, site, users):
    secret_hash = site.secret_hash
    for path, data in _all_posts(site, users):
        assert owner.post(path, data, csrf=False).status_code == 400, path
    _unchanged(site, users, secret_hash)


def test_unknown_site_is_not_found(owner):
    assert owner.get("/editor/sites/999999/settings").status_code == 404


def test_invitation_link_lets_the_new_member_in(owner, site, editor_client, app):
    owner.post(url(site, "/members"), {"email": "invitee@example.com", "role": "viewer"})
    mail = db.session.scalar(select(OutboxMessage).filter_by(kind=OutboxKind.ACCOUNT))
    link = re.search(r"https?://\S+/editor/password/[\w.\-]+", mail.text_body)
    assert link, mail.text_body
    # The test's app context outlives requests, and Flask-Login and Flask-WTF keep the
    # signed-in user and the CSRF token in g: forget the owner's before another client asks.
    g.pop("_login_user", None)
    g.pop("csrf_token", None)
    newcomer = editor_client(None)
    path = link.group(0).split("localhost", 1)[-1]
    response = newcomer.post(
        path, {"password": "a long new password", "confirm": "a long new password"}
    )
    assert response.status_code == 302, (path, text(response))
    assert newcomer.get(f"/editor/sites/{site.id}/stats").status_code == 200
    assert newcomer.get(url(site)).status_code == 403


# --- two owners at once, over real HTTP -----------------------------------------------


class HTTPSession:
    """A browser-like session against a live server: cookies, CSRF token, no redirects."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), self._NoRedirect()
        )
        self.token = ""

    def request(self, path: str, data: dict | None = None) -> int:
        body = None
        if data is not None:
            body = urllib.parse.urlencode({"csrf_token": self.token, **data}).encode()
        try:
            with self.opener.open(self.base + path, data=body, timeout=30) as response:
                if data is None:
                    self.token = csrf_from(response.read().decode())
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def sign_in(self, email: str) -> None:
        self.request("/editor/sign-in")
        assert self.request("/editor/sign-in", {"email": email, "password": PASSWORD}) == 302


def _race(first: tuple, second: tuple) -> list[int]:
    """Send two POSTs at the same moment; their statuses."""
    barrier = threading.Barrier(2)

    def send(call):
        session, path, data = call
        barrier.wait()
        return session.request(path, data)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(send, [first, second]))


@pytest.mark.parametrize("action", ["demote-each-other", "remove-themselves"])
def test_two_owners_at_once_cannot_leave_the_site_without_one(app, site, users, action):
    add_member(site, Role.OWNER, "second@example.com")
    emails = ["owner@example.com", "second@example.com"]
    member_ids = [
        db.session.scalar(
            select(Membership.id).join(User).where(Membership.site_id == site.id, User.email == e)
        )
        for e in emails
    ]
    site_url = url(site)
    # Plain values from here on: touching a row would open a transaction, and on SQLite
    # that holds the write lock the server needs.
    db.session.commit()
    with serve_in_thread(app) as base:
        sessions = [HTTPSession(base), HTTPSession(base)]
        for session, email in zip(sessions, emails, strict=True):
            session.sign_in(email)
        for _round in range(5):
            db.session.execute(
                update(Membership).where(Membership.id.in_(member_ids)).values(role=Role.OWNER)
            )
            db.session.commit()
            if action == "demote-each-other":
                calls = [
                    (sessions[0], f"{site_url}/members/{member_ids[1]}/role", {"role": "editor"}),
                    (sessions[1], f"{site_url}/members/{member_ids[0]}/role", {"role": "editor"}),
                ]
            else:
                calls = [
                    (sessions[0], f"{site_url}/members/{member_ids[0]}/remove", {}),
                    (sessions[1], f"{site_url}/members/{member_ids[1]}/remove", {}),
                ]
            statuses = _race(*calls)
            assert sorted(statuses) in ([303, 403], [303, 422]), statuses
            owners = db.session.scalar(
                select(func.count()).where(
                    Membership.site_id == site.id, Membership.role == Role.OWNER
                )
            )
            db.session.commit()
            assert owners == 1
            if action == "remove-themselves":
                # Put the removed owner back for the next round.
                present = set(db.session.scalars(select(Membership.id)))
                for member_id, email in zip(member_ids, emails, strict=True):
                    if member_id not in present:
                        user_id = db.session.scalar(select(User.id).filter_by(email=email))
                        db.session.add(
                            Membership(
                                id=member_id, user_id=user_id, site_id=site.id, role=Role.OWNER
                            )
                        )
                db.session.commit()
    db.session.remove()


@pytest.mark.parametrize("huge", [2**31, 2**63, 10**20])
def test_ids_beyond_the_database_integer_are_not_found(owner, site, huge):
    assert owner.get(f"/editor/sites/{huge}/settings").status_code == 404
    assert owner.get(f"/editor/sites/{huge}/stats").status_code == 404
    assert owner.post(url(site, f"/members/{huge}/remove")).status_code == 404
    assert owner.post(url(site, f"/members/{huge}/role"), {"role": "viewer"}).status_code == 404


def test_origins_section_asks_for_every_origin_canonical_urls_use(owner, site):
    """Article URLs off the origins are refused (issue 13), so owners are told to list
    every origin their canonical URLs use."""
    page = text(owner.get(url(site)))
    assert 'id="origins-canonical"' in page
    assert "list every origin your pages and" in page

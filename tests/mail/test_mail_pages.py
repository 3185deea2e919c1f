"""The notification settings page, the dev mailbox, and `feedback worker`."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from zoneinfo import available_timezones

import pytest
from flask import g
from sqlalchemy import select

from feedback import create_app, signins
from feedback.extensions import db
from feedback.models import NotifySetting, OutboxMessage, Role, Site, User
from tests.conftest import suggestion_body
from tests.mail.conftest import add_member


def sign_in(client, user: User) -> None:
    # Requests in these tests share the test's app context, where Flask-Login keeps the
    # user it loaded last; forget it so the next request reads the session again.
    g.pop("_login_user", None)
    key = signins.start(user, remember=False)  # a stored sign-in, as the form makes
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = key
        session["_fresh"] = True


@pytest.fixture
def app_config(app_config) -> dict:
    return {**app_config, "WTF_CSRF_ENABLED": False, "DEV_MAILBOX": True}


def test_settings_page_needs_sign_in(client):
    for response in (client.get("/editor/notifications"), client.post("/editor/notifications")):
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/editor/sign-in?next=")


def test_member_changes_own_settings_per_site(site, other_site, client):
    member = add_member(site, "ann@example.com")
    elsewhere = add_member(other_site, "ann@example.com")
    bob = add_member(site, "bob@example.com")
    sign_in(client, member.user)
    page = client.get("/editor/notifications")
    assert page.status_code == 200
    assert "The Example News" in page.text
    assert "The Other Paper" in page.text
    assert "New members of" not in page.text  # editors do not set the site default

    answer = client.post("/editor/notifications", data={
        "timezone": "Europe/Berlin",
        f"notify-{site.id}": "daily", f"hour-{site.id}": "7",
        f"default-{site.id}": "off",
    })  # fmt: skip
    assert answer.status_code == 302
    for row in (member, elsewhere, bob):
        db.session.refresh(row)
    assert (member.notify, member.digest_hour) == (NotifySetting.DAILY, 7)
    assert member.user.timezone == "Europe/Berlin"
    assert elsewhere.notify is NotifySetting.INSTANT
    assert bob.notify is NotifySetting.INSTANT
    db.session.refresh(site)
    assert "default_notify" not in site.settings


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timezone", "Mars/Olympus_Mons", "is not a time zone"),
        ("timezone", "", "is not a time zone"),
        ("notify-SITE", "bogus", "Choose one of the options offered."),
        ("hour-SITE", "24", "Choose an hour from 00:00 to 23:00."),
        ("hour-SITE", "²", "Choose an hour from 00:00 to 23:00."),
        ("default-SITE", "weekly", "Choose one of the options offered."),
    ],
)
def test_a_value_never_offered_changes_nothing(site, client, field, value, message):
    owner = add_member(site, "owner@example.com", role=Role.OWNER, timezone="Asia/Tokyo")
    sign_in(client, owner.user)
    field = field.replace("SITE", str(site.id))
    form = {"timezone": "Europe/Berlin", f"notify-{site.id}": "daily", f"hour-{site.id}": "7",
            f"default-{site.id}": "hourly", field: value}  # fmt: skip
    answer = client.post("/editor/notifications", data=form)
    assert answer.status_code == 422
    assert message in answer.text
    assert f'id="{field}-error" role="alert"' in answer.text
    db.session.expire_all()
    member = db.session.get(type(owner), owner.id)
    assert (member.notify, member.digest_hour) == (NotifySetting.INSTANT, 8)
    assert member.user.timezone == "Asia/Tokyo"
    assert "default_notify" not in (member.site.settings or {})


def test_settings_page_is_part_of_the_editor_layout_with_a_zone_search(site, client):
    member = add_member(site, "ann@example.com", timezone="Europe/Berlin")
    sign_in(client, member.user)
    page = client.get("/editor/notifications").text
    assert '<header class="topbar">' in page
    assert '<a href="/editor/">Queue</a>' in page
    assert 'list="zones"' in page
    assert 'value="Europe/Berlin" required' in page
    zones = re.findall(r'<option value="([^"]+)" label="([^"]+)">', page)
    names = [zone for zone, _label in zones]
    assert names[:3] == ["UTC", "Europe/London", "Europe/Dublin"]
    assert names.index("Asia/Tokyo") < names.index("Africa/Abidjan")
    assert len(names) == len(set(names)) == len(available_timezones())
    assert ("UTC", "UTC (UTC+00:00 now)") in zones
    assert "style=" not in page


def test_zone_labels_give_the_offset_at_that_moment():
    from feedback.editor.notifications import utc_offset

    winter, summer = datetime(2026, 1, 15, tzinfo=UTC), datetime(2026, 7, 15, tzinfo=UTC)
    assert utc_offset("Europe/Berlin", winter) == "UTC+01:00"
    assert utc_offset("Europe/Berlin", summer) == "UTC+02:00"
    assert utc_offset("Asia/Kolkata", winter) == "UTC+05:30"
    assert utc_offset("America/St_Johns", winter) == "UTC\N{MINUS SIGN}03:30"


def test_owner_sets_the_site_default(site, client):
    owner = add_member(site, "owner@example.com", role=Role.OWNER)
    sign_in(client, owner.user)
    assert "New members of" in client.get("/editor/notifications").text
    client.post("/editor/notifications", data={f"default-{site.id}": "hourly"})
    db.session.refresh(site)
    assert site.settings["default_notify"] == "hourly"


def test_default_for_new_members_starts_as_instant(site):
    assert site.options.default_notify is NotifySetting.INSTANT
    site.settings = {"default_notify": "daily"}
    assert site.options.default_notify is NotifySetting.DAILY


def test_dev_mailbox_lists_and_shows_mail(site, post_suggestion, client, inbox):
    add_member(site, "ann@example.com")
    assert post_suggestion(suggestion_body(comment="<b>bold</b>")).status_code == 201
    listing = client.get("/dev/mail/")
    assert listing.status_code == 200
    assert "New typo report on" in listing.text
    row_id = db.session.scalar(select(OutboxMessage.id))
    shown = client.get(f"/dev/mail/{row_id}")
    assert "&lt;b&gt;bold&lt;/b&gt;" in shown.text
    assert "<b>bold" not in shown.text
    html = client.get(f"/dev/mail/{row_id}/html")
    assert "sandbox" in html.headers["Content-Security-Policy"]
    assert "&lt;b&gt;bold&lt;/b&gt;" in html.text


def test_dev_mailbox_is_off_unless_asked(test_database, tmp_path):
    from tests.conftest import make_test_app

    plain = make_test_app(test_database, tmp_path, DEV_MAILBOX=False)
    assert plain.test_client().get("/dev/mail/").status_code == 404


def test_demo_captures_mail_for_the_dev_mailbox(test_database, tmp_path, monkeypatch):
    """The demo's settings: mail is kept, not sent, and shows at once."""
    monkeypatch.setenv("FEEDBACK_INSTANCE_PATH", str(tmp_path / "demo"))
    demo = create_app({"DEMO": True, "MAIL_CAPTURE": True, "MAIL_SERVER": "127.0.0.1",
                       "MAIL_PORT": 1, **test_database.app_config()})  # fmt: skip
    with demo.app_context():
        db.create_all()
        try:
            site = Site(
                name="Demo",
                public_key="example-key",
                allowed_origins=["https://news.example.com"],
                settings={},
            )
            site.rotate_secret()
            db.session.add(site)
            db.session.commit()
            add_member(site, "demo@example.com", role=Role.OWNER)
            client = demo.test_client()
            assert client.post("/api/v1/suggestions", json=suggestion_body()).status_code == 201
            listing = client.get("/dev/mail/")
            assert "New typo report on" in listing.text
            assert ">sent<" in listing.text
        finally:
            db.session.remove()
            from tests.conftest import empty_all_tables

            empty_all_tables()
            db.engine.dispose()


def test_worker_refuses_immediate_mode(run_cli):
    result = run_cli("worker")
    assert result.exit_code != 0
    assert "HUEY_IMMEDIATE" in result.output


@pytest.mark.parametrize("storage", ["sqlite", "redis"])
def test_a_queue_consumer_sends_what_submit_enqueued(
    test_database, tmp_path, monkeypatch, smtp, storage
):
    """Not immediate: the API only stores the report and queues its filing; a consumer
    files it, which queues the mail, and sends that."""
    from tests.conftest import empty_all_tables, make_test_app

    monkeypatch.setenv("FEEDBACK_INSTANCE_PATH", str(tmp_path / "queued"))
    redis = {"REDIS_URL": "redis://127.0.0.1:6379/0"} if storage == "redis" else {}
    queued = make_test_app(test_database, tmp_path, HUEY_IMMEDIATE=False,
                           HUEY_NAME=f"feedback-test-{secrets.token_hex(6)}",
                           MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, **redis)  # fmt: skip
    huey = queued.extensions["huey"]
    assert type(huey).__name__ == {"sqlite": "SqliteHuey", "redis": "RedisHuey"}[storage]
    with queued.app_context():
        db.create_all()
        try:
            site = Site(
                name="Queued",
                public_key="example-key",
                allowed_origins=["https://news.example.com"],
                settings={},
            )
            site.rotate_secret()
            db.session.add(site)
            db.session.commit()
            add_member(site, "ann@example.com")
            answer = queued.test_client().post("/api/v1/suggestions", json=suggestion_body())
            assert answer.status_code == 201
            assert smtp.inbox.messages == []
            assert [task.name for task in huey.pending()] == ["file_report"]
            # A consumer is another process: this test's session must not hold SQLite's lock.
            db.session.remove()
            huey.execute(huey.dequeue())  # what one consumer worker does
            assert smtp.inbox.messages == []
            assert [task.name for task in huey.pending()] == ["send_outbox"]
            huey.execute(huey.dequeue())
            assert len(smtp.inbox.messages) == 1
        finally:
            huey.storage.flush_all()  # only this queue's own keys
            db.session.remove()
            empty_all_tables()
            db.engine.dispose()


def test_new_members_start_with_the_site_default(site, run_cli):
    from feedback.models import Membership

    assert run_cli("editor", "add", "first@example.com", "--site", "example-key",
                   "--password-stdin", input="long-password\n").exit_code == 0  # fmt: skip
    site.settings = {"default_notify": "daily"}
    db.session.commit()
    assert run_cli("editor", "add", "second@example.com", "--site", "example-key",
                   "--password-stdin", input="long-password\n").exit_code == 0  # fmt: skip
    settings = dict(
        db.session.execute(select(User.email, Membership.notify).join(Membership.user)).all()
    )
    assert settings == {
        "first@example.com": NotifySetting.INSTANT,
        "second@example.com": NotifySetting.DAILY,
    }


def test_owners_see_failed_mail_and_send_it_again(app, site, client, post_suggestion, smtp):
    from feedback.mail import mailer
    from feedback.models import OutboxStatus

    owner = add_member(site, "owner@example.com", role=Role.OWNER)
    editor = add_member(site, "ed@example.com")
    smtp.stop()
    app.config["OUTBOX_MAX_ATTEMPTS"] = 1
    assert post_suggestion(suggestion_body()).status_code == 201
    failed = db.session.scalars(select(OutboxMessage)).all()
    assert {row.status for row in failed} == {OutboxStatus.FAILED}
    assert mailer.deliver().sent == 0

    sign_in(client, editor.user)
    page = client.get("/editor/notifications")
    assert page.status_code == 200, page.text
    assert "could not be sent" not in page.text
    # An editor of the site may not retry its mail: 403, as everywhere in the editor UI.
    assert client.post(f"/editor/notifications/failed/{failed[0].id}/retry").status_code == 403

    smtp.start()
    sign_in(client, owner.user)
    page = client.get("/editor/notifications").text
    assert "could not be sent" in page
    assert "ConnectionRefusedError" in page
    for row in failed:
        client.post(f"/editor/notifications/failed/{row.id}/retry")
    assert len(smtp.inbox.messages) == 2

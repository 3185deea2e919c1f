"""One-click unsubscribe (RFC 8058): headers, a POST without a session, bad tokens refused."""

from __future__ import annotations

import time

from feedback.extensions import db
from feedback.mail import headers
from feedback.models import NotifySetting
from tests.conftest import suggestion_body
from tests.mail.conftest import BASE_URL, add_member


def unsubscribe_path(mail) -> str:
    header = mail["List-Unsubscribe"]
    assert header.startswith(f"<{BASE_URL}/unsubscribe/")
    assert header.endswith(">")
    return header[1:-1].removeprefix(BASE_URL)


def test_one_click_post_turns_off_that_site_only(app, site, other_site, post_suggestion, inbox):
    member = add_member(site, "ann@example.com")
    elsewhere = add_member(other_site, "ann@example.com")
    assert post_suggestion(suggestion_body()).status_code == 201
    [mail] = inbox.messages
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = unsubscribe_path(mail)

    fresh = app.test_client()  # no session, no CSRF token: as a mail provider posts it
    page = fresh.get(path)
    assert page.status_code == 200
    db.session.refresh(member)
    assert member.notify is NotifySetting.INSTANT  # a GET (a link checker) changes nothing

    answer = fresh.post(path, data="List-Unsubscribe=One-Click",
                        content_type="application/x-www-form-urlencoded")  # fmt: skip
    assert answer.status_code == 200
    db.session.refresh(member)
    db.session.refresh(elsewhere)
    assert member.notify is NotifySetting.OFF
    assert elsewhere.notify is NotifySetting.INSTANT

    assert post_suggestion(suggestion_body(exact="ferry")).status_code == 201
    assert len(inbox.messages) == 1


def test_tampered_and_expired_tokens_are_refused(app, site, client):
    member = add_member(site, "ann@example.com")
    token = headers.unsubscribe_token(member.user_id, site.id)
    other = headers.unsubscribe_token(member.user_id + 1, site.id)
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    spliced = other.split(".")[0] + "." + ".".join(token.split(".")[1:])
    expired = headers.unsubscribe_token(
        member.user_id, site.id, issued_at=int(time.time()) - 91 * 86400
    )
    for bad in (tampered, spliced, expired, "nonsense"):
        assert client.post(f"/unsubscribe/{bad}").status_code == 400, bad
        assert client.get(f"/unsubscribe/{bad}").status_code == 400, bad
    db.session.refresh(member)
    assert member.notify is NotifySetting.INSTANT
    assert client.post(f"/unsubscribe/{token}").status_code == 200
    db.session.refresh(member)
    assert member.notify is NotifySetting.OFF


def test_digests_carry_the_headers_and_reader_notices_do_not(site, post_suggestion, inbox):
    from tests.mail.test_mail_digest import NOW, reports_of_the_morning, send_digests
    from tests.mail.test_mail_reader import fix_report

    add_member(site, "hourly@example.com", NotifySetting.HOURLY)
    reports_of_the_morning(post_suggestion)
    send_digests(NOW)
    [digest] = inbox.messages
    assert unsubscribe_path(digest)
    inbox.clear()
    fix_report(post_suggestion, notify=True)
    [thanks] = inbox.messages
    assert thanks["List-Unsubscribe"] is None

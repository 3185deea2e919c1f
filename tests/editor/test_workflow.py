"""The workflow rule (which status moves are allowed), groups of duplicates, assignment,
notes, and the audit trail nobody can change."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import func, select

from feedback.extensions import db
from feedback.models import AuditEvent, EditorNote, OutboxMessage, Suggestion, SuggestionStatus
from feedback.models.audit import ImmutableRowError

NEW, ACCEPTED, FIXED, REJECTED, SPAM = (
    "new",
    "accepted",
    "fixed",
    "rejected",
    "spam",
)
# Written out here, apart from the model's rule, so a change to the rule fails a test.
ALLOWED = {
    (NEW, ACCEPTED),
    (NEW, FIXED),
    (NEW, REJECTED),
    (NEW, SPAM),
    (ACCEPTED, FIXED),
    (ACCEPTED, REJECTED),
    (ACCEPTED, NEW),
    (FIXED, NEW),
    (REJECTED, NEW),
    (SPAM, NEW),
}
ALL_MOVES = [(a, b) for a, b in itertools.permutations([NEW, ACCEPTED, FIXED, REJECTED, SPAM], 2)]
LABELS = {ACCEPTED: "Accept", FIXED: "Mark fixed", REJECTED: "Reject", SPAM: "Spam", NEW: "Reopen"}


def _set_status(suggestion: Suggestion, status: str) -> None:
    suggestion.status = SuggestionStatus(status)
    db.session.commit()


def _stored_status(suggestion_id) -> str:
    db.session.expire_all()
    return db.session.get(Suggestion, suggestion_id).status.value


def _audit_count(suggestion_id) -> int:
    return db.session.scalar(select(func.count()).where(AuditEvent.suggestion_id == suggestion_id))


@pytest.mark.parametrize(("old", "new"), ALL_MOVES, ids=[f"{a}-to-{b}" for a, b in ALL_MOVES])
def test_every_move_is_allowed_or_refused_by_the_rule(users, editor_client, report, old, new):
    suggestion = report()
    _set_status(suggestion, old)
    client = editor_client(users["editor"])

    response = client.post_json(f"/editor/suggestions/{suggestion.id}/status", {"status": new})

    if (old, new) in ALLOWED:
        assert response.status_code == 200, response.get_json()
        assert _stored_status(suggestion.id) == new
        event = db.session.scalar(select(AuditEvent).filter_by(suggestion_id=suggestion.id))
        assert event.detail == f"{old} → {new}"
        assert event.user_id == users["editor"].id
    else:
        assert response.status_code == 409
        assert response.get_json()["error"]["fields"] == {"status": [f"Not allowed from {old}."]}
        assert _stored_status(suggestion.id) == old
        assert _audit_count(suggestion.id) == 0


@pytest.mark.parametrize("status", [NEW, ACCEPTED, FIXED, REJECTED, SPAM])
def test_the_report_page_offers_only_the_allowed_moves(users, editor_client, report, status):
    suggestion = report()
    _set_status(suggestion, status)
    html = editor_client(users["editor"]).get(f"/editor/suggestions/{suggestion.id}").text
    offered = {target for target in LABELS if f'data-status="{target}"' in html}
    assert offered == {b for a, b in ALLOWED if a == status}


def test_a_form_post_redirects_back_with_a_message(users, editor_client, report):
    suggestion = report()
    client = editor_client(users["editor"])
    response = client.post(f"/editor/suggestions/{suggestion.id}/status", {"status": REJECTED})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/editor/suggestions/{suggestion.id}"
    assert "The report is now rejected." in client.get(response.headers["Location"]).text


def test_a_refused_form_post_says_why_and_changes_nothing(users, editor_client, report):
    suggestion = report()
    _set_status(suggestion, SPAM)
    client = editor_client(users["editor"])
    response = client.post(
        f"/editor/suggestions/{suggestion.id}/status",
        {"status": ACCEPTED, "next": f"/editor/suggestions/{suggestion.id}"},
    )
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).text
    assert "A report that is spam cannot be moved to accepted." in page
    assert _stored_status(suggestion.id) == SPAM


def test_an_unknown_status_is_refused(users, editor_client, report):
    suggestion = report()
    response = editor_client(users["editor"]).post_json(
        f"/editor/suggestions/{suggestion.id}/status", {"status": "published"}
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"status": ["Unknown status."]}
    assert _stored_status(suggestion.id) == NEW


def test_a_group_moves_together_and_each_reader_is_told(users, editor_client, report):
    first = report(reporter={"email": "ann@example.org", "notify": True})
    second = report(reporter={"email": "bob@example.org", "notify": True})
    assert second.duplicate_of_id == first.id
    db.session.expire_all()
    assert db.session.get(Suggestion, first.id).report_count == 2

    # Acting on the duplicate moves the whole group.
    response = editor_client(users["editor"]).post_json(
        f"/editor/suggestions/{second.id}/status", {"status": FIXED}
    )
    assert response.status_code == 200
    assert response.get_json()["message"] == "The 2 reports of the group are now fixed."
    assert _stored_status(first.id) == FIXED
    assert _stored_status(second.id) == FIXED
    readers = db.session.scalars(select(OutboxMessage.to_address).filter_by(kind="reader")).all()
    assert sorted(readers) == ["ann@example.org", "bob@example.org"]


def test_mark_as_duplicate_and_split_off_keep_the_counts(users, editor_client, report):
    original = report(exact="then")
    other = report(exact="ferry", replacement="boat")
    repeat_of_other = report(exact="ferry", replacement="boat")
    client = editor_client(users["editor"])

    response = client.post_json(
        f"/editor/suggestions/{other.id}/duplicate", {"of": str(original.id)}
    )
    assert response.status_code == 200, response.get_json()
    db.session.expire_all()
    # The duplicate brings its own duplicates along.
    assert db.session.get(Suggestion, other.id).duplicate_of_id == original.id
    assert db.session.get(Suggestion, repeat_of_other.id).duplicate_of_id == original.id
    assert db.session.get(Suggestion, original.id).report_count == 3
    assert db.session.get(Suggestion, other.id).report_count == 1

    response = client.post_json(f"/editor/suggestions/{other.id}/split")
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Suggestion, other.id).duplicate_of_id is None
    assert db.session.get(Suggestion, original.id).report_count == 2
    actions = db.session.scalars(
        select(AuditEvent.action).filter_by(suggestion_id=other.id).order_by(AuditEvent.id)
    ).all()
    assert [a.value for a in actions] == ["duplicate", "split"]


def test_grouping_refuses_closed_reports_and_other_articles(users, editor_client, report):
    original = report(exact="then")
    closed = report(exact="ferry", replacement="boat")
    _set_status(closed, REJECTED)
    elsewhere = report(
        text="The ferry is late.", exact="ferry", url="https://news.example.com/2026/another"
    )
    client = editor_client(users["editor"])
    refused = client.post_json(
        f"/editor/suggestions/{closed.id}/duplicate", {"of": str(original.id)}
    )
    assert refused.status_code == 409
    refused = client.post_json(
        f"/editor/suggestions/{elsewhere.id}/duplicate", {"of": str(original.id)}
    )
    assert refused.status_code == 422
    assert "same article" in refused.get_json()["error"]["message"]
    refused = client.post_json(f"/editor/suggestions/{original.id}/split")
    assert refused.status_code == 422
    db.session.expire_all()
    assert db.session.get(Suggestion, closed.id).duplicate_of_id is None
    assert db.session.get(Suggestion, elsewhere.id).duplicate_of_id is None
    assert _audit_count(original.id) == 0


def test_assign_only_to_editors_of_the_site(users, editor_client, report):
    suggestion = report()
    client = editor_client(users["editor"])
    refused = client.post_json(
        f"/editor/suggestions/{suggestion.id}/assign", {"assignee": str(users["viewer"].id)}
    )
    assert refused.status_code == 422
    refused = client.post_json(
        f"/editor/suggestions/{suggestion.id}/assign", {"assignee": str(users["outsider"].id)}
    )
    assert refused.status_code == 422
    db.session.expire_all()
    assert db.session.get(Suggestion, suggestion.id).assignee_id is None

    done = client.post_json(
        f"/editor/suggestions/{suggestion.id}/assign", {"assignee": str(users["owner"].id)}
    )
    assert done.status_code == 200
    assert done.get_json()["message"] == "Assigned to Olive Owner."
    db.session.expire_all()
    assigned = db.session.get(Suggestion, suggestion.id)
    assert assigned.assignee_id == users["owner"].id
    assert assigned.first_action_at is not None


def test_notes_are_kept_and_blank_ones_refused(users, editor_client, report):
    suggestion = report()
    client = editor_client(users["editor"])
    assert (
        client.post_json(f"/editor/suggestions/{suggestion.id}/notes", {"note": "  "}).status_code
        == 422
    )
    response = client.post_json(
        f"/editor/suggestions/{suggestion.id}/notes", {"note": "Checked with the desk <b>ok</b>"}
    )
    assert response.status_code == 200
    notes = db.session.scalars(select(EditorNote.body)).all()
    assert notes == ["Checked with the desk <b>ok</b>"]
    page = client.get(f"/editor/suggestions/{suggestion.id}").text
    assert "Checked with the desk &lt;b&gt;ok&lt;/b&gt;" in page


def test_the_audit_trail_cannot_be_changed_or_deleted(users, editor_client, report):
    suggestion = report()
    editor_client(users["editor"]).post_json(
        f"/editor/suggestions/{suggestion.id}/status", {"status": ACCEPTED}
    )
    event = db.session.scalar(select(AuditEvent))
    event.detail = "nothing happened"
    with pytest.raises(ImmutableRowError):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.scalar(select(AuditEvent)))
    with pytest.raises(ImmutableRowError):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(select(AuditEvent.detail)) == "new → accepted"


def test_a_revision_with_the_fix_says_so_in_the_trail(users, editor_client, report, site, client):
    from tests.conftest import ARTICLE_TEXT

    suggestion = report()
    response = client.put(
        "/api/v1/articles",
        json={
            "url": "https://news.example.com/2026/ferry-returns",
            "title": "Harbour ferry returns",
            "text": ARTICLE_TEXT.replace("faster then", "faster than"),
        },
        headers={"Authorization": f"Bearer {site.rotate_secret()}"},
    )
    db.session.commit()
    assert response.status_code in (200, 201), response.get_json()
    page = editor_client(users["viewer"]).get(f"/editor/suggestions/{suggestion.id}").text
    assert "the service: status — new → fixed: fixed in revision 2" in page

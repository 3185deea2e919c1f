"""Undo: an editor takes back their own decision within its window. The reports get the
state the history recorded before it, the history shows the undo, and no move goes
through the transition table."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from feedback.extensions import db
from feedback.models import (
    AuditAction,
    AuditEvent,
    Decision,
    OutboxMessage,
    OutboxStatus,
    Suggestion,
    SuggestionStatus,
    utcnow,
)


def trail(report: Suggestion) -> list[tuple[str, str]]:
    events = db.session.scalars(
        select(AuditEvent).filter_by(suggestion_id=report.id).order_by(AuditEvent.id)
    )
    return [(event.action.value, event.detail) for event in events]


def fresh(report: Suggestion) -> Suggestion:
    db.session.expire_all()
    return db.session.get(Suggestion, report.id)


def decide(client, report: Suggestion, status: str, **form) -> dict:
    response = client.post_json(
        f"/editor/suggestions/{report.id}/status", {"status": status, **form}
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_an_accept_is_undone_by_its_editor(users, editor_client, report):
    made = report()
    client = editor_client(users["editor"])

    answer = decide(client, made, "accepted")
    undo = answer["undo"]
    assert undo["message"] == "The report is now accepted."
    assert 0 < undo["seconds"] <= 10
    assert fresh(made).status == SuggestionStatus.ACCEPTED
    assert fresh(made).first_action_at is not None

    response = client.post_json(undo["url"])
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["reports"] == [{"id": str(made.id), "status": "new"}]
    restored = fresh(made)
    assert restored.status == SuggestionStatus.NEW
    # As it was: nobody has acted on it yet (the stats count from here).
    assert restored.first_action_at is None
    assert trail(made) == [("status", "new → accepted"), ("undo", "accepted → new")]
    decision = db.session.scalar(select(Decision))
    assert decision.undone_at is not None

    again = client.post_json(undo["url"])
    assert again.status_code == 409
    assert again.get_json()["error"]["message"] == "That was undone already."
    assert fresh(made).status == SuggestionStatus.NEW


def test_undo_restores_what_the_history_recorded_not_a_move(users, editor_client, report):
    """Fixed → new is a reopening in the transition table; an undo of "mark fixed" is no
    reopening: fixed_at and the revision that carried a fix come back as they were."""
    made = report()
    client = editor_client(users["editor"])
    decide(client, made, "accepted")
    answer = decide(client, made, "fixed")
    assert fresh(made).fixed_at is not None

    assert client.post_json(answer["undo"]["url"]).status_code == 200
    restored = fresh(made)
    assert restored.status == SuggestionStatus.ACCEPTED
    assert restored.fixed_at is None
    assert trail(made)[-1] == ("undo", "fixed → accepted")
    # No status event was written for the undo: the history has no "fixed → accepted" move.
    assert ("status", "fixed → accepted") not in trail(made)


def test_a_group_is_undone_as_one(users, editor_client, report):
    first = report()
    second = report()  # the same words: one group
    assert second.duplicate_of_id == first.id
    client = editor_client(users["editor"])
    answer = decide(client, second, "rejected")
    assert answer["undo"]["message"] == "The 2 reports of the group are now rejected."

    assert client.post_json(answer["undo"]["url"]).status_code == 200
    assert fresh(first).status == fresh(second).status == SuggestionStatus.NEW


def test_a_bulk_action_is_undone_as_one(users, editor_client, report):
    one = report(exact="then", replacement="than")
    two = report(exact="little", replacement="small")
    client = editor_client(users["editor"])
    response = client.post_json(
        "/editor/bulk", {"action": "spam", "ids": [str(one.id), str(two.id)]}
    )
    assert response.status_code == 200
    undo = response.get_json()["undo"]
    assert undo["message"] == "2 reports now spam."
    assert client.post_json(undo["url"]).status_code == 200
    assert fresh(one).status == fresh(two).status == SuggestionStatus.NEW


def test_a_bulk_assignment_is_undone(users, editor_client, report):
    made = report()
    client = editor_client(users["editor"])
    response = client.post_json(
        "/editor/bulk", {"action": "assign", "assignee": "me", "ids": [str(made.id)]}
    )
    assert fresh(made).assignee_id == users["editor"].id
    assert client.post_json(response.get_json()["undo"]["url"]).status_code == 200
    assert fresh(made).assignee_id is None
    assert trail(made)[-1] == ("undo", "assigned back to nobody")


def test_only_the_same_editor_may_undo(users, editor_client, report):
    made = report()
    answer = decide(editor_client(users["editor"]), made, "accepted")
    before = trail(made)
    # Another editor's decision does not exist for the owner.
    response = editor_client(users["owner"]).post_json(answer["undo"]["url"])
    assert response.status_code == 404
    assert fresh(made).status == SuggestionStatus.ACCEPTED
    assert trail(made) == before


def test_no_undo_once_the_window_has_passed(users, editor_client, report):
    made = report()
    client = editor_client(users["editor"])
    answer = decide(client, made, "accepted")
    decision = db.session.scalar(select(Decision))
    decision.undo_until = utcnow() - timedelta(seconds=1)
    db.session.commit()

    response = client.post_json(answer["undo"]["url"])
    assert response.status_code == 409
    assert response.get_json()["error"]["fields"] == {"decision": ["The time to undo has passed."]}
    assert fresh(made).status == SuggestionStatus.ACCEPTED
    # And the toast is no longer offered.
    page = client.get(f"/editor/suggestions/{made.id}").text
    assert 'id="undo-toast" class="toast" role="status" aria-live="polite" hidden' in page


def test_no_undo_after_someone_else_changed_the_report(users, editor_client, report):
    made = report()
    answer = decide(editor_client(users["editor"]), made, "accepted")
    decide(editor_client(users["owner"]), made, "rejected")

    response = editor_client(users["editor"]).post_json(answer["undo"]["url"])
    assert response.status_code == 409
    assert response.get_json()["error"]["fields"] == {"decision": ["Changed since."]}
    assert fresh(made).status == SuggestionStatus.REJECTED


def test_every_editor_page_offers_the_newest_undo_and_the_form_works(users, editor_client, report):
    made = report()
    client = editor_client(users["editor"])
    response = client.post(f"/editor/suggestions/{made.id}/status", {"status": "accepted"})
    assert response.status_code == 303
    page = client.get("/editor/").text
    decision = db.session.scalar(select(Decision))
    assert f'action="/editor/decisions/{decision.id}/undo"' in page
    assert "The report is now accepted." in page
    # Another editor sees no toast of it.
    assert (
        f"/editor/decisions/{decision.id}/undo"
        not in editor_client(users["owner"]).get("/editor/").text
    )

    # Without the script, the toast is a form: it undoes and opens the report again.
    response = client.post(f"/editor/decisions/{decision.id}/undo")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/editor/suggestions/{made.id}"
    assert fresh(made).status == SuggestionStatus.NEW


@pytest.mark.parametrize("status", ["fixed", "rejected"])
def test_the_message_to_readers_waits_with_the_decision(users, editor_client, report, site, status):
    site.change_options(notify_readers_on_reject=True)
    db.session.commit()
    made = report(reporter={"name": "Rita", "email": "rita@example.net", "notify": True})
    client = editor_client(users["editor"])
    decide(client, made, status, message="Thank you; we also fixed the caption.")
    [mail] = db.session.scalars(select(OutboxMessage).filter_by(kind="reader")).all()
    decision = db.session.scalar(select(Decision))
    assert mail.decision_id == decision.id
    assert mail.status == OutboxStatus.PENDING
    assert mail.next_attempt_at == decision.undo_until
    assert "Thank you; we also fixed the caption." in mail.text_body
    assert "Thank you; we also fixed the caption." in mail.html_body


def test_a_message_no_reader_would_get_is_refused(users, editor_client, report):
    made = report(reporter={"email": "rita@example.net", "notify": True})
    client = editor_client(users["editor"])
    for status, field_error in (
        ("rejected", "This site does not tell readers of rejections, so nobody would read it."),
        ("accepted", "Readers hear only of a fix or a rejection; leave the message empty."),
    ):
        response = client.post_json(
            f"/editor/suggestions/{made.id}/status", {"status": status, "message": "Hello"}
        )
        assert response.status_code == 422
        assert response.get_json()["error"]["fields"] == {"message": [field_error]}
    too_long = client.post_json(
        f"/editor/suggestions/{made.id}/status", {"status": "fixed", "message": "x" * 2001}
    )
    assert too_long.status_code == 422
    assert fresh(made).status == SuggestionStatus.NEW
    assert db.session.scalar(select(Decision)) is None
    assert trail(made) == []


def test_undo_names_no_undo_in_the_transition_table(users, editor_client, report):
    """The history shows the undo as what it is."""
    made = report()
    client = editor_client(users["editor"])
    answer = decide(client, made, "spam")
    client.post_json(answer["undo"]["url"])
    actions = [action for action, _detail in trail(made)]
    assert actions == [AuditAction.STATUS.value, AuditAction.UNDO.value]

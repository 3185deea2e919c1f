"""A report is accepted with one INSERT and filed by the worker: the receipt, the
`received` answer, filing from the queue or the sweep, and what a failure leaves."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from feedback import revisions, suggestions
from feedback.extensions import db
from feedback.models import IncomingReport, Suggestion, SuggestionStatus
from tests.conftest import run_periodic_task, run_queued_tasks, suggestion_body


@pytest.fixture
def app_config() -> dict:
    # A real queue (SQLite storage in the test's instance folder), consumed by hand below.
    return {"HUEY_IMMEDIATE": False, "FILING_MAX_ATTEMPTS": 2}


def incoming(body: dict) -> IncomingReport | None:
    return db.session.get(IncomingReport, uuid.UUID(body["id"]))


def filed(body: dict) -> Suggestion | None:
    return db.session.get(Suggestion, uuid.UUID(body["id"]))


def sweep(huey) -> int:
    return run_periodic_task(huey, "sweep_incoming_reports")


def test_the_answer_comes_before_filing(app, site, post_suggestion, client):
    body = suggestion_body()
    response = post_suggestion(body)

    assert response.status_code == 201
    answer = response.get_json()
    assert answer["status"] == "received"
    assert answer["article"] == {
        "url": "https://news.example.com/2026/ferry-returns",
        "title": "Harbour ferry returns",
        "revision": None,
    }
    assert answer["quote"]["exact"] == "then"
    assert (answer["replacement"], answer["duplicate_of"]) == ("than", None)
    assert filed(body) is None
    assert incoming(body).body is not None
    assert client.get(response.headers["Location"]).get_json() == answer

    assert run_queued_tasks(app.extensions["huey"]) == ["file_report"]
    report = filed(body)
    assert report.status is SuggestionStatus.NEW
    assert report.created_at == incoming(body).received_at
    assert (incoming(body).body, incoming(body).filed_at is not None) == (None, True)
    shown = client.get(response.headers["Location"]).get_json()
    assert (shown["status"], shown["article"]["revision"]) == ("new", 1)


def test_a_replay_is_answered_from_where_the_report_stands(app, site, post_suggestion):
    body = suggestion_body()
    assert post_suggestion(body).status_code == 201
    waiting = post_suggestion(body)
    assert (waiting.status_code, waiting.get_json()["status"]) == (200, "received")
    assert run_queued_tasks(app.extensions["huey"]) == ["file_report"]

    again = post_suggestion(body)
    assert (again.status_code, again.get_json()["status"]) == (200, "new")
    assert again.get_json()["article"]["revision"] == 1
    conflict = post_suggestion({**body, "comment": "Another comment."})
    assert conflict.status_code == 409
    assert db.session.scalar(select(func.count()).select_from(Suggestion)) == 1
    assert filed(body).comment == "Should be 'than'."


def test_duplicates_are_grouped_when_filed(app, site, post_suggestion):
    first, second = suggestion_body(), suggestion_body()
    assert post_suggestion(first).status_code == 201
    assert post_suggestion(second).status_code == 201
    run_queued_tasks(app.extensions["huey"])
    assert filed(second).duplicate_of_id == filed(first).id
    assert filed(first).report_count == 2


def test_a_lost_task_is_filed_by_the_sweep(app, site, post_suggestion):
    body = suggestion_body()
    assert post_suggestion(body).status_code == 201
    huey = app.extensions["huey"]
    huey.flush()  # the queued task is lost (a queue wiped, a worker that died)

    assert sweep(huey) == 1
    assert filed(body).status is SuggestionStatus.NEW
    assert sweep(huey) == 0


def test_a_failed_filing_keeps_the_report_and_says_why(app, site, post_suggestion, monkeypatch):
    body = suggestion_body()
    assert post_suggestion(body).status_code == 201

    def broken(*args, **kwargs):
        raise RuntimeError("the disk is full")

    # Fault injection: the step after the claim fails, as a full disk or a bug would.
    monkeypatch.setattr(revisions, "record_reader_text", broken)
    huey = app.extensions["huey"]
    run_queued_tasks(huey)
    waiting = incoming(body)
    assert (waiting.attempts, waiting.last_error) == (1, "RuntimeError: the disk is full")
    assert waiting.body is not None
    assert filed(body) is None

    assert sweep(huey) == 0  # second failure: FILING_MAX_ATTEMPTS is 2 here
    assert incoming(body).attempts == 2
    monkeypatch.undo()
    assert sweep(huey) == 0  # left for people now, with its body and error
    assert filed(body) is None

    db.session.remove()
    assert suggestions.file_report(uuid.UUID(body["id"])).id == uuid.UUID(body["id"])
    assert incoming(body).body is None


def test_refused_reports_leave_no_receipt(site, post_suggestion):
    bad_quote = suggestion_body()
    bad_quote["quote"]["exact"] = "not in the article"
    assert post_suggestion(bad_quote).status_code == 422
    assert post_suggestion(suggestion_body(), origin="https://elsewhere.example").status_code == 403
    assert db.session.scalar(select(func.count()).select_from(IncomingReport)) == 0


def test_operators_list_and_file_waiting_reports(app, site, post_suggestion, run_cli, monkeypatch):
    body = suggestion_body()
    assert post_suggestion(body).status_code == 201
    assert run_cli("intake", "list").output.startswith(f"{body['id']}\texample-key\t")

    def broken(*args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(revisions, "record_reader_text", broken)  # fault injection, as above
    db.session.remove()
    failing = run_cli("intake", "file")
    assert failing.exit_code == 1
    assert "RuntimeError: the disk is full" in failing.output
    assert failing.output.endswith("filed 0, failed 1\n")
    (line,) = run_cli("intake", "list").output.splitlines()
    assert line.endswith("\t1\tRuntimeError: the disk is full")

    monkeypatch.undo()
    db.session.remove()
    done = run_cli("intake", "file", body["id"])
    assert (done.exit_code, done.output) == (0, "filed 1, failed 0\n")
    assert filed(body).status is SuggestionStatus.NEW
    assert run_cli("intake", "list").output == "no report is waiting\n"

    unknown = run_cli("intake", "file", body["id"])  # filed now: not waiting any more
    assert unknown.exit_code == 2
    assert f"not a waiting report: {body['id']}" in unknown.output
    assert run_cli("intake", "file", "not-a-uuid").exit_code == 2

"""The web request only queues re-anchoring; a worker does it."""

from __future__ import annotations

import uuid

import pytest

from feedback import revisions
from feedback.extensions import db
from feedback.models import Suggestion, SuggestionStatus
from feedback.models.core import AnchorState
from tests.conftest import ARTICLE_TEXT, run_periodic_task, run_queued_tasks, suggestion_body


@pytest.fixture
def app_config() -> dict:
    # A real queue (SQLite storage in the test's instance folder), consumed by hand below.
    return {"HUEY_IMMEDIATE": False}


def test_push_queues_reanchoring_and_the_worker_fixes(app, site, post_suggestion, push_article):
    huey = app.extensions["huey"]
    body = suggestion_body()
    assert post_suggestion(body).status_code == 201
    # What a worker does first: file the report the API accepted; nothing to re-anchor yet.
    assert run_queued_tasks(huey) == ["file_report"]

    response = push_article(ARTICLE_TEXT.replace("faster then", "faster than"))
    assert response.get_json()["reanchoring"] == "scheduled"
    report = db.session.get(Suggestion, uuid.UUID(body["id"]))
    assert report.status is SuggestionStatus.NEW  # the request did not do the work
    (task,) = huey.pending()
    assert task.name == "reanchor_article"
    assert task.args == (report.article_id,)

    db.session.remove()  # let go of SQLite's lock, as a separate worker would find it
    huey.execute(task)
    report = db.session.get(Suggestion, uuid.UUID(body["id"]))
    assert report.status is SuggestionStatus.FIXED


def test_lost_task_is_caught_up_by_the_sweep(app, site, post_suggestion, push_article):
    huey = app.extensions["huey"]
    body = suggestion_body()
    assert post_suggestion(body).status_code == 201
    assert run_queued_tasks(huey) == ["file_report"]
    push_article(ARTICLE_TEXT.replace("faster then", "faster than"))
    report = db.session.get(Suggestion, uuid.UUID(body["id"]))
    assert revisions.articles_behind() == [report.article_id]
    huey.flush()  # the queued task is lost (a queue wiped, a worker that died)

    assert run_periodic_task(huey, "sweep_reanchoring") == 1
    report = db.session.get(Suggestion, uuid.UUID(body["id"]))
    assert report.status is SuggestionStatus.FIXED
    assert revisions.articles_behind() == []


def test_orphans_and_fixed_reports_are_not_behind(site, post_suggestion, push_article, app):
    fixed = suggestion_body(exact="blue", replacement="green")
    gone = suggestion_body(exact="eleven minutes later", replacement="ten minutes later")
    for body in (fixed, gone):
        assert post_suggestion(body).status_code == 201
    huey = app.extensions["huey"]
    assert run_queued_tasks(huey) == ["file_report", "file_report"]
    first_paragraph = ARTICLE_TEXT.split("\n")[0]
    push_article(first_paragraph.replace("blue", "green") + "\nThe second paragraph is new.")
    # Re-anchoring, then the mail telling the reader their report was fixed.
    assert run_queued_tasks(huey) == ["reanchor_article", "send_outbox"]

    states = {
        body["id"]: (report.status, report.anchor_state)
        for body in (fixed, gone)
        for report in [db.session.get(Suggestion, uuid.UUID(body["id"]))]
    }
    assert states == {
        fixed["id"]: (SuggestionStatus.FIXED, AnchorState.ANCHORED),
        gone["id"]: (SuggestionStatus.NEW, AnchorState.ORPHANED),
    }
    assert revisions.articles_behind() == []

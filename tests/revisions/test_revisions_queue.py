"""The web request only queues re-anchoring; a worker does it."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from feedback import revisions
from feedback.extensions import db
from feedback.models import Suggestion, SuggestionStatus
from feedback.models.core import AnchorState
from tests.conftest import ARTICLE_TEXT, suggestion_body


@pytest.fixture
def app_config() -> dict:
    # A real queue (SQLite storage in the test's instance folder), consumed by hand below.
    return {"HUEY_IMMEDIATE": False}


def file_queued_reports(huey) -> None:
    """What a worker does first: file the reports the API accepted."""
    db.session.remove()  # let go of SQLite's lock, as a separate worker would find it
    for task in huey.pending():
        assert task.name == "file_report"
        huey.execute(huey.dequeue())


def test_push_queues_reanchoring_and_the_worker_fixes(app, site, post_suggestion, push_article):
    huey = app.extensions["huey"]
    body = suggestion_body()
    assert post_suggestion(body).status_code == 201
    file_queued_reports(huey)
    assert huey.pending_count() == 0  # nothing to re-anchor yet

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
    file_queued_reports(huey)
    push_article(ARTICLE_TEXT.replace("faster then", "faster than"))
    report = db.session.get(Suggestion, uuid.UUID(body["id"]))
    assert revisions.articles_behind() == [report.article_id]
    huey.flush()  # the queued task is lost (a queue wiped, a worker that died)

    db.session.remove()
    (sweep,) = [
        task
        for task in huey.read_periodic(datetime(2026, 1, 1, 0, 0))
        if task.name == "sweep_reanchoring"
    ]
    assert huey.execute(sweep) == 1
    report = db.session.get(Suggestion, uuid.UUID(body["id"]))
    assert report.status is SuggestionStatus.FIXED
    assert revisions.articles_behind() == []


def test_orphans_and_fixed_reports_are_not_behind(site, post_suggestion, push_article, app):
    fixed = suggestion_body(exact="blue", replacement="green")
    gone = suggestion_body(exact="eleven minutes later", replacement="ten minutes later")
    for body in (fixed, gone):
        assert post_suggestion(body).status_code == 201
    huey = app.extensions["huey"]
    file_queued_reports(huey)
    first_paragraph = ARTICLE_TEXT.split("\n")[0]
    push_article(first_paragraph.replace("blue", "green") + "\nThe second paragraph is new.")
    db.session.remove()
    huey.execute(huey.dequeue())

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

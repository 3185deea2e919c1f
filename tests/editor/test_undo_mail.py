"""A reader's mail about an editor's decision waits until the decision can no longer be
undone: an undone decision sends nothing, a decision made again sends its mail. Real
SMTP (aiosmtpd), a real task queue (Huey on SQLite) run as the worker runs it."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from feedback.extensions import db
from feedback.models import Decision, OutboxMessage, OutboxStatus
from tests.conftest import run_periodic_task, run_queued_tasks, suggestion_body
from tests.mail.conftest import smtp  # noqa: F401 - the real SMTP server fixture, shared

READER = "rita@example.net"
UNDO_SECONDS = 1.5


@pytest.fixture
def app_config(smtp, tmp_path) -> dict:  # noqa: F811 - the fixture imported above
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp.port,
        "HUEY_IMMEDIATE": False,
        "HUEY_SQLITE_PATH": str(tmp_path / "tasks.sqlite3"),
        "UNDO_SECONDS": UNDO_SECONDS,
    }


@pytest.fixture
def huey(app):
    return app.extensions["huey"]


def worker_runs_the_queue(huey) -> None:
    """What the worker does: queued tasks, those whose time has come, the outbox sweep."""
    run_queued_tasks(huey)
    for task in huey.read_schedule(datetime.now(UTC).replace(tzinfo=None)):
        db.session.remove()
        huey.execute(task)
    run_periodic_task(huey, "sweep_outbox")
    db.session.remove()


def reader_mail(smtp) -> list:  # noqa: F811
    return smtp.inbox.to(READER)


def test_an_undone_fix_mails_nothing_and_a_fix_made_again_does(
    users,
    editor_client,
    post_suggestion,
    huey,
    smtp,  # noqa: F811
):
    client = editor_client(users["editor"])
    body = suggestion_body(reporter={"name": "Rita", "email": READER, "notify": True})
    assert post_suggestion(body).status_code == 201
    worker_runs_the_queue(huey)  # files the report
    status_url = f"/editor/suggestions/{body['id']}/status"

    first = client.post_json(status_url, {"status": "fixed", "message": "First message."})
    assert first.status_code == 200, first.get_json()
    worker_runs_the_queue(huey)
    assert reader_mail(smtp) == []  # held while it can be undone

    assert client.post_json(first.get_json()["undo"]["url"]).status_code == 200
    time.sleep(UNDO_SECONDS + 0.5)
    worker_runs_the_queue(huey)
    assert reader_mail(smtp) == []
    [cancelled] = db.session.scalars(select(OutboxMessage).filter_by(kind="reader")).all()
    assert cancelled.status == OutboxStatus.CANCELLED

    second = client.post_json(status_url, {"status": "fixed", "message": "Second message."})
    assert second.status_code == 200, second.get_json()
    worker_runs_the_queue(huey)
    assert reader_mail(smtp) == []  # held again
    time.sleep(UNDO_SECONDS + 0.5)
    worker_runs_the_queue(huey)

    [mail] = reader_mail(smtp)
    text = mail.get_body(("plain",)).get_content()
    assert "Second message." in text
    assert "First message." not in text
    rows = db.session.scalars(
        select(OutboxMessage).filter_by(kind="reader").order_by(OutboxMessage.id)
    ).all()
    assert [row.status for row in rows] == [OutboxStatus.CANCELLED, OutboxStatus.SENT]
    assert rows[1].key == f"reader:{body['id']}:fixed:2"
    decision = db.session.get(Decision, rows[1].decision_id)
    assert rows[1].sent_at >= decision.undo_until

    # Too late now: the mail is out, and the toast's time is over.
    late = client.post_json(second.get_json()["undo"]["url"])
    assert late.status_code == 409

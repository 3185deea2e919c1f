"""`feedback worker` as its own process: it sends what the web app queued, and refuses
to start without what it needs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from feedback.extensions import db
from tests.conftest import suggestion_body
from tests.mail.conftest import BASE_URL, add_member

FEEDBACK = str(Path(sys.executable).parent / "feedback")


@pytest.fixture
def app_config(app_config, tmp_path) -> dict:
    # A real queue between the web app and the worker: Huey's SQLite storage in a file.
    return {
        **app_config,
        "HUEY_IMMEDIATE": False,
        "HUEY_SQLITE_PATH": str(tmp_path / "tasks.sqlite3"),
    }


def worker_environment(app, tmp_path, **changes) -> dict[str, str]:
    config = app.config
    env = {key: value for key, value in os.environ.items() if not key.startswith("FEEDBACK_")}
    env.update(
        {
            "FEEDBACK_DATABASE_URL": config["DATABASE_URL"],
            "FEEDBACK_SQLALCHEMY_ENGINE_OPTIONS": json.dumps(
                {
                    k: v
                    for k, v in config["SQLALCHEMY_ENGINE_OPTIONS"].items()
                    if k != "pool_pre_ping"
                }
            ),
            "FEEDBACK_SECRET_KEY": config["SECRET_KEY"],
            "FEEDBACK_INSTANCE_PATH": str(tmp_path / "worker-instance"),
            "FEEDBACK_HUEY_IMMEDIATE": "false",
            "FEEDBACK_HUEY_SQLITE_PATH": config["HUEY_SQLITE_PATH"],
            "FEEDBACK_MAIL_SERVER": "127.0.0.1",
            "FEEDBACK_MAIL_PORT": str(config["MAIL_PORT"]),
            "FEEDBACK_MAIL_DEFAULT_SENDER": config["MAIL_DEFAULT_SENDER"],
            "FEEDBACK_BASE_URL": BASE_URL,
        }
    )
    env.update(changes)
    return {key: value for key, value in env.items() if value is not None}


def test_the_worker_sends_what_the_web_app_queued(app, site, post_suggestion, inbox, tmp_path):
    add_member(site, "desk@example.com")
    response = post_suggestion(suggestion_body())
    assert response.status_code == 201
    assert inbox.messages == []  # queued, not sent: nobody consumes the queue yet
    # End this process's transaction, as a web request's end does: on SQLite it would
    # hold the write lock the worker needs.
    db.session.remove()

    worker = subprocess.Popen(
        [FEEDBACK, "worker", "--workers", "1"],
        env=worker_environment(app, tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for _ in range(120):  # at most a minute
            if inbox.messages or worker.poll() is not None:
                break
            time.sleep(0.5)
    finally:
        worker.send_signal(signal.SIGINT)
        output, _ = worker.communicate(timeout=30)
    assert inbox.messages, output
    [mail] = inbox.messages
    assert mail["X-Envelope-To"] == "desk@example.com"
    assert f"{BASE_URL}/editor/suggestions/" in mail.get_body(("plain",)).get_content()
    assert "feedback worker: 1 thread(s) on SqliteStorage" in output


def test_the_worker_needs_the_public_address(app, tmp_path):
    result = subprocess.run(
        [FEEDBACK, "worker"],
        env=worker_environment(app, tmp_path, FEEDBACK_BASE_URL=None),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "feedback: FEEDBACK_BASE_URL is not set; the worker writes links into mail and needs "
        "the service's public address (https://corrections.example.com)"
    ]

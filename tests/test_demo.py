"""`feedback demo`: seeds once, serves the demo article with the snippet tag, safe to rerun."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select

from feedback.demo import DEMO_EDITOR_EMAIL, DEMO_EDITOR_PASSWORD, seed_demo
from feedback.extensions import db
from feedback.models import Membership, Role, Site, User

FEEDBACK = str(Path(sys.executable).parent / "feedback")


@pytest.fixture
def app_config() -> dict:
    # As in the demo: mail stays in the outbox for the dev mailbox.
    return {"MAIL_CAPTURE": True}


def test_seeding_twice_keeps_one_of_each(app):
    seed_demo(["http://127.0.0.1:5000"])
    seed_demo(["http://127.0.0.1:5000", "http://localhost:5000"])
    assert db.session.scalar(select(func.count()).select_from(Site)) == 1
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
    assert db.session.scalar(select(func.count()).select_from(Membership)) == 1
    site = db.session.scalar(select(Site))
    assert site.allowed_origins == ["http://127.0.0.1:5000", "http://localhost:5000"]
    editor = db.session.scalar(select(User))
    assert editor.email == DEMO_EDITOR_EMAIL
    assert editor.check_password(DEMO_EDITOR_PASSWORD)
    assert db.session.scalar(select(Membership)).role is Role.OWNER


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run_demo_once(instance: Path) -> tuple[str, str]:
    """Start the demo, fetch its article page, stop it; returns (page, printed output)."""
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("FEEDBACK_")}
    env["FEEDBACK_INSTANCE_PATH"] = str(instance)
    process = subprocess.Popen(
        [FEEDBACK, "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        page = ""
        for _ in range(120):  # up to a minute for the first migration
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    page = response.read().decode()
                break
            except OSError:
                time.sleep(0.5)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    return page, output


def test_demo_serves_the_article_and_can_run_twice(tmp_path):
    for _ in range(2):
        page, output = _run_demo_once(tmp_path)
        assert 'data-site="demo"' in page, output
        assert "/static/js/feedback.js" in page
        assert f"{DEMO_EDITOR_EMAIL} / {DEMO_EDITOR_PASSWORD}" in output
        assert "Scheduled jobs run each minute: notices held by the 1-minute throttle" in output
    assert (tmp_path / "feedback.sqlite3").exists()


def test_demo_reports_are_seeded_once_and_grouped(app):
    from feedback.demo import DEMO_REPORTS, seed_demo_reports
    from feedback.models import Suggestion

    site = seed_demo(["http://127.0.0.1:5000"]).site
    assert seed_demo_reports(site, "http://127.0.0.1:5000") == len(DEMO_REPORTS)
    assert seed_demo_reports(site, "http://127.0.0.1:5000") == 0
    rows = db.session.scalars(select(Suggestion)).all()
    assert len(rows) == len(DEMO_REPORTS)
    groups = {row.duplicate_of_id or row.id for row in rows}
    assert len(groups) == len(DEMO_REPORTS) - 1  # two readers sent "then" → "than"
    assert {row.exact for row in rows} >= {"then", "it's workshop", "the the", "1968", None}


def test_demo_scheduled_jobs_send_a_notice_the_throttle_held(app, post_suggestion):
    """The seed reports start the editor's throttle; a newcomer's first report is held,
    and the demo's own clock sends it once the window is over (no worker runs)."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from feedback.demo import run_due_jobs, seed_demo_reports
    from feedback.models import HeldNotice, OutboxKind, OutboxMessage
    from tests.conftest import suggestion_body

    site = seed_demo(["http://127.0.0.1:5000", "https://news.example.com"]).site
    seed_demo_reports(site, "http://127.0.0.1:5000")
    instants = select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.INSTANT)
    assert len(db.session.scalars(instants).all()) == 1
    body = suggestion_body(site=site.public_key, exact="ferry", replacement="boat")
    assert post_suggestion(body).status_code == 201
    assert db.session.scalar(select(func.count()).select_from(HeldNotice)) >= 1
    assert len(db.session.scalars(instants).all()) == 1

    # The throttle's window passes.
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    db.session.execute(update(OutboxMessage).values(created_at=an_hour_ago))
    db.session.commit()
    ran = run_due_jobs(app, datetime(2026, 12, 1, 9, 30, tzinfo=UTC))
    assert {"sweep_outbox", "build_digests"} <= set(ran)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(HeldNotice)) == 0
    newest = db.session.scalars(instants.order_by(OutboxMessage.id.desc())).first()
    assert "ferry" in newest.subject
    assert "more" in newest.subject
    assert newest.sent_at is not None


def test_a_failing_scheduled_job_does_not_stop_the_others(app, monkeypatch):
    from datetime import UTC, datetime

    from feedback.demo import run_due_jobs
    from feedback.mail import instant

    def broken(*_args, **_kwargs):
        raise RuntimeError("held notices are broken")

    monkeypatch.setattr(instant, "release_held_notices", broken)
    ran = run_due_jobs(app, datetime(2026, 12, 1, 9, 30, tzinfo=UTC))
    assert {"sweep_outbox", "build_digests", "sweep_incoming_reports"} <= set(ran)

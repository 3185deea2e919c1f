"""Handing work to the task queue: all the operations know of it.

``feedback.tasks`` sits above the operations: it defines the tasks, which call
operations, and registers them on the app. An operation that has work for later
names the task here, after the commit that made the work. A queue that cannot be
reached loses nothing: each task has a periodic sweep that finds what was not queued.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from flask import current_app

from feedback.models import utcnow


def _submit(task: str, *args, at: datetime | None = None) -> bool:
    """Queue ``task`` (to run at ``at``, if given); False (and logged) when the queue
    cannot be reached."""
    try:
        function = getattr(current_app.extensions["feedback_tasks"], task)
        if at is None:
            function(*args)
        else:
            function.schedule(args=args, delay=max(0.0, (at - utcnow()).total_seconds()))
    except Exception:  # the task's periodic sweep does what was not queued
        current_app.logger.exception("could not queue %s %s; its sweep will run it", task, args)
        return False
    return True


def send_mail_soon(ids: list[int] | None = None) -> None:
    """Send these outbox rows (None: every row that is due) soon."""
    if ids is not None and not ids:
        return
    _submit("send_outbox", *([] if ids is None else [ids]))


def send_mail_after(moment: datetime) -> None:
    """Send the rows due by ``moment`` (mail held for an undo window) just after it; the
    outbox sweep sends them anyway should this be lost."""
    _submit("send_outbox", at=moment)


def file_report_soon(report_id: uuid.UUID) -> bool:
    """File an accepted report; returns whether it is filed already (an in-process
    queue runs the task at once)."""
    queued = _submit("file_report", str(report_id))
    return queued and current_app.extensions["feedback_tasks"].huey.immediate


def reanchor_soon(article_id: int) -> None:
    """Carry the article's open reports into its current revision."""
    _submit("reanchor_article", article_id)


def fetch_page_soon(article_id: int) -> None:
    """Read the article's page from its site (its fetch schedule catches a lost one)."""
    _submit("fetch_article", article_id)

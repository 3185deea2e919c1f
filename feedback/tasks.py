"""Background work on the Huey task queue: sending mail, digests, sweeps, re-anchoring.

Each app gets its own Huey instance (``app.extensions["huey"]``), built from its
settings in ``create_app``: SQLite storage in the instance folder by default,
Redis when ``REDIS_URL`` is set, in-process ("immediate") when ``HUEY_IMMEDIATE``
is on. Tasks run inside an app context of the app that made them, so a consumer
process (``feedback worker``) builds the app once and runs its tasks.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

from flask import Flask, current_app
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab


@dataclass
class Tasks:
    """The app's task functions; calling one enqueues it."""

    huey: Huey
    send_outbox: object
    sweep_outbox: object
    build_digests: object
    reanchor_article: object
    file_report: object


def make_huey(app: Flask) -> Huey:
    config = app.config
    name = config["HUEY_NAME"]
    if config["HUEY_IMMEDIATE"]:
        return MemoryHuey(name, immediate=True)
    if config["REDIS_URL"]:
        return RedisHuey(name, url=config["REDIS_URL"])
    path = config["HUEY_SQLITE_PATH"] or os.path.join(app.instance_path, "tasks.sqlite3")
    return SqliteHuey(name, filename=path)


def init_tasks(app: Flask) -> Tasks:
    """Make the app's Huey and register its tasks on it."""
    huey = make_huey(app)

    def in_app(function):
        def run(*args, **kwargs):
            with app.app_context():
                return function(*args, **kwargs)

        run.__name__ = function.__name__
        run.__qualname__ = function.__qualname__
        return run

    @huey.task(name="send_outbox")
    @in_app
    def send_outbox(ids: list[int] | None = None) -> int:
        from feedback.mail import mailer

        return mailer.deliver(ids).sent

    @huey.periodic_task(crontab(minute="*"), name="sweep_outbox")
    @in_app
    def sweep_outbox() -> int:
        """Mail held back by the throttle, and anything unsent (a crash between commit and
        enqueue, an SMTP outage): each minute."""
        from feedback.extensions import db
        from feedback.mail import instant, mailer

        instant.release_held_notices()
        db.session.commit()
        return mailer.deliver().sent

    @huey.periodic_task(crontab(minute="*"), name="build_digests")
    @in_app
    def build_digests() -> int:
        """Queue and send every digest whose period has just ended (idempotent per period)."""
        from feedback.mail import digests, mailer

        ids = digests.queue_due_digests()
        return mailer.deliver(ids).sent if ids else 0

    @huey.task(name="reanchor_article")
    @in_app
    def reanchor_article(article_id: int) -> None:
        from feedback import revisions

        revisions.reanchor_article(article_id)

    @huey.periodic_task(crontab(minute="*/10"), name="sweep_reanchoring")
    @in_app
    def sweep_reanchoring() -> int:
        """Articles whose re-anchoring was never queued or never finished: each 10 minutes."""
        from feedback import revisions

        behind = revisions.articles_behind()
        for article_id in behind:
            revisions.reanchor_article(article_id)
        return len(behind)

    @huey.task(name="file_report")
    @in_app
    def file_report(report_id: str) -> None:
        from feedback import suggestions

        suggestions.file_report_noting_failure(uuid.UUID(report_id))

    @huey.periodic_task(crontab(minute="*"), name="sweep_incoming_reports")
    @in_app
    def sweep_incoming_reports() -> int:
        """Reports whose filing was never queued (the queue was down) or failed: each minute."""
        from feedback import suggestions

        return suggestions.file_waiting_reports()

    tasks = Tasks(huey, send_outbox, sweep_outbox, build_digests, reanchor_article, file_report)
    app.extensions["huey"] = huey
    app.extensions["feedback_tasks"] = tasks
    return tasks


def tasks() -> Tasks:
    return current_app.extensions["feedback_tasks"]


def enqueue_outbox(ids: list[int]) -> None:
    """Send these outbox rows soon; call after the commit that wrote them.

    A queue that cannot be reached loses nothing: the rows stay pending for the sweep.
    """
    if not ids:
        return
    try:
        tasks().send_outbox(ids)
    except Exception:  # the periodic sweep sends what was not enqueued
        current_app.logger.exception("could not enqueue mail %s; the sweep will send it", ids)


def file_report_soon(report_id: uuid.UUID) -> bool:
    """File an accepted report on the queue; call after the commit that stored it.
    Returns whether it is filed already (an inline queue runs the task at once).

    A queue that cannot be reached loses nothing: the report waits for the sweep.
    """
    queue = tasks()
    try:
        queue.file_report(str(report_id))
    except Exception:  # the periodic sweep files what was not enqueued
        current_app.logger.exception("could not queue report %s; the sweep files it", report_id)
        return False
    return queue.huey.immediate


def reanchor_article_task(article_id: int) -> None:
    """Re-anchor an article's open reports on the queue (feedback.revisions calls this)."""
    tasks().reanchor_article(article_id)

"""Background work on the Huey task queue: sending mail, digests, sweeps, re-anchoring,
fetching article pages.

The tasks sit above the operations and call them; operations hand work to the queue
only through ``feedback.background``, by task name. The names are part of the queue's
data (a task queued before an upgrade must still run after it), so they never change.

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

from feedback import fetching, privacy, revisions, signins, suggestions
from feedback.extensions import db
from feedback.mail import digests, instant, mailer


@dataclass
class Tasks:
    """The app's task functions; calling one enqueues it."""

    huey: Huey
    send_outbox: object
    sweep_outbox: object
    build_digests: object
    reanchor_article: object
    file_report: object
    fetch_article: object


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
        return mailer.deliver(ids).sent

    @huey.periodic_task(crontab(minute="*"), name="sweep_outbox")
    @in_app
    def sweep_outbox() -> int:
        """Mail held back by the throttle, and anything unsent (a crash between commit and
        enqueue, an SMTP outage): each minute."""
        instant.release_held_notices()
        db.session.commit()
        return mailer.deliver().sent

    @huey.periodic_task(crontab(minute="*"), name="build_digests")
    @in_app
    def build_digests() -> int:
        """Queue and send every digest whose period has just ended (idempotent per period)."""
        ids = digests.queue_due_digests()
        return mailer.deliver(ids).sent if ids else 0

    @huey.task(name="reanchor_article")
    @in_app
    def reanchor_article(article_id: int) -> None:
        revisions.reanchor_article(article_id)

    @huey.periodic_task(crontab(minute="*/10"), name="sweep_reanchoring")
    @in_app
    def sweep_reanchoring() -> int:
        """Articles whose re-anchoring was never queued or never finished: each 10 minutes."""
        behind = revisions.articles_behind()
        for article_id in behind:
            revisions.reanchor_article(article_id)
        return len(behind)

    @huey.task(name="file_report")
    @in_app
    def file_report(report_id: str) -> None:
        suggestions.file_report_noting_failure(uuid.UUID(report_id))

    @huey.periodic_task(crontab(minute="*"), name="sweep_incoming_reports")
    @in_app
    def sweep_incoming_reports() -> int:
        """Reports whose filing was never queued (the queue was down) or failed: each minute."""
        return suggestions.file_waiting_reports()

    @huey.task(name="fetch_article")
    @in_app
    def fetch_article(article_id: int) -> str:
        return fetching.fetch_article(article_id).outcome.value

    @huey.periodic_task(crontab(minute="*"), name="fetch_due_articles")
    @in_app
    def fetch_due_articles() -> int:
        """Articles with open reports whose page is due to be read again: each minute."""
        return fetching.fetch_due_articles()

    @huey.periodic_task(crontab(minute="0"), name="apply_retention")
    @in_app
    def apply_retention() -> int:
        """Readers' contact details, user agents and client hashes past their time
        (FEEDBACK_RETAIN_CONTACT_DAYS, FEEDBACK_RETAIN_CLIENT_DAYS): each hour."""
        summary = privacy.apply_retention()
        return summary.contact.total + summary.client.total

    @huey.periodic_task(crontab(minute="0"), name="forget_expired_sign_ins")
    @in_app
    def forget_expired_sign_ins() -> int:
        """Sign-ins past their time (they already open nothing): each hour."""
        forgotten = signins.forget_expired()
        db.session.commit()
        return forgotten

    tasks = Tasks(
        huey, send_outbox, sweep_outbox, build_digests, reanchor_article, file_report, fetch_article
    )
    app.extensions["huey"] = huey
    app.extensions["feedback_tasks"] = tasks
    return tasks


def tasks() -> Tasks:
    return current_app.extensions["feedback_tasks"]

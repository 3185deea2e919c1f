"""Reader corrections: readers report mistakes in articles, editors triage them."""

from __future__ import annotations

import functools
import os
import re
import sys
from pathlib import Path

from flask import Flask, current_app, request
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from werkzeug.middleware.proxy_fix import ProxyFix

from feedback import extensions
from feedback.config import ConfigurationError, load_settings, served_by_gunicorn
from feedback.errors import is_api_request
from feedback.extensions import csrf, db, limiter, login_manager, migrate
from feedback.ratelimits import init_report_limits
from feedback.security import init_security

__all__ = ["ConfigurationError", "create_app"]
__version__ = "0.1.0"

PACKAGE_DIR = Path(__file__).resolve().parent
MIGRATIONS_DIR = PACKAGE_DIR / "migrations"
# Versioned snippet URLs (…/feedback.js?v=…) never change, so browsers may keep them a year;
# so may the snippet's dialog and language chunks, whose names hold a hash of their content.
VERSIONED_MAX_AGE = 365 * 24 * 3600
UNVERSIONED_MAX_AGE = 3600
_CONTENT_HASHED = re.compile(r"js/feedback-(dialog|lang-[a-z]+)\.[0-9a-f]{10}\.js")
# gunicorn's exit status for "the app failed to load": its arbiter stops instead of
# starting worker after worker.
APP_LOAD_ERROR = 4


def _shipped_dir(name: str) -> str:
    """``static``/``templates``: inside the package when installed from a wheel,
    at the top of the repository when running from a checkout."""
    inside = PACKAGE_DIR / name
    return str(inside if inside.is_dir() else PACKAGE_DIR.parent / name)


class _NoSessionForTheApi(SecureCookieSessionInterface):
    """The API is called cross-site and never signs anyone in: its requests get no
    session (building the cookie signer for each one is a good part of what a refused
    report costs)."""

    def open_session(self, app, request):
        if is_api_request():
            return None  # Flask makes a null session, which it never saves
        return super().open_session(app, request)


class FeedbackFlask(Flask):
    session_interface = _NoSessionForTheApi()

    def get_send_file_max_age(self, filename: str | None) -> int | None:
        # Static files always carry an ETag; the cache lifetime depends on the URL.
        if request.args.get("v") or (filename and _CONTENT_HASHED.fullmatch(filename)):
            return VERSIONED_MAX_AGE
        return UNVERSIONED_MAX_AGE


def _tune_sqlite(app: Flask) -> None:
    """Make SQLite behave like a real transactional database for this service."""
    engine = db.engine
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, issue BEGIN, so SAVEPOINTs nest properly.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        # IMMEDIATE takes the write lock up front: no failure when a read turns into a write.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _end_session(_error: BaseException | None) -> None:
    """End the request's session. When the database dropped the connection after the
    answer was made (a report stored and acknowledged), the rollback fails; the answer
    stands, so that failure is logged rather than turned into a 500."""
    try:
        db.session.remove()
    except DBAPIError as error:
        current_app.logger.warning("session ended on a lost connection: %s", error.orig)
        db.session.registry.clear()


def _init_mail(app: Flask) -> None:
    """The task queue, the unsubscribe and notification settings pages, the dev mailbox."""
    from feedback.editor.notifications import blp as notification_settings_blp
    from feedback.public.unsubscribe import blp as unsubscribe_blp
    from feedback.tasks import init_tasks

    init_tasks(app)
    app.register_blueprint(unsubscribe_blp)
    app.register_blueprint(notification_settings_blp)
    if app.config["DEMO"] or app.config["DEV_MAILBOX"]:
        from feedback.devmail import blp as devmail_blp

        app.register_blueprint(devmail_blp)


def _init_form_limiter(app: Flask) -> None:
    """Flask-Limiter guards the editor's forms only (readers' reports are counted by
    feedback.ratelimits, after the cheap checks), so the app-wide hooks it adds are skipped
    for API requests: a flood of refused reports does not pay for them (bench/refusals.py).
    The limited views check their own limits; these hooks settle conditional deductions
    and the per-request bookkeeping, which only those views need."""
    hooks = {
        "before": app.before_request_funcs,
        "after": app.after_request_funcs,
        "teardown": app.teardown_request_funcs,
    }
    known = {kind: list(store.get(None, [])) for kind, store in hooks.items()}
    limiter.init_app(app)
    for kind, store in hooks.items():
        store[None] = [
            hook if hook in known[kind] else _outside_api(hook, kind)
            for hook in store.get(None, [])
        ]


def _outside_api(hook, kind: str):
    """``hook``, left out for requests under /api/v1."""

    @functools.wraps(hook)
    def run(*args):
        if is_api_request():
            return args[0] if kind == "after" else None  # an after hook hands on the response
        return hook(*args)

    return run


def create_app(config: dict | None = None) -> Flask:
    """Build the application; the only place an app is made."""
    app = FeedbackFlask(
        __name__,
        instance_path=os.environ.get("FEEDBACK_INSTANCE_PATH") or None,
        instance_relative_config=True,
        static_folder=_shipped_dir("static"),
        template_folder=_shipped_dir("templates"),
    )
    try:
        load_settings(app, config)
    except ConfigurationError as error:
        if not served_by_gunicorn():
            raise
        # One line, as the `feedback` command says it, rather than a traceback per worker.
        print(f"feedback: {error}", file=sys.stderr, flush=True)
        sys.exit(APP_LOAD_ERROR)
    os.makedirs(app.instance_path, exist_ok=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))
    # Through the module: the name ``mail`` in this package is the feedback.mail package.
    extensions.mail.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    _init_form_limiter(app)
    init_report_limits(app)
    with app.app_context():
        _tune_sqlite(app)
    # Registered after Flask-SQLAlchemy's, so it runs before it (teardowns run in reverse).
    app.teardown_appcontext(_end_session)

    from feedback import models  # noqa: F401 - registers the tables
    from feedback.api import init_api
    from feedback.editor import init_editor
    from feedback.editor.exports import blp as exports_blp
    from feedback.errors import init_error_handlers
    from feedback.public import blp as public_blp
    from feedback.public.corrections import blp as corrections_blp

    init_api(app)
    init_error_handlers(app)
    init_security(app)
    init_editor(app)
    app.register_blueprint(public_blp)
    _init_mail(app)
    app.register_blueprint(corrections_blp)
    app.register_blueprint(exports_blp)
    if app.config["PROXY_COUNT"]:
        # Outermost, so that everything inside (the report gate too) sees the client.
        count = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    return app

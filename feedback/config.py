"""Settings with defaults; every one can be overridden by a FEEDBACK_* variable.

``FEEDBACK_DATABASE_URL=postgresql+psycopg://…`` sets ``DATABASE_URL``; values
that parse as JSON (numbers, booleans, lists) are taken as such.
"""

from __future__ import annotations

import os
from datetime import timedelta

ENV_PREFIX = "FEEDBACK"
LEASE_PER_SMTP_TIMEOUT = 10


class ConfigurationError(RuntimeError):
    """The service cannot start with these settings; the message says why in one line."""


DEFAULTS: dict[str, object] = {
    # Empty means "a SQLite file in the instance folder".
    "DATABASE_URL": "",
    "SECRET_KEY": "",
    # Set by `feedback demo` and the tests: allows running without a secret key.
    "DEMO": False,
    "TESTING": False,
    # The service's public address, the only source of links in mail (password links
    # among them). Required when gunicorn serves the app; the command line and the tests
    # fall back to http://localhost.
    "BASE_URL": "",
    # Requests whose body is larger are refused with 413 before parsing. The
    # largest article (500,000 characters) is at most 2 MB as UTF-8.
    "MAX_CONTENT_LENGTH": 3 * 1024 * 1024,
    # Flask-Limiter rate strings, see its docs ("10/minute;100/day").
    "RATELIMIT_PER_CLIENT": "10/minute;200/day",
    "RATELIMIT_PER_SITE": "600/minute",
    # memory:// keeps counts per process; use redis://… when running several.
    "RATELIMIT_STORAGE_URL": "memory://",
    # How many proxies in front of the service set X-Forwarded-For.
    "PROXY_COUNT": 0,
    # Each process keeps the sites' keys and origins this many seconds: a flood of reports
    # with made-up keys or from foreign pages is refused without a query. A site added or
    # changed is seen by the other processes at most this much later.
    "SITE_CACHE_SECONDS": 5,
    # What is kept about readers (feedback.privacy): their name, address and notify flag
    # this many days after their report closes (mail to them, after it was written; a
    # report still waiting to be filed, after it arrived) ...
    "RETAIN_CONTACT_DAYS": 90,
    # ... and user agents and client hashes this many days after the report arrived.
    "RETAIN_CLIENT_DAYS": 30,
    # Seconds a client is asked to wait when the database is unreachable.
    "RETRY_AFTER_UNAVAILABLE": 5,
    "REDIS_URL": "",
    "MAIL_SERVER": "localhost",
    "MAIL_PORT": 25,
    "MAIL_USE_TLS": False,
    "MAIL_USE_SSL": False,
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_DEFAULT_SENDER": "Reader corrections <corrections@localhost>",
    # Keep mail in the outbox (shown at /dev/mail) instead of sending it; the demo sets it.
    "MAIL_CAPTURE": False,
    # Serve the dev mailbox page at /dev/mail (always on in the demo).
    "DEV_MAILBOX": False,
    # At most one instant notice per member and site in this many minutes.
    "INSTANT_THROTTLE_MINUTES": 5,
    # Filing an accepted report on the worker: tries before it is left for people, and
    # how many waiting reports one sweep files.
    "FILING_MAX_ATTEMPTS": 5,
    "FILING_SWEEP_BATCH": 500,
    # Failed sends are retried after 60 s, 120 s, 240 s … (at most an hour apart).
    "OUTBOX_MAX_ATTEMPTS": 8,
    "OUTBOX_RETRY_BASE_SECONDS": 60,
    "OUTBOX_RETRY_MAX_SECONDS": 3600,
    # A worker that claimed mail and died releases it after this long; renewed before
    # each send, so it must outlast one send: at least LEASE_PER_SMTP_TIMEOUT timeouts.
    "OUTBOX_CLAIM_SECONDS": 300,
    # Each SMTP connect and read gives up after this long.
    "MAIL_TIMEOUT_SECONDS": 30,
    "OUTBOX_BATCH_SIZE": 50,
    "UNSUBSCRIBE_MAX_AGE_DAYS": 90,
    # Task queue: SQLite file in the instance folder unless REDIS_URL is set; immediate
    # runs every task in-process at once. Unset (None): immediate in the demo and tests.
    "HUEY_NAME": "feedback",
    "HUEY_SQLITE_PATH": "",
    "HUEY_IMMEDIATE": None,
    # A sign-in lasts this long at most: with "remember me" (the remember cookie too),
    # and without it (the browser also forgets it when it closes).
    "REMEMBER_DAYS": 30,
    "SIGN_IN_HOURS": 12,
    # Failed sign-ins allowed before the form refuses for a while (Flask-Limiter strings):
    # for one account from one client (address, or a browser that signed in to it
    # before), from one address over all accounts, and for one account from everywhere
    # (browsers that signed in to it before are exempt from the last two).
    "SIGNIN_LIMIT_PER_ACCOUNT_AND_CLIENT": "5 per 15 minutes",
    "SIGNIN_LIMIT_PER_CLIENT": "20 per 15 minutes",
    "SIGNIN_LIMIT_PER_ACCOUNT": "100 per hour",
    # Password-link mails one client, or one address, may ask for.
    "PASSWORD_MAIL_LIMIT": "5 per hour",
    "PASSWORD_LINK_MAX_AGE_MINUTES": 60,
    # How long an editor may take back a decision (the undo toast); the readers' mail
    # about it waits this long in the outbox.
    "UNDO_SECONDS": 10,
    # Rows per page of the editors' queue.
    "QUEUE_PAGE_SIZE": 50,
    # Reading articles' pages from the sites themselves to confirm fixes (feedback.fetching);
    # each site can also turn it off in its settings.
    "FETCH_PAGES": True,
    # Pages on private and loopback addresses too. Unset (None): on in the demo and tests,
    # whose sites live on 127.0.0.1, else off.
    "FETCH_ALLOW_PRIVATE_ADDRESSES": None,
    # Fetches per site and clock hour, all workers together.
    "FETCH_BUDGET_PER_HOUR": 60,
    "FETCH_CONNECT_TIMEOUT": 5,
    "FETCH_READ_TIMEOUT": 10,
    # A page that trickles in is abandoned after this many seconds in all.
    "FETCH_TOTAL_SECONDS": 30,
    "FETCH_MAX_BYTES": 4 * 1024 * 1024,
    # A report that brings a text not seen before fetches the page at most this often.
    "FETCH_MIN_INTERVAL_MINUTES": 5,
    # While an article has open reports its page is fetched after these many minutes, one
    # after the other (10 minutes, an hour, 6 hours, a day, 3 days, a week), then no more.
    "FETCH_SCHEDULE_MINUTES": [10, 60, 360, 1440, 4320, 10080],
    # Empty: "reader-feedback/VERSION (+BASE_URL)".
    "FETCH_USER_AGENT": "",
    # A PEM file of CA certificates to trust for https pages instead of the system's.
    "FETCH_CA_CERTS": "",
    "SESSION_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_SECURE": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": True,
}


def served_by_gunicorn() -> bool:
    """Whether gunicorn is loading the app (its arbiter sets SERVER_SOFTWARE before it
    loads the app, in its own process or a worker's)."""
    return os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn/")


def load_settings(app, overrides: dict | None) -> None:
    """Fill ``app.config``: defaults, then FEEDBACK_* variables, then ``overrides``."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env(ENV_PREFIX)
    if overrides:
        app.config.from_mapping(overrides)
    config = app.config

    if not config["SECRET_KEY"]:
        if not (config["DEMO"] or config["TESTING"]):
            raise ConfigurationError(
                "FEEDBACK_SECRET_KEY is not set; set it to a long random string to start "
                "the service (only `feedback demo` and the tests run without one)"
            )
        config["SECRET_KEY"] = "insecure-demo-key"  # noqa: S105 - demo and tests only
    if not config["BASE_URL"] and served_by_gunicorn() and not config["TESTING"]:
        # Never the request's Host header: anyone can write one, and a password link
        # built from it would carry its token to their host.
        raise ConfigurationError(
            "FEEDBACK_BASE_URL is not set; the service writes links into mail and needs its "
            "public address (https://corrections.example.com)"
        )
    if config["DEMO"] or config["TESTING"]:
        # The demo and tests run on plain http://127.0.0.1.
        config["SESSION_COOKIE_SECURE"] = False
        config["REMEMBER_COOKIE_SECURE"] = False

    if float(config["OUTBOX_CLAIM_SECONDS"]) < LEASE_PER_SMTP_TIMEOUT * float(
        config["MAIL_TIMEOUT_SECONDS"]
    ):
        # One send is a connect and a handful of replies, each allowed the timeout.
        raise ConfigurationError(
            f"FEEDBACK_OUTBOX_CLAIM_SECONDS must be at least {LEASE_PER_SMTP_TIMEOUT} times "
            "FEEDBACK_MAIL_TIMEOUT_SECONDS, or a slow send could outlive its lease and go twice"
        )
    for name in ("RETAIN_CONTACT_DAYS", "RETAIN_CLIENT_DAYS"):
        value = config[name]
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigurationError(f"{ENV_PREFIX}_{name} must be a number of days, 0 or more")
    if config["HUEY_IMMEDIATE"] is None:
        config["HUEY_IMMEDIATE"] = bool(config["DEMO"] or config["TESTING"])
    if config["FETCH_ALLOW_PRIVATE_ADDRESSES"] is None:
        config["FETCH_ALLOW_PRIVATE_ADDRESSES"] = bool(config["DEMO"] or config["TESTING"])
    url = config["DATABASE_URL"] or f"sqlite:///{app.instance_path}/feedback.sqlite3"
    config["SQLALCHEMY_DATABASE_URI"] = url
    engine_options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    engine_options.setdefault("pool_pre_ping", True)
    config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options
    # Flask-Login's default is a year; the sign-in behind the cookie ends sooner anyway.
    config["REMEMBER_COOKIE_DURATION"] = timedelta(days=float(config["REMEMBER_DAYS"]))
    config["RATELIMIT_STORAGE_URI"] = config["RATELIMIT_STORAGE_URL"]
    # Off: the limiter would put Retry-After on every answer; the 429 handler sets it.
    config["RATELIMIT_HEADERS_ENABLED"] = False

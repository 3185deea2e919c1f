"""Settings with defaults; every one can be overridden by a FEEDBACK_* variable.

``FEEDBACK_DATABASE_URL=postgresql+psycopg://…`` sets ``DATABASE_URL``; values
that parse as JSON (numbers, booleans, lists) are taken as such.
"""

from __future__ import annotations

ENV_PREFIX = "FEEDBACK"


class ConfigurationError(RuntimeError):
    """The service cannot start with these settings; the message says why in one line."""


DEFAULTS: dict[str, object] = {
    # Empty means "a SQLite file in the instance folder".
    "DATABASE_URL": "",
    "SECRET_KEY": "",
    # Set by `feedback demo` and the tests: allows running without a secret key.
    "DEMO": False,
    "TESTING": False,
    # Public base URL used in links inside mail; empty means "from the request".
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
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": True,
}


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
    if config["DEMO"] or config["TESTING"]:
        # The demo and tests run on plain http://127.0.0.1.
        config["SESSION_COOKIE_SECURE"] = False

    url = config["DATABASE_URL"] or f"sqlite:///{app.instance_path}/feedback.sqlite3"
    config["SQLALCHEMY_DATABASE_URI"] = url
    engine_options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    engine_options.setdefault("pool_pre_ping", True)
    config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options
    config["RATELIMIT_STORAGE_URI"] = config["RATELIMIT_STORAGE_URL"]
    # Off: the limiter would put Retry-After on every answer; the 429 handler sets it.
    config["RATELIMIT_HEADERS_ENABLED"] = False

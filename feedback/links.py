"""Absolute links to the service's own pages, for mail and exports.

The path comes from the app's URL map (the table ``url_for`` reads); the scheme and host
come from FEEDBACK_BASE_URL only, never from a request: a request's ``Host`` is whatever
its sender wrote, and a password link built from it would send its token to them. The
web service refuses to start without the setting (``config.require_base_url``); the
command line and the tests fall back to http://localhost.
"""

from __future__ import annotations

from flask import current_app

FALLBACK_BASE_URL = "http://localhost"


def absolute_url(path: str) -> str:
    """``path`` on the service, at FEEDBACK_BASE_URL."""
    base = current_app.config["BASE_URL"] or FALLBACK_BASE_URL
    return base.rstrip("/") + path


def link_for(endpoint: str, **values) -> str:
    """The absolute URL of ``endpoint`` with ``values``, as url_for would build its path."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return absolute_url(path)

"""Absolute links to the service's own pages, for mail and exports.

The path comes from the app's URL map (the table ``url_for`` reads), so a link follows
its route; the scheme and host come from FEEDBACK_BASE_URL, else from the current
request. A worker has no request, which is why ``url_for`` itself cannot be used there.
"""

from __future__ import annotations

from flask import current_app, has_request_context, request


def absolute_url(path: str) -> str:
    """``path`` on the service: BASE_URL, else the current request's host."""
    base = current_app.config["BASE_URL"]
    if not base and has_request_context():
        base = request.host_url
    return (base or "http://localhost").rstrip("/") + path


def link_for(endpoint: str, **values) -> str:
    """The absolute URL of ``endpoint`` with ``values``, as url_for would build its path."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return absolute_url(path)

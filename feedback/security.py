"""Security headers on every answer, and the Content Security Policy of HTML pages.

Scripts only ever come from this origin: no inline script, no ``eval``. A page may
relax the style rule (the demo article, whose snippet brings its own ``<style>``),
never the script rule.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Flask, abort, g, request

from feedback.text import UNSTORABLE_MESSAGE, has_unstorable_text

STRICT_STYLES = "'self'"
INLINE_STYLES = "'self' 'unsafe-inline'"


def content_security_policy(style_src: str = STRICT_STYLES) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            f"style-src {style_src}",
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def allow_inline_styles(view: Callable) -> Callable:
    """For a page that carries inline ``<style>`` it cannot avoid; scripts stay strict."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        g.csp_style_src = INLINE_STYLES
        return view(*args, **kwargs)

    return wrapper


def _add_headers(response):
    headers = response.headers
    if response.mimetype == "text/html":
        headers.setdefault(
            "Content-Security-Policy",
            content_security_policy(g.get("csp_style_src", STRICT_STYLES)),
        )
        headers.setdefault("X-Frame-Options", "DENY")
    for name, value in common_headers(request.is_secure):
        headers.setdefault(name, value)
    return response


_COMMON_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
]
_HSTS = ("Strict-Transport-Security", "max-age=31536000")


def common_headers(is_secure: bool) -> list[tuple[str, str]]:
    """The headers every answer carries, whatever its type (the report gate's too)."""
    return [*_COMMON_HEADERS, _HSTS] if is_secure else _COMMON_HEADERS


def _refuse_unstorable_form_text():
    """Query strings and forms of the pages (the API checks its JSON itself)."""
    values = [*request.args.lists()]
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in _FORM_TYPES:
        values += [*request.form.lists()]
    if has_unstorable_text([[name, *items] for name, items in values]):
        abort(400, description=UNSTORABLE_MESSAGE)


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def init_security(app: Flask) -> None:
    app.before_request(_refuse_unstorable_form_text)
    app.after_request(_add_headers)

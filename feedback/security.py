"""Security headers on every answer, and the Content Security Policy of HTML pages.

Scripts only ever come from this origin: no inline script, no ``eval``. A page may
relax the style rule (the demo article, whose snippet brings its own ``<style>``),
never the script rule.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Flask, g, request

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
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def init_security(app: Flask) -> None:
    app.after_request(_add_headers)

"""CORS of the API: answered to the pages of sites' own origins only."""

from __future__ import annotations

from flask import g, request
from sqlalchemy.exc import DBAPIError

from feedback import sites
from feedback.errors import is_api_request
from feedback.origins import origin_allowed


def origin_known(origin: str, site_origins: list[str] | None) -> bool:
    """Whether to answer CORS to ``origin``: one of the request's site's origins, or, when
    the request named no site (a preflight carries no body), of any site's."""
    if site_origins is not None:
        return origin_allowed(origin, site_origins)
    try:
        return sites.any_site_allows(origin)
    except DBAPIError:
        return False  # the answer is already an error; it needs no CORS headers


def cors_headers(origin: str, preflight: bool) -> list[tuple[str, str]]:
    """What an API answer to a page of ``origin`` (one a site allows) tells its browser.
    The answer varies by Origin too, which each caller adds to its Vary."""
    headers = [
        ("Access-Control-Allow-Origin", origin),
        ("Access-Control-Expose-Headers", "Retry-After, Location"),
    ]
    if preflight:
        # What may be sent, and for how long that holds: browsers read it from a
        # preflight only, so other answers (a flood's refusals among them) go without.
        headers += [
            ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
            ("Access-Control-Allow-Headers", "Content-Type"),
            ("Access-Control-Max-Age", "600"),
        ]
    return headers


def add_cors_headers(response):
    origin = request.headers.get("Origin")
    if not origin or not is_api_request() or not origin_known(origin, g.get("site_origins")):
        return response
    for name, value in cors_headers(origin, preflight=request.method == "OPTIONS"):
        response.headers[name] = value
    response.vary.add("Origin")
    return response

"""The report gate: a report's three cheap refusals, answered before Flask is involved.

A flood of reports the service refuses (a made-up site key, a page of an origin the site
does not allow, a client over its limit) must cost no more than any small answer does
(bench/refusals.py). Most of a small answer's cost in Flask is its machinery: the request
context, routing, the app's before and after hooks, the session. So this WSGI middleware,
inside the app, reads a report's body once, checks its site key, its Origin and the rate
limits, and answers a refusal itself: the API's error shape, the headers every answer
carries (``security.common_headers``) and CORS for the site's own pages
(``cors.cors_headers``). An admitted report goes on to Flask with its body already
parsed. A request the gate cannot judge from a whole JSON object (sent in chunks, over
the size limit, not JSON, no usable site key) goes on untouched, and the view admits it
by the same rule (``admit_report``); so does one whose checks fail unexpectedly (the
database away while the site directory is read), for Flask's error handlers to answer.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable, Iterable

from flask import Flask, current_app, has_app_context
from werkzeug.http import HTTP_STATUS_CODES

from feedback import suggestions
from feedback.api.cors import cors_headers, origin_known
from feedback.errors import API_PREFIX, OperationError, RateLimited, operation_error_json
from feedback.extensions import client_hash
from feedback.ratelimits import report_limits
from feedback.schemas import MAX_SITE_KEY
from feedback.security import common_headers
from feedback.sites import SiteKey

REPORTS_PATH = f"{API_PREFIX}/suggestions"
# Keys the gate adds to the WSGI environ; no request header can set them (headers arrive
# as HTTP_*).
PARSED_BODY = "feedback.report_body"
ADMITTED_SITE = "feedback.admitted_site"


def site_key_of(body: dict) -> str | None:
    """The report's site key, if it is one that could be looked up."""
    key = body.get("site")
    return key if isinstance(key, str) and 0 < len(key) <= MAX_SITE_KEY else None


def admit_report(public_key: str, origin: str | None, client: str, found=None) -> SiteKey:
    """The cheap checks of a report, in order: its site key, its Origin, then the client's
    and the site's rate limits; the site, or an OperationError. ``found`` is told the site
    as soon as it is known, so that a refusal can answer CORS to the site's pages."""
    site = suggestions.find_site(public_key)
    if found is not None:
        found(site)
    suggestions.check_origin(site, origin)
    report_limits().spend(client, public_key)
    return site


class ReportGate:
    def __init__(self, app: Flask, wsgi_app: Callable):
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO") == REPORTS_PATH:
            refusal = self._judge(environ, start_response)
            if refusal is not None:
                return refusal
        return self.wsgi_app(environ, start_response)

    def _judge(self, environ: dict, start_response: Callable) -> list[bytes] | None:
        """The refusal's body, once started; None to let Flask answer."""
        body = self._read_json_object(environ)
        key = site_key_of(body) if body is not None else None
        if key is None:
            return None
        origin = environ.get("HTTP_ORIGIN")
        client = client_hash(environ.get("REMOTE_ADDR"), self.app.config["SECRET_KEY"])
        found: list[SiteKey] = []
        with self._app_context():
            try:
                environ[ADMITTED_SITE] = admit_report(key, origin, client, found.append)
                return None
            except OperationError as error:
                site_origins = found[0].allowed_origins if found else None
                cors = bool(origin) and origin_known(origin, site_origins)
                return self._refuse(environ, start_response, error, origin if cors else None)
            except Exception:  # Flask admits it again, and answers the error its own way
                return None

    def _app_context(self):
        """The app's context, as Flask gives one to a request: the active one if it is this
        app's (a test, or an app calling itself), so that they share one database session."""
        if has_app_context() and current_app._get_current_object() is self.app:
            return contextlib.nullcontext()
        return self.app.app_context()

    def _read_json_object(self, environ: dict) -> dict | None:
        """The body, if it is a JSON object of a declared length within the limit; it is
        put back for Flask to read as if nothing had."""
        content_type = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        if content_type != "application/json" or "HTTP_TRANSFER_ENCODING" in environ:
            return None
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            return None
        limit = self.app.config["MAX_CONTENT_LENGTH"]
        if length <= 0 or (limit is not None and length > limit):
            return None
        data = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(data)
        try:
            body = json.loads(data)
        except (ValueError, RecursionError):
            return None
        if not isinstance(body, dict):
            return None
        environ[PARSED_BODY] = body
        return body

    def _refuse(
        self, environ: dict, start_response: Callable, error: OperationError, cors_origin
    ) -> list[bytes]:
        payload = operation_error_json(error).encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
        if isinstance(error, RateLimited):
            headers.append(("Retry-After", str(error.retry_after)))
        headers += common_headers(environ.get("wsgi.url_scheme") == "https")
        if cors_origin:
            headers += [*cors_headers(cors_origin, preflight=False), ("Vary", "Origin")]
        start_response(f"{error.status} {HTTP_STATUS_CODES[error.status].upper()}", headers)
        return [payload]

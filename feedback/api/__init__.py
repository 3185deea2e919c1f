"""The public JSON API at /api/v1: one error shape, CORS for sites' origins, OpenAPI."""

from __future__ import annotations

import json

from flask import Flask, g, request
from flask_smorest import Api
from werkzeug.exceptions import RequestEntityTooLarge

from feedback.api.cors import add_cors_headers
from feedback.api.gate import PARSED_BODY, ReportGate
from feedback.errors import API_PREFIX, error_response, is_api_request
from feedback.extensions import csrf, limiter
from feedback.models import Site
from feedback.schemas import ErrorOut
from feedback.sites import SiteKey
from feedback.text import UNSTORABLE_MESSAGE, has_unstorable_text

# Flask-Limiter guards the sign-in forms; the API's limits are feedback.ratelimits, checked
# after the site key and Origin. Its per-request bookkeeping is skipped here.
limiter.request_filter(is_api_request)


class FeedbackApi(Api):
    """flask-smorest's Api, minus its error handlers: the app's (feedback.errors) render
    one shape for the API and leave the HTML pages to Flask."""

    ERROR_SCHEMA = ErrorOut
    # Each view documents its own error answers; no catch-all "default" response.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self):
        pass


def _read_body() -> bytes:
    """The request body. A body with no Content-Length (sent in chunks) is cut at the
    limit without a word by werkzeug, which would read as broken JSON (400); one byte
    more from the server's stream tells a body over the limit (413) from one that fits."""
    data = request.get_data(cache=True)
    limit = request.max_content_length
    cut = request.content_length is None and limit is not None and len(data) >= limit
    if cut and request.environ["wsgi.input"].read(1):
        raise RequestEntityTooLarge()
    return data


def _require_json_body():
    """Refuse bodies that are not a JSON object before any parsing downstream."""
    if not is_api_request() or request.method not in ("POST", "PUT", "PATCH"):
        return None
    if request.mimetype != "application/json":
        return error_response(
            400, "unsupported_content_type", "Send the body as Content-Type: application/json."
        )
    try:
        body = request.environ.get(PARSED_BODY) or json.loads(_read_body())
    except (ValueError, RecursionError):
        return error_response(400, "malformed_json", "The body is not valid JSON.")
    if not isinstance(body, dict):
        return error_response(400, "malformed_json", "The body must be a JSON object.")
    if has_unstorable_text(body):
        return error_response(400, "unstorable_text", UNSTORABLE_MESSAGE)
    g.json_body = body
    return None


def remember_site(site: SiteKey | Site) -> None:
    """The request's site. Its origins are copied now: the CORS headers are added after
    the commit, when reading the site again could meet a database that went away."""
    g.site = site
    g.site_origins = list(site.allowed_origins or [])


def init_api(app: Flask) -> None:
    from feedback.api.articles import blp as articles_blp
    from feedback.api.articles import document_security as document_articles_security
    from feedback.api.suggestions import blp as suggestions_blp

    app.config.setdefault("API_TITLE", "Reader corrections")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", API_PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api = FeedbackApi(app)
    api.register_blueprint(suggestions_blp)
    # The API is called cross-site by the snippet and authenticated by site key and
    # Origin, not by a session cookie, so a CSRF token has nothing to protect.
    csrf.exempt(suggestions_blp)
    # A CMS calls it server to server with the site secret as a bearer token.
    api.register_blueprint(articles_blp)
    document_articles_security(api)
    csrf.exempt(articles_blp)

    app.before_request(_require_json_body)
    app.after_request(add_cors_headers)
    # Inside ProxyFix (create_app adds it last), so the gate sees the client's address.
    app.wsgi_app = ReportGate(app, app.wsgi_app)

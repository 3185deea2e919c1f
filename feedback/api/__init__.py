"""The public JSON API at /api/v1: one error shape, CORS for sites' origins, OpenAPI."""

from __future__ import annotations

import json
import time

from flask import Flask, current_app, g, jsonify, request
from flask_limiter import RateLimitExceeded
from flask_smorest import Api
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from feedback.errors import OperationError
from feedback.extensions import csrf, db, limiter
from feedback.models import Site
from feedback.origins import origin_allowed
from feedback.schemas import ErrorOut
from feedback.text import UNSTORABLE_MESSAGE, has_unstorable_text

API_PREFIX = "/api/v1"
# Messages for answers that carry no message of their own.
_DEFAULT_MESSAGES = {
    400: "The request could not be read.",
    404: "Nothing here.",
    405: "Method not allowed here.",
    413: "The request body is too large.",
    422: "Some fields are not valid.",
    429: "Too many reports; try again in a minute.",
    500: "Something went wrong on our side.",
    503: "The service is briefly unavailable; try again shortly.",
}


class FeedbackApi(Api):
    """flask-smorest's Api, minus its error handlers: ours render one shape for the API
    and leave the HTML pages to Flask."""

    ERROR_SCHEMA = ErrorOut
    # Each view documents its own error answers; no catch-all "default" response.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self):
        pass


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    response = jsonify({"error": {"code": code, "message": message, "fields": fields or {}}})
    response.status_code = status
    return response


def _flatten_messages(messages, path: str = "") -> dict[str, list[str]]:
    """webargs' nested {"article": {"url": [...]}} becomes {"article.url": [...]}."""
    if isinstance(messages, list):
        return {path or "_body": [str(message) for message in messages]}
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        flat.update(_flatten_messages(value, f"{path}.{key}" if path else str(key)))
    return flat


def _is_api_request() -> bool:
    return request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")


def _handle_http_exception(error: HTTPException):
    if not _is_api_request():
        return error
    status = error.code or 500
    if isinstance(error, RateLimitExceeded):
        response = error_response(429, "rate_limited", _DEFAULT_MESSAGES[429])
        limit = limiter.current_limit
        wait = int(limit.reset_at - time.time()) if limit is not None else 60
        response.headers["Retry-After"] = str(max(1, wait))
        return response
    data = getattr(error, "data", None) or {}
    if status == 422 and "messages" in data:
        messages = data["messages"]
        # webargs nests by location: {"json": {...}}
        messages = messages.get("json", messages) if isinstance(messages, dict) else messages
        fields = _flatten_messages(messages)
        summary = "; ".join(f"{field}: {' '.join(text)}" for field, text in fields.items())
        return error_response(422, "invalid", summary or _DEFAULT_MESSAGES[422], fields)
    code = {413: "too_large", 404: "not_found", 405: "method_not_allowed"}.get(status, "error")
    message = _DEFAULT_MESSAGES.get(status) or error.description or "Error."
    if status == 400:
        code, message = "bad_request", error.description or _DEFAULT_MESSAGES[400]
    return error_response(status, code, message)


def _handle_operation_error(error: OperationError):
    return error_response(error.status, error.code, error.message, error.fields)


def _handle_database_unavailable(error: DBAPIError):
    """The database went away (restart, network, too many connections): ask to retry."""
    db.session.rollback()
    seconds = str(current_app.config["RETRY_AFTER_UNAVAILABLE"])
    current_app.logger.warning("database unavailable: %s", error.orig)
    if _is_api_request():
        response = error_response(503, "unavailable", _DEFAULT_MESSAGES[503])
    else:
        response = current_app.response_class(_DEFAULT_MESSAGES[503], 503, mimetype="text/plain")
    response.headers["Retry-After"] = seconds
    return response


def _handle_unexpected(error: Exception):
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return _handle_database_unavailable(error)
    current_app.logger.exception("unhandled error")
    if _is_api_request():
        return error_response(500, "internal", _DEFAULT_MESSAGES[500])
    return current_app.response_class(_DEFAULT_MESSAGES[500], 500, mimetype="text/plain")


def _require_json_body():
    """Refuse bodies that are not a JSON object before any parsing downstream."""
    if not _is_api_request() or request.method not in ("POST", "PUT", "PATCH"):
        return None
    if request.mimetype != "application/json":
        return error_response(
            400, "unsupported_content_type", "Send the body as Content-Type: application/json."
        )
    try:
        body = json.loads(request.get_data(cache=True))
    except (ValueError, RecursionError):
        return error_response(400, "malformed_json", "The body is not valid JSON.")
    if not isinstance(body, dict):
        return error_response(400, "malformed_json", "The body must be a JSON object.")
    if has_unstorable_text(body):
        return error_response(400, "unstorable_text", UNSTORABLE_MESSAGE)
    g.json_body = body
    return None


def remember_site(site: Site) -> None:
    """The request's site. Its origins are copied now: the CORS headers are added after
    the commit, when reading the site again could meet a database that went away."""
    g.site = site
    g.site_origins = list(site.allowed_origins or [])


def _origin_known(origin: str) -> bool:
    if "site_origins" in g:
        return origin_allowed(origin, g.site_origins)
    # A preflight carries no body, so no site key: any site's origins may ask.
    try:
        origins = db.session.scalars(select(Site.allowed_origins)).all()
    except DBAPIError:
        return False  # the answer is already an error; it needs no CORS headers
    return any(origin_allowed(origin, allowed or []) for allowed in origins)


def _add_cors_headers(response):
    origin = request.headers.get("Origin")
    if not origin or not _is_api_request() or not _origin_known(origin):
        return response
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    response.headers["Access-Control-Expose-Headers"] = "Retry-After, Location"
    response.headers["Access-Control-Max-Age"] = "600"
    response.vary.add("Origin")
    return response


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
    app.after_request(_add_cors_headers)
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(OperationError, _handle_operation_error)
    app.register_error_handler(OperationalError, _handle_database_unavailable)
    app.register_error_handler(Exception, _handle_unexpected)

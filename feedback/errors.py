"""Errors, and how the service answers them.

Operations know nothing of HTTP requests: they raise an ``OperationError``, which
carries the status to answer with. The handlers here, registered for the whole app,
answer every error under the API's path in one JSON shape,
``{"error": {"code", "message", "fields", "field_codes"}}``, and leave HTML pages to Flask.

``fields`` maps each field at fault to its messages in English, for people;
``field_codes`` maps the same fields to one stable code each, for programs (the reader
snippet shows the reason in the reader's language by it). Every message the API can give
has its code: marshmallow's own messages below, the service's own where they are written,
through ``coded``.
"""

from __future__ import annotations

import json
import re

from flask import Flask, current_app, request
from marshmallow import Schema, fields, validate
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from feedback.extensions import db

API_PREFIX = "/api/v1"
# Messages for answers that carry no message of their own.
_DEFAULT_MESSAGES = {
    400: "The request could not be read.",
    404: "Nothing here.",
    405: "Method not allowed here.",
    413: "The request body is too large.",
    422: "Some fields are not valid.",
    429: "Too many reports; try again once the seconds in Retry-After have passed.",
    500: "Something went wrong on our side.",
    503: "The service is briefly unavailable; try again shortly.",
}


# --- field codes -----------------------------------------------------------------------

# A field's code when its message has none of its own.
INVALID = "invalid"
# Message templates ("{...}" stands for any text) and their codes.
_CODED: list[tuple[re.Pattern[str], str]] = []


def coded(template: str, code: str) -> str:
    """Give the field message ``template`` its code, and return the template.

    ``{name}`` parts of the template match any text, so a message that is formatted
    later (``template.format(...)``) keeps the code."""
    parts = re.split(r"\{+[^{}]*\}+", template)
    _CODED.append((re.compile(".+".join(re.escape(part) for part in parts) + r"\Z", re.S), code))
    return template


def field_code(message: str) -> str:
    """The code of one field message; ``invalid`` for one without a code of its own."""
    for pattern, code in _CODED:
        if pattern.match(message):
            return code
    return INVALID


# marshmallow's own messages, read from marshmallow so that a rewording keeps its code.
for _template, _code in [
    (fields.Field.default_error_messages["required"], "required"),
    (fields.Field.default_error_messages["null"], "required"),
    (fields.Email.default_error_messages["invalid"], "invalid_email"),
    (fields.UUID.default_error_messages["invalid_uuid"], "invalid_uuid"),
    (fields.Enum.default_error_messages["unknown"], "invalid_choice"),
    (fields.String.default_error_messages["invalid"], "wrong_type"),
    (fields.Integer.default_error_messages["invalid"], "wrong_type"),
    (fields.Boolean.default_error_messages["invalid"], "wrong_type"),
    (fields.Nested.default_error_messages["type"], "wrong_type"),
    (Schema._default_error_messages["type"], "wrong_type"),
    (Schema._default_error_messages["unknown"], "unknown_field"),
    (validate.Length.message_max, "too_long"),
    (validate.Length.message_min, "too_short"),
    (validate.Length.message_all, "wrong_length"),
    (validate.Length.message_equal, "wrong_length"),
    (validate.OneOf.default_message, "invalid_choice"),
    (validate.Range.message_min, "out_of_range"),
    (validate.Range.message_max, "out_of_range"),
    (validate.Range.message_all, "out_of_range"),
]:
    coded(_template, _code)


class OperationError(Exception):
    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        fields: dict[str, list[str]] | None = None,
        field_codes: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.field_codes = field_codes or {}


class NotFound(OperationError):
    status = 404
    code = "not_found"


class Unauthorized(OperationError):
    status = 401
    code = "unauthorized"


class Forbidden(OperationError):
    status = 403
    code = "forbidden"


class Conflict(OperationError):
    status = 409
    code = "conflict"


class RateLimited(OperationError):
    status = 429
    code = "rate_limited"

    def __init__(self, retry_after: int):
        super().__init__(_DEFAULT_MESSAGES[429])
        self.retry_after = retry_after  # seconds until the limit's window starts again


class Invalid(OperationError):
    status = 422
    code = "invalid"

    @classmethod
    def field(cls, path: str, message: str, code: str | None = None) -> Invalid:
        """One field at fault; its code is ``code``, else the message's own."""
        return cls(f"{path}: {message}", {path: [message]}, {path: code} if code else None)

    def message_of(self, path: str) -> str:
        """What is wrong with one field, without the field's name (for a form)."""
        return " ".join(self.fields.get(path) or [self.message])


# --- answering errors -----------------------------------------------------------------


def error_json(
    code: str,
    message: str,
    fields: dict[str, list[str]] | None = None,
    field_codes: dict[str, str] | None = None,
) -> str:
    """The one JSON error shape. A field's code is the one given in ``field_codes``, else
    that of its first message."""
    fields = fields or {}
    given = field_codes or {}
    codes = {
        path: given.get(path) or field_code(texts[0] if texts else "")
        for path, texts in fields.items()
    }
    error = {"code": code, "message": message, "fields": fields, "field_codes": codes}
    # As jsonify writes it, without its machinery: a flood's refusals are errors too.
    return json.dumps({"error": error}, sort_keys=True, separators=(",", ":")) + "\n"


def error_response(
    status: int,
    code: str,
    message: str,
    fields: dict[str, list[str]] | None = None,
    field_codes: dict[str, str] | None = None,
):
    body = error_json(code, message, fields, field_codes)
    return current_app.response_class(body, status, mimetype="application/json")


def operation_error_json(error: OperationError) -> str:
    return error_json(error.code, error.message, error.fields, error.field_codes)


def is_api_request() -> bool:
    return request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")


def _flatten_messages(messages, path: str = "") -> dict[str, list[str]]:
    """webargs' nested {"article": {"url": [...]}} becomes {"article.url": [...]}."""
    if isinstance(messages, list):
        return {path or "_body": [str(message) for message in messages]}
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        flat.update(_flatten_messages(value, f"{path}.{key}" if path else str(key)))
    return flat


def _handle_http_exception(error: HTTPException):
    if not is_api_request():
        return error
    status = error.code or 500
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
    body = operation_error_json(error)
    response = current_app.response_class(body, error.status, mimetype="application/json")
    if isinstance(error, RateLimited):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def _handle_database_unavailable(error: DBAPIError):
    """The database went away (restart, network, too many connections): ask to retry."""
    db.session.rollback()
    seconds = str(current_app.config["RETRY_AFTER_UNAVAILABLE"])
    current_app.logger.warning("database unavailable: %s", error.orig)
    if is_api_request():
        response = error_response(503, "unavailable", _DEFAULT_MESSAGES[503])
    else:
        response = current_app.response_class(_DEFAULT_MESSAGES[503], 503, mimetype="text/plain")
    response.headers["Retry-After"] = seconds
    return response


def _handle_unexpected(error: Exception):
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return _handle_database_unavailable(error)
    current_app.logger.exception("unhandled error")
    if is_api_request():
        return error_response(500, "internal", _DEFAULT_MESSAGES[500])
    return current_app.response_class(_DEFAULT_MESSAGES[500], 500, mimetype="text/plain")


def init_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(OperationError, _handle_operation_error)
    app.register_error_handler(OperationalError, _handle_database_unavailable)
    app.register_error_handler(Exception, _handle_unexpected)

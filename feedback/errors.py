"""Errors an operation raises when a request cannot be carried out.

Operations know nothing of HTTP requests; each error carries the status the
API answers with, and the API renders every one in the same JSON shape.
"""

from __future__ import annotations


class OperationError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


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


class Invalid(OperationError):
    status = 422
    code = "invalid"

    @classmethod
    def field(cls, path: str, message: str) -> Invalid:
        return cls(f"{path}: {message}", {path: [message]})

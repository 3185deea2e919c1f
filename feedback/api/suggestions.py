"""Views of /api/v1/suggestions: parse, call the operation, dump."""

from __future__ import annotations

import uuid

from flask import current_app, g, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from feedback import suggestions
from feedback.api import remember_site
from feedback.errors import NotFound
from feedback.extensions import client_ip_hash, db, limiter
from feedback.models import Suggestion, SuggestionStatus
from feedback.schemas import ErrorOut, SuggestionIn, SuggestionOut

blp = Blueprint(
    "api_suggestions",
    __name__,
    url_prefix="/api/v1/suggestions",
    description="Readers' corrections of article text.",
)


def _site_key_from_body() -> str:
    body = g.get("json_body") or {}
    return "site:" + str(body.get("site", ""))[:64]


def _per_client_limit() -> str:
    return current_app.config["RATELIMIT_PER_CLIENT"]


def _per_site_limit() -> str:
    return current_app.config["RATELIMIT_PER_SITE"]


def represent(suggestion: Suggestion) -> dict:
    """The public view of a stored suggestion (the shape of SuggestionOut)."""
    has_quote = suggestion.exact is not None
    return {
        "id": suggestion.id,
        # A honeypot catch is answered like any accepted report.
        "status": SuggestionStatus.NEW if suggestion.honeypot else suggestion.status,
        "kind": suggestion.kind,
        "article": {
            "url": suggestion.article.url,
            "title": suggestion.article.title,
            "revision": suggestion.revision.number,
        },
        "quote": {
            "exact": suggestion.exact,
            "prefix": suggestion.prefix,
            "suffix": suggestion.suffix,
            "start": suggestion.start,
            "end": suggestion.end,
        }
        if has_quote
        else None,
        "replacement": suggestion.replacement,
        "comment": suggestion.comment,
        "duplicate_of": None if suggestion.honeypot else suggestion.duplicate_of_id,
        "created_at": suggestion.created_at,
        "links": {"self": url_for("api_suggestions.SuggestionItem", suggestion_id=suggestion.id)},
    }


_ERRORS = {
    400: "Malformed JSON or wrong content type.",
    403: "The request's Origin is not allowed for this site.",
    404: "Unknown site key.",
    409: "The id was already used for a different report.",
    413: "Body too large.",
    422: "Invalid fields; `fields` names each one.",
    429: "Rate limited; see Retry-After.",
    503: "Database unreachable; see Retry-After.",
}


@blp.route("")
class SuggestionCollection(MethodView):
    decorators = [
        limiter.limit(_per_client_limit, key_func=client_ip_hash, methods=["POST"]),
        limiter.limit(_per_site_limit, key_func=_site_key_from_body, methods=["POST"]),
    ]

    @blp.arguments(SuggestionIn)
    @blp.response(201, SuggestionOut, description="Stored.")
    @blp.alt_response(200, schema=SuggestionOut, description="A replay of a stored report.")
    @blp.alt_response(400, schema=ErrorOut, description=_ERRORS[400])
    @blp.alt_response(403, schema=ErrorOut, description=_ERRORS[403])
    @blp.alt_response(404, schema=ErrorOut, description=_ERRORS[404])
    @blp.alt_response(409, schema=ErrorOut, description=_ERRORS[409])
    @blp.alt_response(413, schema=ErrorOut, description=_ERRORS[413])
    @blp.alt_response(422, schema=ErrorOut, description=_ERRORS[422])
    @blp.alt_response(429, schema=ErrorOut, description=_ERRORS[429])
    @blp.alt_response(503, schema=ErrorOut, description=_ERRORS[503])
    def post(self, data):
        """Submit a reader's correction of a span of an article (or a note about it)."""
        remember_site(suggestions.find_site(data["site"]))
        client = suggestions.ClientInfo(
            origin=request.headers.get("Origin"),
            user_agent=request.headers.get("User-Agent"),
            client_hash=client_ip_hash(),
        )
        suggestion, created = suggestions.submit_suggestion(g.site, data, g.json_body, client)
        body = represent(suggestion)
        headers = {"Location": body["links"]["self"]}
        return body, (201 if created else 200), headers


@blp.route("/<uuid:suggestion_id>")
class SuggestionItem(MethodView):
    @blp.response(200, SuggestionOut)
    @blp.alt_response(404, schema=ErrorOut, description="No such suggestion.")
    def get(self, suggestion_id: uuid.UUID):
        """A stored suggestion, as its sender may see it."""
        suggestion = db.session.get(Suggestion, suggestion_id)
        if suggestion is None:
            raise NotFound("No such suggestion.")
        return represent(suggestion)

"""Views of /api/v1/suggestions: parse, call the operation, dump."""

from __future__ import annotations

import functools
import json
import uuid

from flask import g, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from feedback import suggestions
from feedback.api import remember_site
from feedback.api.gate import ADMITTED_SITE, admit_report, site_key_of
from feedback.errors import NotFound
from feedback.extensions import client_ip_hash, db
from feedback.models import IncomingReport, Site, Suggestion, SuggestionStatus
from feedback.schemas import RECEIVED, ErrorOut, SuggestionIn, SuggestionOut

blp = Blueprint(
    "api_suggestions",
    __name__,
    url_prefix="/api/v1/suggestions",
    description="Readers' corrections of article text.",
)


def _quote_out(exact, prefix, suffix, start, end) -> dict | None:
    if exact is None:
        return None
    return {"exact": exact, "prefix": prefix, "suffix": suffix, "start": start, "end": end}


def _links(report_id: uuid.UUID) -> dict:
    return {"self": url_for("api_suggestions.SuggestionItem", suggestion_id=report_id)}


def represent(suggestion: Suggestion) -> dict:
    """The public view of a filed suggestion (the shape of SuggestionOut)."""
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
        "quote": _quote_out(
            suggestion.exact, suggestion.prefix, suggestion.suffix, suggestion.start, suggestion.end
        ),
        "replacement": suggestion.replacement,
        "comment": suggestion.comment,
        "duplicate_of": None if suggestion.honeypot else suggestion.duplicate_of_id,
        "created_at": suggestion.created_at,
        "links": _links(suggestion.id),
    }


def represent_received(acceptance: suggestions.Acceptance, data: dict) -> dict:
    """The public view of an accepted report the worker has not filed yet."""
    prepared, quote = acceptance.prepared, acceptance.prepared.quote
    return {
        "id": acceptance.report_id,
        "status": RECEIVED,
        "kind": data["kind"],
        "article": {
            "url": data["article"]["url"],
            "title": data["article"]["title"].strip(),
            "revision": None,
        },
        "quote": quote
        and _quote_out(quote.exact, quote.prefix, quote.suffix, quote.start, quote.end),
        "replacement": prepared.replacement,
        "comment": prepared.comment,
        "duplicate_of": None,
        "created_at": acceptance.received_at,
        "links": _links(acceptance.report_id),
    }


def represent_acceptance(acceptance: suggestions.Acceptance, data: dict) -> dict:
    suggestion = db.session.get(Suggestion, acceptance.report_id) if acceptance.filed else None
    if suggestion is None:
        return represent_received(acceptance, data)
    return represent(suggestion)


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


def _admit_report(view):
    """Before the body is validated and its text checked, what costs next to nothing: the
    site key, the Origin, then the rate limits (``gate.admit_report``). The report gate has
    done it for most reports before Flask saw them; this is for the rest (a body sent in
    chunks). Refusals spend none of a client's allowance."""

    @functools.wraps(view)
    def admit(*args, **kwargs):
        admitted = request.environ.get(ADMITTED_SITE)
        if admitted is not None:
            remember_site(admitted)
        elif request.method == "POST":
            key = site_key_of(g.get("json_body") or {})
            if key is not None:
                origin = request.headers.get("Origin")
                admit_report(key, origin, client_ip_hash(), found=remember_site)
        return view(*args, **kwargs)

    return admit


@blp.route("")
class SuggestionCollection(MethodView):
    decorators = [_admit_report]

    @blp.arguments(SuggestionIn)
    @blp.response(201, SuggestionOut, description="Accepted and stored; filed moments later.")
    @blp.alt_response(200, schema=SuggestionOut, description="A replay of an accepted report.")
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
        acceptance = suggestions.accept_report(
            g.site, data, g.json_body, request.get_data(as_text=True), client
        )
        body = represent_acceptance(acceptance, data)
        headers = {"Location": body["links"]["self"]}
        return body, (201 if acceptance.created else 200), headers


@blp.route("/<uuid:suggestion_id>")
class SuggestionItem(MethodView):
    @blp.response(200, SuggestionOut)
    @blp.alt_response(404, schema=ErrorOut, description="No such suggestion.")
    def get(self, suggestion_id: uuid.UUID):
        """A report, as its sender may see it: `received` until the worker files it."""
        suggestion = db.session.get(Suggestion, suggestion_id)
        if suggestion is not None:
            # Only the report's own site's pages may read it cross-site (CORS).
            remember_site(suggestion.site)
            return represent(suggestion)
        incoming = db.session.get(IncomingReport, suggestion_id)
        if incoming is None or incoming.body is None:
            raise NotFound("No such suggestion.")
        remember_site(db.session.get(Site, incoming.site_id))
        data = SuggestionIn().load(json.loads(incoming.body))
        acceptance = suggestions.Acceptance(
            incoming.id, False, incoming.received_at, suggestions.prepare_report(data), False
        )
        return represent_received(acceptance, data)

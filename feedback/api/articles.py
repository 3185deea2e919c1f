"""PUT /api/v1/articles: a CMS pushes an article's current text (server to server)."""

from __future__ import annotations

from flask import g, request
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from feedback import revisions
from feedback.api import remember_site
from feedback.errors import Unauthorized
from feedback.extensions import db
from feedback.models import RevisionSource, Site
from feedback.schemas import ArticlePutIn, ArticlePutOut, ErrorOut

blp = Blueprint(
    "api_articles",
    __name__,
    url_prefix="/api/v1/articles",
    description="Article texts pushed by a site's CMS; each new text is a new revision.",
)


def site_from_bearer() -> Site:
    """The site whose server secret is the request's bearer token."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("Send the site secret as `Authorization: Bearer <secret>`.")
    # The hash is deterministic (the secret is random, not a password), so it can be
    # looked up; check_secret then compares in constant time.
    site = db.session.scalar(select(Site).where(Site.secret_hash == Site.hash_secret(token)))
    if site is None or not site.check_secret(token):
        raise Unauthorized("The site secret is not valid.")
    return site


SECURITY_SCHEME = "siteSecret"


def document_security(api) -> None:
    """Describe the bearer site secret in the OpenAPI document."""
    api.spec.components.security_scheme(
        SECURITY_SCHEME,
        {
            "type": "http",
            "scheme": "bearer",
            "description": "The site's server secret, from `feedback site add`.",
        },
    )


@blp.route("")
class ArticleCollection(MethodView):
    @blp.doc(security=[{SECURITY_SCHEME: []}])
    @blp.arguments(ArticlePutIn)
    @blp.response(200, ArticlePutOut, description="The text was known already.")
    @blp.alt_response(201, schema=ArticlePutOut, description="Stored as a new revision.")
    @blp.alt_response(400, schema=ErrorOut, description="Malformed JSON or wrong content type.")
    @blp.alt_response(401, schema=ErrorOut, description="Missing or wrong site secret.")
    @blp.alt_response(413, schema=ErrorOut, description="Body too large.")
    @blp.alt_response(422, schema=ErrorOut, description="Invalid fields; `fields` names each.")
    @blp.alt_response(503, schema=ErrorOut, description="Database unreachable; see Retry-After.")
    def put(self, data):
        """Store an article's current text; open reports follow it to the new revision."""
        remember_site(site_from_bearer())
        stored = revisions.record_verified_text(
            g.site, data["url"], data["title"], data["text"], RevisionSource.CMS
        )
        article = stored.revision.article
        db.session.commit()
        # Only queued here: re-anchoring a long article's reports is too slow for a request.
        scheduled = revisions.reanchor_soon(article.id)
        body = {
            "url": article.url,
            "title": article.title,
            "revision": stored.revision,
            "created": stored.created,
            "reanchoring": "scheduled" if scheduled else "not_needed",
        }
        return body, (201 if stored.created else 200)


@blp.after_request
def _ask_for_bearer(response):
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="feedback"'
    return response

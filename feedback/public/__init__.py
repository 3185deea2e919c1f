"""Pages anyone may see: the demo article."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from sqlalchemy import select

from feedback.demo import DEMO_SITE_KEY
from feedback.extensions import db
from feedback.models import Site
from feedback.security import allow_inline_styles

blp = Blueprint("public", __name__)


@blp.get("/")
@allow_inline_styles  # the snippet styles its own shadow DOM with a <style> element
def demo_article():
    """The demo article with the snippet's script tag (only when the demo is seeded)."""
    site = db.session.scalar(select(Site).where(Site.public_key == DEMO_SITE_KEY))
    if site is None:
        abort(404)
    return render_template(
        "public/demo_article.html", site=site, version=current_app.config.get("VERSION")
    )

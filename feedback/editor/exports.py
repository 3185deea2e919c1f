"""Editors' downloads of a site's reports: /editor/sites/<id>/export.jsonld and .csv."""

from __future__ import annotations

import json

from flask import Blueprint, Response, stream_with_context
from flask_login import login_required

from feedback import export
from feedback.editor import access
from feedback.models import Site

blp = Blueprint("exports", __name__, url_prefix="/editor/sites/<int:site_id>")


def _member_site(site_id: int) -> Site:
    """The site, if the signed-in user is a member of it; any other site is a 404."""
    return access.require_member(site_id).site


def _download_name(site: Site, extension: str) -> str:
    return f"reports-{site.public_key}.{extension}"


@blp.get("/export.jsonld")
@login_required
def export_jsonld(site_id: int):
    """The site's reports as a W3C Web Annotation collection."""
    site = _member_site(site_id)
    collection = export.annotation_collection(site, export.collection_id(site))
    response = Response(
        json.dumps(collection, ensure_ascii=False, indent=2),
        mimetype="application/ld+json",
    )
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{_download_name(site, "jsonld")}"'
    )
    return response


@blp.get("/export.csv")
@login_required
def export_csv(site_id: int):
    """The site's reports as CSV, one row each."""
    site = _member_site(site_id)
    response = Response(
        stream_with_context(export.csv_lines(export.site_reports(site))),
        mimetype="text/csv",
    )
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{_download_name(site, "csv")}"'
    )
    return response

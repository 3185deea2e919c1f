"""A site's reports as W3C Web Annotations (JSON-LD) and as CSV.

Readers' names and addresses stay out of both: an export file travels further than
the editor UI, and neither format needs them to say what is wrong where.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from feedback import revisions
from feedback.extensions import db
from feedback.links import link_for
from feedback.models import Site, Suggestion, SuggestionStatus

ANNOTATION_CONTEXT = "http://www.w3.org/ns/anno.jsonld"
CSV_COLUMNS = [
    "id",
    "created_at",
    "status",
    "kind",
    "article_url",
    "article_title",
    "revision",
    "exact",
    "prefix",
    "suffix",
    "start",
    "end",
    "replacement",
    "comment",
    "duplicate_of",
    "anchor_state",
    "anchor_revision",
    "anchor_start",
    "anchor_end",
    "text_changed",
    "current_wording",
    "fixed_revision",
    "fixed_at",
]
# A spreadsheet runs a cell starting with one of these as a formula, even after spaces
# or tabs; readers write these cells, so each such value is prefixed with a quote
# (OWASP "CSV injection"). A leading tab or carriage return is defused the same way.
_FORMULA_STARTS = ("=", "+", "-", "@")
_CONTROL_STARTS = ("\t", "\r")


def site_reports(site: Site) -> Iterator[Suggestion]:
    """The site's reports, oldest first; spam (and honeypot catches) left out."""
    query = (
        select(Suggestion)
        .where(Suggestion.site_id == site.id, Suggestion.status != SuggestionStatus.SPAM)
        .options(
            selectinload(Suggestion.article),
            selectinload(Suggestion.revision),
            selectinload(Suggestion.anchor_revision),
            selectinload(Suggestion.fixed_revision),
        )
        .order_by(Suggestion.created_at, Suggestion.id)
    )
    yield from db.session.scalars(query)


def _rfc3339(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds")


def annotation(report: Suggestion) -> dict:
    """One report as a Web Annotation: the fix and comment as bodies, the span as target."""
    bodies = []
    if report.replacement is not None:
        bodies.append({"type": "TextualBody", "value": report.replacement, "purpose": "editing"})
    if report.comment:
        bodies.append({"type": "TextualBody", "value": report.comment, "purpose": "commenting"})
    target: dict = {
        "source": report.article.url,
        # Selectors are over the revision the reader saw, dated by that revision.
        "state": {"type": "TimeState", "sourceDate": _rfc3339(report.revision.created_at)},
    }
    if report.exact is not None:
        target["selector"] = [
            {
                "type": "TextQuoteSelector",
                "exact": report.exact,
                "prefix": report.prefix or "",
                "suffix": report.suffix or "",
            },
            {"type": "TextPositionSelector", "start": report.start, "end": report.end},
        ]
    item = {
        "id": f"urn:uuid:{report.id}",
        "type": "Annotation",
        "motivation": "editing" if report.replacement is not None else "commenting",
        "created": _rfc3339(report.created_at),
        "modified": _rfc3339(report.updated_at),
        "target": target,
    }
    if bodies:
        item["body"] = bodies if len(bodies) > 1 else bodies[0]
    return item


def collection_id(site: Site) -> str:
    """The collection's IRI: where editors download it."""
    return link_for("exports.export_jsonld", site_id=site.id)


def annotation_collection(site: Site, collection_id: str) -> dict:
    """The site's reports as one AnnotationCollection with a single page of items."""
    items = [annotation(report) for report in site_reports(site)]
    return {
        "@context": ANNOTATION_CONTEXT,
        "id": collection_id,
        "type": "AnnotationCollection",
        "label": f"Reader reports for {site.name}",
        "total": len(items),
        "first": {
            "id": f"{collection_id}#page-1",
            "type": "AnnotationPage",
            "startIndex": 0,
            "items": items,
        },
    }


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return _rfc3339(value)
    text = str(value)
    if text.startswith(_CONTROL_STARTS) or text.lstrip().startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def csv_row(report: Suggestion) -> list[str]:
    values = {
        "id": report.id,
        "created_at": report.created_at,
        "status": report.status.value,
        "kind": report.kind.value,
        "article_url": report.article.url,
        "article_title": report.article.title,
        "revision": report.revision.number,
        "exact": report.exact,
        "prefix": report.prefix,
        "suffix": report.suffix,
        "start": report.start,
        "end": report.end,
        "replacement": report.replacement,
        "comment": report.comment,
        "duplicate_of": report.duplicate_of_id,
        "anchor_state": report.anchor_state.value,
        "anchor_revision": report.anchor_revision.number if report.anchor_revision else None,
        "anchor_start": report.anchor_start,
        "anchor_end": report.anchor_end,
        "text_changed": report.text_changed,
        "current_wording": revisions.current_wording(report) if report.exact else None,
        "fixed_revision": report.fixed_revision.number if report.fixed_revision else None,
        "fixed_at": report.fixed_at,
    }
    return [_csv_cell(values[column]) for column in CSV_COLUMNS]


def csv_lines(reports: Iterable[Suggestion]) -> Iterator[str]:
    """The CSV (RFC 4180, CRLF line ends) one line at a time, header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield flush()
    for report in reports:
        writer.writerow(csv_row(report))
        yield flush()

"""Exports of a site's reports: W3C Web Annotation JSON-LD and CSV, from the editor
download links and from `feedback export`."""

from __future__ import annotations

import csv
import io
import json
import uuid

import pytest
from pyld import jsonld

from feedback import signins
from feedback.extensions import db
from feedback.models import Membership, Role, Site, Suggestion, SuggestionStatus, User
from tests.conftest import ARTICLE_TEXT, suggestion_body
from tests.revisions.anno_context import OA, offline_loader

OA_SELECTOR = OA + "hasSelector"


@pytest.fixture
def reports(site, post_suggestion, push_article) -> dict[str, Suggestion]:
    """A typo fixed by a later revision, an open one, a note, spam; and a reader's name."""
    made = {}
    bodies = {
        "fixed": suggestion_body(reporter={"name": "Ann Reader", "email": "ann@example.net"}),
        "open": suggestion_body(exact="eleven", replacement='=HYPERLINK("x")'),
        "note": suggestion_body(exact=None, replacement=None, comment="Photo is wrong."),
        "spam": suggestion_body(exact="quay", website="http://spam.example"),
    }
    for name, body in bodies.items():
        assert post_suggestion(body).status_code == 201
        made[name] = db.session.get(Suggestion, uuid.UUID(body["id"]))
    push_article(ARTICLE_TEXT.replace("faster then", "faster than"))
    for report in made.values():
        db.session.refresh(report)
    assert made["fixed"].status is SuggestionStatus.FIXED
    return made


@pytest.fixture
def signed_in(client, site):
    """Sign an editor of ``site`` in (through Flask-Login's session key)."""

    def sign_in(member_of: Site | None = site) -> User:
        user = User(email=f"ed{uuid.uuid4().hex[:6]}@example.com", name="Ed")
        user.set_password("long enough password")
        db.session.add(user)
        if member_of is not None:
            db.session.add(Membership(user=user, site=member_of, role=Role.VIEWER))
        db.session.commit()
        key = signins.start(user, remember=False)  # a stored sign-in, as the form makes
        db.session.commit()
        with client.session_transaction() as session:
            session["_user_id"] = key
            session["_fresh"] = True
        return user

    return sign_in


def expanded_annotations(document: dict) -> list[dict]:
    expanded = jsonld.expand(document, {"documentLoader": offline_loader})
    (collection,) = expanded
    assert collection["@type"] == ["http://www.w3.org/ns/activitystreams#OrderedCollection"]
    (page,) = collection["http://www.w3.org/ns/activitystreams#first"]
    return page["http://www.w3.org/ns/activitystreams#items"][0]["@list"]


def test_jsonld_is_an_annotation_collection_with_every_selector(reports, client, signed_in, site):
    signed_in()
    response = client.get(f"/editor/sites/{site.id}/export.jsonld")
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    assert "attachment" in response.headers["Content-Disposition"]
    document = json.loads(response.get_data(as_text=True))

    assert document["@context"] == "http://www.w3.org/ns/anno.jsonld"
    assert document["type"] == "AnnotationCollection"
    assert document["id"] == f"http://localhost/editor/sites/{site.id}/export.jsonld"
    items = document["first"]["items"]
    assert document["total"] == len(items) == 3  # spam is left out
    by_id = {item["id"]: item for item in items}
    fixed = by_id[f"urn:uuid:{reports['fixed'].id}"]
    assert fixed["type"] == "Annotation"
    assert fixed["motivation"] == "editing"
    assert fixed["body"][0] == {"type": "TextualBody", "value": "than", "purpose": "editing"}
    start = ARTICLE_TEXT.index("then")
    assert fixed["target"]["source"] == reports["fixed"].article.url
    assert fixed["target"]["selector"] == [
        {
            "type": "TextQuoteSelector",
            "exact": "then",
            "prefix": ARTICLE_TEXT[start - 32 : start],
            "suffix": ARTICLE_TEXT[start + 4 : start + 36],
        },
        {"type": "TextPositionSelector", "start": start, "end": start + 4},
    ]
    note = by_id[f"urn:uuid:{reports['note'].id}"]
    assert "selector" not in note["target"]
    assert note["motivation"] == "commenting"
    # Nothing about the readers.
    text = response.get_data(as_text=True)
    assert "Ann Reader" not in text
    assert "ann@example.net" not in text

    # It parses as JSON-LD under the W3C context, and expansion keeps every selector.
    annotations = expanded_annotations(document)
    assert len(annotations) == 3
    selectors = [
        selector
        for annotation in annotations
        for target in annotation[OA + "hasTarget"]
        for selector in target.get(OA_SELECTOR, [])
    ]
    kinds = sorted(selector["@type"][0] for selector in selectors)
    assert kinds == [OA + "TextPositionSelector"] * 2 + [OA + "TextQuoteSelector"] * 2
    for selector in selectors:
        if selector["@type"] == [OA + "TextQuoteSelector"]:
            assert {OA + "exact", OA + "prefix", OA + "suffix"} <= set(selector)
        else:
            assert {OA + "start", OA + "end"} <= set(selector)


def test_every_exported_key_is_a_term_of_the_context(reports, run_cli, site):
    """Expansion drops unknown keys silently; compact the expansion back and compare."""
    result = run_cli("export", site.public_key)
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    expanded = jsonld.expand(document, {"documentLoader": offline_loader})
    compacted = jsonld.compact(
        expanded, "http://www.w3.org/ns/anno.jsonld", {"documentLoader": offline_loader}
    )

    def keys(node) -> set[str]:
        if isinstance(node, dict):
            return set(node) | {key for value in node.values() for key in keys(value)}
        if isinstance(node, list):
            return {key for value in node for key in keys(value)}
        return set()

    assert keys(compacted) == keys(document)


def test_csv_has_a_row_per_report_and_defuses_formulas(reports, client, signed_in, site):
    signed_in()
    response = client.get(f"/editor/sites/{site.id}/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 3
    by_id = {row["id"]: row for row in rows}
    fixed = by_id[str(reports["fixed"].id)]
    assert (fixed["status"], fixed["exact"], fixed["replacement"]) == ("fixed", "then", "than")
    assert (fixed["revision"], fixed["fixed_revision"], fixed["current_wording"]) == (
        "1",
        "2",
        "than",
    )
    assert fixed["anchor_state"] == "anchored"
    open_row = by_id[str(reports["open"].id)]
    # A reader's "=..." would run as a formula in a spreadsheet.
    assert open_row["replacement"] == '\'=HYPERLINK("x")'
    assert open_row["current_wording"] == "eleven"
    assert "Ann Reader" not in response.get_data(as_text=True)


def test_cli_csv_matches_the_download(reports, run_cli, client, signed_in, site):
    signed_in()
    downloaded = client.get(f"/editor/sites/{site.id}/export.csv").get_data(as_text=True)
    result = run_cli("export", site.public_key, "--format", "csv")
    assert result.exit_code == 0
    # click's test runner reports output with plain "\n" line ends.
    assert result.output == downloaded.replace("\r\n", "\n")


def test_cli_refuses_unknown_site(run_cli, site):
    result = run_cli("export", "no-such-key")
    assert result.exit_code == 2
    assert "no site has the key" in result.output


def test_export_needs_sign_in(reports, client, site):
    response = client.get(f"/editor/sites/{site.id}/export.csv")
    assert response.status_code in (302, 401)
    assert "then" not in response.get_data(as_text=True)


def test_export_of_another_site_is_404(reports, client, signed_in, site):
    other = Site(name="Other", public_key="other-key", allowed_origins=[], settings={})
    other.rotate_secret()
    db.session.add(other)
    db.session.commit()
    signed_in(member_of=other)
    assert client.get(f"/editor/sites/{site.id}/export.csv").status_code == 404
    assert client.get(f"/editor/sites/{site.id}/export.jsonld").status_code == 404
    assert client.get("/editor/sites/999999/export.jsonld").status_code == 404


@pytest.mark.parametrize(
    "written",
    [
        '  =HYPERLINK("http://evil.example")',
        "\t=1+1",
        " \t +SUM(A1:A9)",
        "   -2+3",
        "  @SUM(1)",
        "\u00a0=1",
        "\r=1",
        "\tplain words after a tab",
    ],
)
def test_csv_defuses_formulas_behind_spaces_and_tabs(site, post_suggestion, run_cli, written):
    body = suggestion_body(exact="eleven", replacement="twelve")
    assert post_suggestion(body).status_code == 201
    report = db.session.get(Suggestion, uuid.UUID(body["id"]))
    # Stored as is (a reader's comment, an editor's change, an older import): the export
    # must not trust the way in.
    report.comment = written
    report.replacement = written
    db.session.commit()
    result = run_cli("export", site.public_key, "--format", "csv")
    assert result.exit_code == 0, result.output
    (row,) = csv.DictReader(io.StringIO(result.output, newline=""))
    assert row["comment"] == "'" + written
    assert row["replacement"] == "'" + written


def test_csv_leaves_ordinary_text_alone(site, post_suggestion, run_cli):
    body = suggestion_body(exact="eleven", replacement="twelve")
    assert post_suggestion(body).status_code == 201
    report = db.session.get(Suggestion, uuid.UUID(body["id"]))
    report.comment = "  Twelve, not eleven = a typo."
    db.session.commit()
    result = run_cli("export", site.public_key, "--format", "csv")
    (row,) = csv.DictReader(io.StringIO(result.output, newline=""))
    assert row["comment"] == "  Twelve, not eleven = a typo."
    assert row["replacement"] == "twelve"

"""PUT /api/v1/articles and what a new revision does to the open reports."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from feedback import revisions
from feedback.extensions import db
from feedback.models import ArticleRevision, RevisionSource, Suggestion, SuggestionStatus
from feedback.models.core import AnchorState
from tests.conftest import ARTICLE_TEXT, suggestion_body
from tests.revisions.conftest import ARTICLE_URL


def error_of(response) -> dict:
    payload = response.get_json()
    assert set(payload) == {"error"}
    assert set(payload["error"]) == {"code", "message", "fields", "field_codes"}
    return payload["error"]


def revision_count() -> int:
    return db.session.scalar(select(func.count()).select_from(ArticleRevision))


def report(post_suggestion, text=ARTICLE_TEXT, exact="then", **changes) -> Suggestion:
    body = suggestion_body(text, exact, **changes)
    response = post_suggestion(body)
    assert response.status_code == 201, response.get_json()
    return db.session.get(Suggestion, uuid.UUID(body["id"]))


def test_new_text_is_stored_as_a_revision(push_article):
    response = push_article(ARTICLE_TEXT)
    assert response.status_code == 201
    data = response.get_json()
    assert data["url"] == ARTICLE_URL
    assert data["title"] == "Harbour ferry returns"
    assert data["created"] is True
    assert data["revision"]["number"] == 1
    assert data["reanchoring"] == "not_needed"
    assert revision_count() == 1


def test_same_text_normalised_is_no_new_revision(push_article):
    assert push_article(ARTICLE_TEXT).status_code == 201
    spaced = "  " + ARTICLE_TEXT.replace(" ", "  ").replace("\n", "\r\n\r\n") + "\n"
    response = push_article(spaced, title="Harbour ferry back")
    assert response.status_code == 200
    assert response.get_json()["created"] is False
    assert response.get_json()["revision"]["number"] == 1
    assert response.get_json()["title"] == "Harbour ferry back"
    assert revision_count() == 1


def test_url_is_normalised_like_the_snippets(push_article, post_suggestion):
    stored = report(post_suggestion)
    response = push_article(ARTICLE_TEXT + " More.", url=ARTICLE_URL + "?utm_source=x#top")
    assert response.status_code == 201
    assert response.get_json()["revision"]["number"] == 2
    assert stored.article.url == response.get_json()["url"]


def test_missing_secret_is_401_with_challenge(client, site_secret):
    response = client.put("/api/v1/articles", json={"url": ARTICLE_URL, "text": "Text."})
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert revision_count() == 0


def test_wrong_secret_is_401(push_article):
    response = push_article(ARTICLE_TEXT, secret="fbs_not-the-secret")
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"
    assert revision_count() == 0


def test_public_site_key_is_not_a_secret(push_article, site):
    response = push_article(ARTICLE_TEXT, secret=site.public_key)
    assert response.status_code == 401


def test_invalid_fields_are_named(push_article):
    response = push_article("", url="not a url")
    assert response.status_code == 422
    fields = error_of(response)["fields"]
    assert set(fields) == {"url", "text"}


def test_blank_text_after_normalising_is_refused(push_article):
    response = push_article(" \n\t ")
    assert response.status_code == 422
    assert set(error_of(response)["fields"]) == {"text"}
    assert revision_count() == 0


def test_text_added_before_moves_the_report(push_article, post_suggestion):
    stored = report(post_suggestion)
    new_text = "Updated: the ferry is running again.\n" + ARTICLE_TEXT
    response = push_article(new_text)
    assert response.get_json()["reanchoring"] == "scheduled"

    db.session.refresh(stored)
    newest = revisions.current_verified_revision(stored.article_id)
    assert stored.anchor_revision_id == newest.id
    assert stored.anchor_state is AnchorState.ANCHORED
    assert new_text[stored.anchor_start : stored.anchor_end] == "then"
    assert stored.anchor_start == new_text.index("then")
    assert stored.text_changed is False
    assert stored.status is SuggestionStatus.NEW
    # The report's own selectors are what the reader saw, kept as they were.
    assert (stored.start, stored.revision.number) == (ARTICLE_TEXT.index("then"), 1)


def test_revision_with_the_fix_marks_the_report_fixed(
    push_article, post_suggestion, status_changes
):
    stored = report(post_suggestion)
    push_article(ARTICLE_TEXT.replace("faster then", "faster than"))

    db.session.refresh(stored)
    newest = revisions.current_verified_revision(stored.article_id)
    assert stored.status is SuggestionStatus.FIXED
    assert stored.fixed_revision_id == newest.id
    assert stored.fixed_at is not None
    assert revisions.current_wording(stored) == "than"
    assert status_changes == [
        (stored.id, SuggestionStatus.NEW, SuggestionStatus.FIXED, "fixed in revision 2")
    ]


def test_other_wording_flags_text_changed(push_article, post_suggestion, status_changes):
    stored = report(post_suggestion)
    push_article(ARTICLE_TEXT.replace("faster then", "faster compared to"))

    db.session.refresh(stored)
    assert stored.status is SuggestionStatus.NEW
    assert stored.text_changed is True
    assert stored.anchor_state is AnchorState.ANCHORED
    assert revisions.current_wording(stored) == "compared to"
    assert status_changes == []


def test_deleted_span_orphans_the_report_until_it_returns(push_article, post_suggestion):
    stored = report(post_suggestion)
    push_article(ARTICLE_TEXT.split("\n")[0])
    db.session.refresh(stored)
    assert stored.anchor_state is AnchorState.ORPHANED
    assert (stored.anchor_start, stored.anchor_end) == (None, None)
    assert revisions.current_wording(stored) is None
    assert stored.status is SuggestionStatus.NEW

    # The paragraph comes back (a CMS revert): the report finds its words again.
    push_article(ARTICLE_TEXT + "\nCorrection appended.")
    db.session.refresh(stored)
    assert stored.anchor_state is AnchorState.ANCHORED
    assert revisions.current_wording(stored) == "then"


def test_changed_then_fixed_in_a_later_revision(push_article, post_suggestion, status_changes):
    stored = report(post_suggestion)
    push_article(ARTICLE_TEXT.replace("faster then", "faster thne"))
    db.session.refresh(stored)
    assert stored.text_changed is True
    push_article(ARTICLE_TEXT.replace("faster then", "faster than"))
    db.session.refresh(stored)
    assert stored.status is SuggestionStatus.FIXED
    assert status_changes[-1][3] == "fixed in revision 3"


def test_closed_reports_are_left_alone(push_article, post_suggestion):
    stored = report(post_suggestion)
    stored.status = SuggestionStatus.REJECTED
    db.session.commit()
    push_article(ARTICLE_TEXT.replace("faster then", "faster than"))
    db.session.refresh(stored)
    assert stored.status is SuggestionStatus.REJECTED
    assert stored.anchor_revision_id is None


def test_a_readers_newer_text_moves_no_other_report(site, post_suggestion):
    # The rule changed (issue 13): a reader's text is a claim and anchors only its report.
    first = report(post_suggestion)
    new_text = ARTICLE_TEXT.replace("faster then", "faster than").replace("blue", "green")
    second = report(post_suggestion, text=new_text, exact="green", replacement="blue")

    db.session.refresh(first)
    assert first.status is SuggestionStatus.NEW
    assert first.anchor_revision_id is None
    assert (second.revision.source, second.anchor_revision_id) == (RevisionSource.READER, None)
    assert revisions.current_verified_revision(first.article_id) is None


def test_reanchoring_twice_changes_nothing(push_article, post_suggestion, status_changes):
    stored = report(post_suggestion)
    push_article("Breaking.\n" + ARTICLE_TEXT.replace("faster then", "faster than"))
    again = revisions.reanchor_article(stored.article_id)
    assert again.total == 0
    assert len(status_changes) == 1


def test_note_about_the_whole_article_is_not_reanchored(push_article, post_suggestion):
    body = suggestion_body(exact=None, replacement=None, comment="Photo caption is wrong.")
    assert post_suggestion(body).status_code == 201
    push_article(ARTICLE_TEXT + " More.")
    note = db.session.get(Suggestion, uuid.UUID(body["id"]))
    assert note.anchor_state is AnchorState.ANCHORED
    assert note.anchor_revision_id is None
    assert revisions.needs_reanchoring(note.article_id) is False


def test_many_reports_each_follow_their_span(push_article, post_suggestion):
    words = ["little", "ferry", "quay", "crossing", "island", "timetable"]
    stored = {word: report(post_suggestion, exact=word, replacement=word.upper()) for word in words}
    new_text = "Editor's note: updated.\n" + ARTICLE_TEXT.replace("quay", "QUAY").replace(
        "crossing", ""
    )
    summary_before = revisions.needs_reanchoring(stored["ferry"].article_id)
    assert summary_before is False
    push_article(new_text)
    for suggestion in stored.values():
        db.session.refresh(suggestion)
    assert stored["quay"].status is SuggestionStatus.FIXED
    assert stored["crossing"].anchor_state is AnchorState.ORPHANED
    for word in ("little", "ferry", "island", "timetable"):
        suggestion = stored[word]
        assert suggestion.status is SuggestionStatus.NEW
        assert new_text[suggestion.anchor_start : suggestion.anchor_end] == word


def test_openapi_documents_the_put(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    put = spec["paths"]["/api/v1/articles"]["put"]
    assert set(put["responses"]) == {"200", "201", "400", "401", "413", "422", "503"}
    assert put["security"] == [{"siteSecret": []}]
    scheme = spec["components"]["securitySchemes"]["siteSecret"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")


def test_a_cms_revert_to_a_known_text_makes_it_current_again(push_article, post_suggestion):
    stored = report(post_suggestion)
    assert (
        push_article(ARTICLE_TEXT.replace("faster then", "faster compared to")).status_code == 201
    )
    db.session.refresh(stored)
    assert stored.text_changed is True

    # The CMS puts back the first text: a known revision, current again.
    reverted = push_article(ARTICLE_TEXT)
    assert reverted.status_code == 200
    assert reverted.get_json()["revision"]["number"] == 1
    assert reverted.get_json()["reanchoring"] == "scheduled"
    db.session.refresh(stored)
    assert revisions.current_verified_revision(stored.article_id).number == 1
    assert stored.anchor_revision.number == 1
    assert stored.text_changed is False
    assert revisions.current_wording(stored) == "then"
    assert revision_count() == 2


def test_a_reader_with_a_stale_page_does_not_turn_the_article_back(push_article, post_suggestion):
    first = report(post_suggestion)
    push_article(ARTICLE_TEXT.replace("eleven minutes", "twelve minutes"))
    # A reader whose page still shows revision 1 reports on it.
    stale = report(post_suggestion, exact="ferry", replacement="boat")
    assert stale.revision.number == 1
    db.session.refresh(first)
    assert revisions.current_verified_revision(first.article_id).number == 2
    assert stale.anchor_revision.number == 2  # followed to the current text at once
    assert first.anchor_revision.number == 2

"""`feedback article push/text`: the CMS push from a shell, as the demo uses it."""

from __future__ import annotations

import uuid

from feedback.extensions import db
from feedback.models import Suggestion, SuggestionStatus
from tests.conftest import ARTICLE_TEXT, suggestion_body
from tests.revisions.conftest import ARTICLE_URL


def test_push_from_a_shell_fixes_the_report(run_cli, site, post_suggestion, status_changes):
    # The site's own text first: `article text` prints only what the site said.
    first = run_cli("article", "push", site.public_key, ARTICLE_URL, input=ARTICLE_TEXT)
    assert first.output.splitlines() == ["revision 1"]
    body = suggestion_body()
    assert post_suggestion(body).status_code == 201

    text = run_cli("article", "text", site.public_key, ARTICLE_URL + "#top")
    assert text.exit_code == 0
    assert text.output == ARTICLE_TEXT + "\n"

    fixed = text.output.replace("faster then", "faster than")
    pushed = run_cli("article", "push", site.public_key, ARTICLE_URL, input=fixed)
    assert pushed.exit_code == 0, pushed.output
    assert pushed.output.splitlines() == ["revision 2", "re-anchoring the open reports"]
    report = db.session.get(Suggestion, uuid.UUID(body["id"]))
    db.session.refresh(report)
    assert report.status is SuggestionStatus.FIXED
    assert status_changes[0][3] == "fixed in revision 2"

    again = run_cli("article", "push", site.public_key, ARTICLE_URL, input=fixed)
    assert again.output.splitlines() == ["revision 2 (text known already)"]


def test_push_refuses_bad_input(run_cli, site):
    assert run_cli("article", "push", "nope", ARTICLE_URL, input="Text.").exit_code == 2
    bad_url = run_cli("article", "push", site.public_key, "ftp://x", input="Text.")
    assert bad_url.exit_code == 1
    assert "http(s)" in bad_url.output
    blank = run_cli("article", "push", site.public_key, ARTICLE_URL, input="  \n")
    assert blank.exit_code == 1
    assert "blank" in blank.output
    missing = run_cli("article", "text", site.public_key, ARTICLE_URL + "/other")
    assert missing.exit_code == 1
    assert run_cli("article", "text", site.public_key, "not a url").exit_code == 2


def test_text_prints_no_readers_text(run_cli, site, post_suggestion):
    """Only the site says what its article reads: a reader's text is not printed as it."""
    assert post_suggestion(suggestion_body()).status_code == 201
    claimed = run_cli("article", "text", site.public_key, ARTICLE_URL)
    assert claimed.exit_code == 1
    assert "no verified text" in claimed.output
    assert ARTICLE_TEXT not in claimed.output
    assert run_cli("article", "text", site.public_key, "not a url").exit_code == 2

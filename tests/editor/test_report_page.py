"""One report's page and one article's page: context, diff, reporter, links, groups."""

from __future__ import annotations

from sqlalchemy import select

from feedback import revisions
from feedback.editor.context import SIDE_LIMIT, sentence_around
from feedback.extensions import db
from feedback.models import AuditEvent, SuggestionStatus, utcnow
from feedback.models.core import RevisionSource
from tests.conftest import ARTICLE_TEXT


def test_report_page_shows_the_span_in_its_article_and_the_diff(users, editor_client, report):
    made = report(comment="Comparative, so 'than'.")
    page = editor_client(users["viewer"]).get(f"/editor/suggestions/{made.id}").text
    assert "a minute faster <mark>then</mark> the timetable promises." in page
    assert '<span class="diff"><del>then</del><ins>than</ins></span>' in page
    assert "Comparative, so &#39;than&#39;." in page
    assert (
        'href="https://news.example.com/2026/ferry-returns'
        '#:~:text=a%20minute%20faster-,then,-the%20timetable%20promises."' in page
    )


def test_reporter_email_only_for_members_who_triage(users, editor_client, report):
    made = report(reporter={"name": "Ann Reader", "email": "ann@example.org", "notify": True})
    for role, shown in (("viewer", False), ("editor", True), ("owner", True)):
        page = editor_client(users[role]).get(f"/editor/suggestions/{made.id}").text
        assert "Ann Reader" in page
        assert ("ann@example.org" in page) is shown, role


def test_viewers_get_no_triage_forms(users, editor_client, report):
    made = report()
    viewer_page = editor_client(users["viewer"]).get(f"/editor/suggestions/{made.id}").text
    editor_page = editor_client(users["editor"]).get(f"/editor/suggestions/{made.id}").text
    for form in ("/status", "/assign", "/notes"):
        assert f'action="/editor/suggestions/{made.id}{form}"' not in viewer_page
        assert f'action="/editor/suggestions/{made.id}{form}"' in editor_page


def test_a_duplicate_shows_its_group_and_offers_split(users, editor_client, report):
    first = report(reporter={"name": "First Reader"})
    second = report(reporter={"name": "Second Reader"})
    page = editor_client(users["editor"]).get(f"/editor/suggestions/{second.id}").text
    assert "The same report from 2 readers" in page
    assert "First Reader" in page
    assert "Second Reader" in page
    assert f'href="/editor/suggestions/{first.id}">an earlier one</a>' in page
    assert f'action="/editor/suggestions/{second.id}/split"' in page
    first_page = editor_client(users["editor"]).get(f"/editor/suggestions/{first.id}").text
    assert f'action="/editor/suggestions/{first.id}/split"' not in first_page


def test_a_note_about_the_whole_article(users, editor_client, report):
    made = report(exact=None, replacement=None, comment="The photo caption is wrong.")
    page = editor_client(users["editor"]).get(f"/editor/suggestions/{made.id}").text
    assert "The report is about the whole article." in page
    assert "The photo caption is wrong." in page


def test_article_page_groups_reports_by_span_in_text_order(users, editor_client, report):
    late = report(exact="then")
    report(exact="then")  # a second reader, same span
    early = report(exact="little", replacement="small")
    fixed = report(exact="eleven", replacement="twelve")
    fixed.status = SuggestionStatus.FIXED
    fixed.fixed_at = utcnow()
    db.session.commit()
    page = editor_client(users["viewer"]).get(f"/editor/articles/{late.article_id}").text
    assert (
        page.index(f"/editor/suggestions/{early.id}")
        < page.index(f"/editor/suggestions/{fixed.id}")
        < page.index(f"/editor/suggestions/{late.id}")
    )
    assert f'href="/editor/suggestions/{late.id}">2 readers</a>' in page
    corrections = page[page.index("Corrections for this article") : page.index("Reports, in")]
    assert "<del>eleven</del><ins>twelve</ins>" in corrections
    assert "then" not in corrections


def test_report_page_says_whose_text_the_context_is(users, editor_client, report, site):
    """With no text from the site, the context is the reader's own copy; once the site's
    CMS pushes a text, the report stands in it and the page says so."""
    from feedback import revisions
    from feedback.models import RevisionSource
    from tests.conftest import ARTICLE_TEXT

    made = report()
    client = editor_client(users["viewer"])
    page = client.get(f"/editor/suggestions/{made.id}").text
    assert "As this reader saw it (revision 1)" in page
    assert "the reader's copy" in page

    pushed = revisions.record_verified_text(
        site, made.article.url, "Harbour ferry", "Update.\n" + ARTICLE_TEXT, RevisionSource.CMS
    )
    db.session.commit()
    revisions.reanchor_article(made.article_id)
    page = client.get(f"/editor/suggestions/{made.id}").text
    assert f"The site's current text (revision {pushed.revision.number}, from its CMS)" in page
    assert "a minute faster <mark>then</mark> the timetable promises." in page


def test_the_change_stands_in_its_sentence_not_the_headline(users, editor_client, report):
    text = "Ferry news\nBy A. Writer\n" + ARTICLE_TEXT
    made = report(text=text, exact="then")
    page = editor_client(users["editor"]).get(f"/editor/suggestions/{made.id}").text
    sentence = page[page.index('id="sentence"') : page.index("</p>", page.index('id="sentence"'))]
    assert sentence.startswith('id="sentence">About two hundred people lined the quay')
    assert '<span class="diff"><del>then</del><ins>than</ins></span>' in sentence
    assert sentence.endswith(" the timetable promises.")
    assert "By A. Writer" not in sentence


def test_a_long_sentence_is_cut_at_words():
    words = " ".join(f"word{number}" for number in range(200))
    text = f"{words} target {words}."
    start = text.index("target")
    shown = sentence_around(text, start, start + len("target"))
    assert shown.cut_before
    assert shown.cut_after
    assert shown.before.startswith("word")
    assert shown.after.endswith(tuple("0123456789"))
    assert len(shown.before) <= SIDE_LIMIT
    assert len(shown.after) <= SIDE_LIMIT


def test_open_in_the_article_goes_to_the_words(users, editor_client, report):
    made = report()
    response = editor_client(users["viewer"]).get(f"/editor/suggestions/{made.id}/article")
    assert response.status_code == 302
    assert response.headers["Location"] == (
        "https://news.example.com/2026/ferry-returns"
        "#:~:text=a%20minute%20faster-,then,-the%20timetable%20promises."
    )


def test_text_gone_and_text_changed_are_in_the_history_once(users, editor_client, report, site):
    made = report(exact="eleven", replacement="twelve")
    client = editor_client(users["editor"])
    changed = ARTICLE_TEXT.replace("eleven minutes", "ten minutes")
    for text in (changed, changed + " More.", ARTICLE_TEXT.replace("eleven minutes later", "")):
        revisions.record_verified_text(
            site, made.article.url, "Harbour ferry returns", text, RevisionSource.CMS
        )
        db.session.commit()
        revisions.reanchor_article(made.article_id)
        if text == changed:
            page = client.get(f"/editor/suggestions/{made.id}").text
            assert "The article now reads here" in page
            assert "reached the island <mark>ten</mark> minutes later" in page
    details = db.session.scalars(
        select(AuditEvent.detail).where(AuditEvent.suggestion_id == made.id)
    ).all()
    assert details == ["text changed in revision 2", "text gone in revision 4"]
    page = client.get(f"/editor/suggestions/{made.id}").text
    assert "The words are gone; there the article now reads" in page
    assert "text gone in revision 4" in page


def test_the_message_box_shows_only_where_a_reader_would_read_it(
    users, editor_client, report, site
):
    quiet = report(exact="little", replacement="small")
    listening = report(reporter={"email": "rita@example.net", "notify": True})
    client = editor_client(users["editor"])
    assert 'name="message"' not in client.get(f"/editor/suggestions/{quiet.id}").text
    page = client.get(f"/editor/suggestions/{listening.id}").text
    assert "(optional; sent with Mark fixed)" in page
    site.change_options(notify_readers_on_reject=True)
    db.session.commit()
    page = client.get(f"/editor/suggestions/{listening.id}").text
    assert "(optional; sent with Mark fixed or Reject)" in page

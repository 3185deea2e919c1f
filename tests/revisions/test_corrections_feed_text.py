"""Whatever text is stored (titles, quotes, fixes, comments), the corrections feed stays
XML a feed reader can parse, and the page shows no control characters."""

from __future__ import annotations

import secrets
import uuid
from xml.etree import ElementTree

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedback import anchoring, workflow
from feedback.extensions import db
from feedback.models import (
    Article,
    ArticleRevision,
    RevisionSource,
    Site,
    Suggestion,
    SuggestionKind,
    SuggestionStatus,
    User,
)
from feedback.text import xml_safe

ATOM = "{http://www.w3.org/2005/Atom}"
# What a database stores: everything but NUL and lone surrogates (feedback.text).
_STORABLE = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
# Characters XML 1.0 forbids, or that need escaping, drawn often on purpose.
_AWKWARD = st.sampled_from(
    ["\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\ufffe", "\uffff", "\x7f", "\x85",
     "\r", "\t", "\n", "&", "<", ">", '"', "'", "]", "\U0001f600", "\u2028"]
)  # fmt: skip
stored_text = st.text(st.one_of(_STORABLE, _AWKWARD), max_size=60)


def _fixed_report(editor: User, title: str, before: str, old: str, new: str, after: str,
                  comment: str, site_name: str) -> Site:  # fmt: skip
    """A new published site with one report an editor marked fixed, stored as given."""
    site = Site(
        name=site_name[:200] or "A site",
        public_key=secrets.token_urlsafe(12),
        allowed_origins=["https://news.example.com"],
        settings={"corrections_public": True},
    )
    site.rotate_secret()
    db.session.add(site)
    db.session.flush()
    # The site's own text and title (the public log names an article by its site's title).
    article = Article(
        site_id=site.id, url="https://news.example.com/a", title=title, current_revision_number=1
    )
    db.session.add(article)
    db.session.flush()
    text = before + old + after
    revision = ArticleRevision(
        article_id=article.id,
        number=1,
        text=text,
        sha256=anchoring.text_sha256(text),
        source=RevisionSource.CMS,
        title=title,
    )
    db.session.add(revision)
    db.session.flush()
    report = Suggestion(
        id=uuid.uuid4(),
        site_id=site.id,
        article_id=article.id,
        revision_id=revision.id,
        kind=SuggestionKind.TYPO,
        exact=old,
        prefix=before,
        suffix=after,
        start=len(before),
        end=len(before) + len(old),
        replacement=new,
        comment=comment,
        request_digest="0" * 64,
    )
    db.session.add(report)
    db.session.flush()
    workflow.move_status(report, SuggestionStatus.FIXED, editor)
    db.session.commit()
    return site


def _as_parsed(text: str) -> str:
    """What an XML parser gives back for ``text``: line ends become line feeds."""
    return xml_safe(text).replace("\r\n", "\n").replace("\r", "\n")


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    title=stored_text,
    before=stored_text,
    old=stored_text.filter(bool),
    new=stored_text,
    after=stored_text,
    comment=stored_text,
    site_name=stored_text,
)
def test_any_stored_text_gives_a_feed_that_parses(
    app, client, title, before, old, new, after, comment, site_name
):
    editor = db.session.query(User).filter_by(email="feed-editor@example.com").first()
    if editor is None:
        editor = User(email="feed-editor@example.com", name="Ed")
        editor.set_password("a long enough password")
        db.session.add(editor)
        db.session.commit()
    site = _fixed_report(editor, title, before, old, new, after, comment, site_name)

    response = client.get(f"/sites/{site.public_key}/corrections.atom")
    assert response.status_code == 200
    feed = ElementTree.fromstring(response.get_data())  # noqa: S314 - our own output
    (entry,) = feed.findall(f"{ATOM}entry")
    # Only the forbidden characters go; the rest of what was stored is all there.
    shown_title = title or "https://news.example.com/a"
    assert entry.find(f"{ATOM}title").text == _as_parsed(f"Correction: {shown_title}")
    content = entry.find(f"{ATOM}content").text or ""
    assert _as_parsed(f"“{old}”") in content
    assert _as_parsed(f"{new}{after[:40]}") in content
    assert (feed.find(f"{ATOM}author/{ATOM}name").text or "") == _as_parsed(site.name)

    page = client.get(f"/sites/{site.public_key}/corrections").get_data(as_text=True)
    assert page == xml_safe(page)


def test_a_control_character_in_a_title_no_longer_breaks_the_feed(app, client):
    editor = User(email="feed-editor@example.com", name="Ed")
    editor.set_password("a long enough password")
    db.session.add(editor)
    db.session.commit()
    site = _fixed_report(
        editor, "Ferry\x01 returns\uffff", "the ", "then", "than", " timetable", "", "News"
    )
    body = client.get(f"/sites/{site.public_key}/corrections.atom").get_data()
    feed = ElementTree.fromstring(body)  # noqa: S314 - our own output
    assert feed.find(f"{ATOM}entry/{ATOM}title").text == "Correction: Ferry returns"

"""The triage queue: one row per report group, filters in the URL, keyset pages."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from feedback.extensions import db
from feedback.models import Suggestion, SuggestionStatus, utcnow
from feedback.models.core import AnchorState

WORDS = ["little", "blue", "ferry", "links", "old", "town", "Gull", "service", "Monday"]
ROW_ID = re.compile(r'<tr data-id="([0-9a-f-]{36})"')


def row_ids(page: str) -> list[str]:
    return ROW_ID.findall(page)


def link(page: str, rel: str) -> str | None:
    found = re.search(rf'rel="{rel}" href="([^"]+)"', page)
    return html.unescape(found.group(1)) if found else None


@pytest.fixture
def editor(users, editor_client):
    return editor_client(users["editor"])


@pytest.fixture
def spread_reports(report):
    """One report per word, an hour apart, oldest first."""
    made = [report(exact=word, replacement=word.upper()) for word in WORDS]
    start = utcnow() - timedelta(days=1)
    for number, suggestion in enumerate(made):
        suggestion.created_at = start + timedelta(hours=number)
    db.session.commit()
    return made


def test_one_row_per_group_with_its_reader_count_and_diff(editor, report):
    first = report()
    report()  # the same report from another reader
    page = editor.get("/editor/").text
    assert row_ids(page) == [str(first.id)]
    row = page[page.index(f'data-id="{first.id}"') :]
    assert "<del>then</del><ins>than</ins>" in row
    assert '<td class="number">2</td>' in row
    assert "Harbour ferry returns" in row


def test_default_view_shows_open_reports_newest_first(editor, spread_reports):
    closed = spread_reports[0]
    closed.status = SuggestionStatus.REJECTED
    db.session.commit()
    expected = [str(s.id) for s in reversed(spread_reports[1:])]
    assert row_ids(editor.get("/editor/").text) == expected


@pytest.mark.parametrize("sort", ["newest", "oldest", "most"])
def test_pages_cover_every_row_once_in_order_both_ways(app, editor, spread_reports, sort):
    app.config["QUEUE_PAGE_SIZE"] = 4
    for count, suggestion in zip([3, 1, 5, 3, 3, 1, 2, 9, 1], spread_reports, strict=True):
        suggestion.report_count = count
    db.session.commit()
    rows = db.session.scalars(select(Suggestion)).all()
    if sort == "most":
        rows.sort(key=lambda s: (s.report_count, s.created_at, s.id.hex), reverse=True)
    else:
        rows.sort(key=lambda s: (s.created_at, s.id.hex), reverse=sort == "newest")
    expected = [str(s.id) for s in rows]

    pages, url = [], f"/editor/?sort={sort}"
    while url:
        page = editor.get(url).text
        pages.append(row_ids(page))
        url = link(page, "next")
        assert url is None or ("after=" in url and "offset" not in url)
    assert [len(p) for p in pages] == [4, 4, 1]
    assert [i for p in pages for i in p] == expected

    # And back again from the last page.
    back = []
    url = (
        f"/editor/?sort={sort}&after="
        + link(editor.get(f"/editor/?sort={sort}").text, "next").split("after=")[1]
    )
    page = editor.get(url).text
    back.append(row_ids(page))
    while (url := link(page, "prev")) is not None:
        assert "before=" in url
        page = editor.get(url).text
        back.insert(0, row_ids(page))
    assert back[0] == expected[:4]


def test_a_damaged_page_link_says_so_and_shows_the_first_page(editor, spread_reports):
    response = editor.get("/editor/?after=not-a-cursor")
    assert response.status_code == 400
    assert "This page link is damaged" in response.text
    assert len(row_ids(response.text)) == len(spread_reports)


def test_filters_live_in_the_url(editor, report, users):
    typo = report(exact="then")
    factual = report(exact="eleven", replacement="twelve", kind="factual")
    crowded = report(exact="quay", replacement="pier")
    for _ in range(2):
        report(exact="quay", replacement="pier")
    mine = report(exact="Monday", replacement="Tuesday", comment="Wrong weekday, see timetable")
    mine.assignee_id = users["editor"].id
    accepted = report(exact="blue", replacement="green")
    accepted.status = SuggestionStatus.ACCEPTED
    fixed = report(exact="old", replacement="new")
    fixed.status = SuggestionStatus.FIXED
    other_article = report(
        text="Gulls circle the harbour.",
        exact="Gulls",
        url="https://news.example.com/gulls",
        title="Gull watch",
    )
    db.session.commit()

    def ids(query: str) -> set[str]:
        response = editor.get("/editor/?" + query)
        assert response.status_code == 200, response.text
        return set(row_ids(response.text))

    def of(*items):
        return {str(item.id) for item in items}

    everything_open = of(typo, factual, crowded, mine, accepted, other_article)
    assert ids("") == everything_open
    assert ids("kind=factual") == of(factual)
    assert ids("status=fixed") == of(fixed)
    assert ids("status=accepted&status=fixed") == of(accepted, fixed)
    assert ids("status=all") == everything_open | of(fixed)
    assert ids(f"article={other_article.article_id}") == of(other_article)
    assert ids("assignee=me") == of(mine)
    assert ids(f"assignee={users['editor'].id}") == of(mine)
    assert ids("assignee=none") == everything_open - of(mine)
    assert ids("min_reports=3") == of(crowded)
    assert ids("q=weekday") == of(mine)  # the comment
    assert ids("q=TWELVE") == of(factual)  # the suggestion, any case
    assert ids("q=gull+watch") == of(other_article)  # the title
    assert ids("q=100%25") == set()  # "%" is a character, not a wildcard
    assert row_ids(editor.get("/editor/?sort=most").text)[0] == str(crowded.id)


def test_bad_filters_are_named_and_left_out(editor, report):
    made = report()
    response = editor.get("/editor/?kind=rumour&min_reports=-2&status=lost&sort=sideways")
    assert response.status_code == 400
    page = response.text
    assert "Unknown kind; choose from the list." in page
    assert "“Reported by at least” takes a whole number from 1." in page
    assert "Unknown status; choose from the list." in page
    assert "Unknown order." in page
    assert row_ids(page) == [str(made.id)]


def test_orphaned_reports_are_listed_apart(editor, report):
    kept = report(exact="then")
    lost = report(exact="ferry", replacement="boat")
    lost.anchor_state = AnchorState.ORPHANED
    db.session.commit()
    page = editor.get("/editor/").text
    assert row_ids(page) == [str(kept.id)]
    assert 'Text gone from the article <span class="count">1</span>' in page
    assert row_ids(editor.get("/editor/?anchor=orphaned").text) == [str(lost.id)]


def test_bulk_actions_move_only_what_the_rule_allows(editor, report):
    fresh = report(exact="then")
    other = report(exact="ferry", replacement="boat")
    spam = report(exact="quay", replacement="pier")
    spam.status = SuggestionStatus.SPAM
    db.session.commit()
    response = editor.post(
        "/editor/bulk",
        {
            "action": "reject",
            "ids": [str(fresh.id), str(other.id), str(spam.id)],
            "next": "/editor/?kind=typo",
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/editor/?kind=typo"
    message = editor.get(response.headers["Location"]).text
    assert "2 reports now rejected. 1 left as they were" in message
    db.session.expire_all()
    statuses = {s.id: s.status.value for s in db.session.scalars(select(Suggestion))}
    assert statuses == {fresh.id: "rejected", other.id: "rejected", spam.id: "spam"}


def test_bulk_refuses_reports_of_other_sites_without_changing_any(
    users, editor_client, report, other_site
):
    mine = report(exact="then")
    outsider = editor_client(users["outsider"])
    response = outsider.post("/editor/bulk", {"action": "spam", "ids": [str(mine.id)]})
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Suggestion, mine.id).status == SuggestionStatus.NEW


def test_bulk_assign(editor, report, users):
    reports = [report(exact=word, replacement=word.upper()) for word in WORDS[:3]]
    response = editor.post(
        "/editor/bulk",
        {
            "action": "assign",
            "assignee": str(users["owner"].id),
            "ids": [str(r.id) for r in reports],
        },
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert {db.session.get(Suggestion, r.id).assignee_id for r in reports} == {users["owner"].id}


def test_bulk_with_nothing_selected_says_so(editor):
    response = editor.post_json("/editor/bulk", {"action": "reject"})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"ids": ["Select at least one report."]}

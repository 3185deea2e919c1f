"""The triage queue: one row per report group, filters in the URL, keyset pages."""

# ruff: noqa: RUF001 - Cyrillic, Greek and typographic dashes are the point of some tests

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from feedback.editor import queue
from feedback.editor.queue import QueueFilters, filtered
from feedback.extensions import db
from feedback.models import Suggestion, SuggestionStatus, utcnow
from feedback.models.core import AnchorState
from tests.databases import POSTGRES_URL

WORDS = ["little", "blue", "ferry", "links", "old", "town", "Gull", "service", "Monday"]
ROW_ID = re.compile(r'<tr data-id="([0-9a-f-]{36})"')
TAB_COUNT = re.compile(r'data-tab="(\w+)"[^>]*>[^<]*<span class="count">([^<]+)</span>')


def row_ids(page: str) -> list[str]:
    return ROW_ID.findall(page)


def tab_counts(page: str) -> dict[str, str]:
    return dict(TAB_COUNT.findall(page))


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
    assert '<td class="number readers">2</td>' in row
    assert "Harbour ferry returns" in row


def test_the_new_tab_comes_first_newest_first(editor, spread_reports):
    closed = spread_reports[0]
    closed.status = SuggestionStatus.REJECTED
    accepted = spread_reports[1]
    accepted.status = SuggestionStatus.ACCEPTED
    db.session.commit()
    expected = [str(s.id) for s in reversed(spread_reports[2:])]
    assert row_ids(editor.get("/editor/").text) == expected
    assert row_ids(editor.get("/editor/?tab=accepted").text) == [str(accepted.id)]
    assert row_ids(editor.get("/editor/?tab=done").text) == [str(closed.id)]


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

    new = of(typo, factual, crowded, mine, other_article)
    assert ids("") == new
    assert ids("kind=factual") == of(factual)
    assert ids("tab=done") == of(fixed)
    assert ids("tab=accepted") == of(accepted)
    assert ids(f"article={other_article.article_id}") == of(other_article)
    assert ids("assignee=me") == of(mine)
    assert ids(f"assignee={users['editor'].id}") == of(mine)
    assert ids("assignee=none") == new - of(mine)
    assert ids("min_reports=3") == of(crowded)
    assert ids("q=weekday") == of(mine)  # the comment
    assert ids("q=TWELVE") == of(factual)  # the suggestion, any case
    assert ids("q=gull+watch") == of(other_article)  # the title
    assert ids("q=100%25") == set()  # "%" is a character, not a wildcard
    assert ids("q=_") == set()  # and "_" too
    assert row_ids(editor.get("/editor/?sort=most").text)[0] == str(crowded.id)


def test_bad_filters_are_named_and_left_out(editor, report):
    made = report()
    response = editor.get("/editor/?kind=rumour&min_reports=-2&tab=lost&sort=sideways")
    assert response.status_code == 400
    page = response.text
    assert "Unknown kind; choose from the list." in page
    assert "“Reported by at least” takes a whole number from 1." in page
    assert "Unknown tab; choose one of the tabs." in page
    assert "Unknown order." in page
    assert row_ids(page) == [str(made.id)]


def test_orphaned_reports_are_listed_apart(editor, report):
    kept = report(exact="then")
    lost = report(exact="ferry", replacement="boat")
    lost.anchor_state = AnchorState.ORPHANED
    db.session.commit()
    page = editor.get("/editor/").text
    assert row_ids(page) == [str(kept.id)]
    assert tab_counts(page) == {"new": "1", "accepted": "0", "done": "0", "gone": "1"}
    assert row_ids(editor.get("/editor/?tab=gone").text) == [str(lost.id)]
    # Links from before the tabs still find them.
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


CYRILLIC_TEXT = "Расположеный у моря город принимает гостей круглый год."


@pytest.mark.parametrize(
    "search",
    ["Расположеный", "расположеный", "РАСПОЛОЖЕНЫЙ", "положен", "Нина", "НИНА ПЕТРОВА", "морЯ"],
)
def test_search_ignores_case_in_any_script(editor, report, search):
    """On SQLite too, whose own LIKE folds ASCII letters only."""
    found = report(
        text=CYRILLIC_TEXT,
        exact="Расположеный",
        replacement="Расположенный",
        comment="Двойная «н» в причастии.",
        reporter={"name": "Нина Петрова"},
        url="https://news.example.com/gorod",
        title="Город у моря",
    )
    report(exact="then")  # a report that must not match
    assert row_ids(editor.get("/editor/", query_string={"q": search}).text) == [str(found.id)]


def test_search_folds_more_than_case(editor, report):
    street = report(
        text="Die Hauptstrasse bleibt gesperrt.", exact="Hauptstrasse", replacement="Hauptstraße"
    )
    assert row_ids(editor.get("/editor/", query_string={"q": "STRASSE"}).text) == [str(street.id)]


def test_search_finds_a_group_by_any_of_its_readers(editor, report):
    head = report(reporter={"name": "Ada Lovelace"})
    report(reporter={"name": "Grace Hopper"}, comment="Same here")  # joins the group
    assert head.report_count == 2
    for search in ("ada", "hopper", "same HERE"):
        page = editor.get("/editor/", query_string={"q": search}).text
        assert row_ids(page) == [str(head.id)], search


def test_search_columns_follow_changes(editor, report):
    made = report(comment="Old words")
    made.comment = "Ёлка в сквере"
    made.article.title = "ЗИМНИЙ ГОРОД"
    db.session.commit()
    assert made.search_text.endswith("ёлка в сквере")
    assert made.article.search_title == "зимний город"
    assert row_ids(editor.get("/editor/?q=ЁЛКА").text) == [str(made.id)]
    assert row_ids(editor.get("/editor/?q=зимний").text) == [str(made.id)]
    assert row_ids(editor.get("/editor/?q=old+words").text) == []


def test_tabs_count_their_groups_under_the_other_filters(editor, report):
    new_typo = report(exact="then")
    report(exact="then")  # same group: one row, one count
    new_factual = report(exact="eleven", replacement="twelve", kind="factual")
    accepted = report(exact="quay", replacement="pier")
    accepted.status = SuggestionStatus.ACCEPTED
    for word, status in (("old", "fixed"), ("blue", "rejected"), ("Gull", "spam")):
        done = report(exact=word, replacement=word.upper())
        done.status = SuggestionStatus(status)
    gone = report(exact="Monday", replacement="Tuesday", kind="factual")
    gone.anchor_state = AnchorState.ORPHANED
    db.session.commit()

    page = editor.get("/editor/").text
    assert tab_counts(page) == {"new": "2", "accepted": "1", "done": "3", "gone": "1"}
    assert set(row_ids(page)) == {str(new_typo.id), str(new_factual.id)}
    factual = editor.get("/editor/?kind=factual&tab=done").text
    assert tab_counts(factual) == {"new": "1", "accepted": "0", "done": "0", "gone": "1"}
    assert 'data-tab="done" aria-current="page"' in factual
    # A tab's link keeps the other filters.
    assert 'href="/editor/?tab=gone&amp;kind=factual"' in factual


def test_tab_counts_stop_at_the_cap(editor, report, monkeypatch):
    from feedback.editor import queue

    monkeypatch.setattr(queue, "COUNT_CAP", 2)
    for word in WORDS[:4]:
        report(exact=word, replacement=word.upper())
    assert tab_counts(editor.get("/editor/").text)["new"] == "2+"
    monkeypatch.setattr(queue, "COUNT_CAP", 1000)
    assert queue.shown_count(1001) == "1,000+"
    assert queue.shown_count(1000) == "1,000"


def test_each_active_filter_is_a_chip_that_removes_only_itself(editor, report, users):
    made = report(exact="then", kind="factual")
    made.assignee_id = users["editor"].id
    db.session.commit()
    page = editor.get(
        f"/editor/?tab=accepted&q=than&kind=factual&assignee=me&article={made.article_id}"
    ).text
    remover = r'<a href="([^"]+)" class="remove" aria-label="Remove the filter ([^"]+)"'
    removers = re.findall(remover, page)
    chips = {html.unescape(label): html.unescape(href) for href, label in removers}
    article = f"article={made.article_id}"
    assert chips == {
        "Search: “than”": f"/editor/?tab=accepted&kind=factual&{article}&assignee=me",
        "Kind: factual": f"/editor/?tab=accepted&{article}&assignee=me&q=than",
        "Assigned to me": f"/editor/?tab=accepted&kind=factual&{article}&q=than",
        "Article: Harbour ferry returns": "/editor/?tab=accepted&kind=factual&assignee=me&q=than",
    }
    assert "Clear all" in page
    assert 'class="chips"' not in editor.get("/editor/?tab=accepted").text


def test_bulk_mark_fixed_and_assign_to_me(editor, report, users):
    first = report(exact="then")
    second = report(exact="ferry", replacement="boat")
    ids = [str(first.id), str(second.id)]
    response = editor.post("/editor/bulk", {"action": "assign_me", "ids": ids})
    assert response.status_code == 303
    response = editor.post("/editor/bulk", {"action": "fix", "ids": ids})
    assert response.status_code == 303
    assert "2 reports now fixed." in editor.get(response.headers["Location"]).text
    db.session.expire_all()
    for report_id in (first.id, second.id):
        stored = db.session.get(Suggestion, report_id)
        assert (stored.status, stored.assignee_id) == (SuggestionStatus.FIXED, users["editor"].id)


def test_titles_are_listed_without_the_site_suffix(editor, report, site):
    site.name = "The Demo Gazette"
    site.change_options(title_suffix="· Harbour news")
    db.session.commit()
    report(title="Ferry returns — The Demo Gazette")
    report(exact="ferry", url="https://news.example.com/b", title="Quay rebuilt · Harbour news")
    page = editor.get("/editor/").text
    assert ">Ferry returns</a>" in page
    assert 'title="Ferry returns — The Demo Gazette"' in page  # the whole title on hover
    assert ">Quay rebuilt</a>" in page


@pytest.mark.parametrize("few_matches", [0, 5000])
def test_search_finds_the_same_for_rare_and_common_words(editor, report, monkeypatch, few_matches):
    """PostgreSQL reads a rare word from its trigram indexes and checks a common one
    group by group: both ways find the same groups (SQLite always checks)."""
    monkeypatch.setattr(queue, "FEW_MATCHES", few_matches)
    head = report(reporter={"name": "Ada Lovelace"})
    report(reporter={"name": "Grace Hopper"}, comment="Same here")  # joins the group
    titled = report(
        text="The quay was busy.",
        exact="quay",
        replacement="pier",
        url="https://news.example.com/harbour",
        title="Quayside Almanac",
    )
    for search, found in (("HOPPER", [head]), ("side ALMANAC", [titled]), ("nowhere", [])):
        page = editor.get("/editor/", query_string={"q": search}).text
        assert row_ids(page) == [str(row.id) for row in found], search
        assert tab_counts(page)["new"] == str(len(found)), search


@pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL's trigram indexes; SQLite scans")
@pytest.mark.parametrize("search", ["Ferr", "нина", "a_b%"])
def test_search_reads_the_trigram_indexes_on_postgresql(app, search):
    """A search of 3+ characters starts from the pg_trgm indexes: the words are looked
    up in them, never checked row by row against every group of the tab. The tables here
    hold no rows, so sequential scans and nested loops are priced out, as a million
    reports would (bench/queue.py shows the plans at that size)."""
    query = filtered(QueueFilters(q=search), site_ids=[1], user_id=1)
    compiled = query.compile(dialect=db.engine.dialect)
    with db.engine.connect() as connection:
        connection.exec_driver_sql("SET enable_seqscan = off")
        connection.exec_driver_sql("SET enable_nestloop = off")
        # Nor a walk of a whole index with the words as a filter: on a few rows that is as
        # cheap as the trigram index, and which one wins depends on the statistics.
        connection.exec_driver_sql("SET enable_indexscan = off")
        plan = connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params).scalars()
        plan = "\n".join(plan)
    assert "Bitmap Index Scan on ix_suggestion_search_text_trgm" in plan, plan
    assert "Bitmap Index Scan on ix_article_search_title_trgm" in plan, plan
    assert "Seq Scan" not in plan, plan
    likes = [line.strip() for line in plan.splitlines() if "~~" in line]
    assert all(line.startswith(("Index Cond:", "Recheck Cond:")) for line in likes), plan

"""A site's stats: the numbers (on reports with set times) and the page."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text as sql

from feedback.editor import stats
from feedback.extensions import db
from feedback.models import Suggestion, SuggestionKind, SuggestionStatus
from tests.conftest import suggestion_body

START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 3, 8, tzinfo=UTC)  # seven days: 1 to 7 March


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, second, tzinfo=UTC)


def article_body(slug: str, title: str, host: str = "news.example.com") -> dict:
    text = f"{title}. The ferry went back into service then on Monday, said the {slug} desk."
    return {
        "url": f"https://{host}/2026/{slug}",
        "title": title,
        "text": text,
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
    }


@pytest.fixture
def make(report):
    """``make(article, created_at, kind=…, status=…, first_action_at=…, of=head, count=n)``:
    a report whose times, group and outcome are exactly as given."""
    # The API counts a report that repeats an open one on that one's report_count: the
    # counts given here are put back after each report.
    counts: dict[uuid.UUID, int] = {}

    def build(
        article: dict,
        created_at: datetime,
        kind: SuggestionKind = SuggestionKind.TYPO,
        status: SuggestionStatus = SuggestionStatus.NEW,
        first_action_at: datetime | None = None,
        of: Suggestion | None = None,
        count: int = 1,
        **changes,
    ) -> Suggestion:
        row = report(article=article, text=article["text"], kind=kind.value, **changes)
        row.created_at = created_at
        row.first_action_at = first_action_at
        row.status = status
        row.duplicate_of_id = of.id if of else None
        counts[row.id] = count
        for key, value in counts.items():
            db.session.get(Suggestion, key).report_count = value
        db.session.commit()
        return row

    return build


@pytest.fixture
def reports(site, make):
    ferry = article_body("ferry", "Harbour ferry returns")
    budget = article_body("budget", "Council budget passes")
    storm = article_body("storm", "Storm closes the quay")
    h1 = make(ferry, at(1, 10), status=SuggestionStatus.FIXED, first_action_at=at(1, 11), count=3)
    make(ferry, at(1, 12), of=h1)
    make(ferry, at(3, 9), of=h1)
    h2 = make(
        ferry,
        at(3, 23, 59, 59),
        kind=SuggestionKind.FACTUAL,
        status=SuggestionStatus.REJECTED,
        first_action_at=at(3, 23, 59, 59) + timedelta(hours=3, minutes=20),
    )
    h3 = make(budget, at(5), count=3)
    make(budget, at(5, 8), of=h3)
    make(budget, at(5, 9), of=h3)
    h4 = make(
        storm,
        at(7, 23),
        kind=SuggestionKind.UNCLEAR,
        status=SuggestionStatus.SPAM,
        first_action_at=at(7, 23) + timedelta(days=2),
    )
    # Outside the period, either side: counted nowhere.
    make(budget, START - timedelta(seconds=1), count=5, first_action_at=START)
    make(storm, END, count=4)
    return {"h1": h1, "h2": h2, "h3": h3, "h4": h4}


@pytest.fixture
def other_site_report(other_site, post_suggestion):
    """A report on another site, inside the period."""
    article = article_body("ferry", "Harbour ferry returns", host="other.example.net")
    body = suggestion_body(site="other-key", article=article, text=article["text"])
    response = post_suggestion(body, origin="https://other.example.net")
    assert response.status_code in (200, 201), response.get_json()
    row = db.session.get(Suggestion, uuid.UUID(body["id"]))
    row.created_at = at(2, 12)
    row.report_count = 9
    db.session.commit()
    return row


def local_time_zone_far_from_utc() -> None:
    """On PostgreSQL, a session zone far from UTC: days must still be UTC days."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sql("SET LOCAL TIME ZONE 'Pacific/Auckland'"))


def test_reports_per_day_count_every_report_by_utc_day(site, reports, other_site_report):
    local_time_zone_far_from_utc()
    per_day = stats.reports_per_day(site.id, START, END)
    assert [(d.day, d.count) for d in per_day] == [
        (date(2026, 3, 1), 2),
        (date(2026, 3, 2), 0),
        (date(2026, 3, 3), 2),
        (date(2026, 3, 4), 0),
        (date(2026, 3, 5), 3),
        (date(2026, 3, 6), 0),
        (date(2026, 3, 7), 1),
    ]


def test_shares_count_groups_by_kind_and_outcome(site, reports, other_site_report):
    by_kind = {s.key: (s.count, s.percent) for s in stats.shares_by_kind(site.id, START, END)}
    assert by_kind == {
        "typo": (2, 50.0),
        "factual": (1, 25.0),
        "unclear": (1, 25.0),
        "other": (0, 0.0),
    }
    by_status = {s.key: (s.count, s.percent) for s in stats.shares_by_status(site.id, START, END)}
    assert by_status == {
        "new": (1, 25.0),
        "accepted": (0, 0.0),
        "fixed": (1, 25.0),
        "rejected": (1, 25.0),
        "spam": (1, 25.0),
    }


def test_median_time_to_first_action(site, reports):
    response = stats.response_time(site.id, START, END)
    # 1 h, 3 h 20 min and 2 d: the median is the middle one; the budget group is untouched.
    assert response.median == timedelta(hours=3, minutes=20)
    assert response.measured == 3
    assert response.untouched == 1
    assert stats.human_duration(response.median) == "3 h 20 min"


def test_median_of_an_even_count_is_the_mean_of_the_middle_two(site, make):
    ferry = article_body("ferry", "Harbour ferry returns")
    for minutes in (10, 30, 50, 600):
        make(ferry, at(2), first_action_at=at(2) + timedelta(minutes=minutes))
    assert stats.response_time(site.id, START, END).median == timedelta(minutes=40)


def test_no_action_yet(site):
    response = stats.response_time(site.id, START, END)
    assert (response.median, response.measured, response.untouched) == (None, 0, 0)


def test_top_articles_by_readers(site, reports, other_site_report):
    top = stats.top_articles(site.id, START, END)
    assert [(a.title, a.reports) for a in top] == [
        ("Harbour ferry returns", 4),
        ("Council budget passes", 3),
        ("Storm closes the quay", 1),
    ]
    assert top[0].article_id == reports["h1"].article_id


def test_top_articles_stop_at_ten(site, make):
    for number in range(12):
        make(article_body(f"story-{number}", f"Story {number}"), at(2), count=number + 1)
    top = stats.top_articles(site.id, START, END)
    assert [a.title for a in top] == [f"Story {number}" for number in range(11, 1, -1)]


def test_site_stats_totals(site, reports):
    numbers = stats.site_stats(site.id, START, END)
    assert numbers.total_reports == 8
    assert numbers.groups == 4
    assert len(numbers.per_day) == 7


@pytest.mark.parametrize(
    ("raw", "days"),
    [(None, 30), ("7", 7), ("30", 30), ("90", 90), ("14", 30), ("abc", 30), ("-7", 30), ("", 30)],
)
def test_parse_days(raw, days):
    assert stats.parse_days(raw) == days


def test_period_is_whole_utc_days_ending_today():
    start, end = stats.period(7, datetime(2026, 3, 7, 15, 30, tzinfo=UTC))
    assert (start, end) == (START, END)


def test_chart_bars_scale_to_the_busiest_day():
    per_day = [stats.DayCount(date(2026, 3, day), count) for day, count in ((1, 2), (2, 0), (3, 4))]
    bars = stats.chart_bars(per_day, width=300, height=100)
    assert [(b.x, b.y, b.height) for b in bars] == [(0, 50, 50), (100, 100, 0), (200, 0, 100)]
    assert all(b.width == 99 for b in bars)


@pytest.mark.parametrize(
    ("span", "shown"),
    [
        (timedelta(seconds=30), "under a minute"),
        (timedelta(minutes=42), "42 min"),
        (timedelta(hours=3), "3 h"),
        (timedelta(hours=3, minutes=20, seconds=59), "3 h 20 min"),
        (timedelta(days=2, hours=4, minutes=5), "2 d 4 h"),
        (timedelta(days=2, minutes=5), "2 d"),
        (None, "none yet"),
    ],
)
def test_human_duration(span, shown):
    assert stats.human_duration(span) == shown


# --- the page -------------------------------------------------------------------------


def page_url(site, query: str = "") -> str:
    return f"/editor/sites/{site.id}/stats{query}"


def bars_in(page: str) -> list[str]:
    return re.findall(r'<rect class="bar" [^>]*>', page)


def test_viewer_sees_the_page(editor_client, site, users, report):
    first = report()
    report(kind="factual", exact=None)
    viewer = editor_client(users["viewer"])
    response = viewer.get(page_url(site))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert len(bars_in(page)) == 30
    today = datetime.now(UTC).date().isoformat()
    assert f"<title>{today}: 2 reports</title>" in page
    assert page.count("<title>") == 31  # the page's own, and one a day
    assert f'href="/editor/articles/{first.article_id}"' in page
    assert "Harbour ferry returns" in page
    assert 'class="untouched">2<' in page
    # Nothing inline: the page's CSP allows no style attribute and no inline script.
    assert "style=" not in page
    assert "<script>" not in page


@pytest.mark.parametrize(("query", "days"), [("?days=7", 7), ("?days=90", 90), ("?days=12", 30)])
def test_period_choice(editor_client, site, users, query, days):
    response = editor_client(users["viewer"]).get(page_url(site, query))
    assert response.status_code == 200
    assert len(bars_in(response.get_data(as_text=True))) == days


def test_outsider_gets_404(editor_client, site, users):
    assert editor_client(users["outsider"]).get(page_url(site)).status_code == 404


def test_anonymous_is_sent_to_sign_in(editor_client, site, users):
    response = editor_client(None).get(page_url(site))
    assert response.status_code == 302
    assert "/editor/sign-in" in response.headers["Location"]


def test_previous_period_is_as_long_and_ends_where_the_period_starts():
    assert stats.previous_period(START, END) == (START - timedelta(days=7), START)


@pytest.mark.parametrize(
    ("now", "before", "shown"),
    [
        (5, 5, "no change"),
        (0, 0, "no change"),
        (8, 5, "+3 (+60 %)"),
        (2, 4, "\N{MINUS SIGN}2 (\N{MINUS SIGN}50 %)"),
        (4, 0, "+4"),
        (0, 3, "\N{MINUS SIGN}3 (\N{MINUS SIGN}100 %)"),
    ],
)
def test_change_against_the_previous_period(now, before, shown):
    assert stats.change(now, before) == shown


def test_page_compares_with_the_previous_period_and_draws_shares_as_bars(
    editor_client, site, users, make
):
    ferry = article_body("ferry", "Harbour ferry returns")
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    # This week: three typos and a factual report; the week before: one typo.
    for hours in (1, 2, 3):
        make(ferry, today + timedelta(minutes=hours))
    make(ferry, today + timedelta(minutes=4), kind=SuggestionKind.FACTUAL)
    make(ferry, today - timedelta(days=8), first_action_at=today - timedelta(days=8, hours=-2))
    page = editor_client(users["viewer"]).get(page_url(site, "?days=7")).get_data(as_text=True)
    compare = re.search(r'<p class="period-compare">(.*?)</p>', page, re.S).group(1)
    assert "<strong>1</strong> report\n" in compare
    assert "+3 (+300 %)" in compare
    kinds = page[page.index("Groups by kind") : page.index("Groups by outcome")]
    # One bar pair a row: this period's share on top, the previous period's below.
    typo = kinds[kinds.index('<th scope="row">typo</th>') :]
    assert re.search(r'<rect class="now" [^>]*width="75.00"', typo[: typo.index("</tr>")])
    assert re.search(r'<rect class="before" [^>]*width="100.00"', typo[: typo.index("</tr>")])
    assert re.search(
        r'<td class="num before">1</td>\s*<td class="num before share-before">100 %</td>\s*'
        r'<td class="num change">\+2 \(\+200 %\)</td>',
        typo,
    )
    factual = kinds[kinds.index('<th scope="row">factual</th>') :]
    assert re.search(
        r'<td class="num before share-before">0 %</td>\s*<td class="num change">\+1</td>',
        factual,
    )
    assert '<span class="median-before">2 h</span>' in page

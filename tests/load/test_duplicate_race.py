"""Two readers report the same mistake at the same moment (PostgreSQL): the reports
must form one group, not two."""

from __future__ import annotations

import re
import threading
import time

import pytest
import sqlalchemy as sa
from sqlalchemy import event, select

from feedback.extensions import db
from feedback.models import Suggestion
from tests.conftest import suggestion_body
from tests.databases import POSTGRES_URL
from tests.load.conftest import ApiClient, needs_postgres
from tests.servers import serve_in_thread

pytestmark = needs_postgres


@pytest.fixture
def app_config(named_engine_options) -> dict:
    return {"SQLALCHEMY_ENGINE_OPTIONS": named_engine_options}


# The candidates come a page at a time: LIMIT and OFFSET follow the order.
CANDIDATE_ORDER = re.compile(
    r"ORDER BY suggestion.created_at, suggestion.id( LIMIT \S+ OFFSET \S+)?$"
)


def is_duplicate_lookup(statement: str) -> bool:
    """The query of feedback.grouping.find_group: the article's open reports a new
    report may repeat."""
    flat = " ".join(statement.split())
    return (
        flat.startswith("SELECT suggestion.id")
        and "FROM suggestion" in flat
        and "suggestion.exact IS NOT NULL" in flat
        and "coalesce" not in flat.lower()
        and CANDIDATE_ORDER.search(flat) is not None
    )


@pytest.mark.parametrize(
    ("second_exact", "second_fix"),
    [("ferry", "boat"), ("blue ferry", "blue boat")],
    ids=["same-words", "overlapping-words-same-text"],
)
def test_same_mistake_reported_at_once_forms_one_group(
    app, site, application_name, post_suggestion, second_exact, second_fix
):
    # The article and its text are stored already (as for any article read a while):
    # else the second request waits on the first one's uncommitted article row.
    assert post_suggestion(suggestion_body(exact="quay", replacement="pier")).status_code == 201
    first_body = suggestion_body(exact="ferry", replacement="boat")
    second_body = suggestion_body(exact=second_exact, replacement=second_fix)
    db.session.remove()

    paused, resume = threading.Event(), threading.Event()
    state = {"armed": True}

    def hold_first_lookup(_connection, _cursor, statement, *_args) -> None:
        # The first request stops right after looking for a head, before it inserts.
        if state["armed"] and is_duplicate_lookup(statement):
            state["armed"] = False
            paused.set()
            resume.wait(timeout=60)

    watcher = sa.create_engine(POSTGRES_URL, poolclass=sa.NullPool)
    event.listen(db.engine, "after_cursor_execute", hold_first_lookup)
    answers: dict[str, int] = {}

    def send(url: str, name: str, body: dict) -> None:
        api = ApiClient(url)
        try:
            answers[name] = api.post(body)[0]
        finally:
            api.close()

    try:
        with serve_in_thread(app) as url:
            first = threading.Thread(target=send, args=(url, "first", first_body), daemon=True)
            first.start()
            assert paused.wait(timeout=30)
            second = threading.Thread(target=send, args=(url, "second", second_body), daemon=True)
            second.start()
            # Let the second report finish, or see it wait for a lock the first holds
            # (which is how a fix would serialise them); bounded either way.
            deadline = time.monotonic() + 30
            while second.is_alive() and time.monotonic() < deadline:
                with watcher.connect() as connection:
                    waiting = connection.execute(
                        sa.text(
                            "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                            ":name AND wait_event_type = 'Lock'"
                        ),
                        {"name": application_name},
                    ).scalar_one()
                if waiting:
                    break
                second.join(timeout=0.05)
            resume.set()
            first.join(timeout=60)
            second.join(timeout=60)
            assert not first.is_alive()
            assert not second.is_alive()
    finally:
        resume.set()
        event.remove(db.engine, "after_cursor_execute", hold_first_lookup)
        watcher.dispose()

    assert answers == {"first": 201, "second": 201}
    db.session.remove()
    rows = db.session.execute(
        select(Suggestion.id, Suggestion.duplicate_of_id, Suggestion.report_count).where(
            Suggestion.exact.in_(["ferry", second_exact])
        )
    ).all()
    heads = [row for row in rows if row.duplicate_of_id is None]
    assert len(rows) == 2
    assert len(heads) == 1, rows  # one group of two readers
    assert heads[0].report_count == 2

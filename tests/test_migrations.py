"""Migrations build the models' schema from empty, on SQLite and PostgreSQL."""

# ruff: noqa: RUF001 - Cyrillic, Greek and typographic dashes are the point of some tests

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select

from feedback import MIGRATIONS_DIR
from feedback.extensions import db
from feedback.models.types import include_on
from tests.conftest import make_test_app


@pytest.fixture
def empty_database_app(databases, tmp_path, monkeypatch):
    monkeypatch.setenv("FEEDBACK_INSTANCE_PATH", str(tmp_path))
    app = make_test_app(databases.make("migrations"), tmp_path)
    with app.app_context():
        yield app
        db.session.remove()
        downgrade(directory=str(MIGRATIONS_DIR), revision="base")
        db.engine.dispose()


def schema_differences() -> list:
    with db.engine.connect() as connection:
        options = {"compare_type": True, "include_object": include_on(connection.dialect.name)}
        context = MigrationContext.configure(connection, opts=options)
        return compare_metadata(context, db.metadata)


def test_upgrade_from_empty_matches_models(empty_database_app):
    assert inspect(db.engine).get_table_names() == []
    upgrade(directory=str(MIGRATIONS_DIR))
    assert set(db.metadata.tables) <= set(inspect(db.engine).get_table_names())
    assert schema_differences() == []


def test_downgrade_and_upgrade_again(empty_database_app):
    upgrade(directory=str(MIGRATIONS_DIR))
    downgrade(directory=str(MIGRATIONS_DIR), revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade(directory=str(MIGRATIONS_DIR))
    assert schema_differences() == []


_OLD_REPORT = (
    "INSERT INTO suggestion (id, site_id, article_id, revision_id, kind, status,"
    " reporter_notify, honeypot, request_digest, anchor_state, text_changed, report_count,"
    ' created_at, updated_at, exact, prefix, suffix, start, "end", replacement,'
    " anchor_revision_id, anchor_start, anchor_end, fixed_revision_id, fixed_at)"
    " VALUES (:id, 1, :article, :revision, 'typo', :status, false, false, :digest,"
    " :anchor_state, :text_changed, 1, :now, :now, :exact, '', '', :start, :end, :fix,"
    " :anchor_revision, :anchor_start, :anchor_end, :fixed_revision, :fixed_at)"
)


def insert_old_rows(articles: list[tuple], revisions: list[tuple], reports: list[dict]) -> None:
    """Rows as an older schema stored them, written with plain SQL (the models are newer):
    ``articles`` (id, url, current number), ``revisions`` (id, article, number, text)."""
    from sqlalchemy import Uuid, bindparam, text

    from feedback.models import UTCDateTime

    now = datetime.now(UTC)
    stamped = bindparam("now", type_=UTCDateTime())
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO site (id, name, public_key, allowed_origins, secret_hash,"
                " settings, created_at) VALUES (1, 'Old', 'old-key',"
                " '[\"https://news.example.com\"]', :hash, :settings, :now)"
            ).bindparams(stamped),
            {"hash": "0" * 64, "settings": '{"corrections_public": true}', "now": now},
        )
        for article_id, url, current in articles:
            connection.execute(
                text(
                    "INSERT INTO article (id, site_id, url, title, current_revision_number,"
                    " created_at, updated_at) VALUES (:id, 1, :url, 'Old', :current, :now, :now)"
                ).bindparams(stamped),
                {"id": article_id, "url": url, "current": current, "now": now},
            )
        for revision_id, article_id, number, body in revisions:
            connection.execute(
                text(
                    "INSERT INTO article_revision (id, article_id, number, text, sha256,"
                    " created_at) VALUES (:id, :article, :number, :text, :hash, :now)"
                ).bindparams(stamped),
                {
                    "id": revision_id,
                    "article": article_id,
                    "number": number,
                    "text": body,
                    "hash": f"{revision_id:064x}",
                    "now": now,
                },
            )
        defaults = {
            "status": "new", "digest": "d" * 64, "anchor_state": "anchored",
            "text_changed": False, "exact": None, "start": None, "end": None, "fix": None,
            "anchor_revision": None, "anchor_start": None, "anchor_end": None,
            "fixed_revision": None, "fixed_at": None, "now": now,
        }  # fmt: skip
        statement = text(_OLD_REPORT).bindparams(
            bindparam("id", type_=Uuid()),
            stamped,
            bindparam("fixed_at", type_=UTCDateTime()),
        )
        for report in reports:
            connection.execute(statement, {**defaults, **report})


def test_reports_stored_before_the_intake_get_their_receipt(empty_database_app):
    """After the upgrade, a late retry of an old report is a replay, not a new report."""
    from feedback.models import IncomingReport

    upgrade(directory=str(MIGRATIONS_DIR), revision="0001")
    report_id = uuid.uuid4()
    insert_old_rows(
        [(1, "https://news.example.com/old", 1)],
        [(1, 1, 1, "Old text.")],
        [{"id": report_id, "article": 1, "revision": 1}],
    )

    upgrade(directory=str(MIGRATIONS_DIR))
    receipt = db.session.get(IncomingReport, report_id)
    assert (receipt.request_digest, receipt.body) == ("d" * 64, None)
    assert receipt.filed_at is not None


def test_revisions_stored_before_sources_are_claims_and_fixes_stay_fixed(empty_database_app):
    """Stored texts cannot be told apart, so each becomes "unknown" (a claim): no article
    has a verified text, open reports stand in their readers' texts again, fixed reports
    stay fixed with their history, and nothing is deleted."""
    from feedback.models import (
        Article,
        ArticleFetch,
        ArticleRevision,
        RevisionSource,
        Suggestion,
        SuggestionStatus,
    )
    from feedback.models.core import AnchorState
    from feedback.public.corrections import published_corrections

    upgrade(directory=str(MIGRATIONS_DIR), revision="0004")
    opened, fixed, by_hand = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    fixed_at = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    insert_old_rows(
        [(1, "https://news.example.com/a", 2)],
        [(1, 1, 1, "It was faster then ever."), (2, 1, 2, "A rewritten text.")],
        [
            # Orphaned by a text a reader may have made up.
            {"id": opened, "article": 1, "revision": 1, "exact": "then", "start": 12,
             "end": 16, "fix": "than", "anchor_revision": 2, "anchor_state": "orphaned",
             "text_changed": True},
            {"id": fixed, "article": 1, "revision": 1, "status": "fixed", "exact": "It",
             "start": 0, "end": 2, "fix": "A", "anchor_revision": 2, "anchor_start": 0,
             "anchor_end": 1, "fixed_revision": 2, "fixed_at": fixed_at},
            {"id": by_hand, "article": 1, "revision": 1, "status": "fixed", "exact": "ever",
             "start": 19, "end": 23, "fix": "before", "fixed_at": fixed_at},
        ],
    )  # fmt: skip

    upgrade(directory=str(MIGRATIONS_DIR))
    revisions = db.session.scalars(select(ArticleRevision).order_by(ArticleRevision.id)).all()
    assert [(r.number, r.source, r.text) for r in revisions] == [
        (1, RevisionSource.UNKNOWN, "It was faster then ever."),
        (2, RevisionSource.UNKNOWN, "A rewritten text."),
    ]
    assert db.session.get(Article, 1).current_revision_number is None
    # Its page is due to be read, for a verified text.
    schedule = db.session.get(ArticleFetch, 1)
    assert (schedule.step, schedule.due_at <= datetime.now(UTC)) == (0, True)

    still_open = db.session.get(Suggestion, opened)
    assert still_open.status == SuggestionStatus.NEW
    assert (still_open.anchor_revision_id, still_open.anchor_state) == (None, AnchorState.ANCHORED)
    assert not still_open.text_changed
    assert (still_open.revision_id, still_open.start, still_open.end) == (1, 12, 16)

    kept = db.session.get(Suggestion, fixed)
    assert kept.status == SuggestionStatus.FIXED
    assert (kept.fixed_revision_id, kept.anchor_revision_id, kept.fixed_at) == (2, 2, fixed_at)

    # Published: the editor's fix; kept but not published: the one a claimed text made.
    site = db.session.get(Article, 1).site
    assert [(c.old, c.new) for c in published_corrections(site, 10)] == [("ever", "before")]


def test_articles_with_open_reports_are_due_for_a_fetch_after_the_upgrade(empty_database_app):
    """Open reports stored before fetching existed get their page read on the schedule."""
    from sqlalchemy import Uuid, bindparam, text

    from feedback.models import ArticleFetch, UTCDateTime

    upgrade(directory=str(MIGRATIONS_DIR), revision="0002")
    statements = [
        "INSERT INTO site (id, name, public_key, allowed_origins, secret_hash, settings,"
        " created_at) VALUES (1, 'Old', 'old-key', '[]', :hash, '{}', :now)",
        "INSERT INTO article (id, site_id, url, title, current_revision_number, created_at,"
        " updated_at) VALUES (1, 1, 'https://news.example.com/open', 'Open', 1, :now, :now),"
        " (2, 1, 'https://news.example.com/closed', 'Closed', 1, :now, :now)",
        "INSERT INTO article_revision (id, article_id, number, text, sha256, created_at)"
        " VALUES (1, 1, 1, 'Old text.', :hash, :now), (2, 2, 1, 'Old text.', :hash, :now)",
    ]
    report = text(
        "INSERT INTO suggestion (id, site_id, article_id, revision_id, kind, status,"
        " reporter_notify, honeypot, request_digest, anchor_state, text_changed,"
        " report_count, created_at, updated_at) VALUES (:id, 1, :article, :article, 'typo',"
        " :status, false, false, :hash, 'anchored', false, 1, :now, :now)"
    ).bindparams(bindparam("id", type_=Uuid()), bindparam("now", type_=UTCDateTime()))
    now = datetime.now(UTC)
    with db.engine.begin() as connection:
        for statement in statements:
            connection.execute(
                text(statement).bindparams(bindparam("now", type_=UTCDateTime())),
                {"hash": "0" * 64, "now": now},
            )
        for article, status in [(1, "accepted"), (2, "fixed"), (2, "spam")]:
            connection.execute(
                report,
                {
                    "id": uuid.uuid4(),
                    "article": article,
                    "status": status,
                    "hash": "0" * 64,
                    "now": now,
                },
            )

    upgrade(directory=str(MIGRATIONS_DIR))
    rows = db.session.scalars(select(ArticleFetch)).all()
    assert [(row.article_id, row.step) for row in rows] == [(1, 0)]
    assert rows[0].due_at <= datetime.now(UTC)


def test_reports_and_titles_stored_before_the_search_columns_are_folded(empty_database_app):
    """The upgrade fills the case-folded search text of what is already stored, so the
    queue's search finds old reports as it finds new ones."""
    from sqlalchemy import Uuid, bindparam, text

    from feedback.models import Article, Suggestion, UTCDateTime

    upgrade(directory=str(MIGRATIONS_DIR), revision="0005")
    now = datetime.now(UTC)
    stamped = bindparam("now", type_=UTCDateTime())
    with db.engine.begin() as connection:
        for statement in (
            "INSERT INTO site (id, name, public_key, allowed_origins, secret_hash, settings,"
            " created_at) VALUES (1, 'Old', 'old-key', '[]', :hash, '{}', :now)",
            "INSERT INTO article (id, site_id, url, title, current_revision_number,"
            " created_at, updated_at) VALUES (1, 1, 'https://news.example.com/gorod',"
            " 'Город У Моря', 1, :now, :now)",
            "INSERT INTO article_revision (id, article_id, number, text, sha256, created_at)"
            " VALUES (1, 1, 1, 'Расположеный у моря.', :hash, :now)",
        ):
            connection.execute(text(statement).bindparams(stamped), {"hash": "0" * 64, "now": now})
        report = text(
            "INSERT INTO suggestion (id, site_id, article_id, revision_id, kind, status,"
            " exact, replacement, comment, reporter_name, reporter_notify, honeypot,"
            " request_digest, anchor_state, text_changed, report_count, created_at,"
            " updated_at) VALUES (:id, 1, 1, 1, 'typo', 'new', :exact, :replacement,"
            " :comment, :name, false, false, :hash, 'anchored', false, 1, :now, :now)"
        ).bindparams(bindparam("id", type_=Uuid()), stamped)
        ids = [uuid.uuid4() for _ in range(3)]
        for key, comment in zip(ids, ["Двойная «Н»", None, "STRAẞE"], strict=True):
            connection.execute(
                report,
                {
                    "id": key,
                    "exact": "Расположеный",
                    "replacement": "Расположенный",
                    "comment": comment,
                    "name": "Нина" if comment else None,
                    "hash": "0" * 64,
                    "now": now,
                },
            )

    upgrade(directory=str(MIGRATIONS_DIR))
    folded = {row.id: row.search_text for row in db.session.scalars(select(Suggestion))}
    assert folded == {
        ids[0]: "расположеный\nрасположенный\nдвойная «н»\nнина",
        ids[1]: "расположеный\nрасположенный",
        ids[2]: "расположеный\nрасположенный\nstrasse\nнина",
    }
    assert db.session.scalar(select(Article.search_title)) == "город у моря"

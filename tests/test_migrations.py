"""Migrations build the models' schema from empty, on SQLite and PostgreSQL."""

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
        context = MigrationContext.configure(connection, opts={"compare_type": True})
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


def test_reports_stored_before_the_intake_get_their_receipt(empty_database_app):
    """After the upgrade, a late retry of an old report is a replay, not a new report."""
    import uuid

    from feedback.models import Article, ArticleRevision, IncomingReport, Site, Suggestion

    upgrade(directory=str(MIGRATIONS_DIR), revision="0001")
    site = Site(name="Old", public_key="old-key", allowed_origins=[], settings={})
    site.rotate_secret()
    article = Article(site=site, url="https://news.example.com/old", title="Old")
    revision = ArticleRevision(article=article, number=1, text="Old text.", sha256="0" * 64)
    report = Suggestion(
        id=uuid.uuid4(), site=site, article=article, revision=revision, kind="typo",
        request_digest="d" * 64,
    )  # fmt: skip
    db.session.add(report)
    db.session.commit()
    report_id = report.id
    db.session.remove()

    upgrade(directory=str(MIGRATIONS_DIR))
    receipt = db.session.get(IncomingReport, report_id)
    assert (receipt.request_digest, receipt.body) == ("d" * 64, None)
    assert receipt.filed_at is not None


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

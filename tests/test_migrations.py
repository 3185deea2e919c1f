"""Migrations build the models' schema from empty, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

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

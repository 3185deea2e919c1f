"""Throwaway databases for a test run: a SQLite file, or a PostgreSQL schema.

Set FEEDBACK_TEST_DATABASE_URL (postgresql+psycopg://…) to run on PostgreSQL;
every schema made here is dropped when the run ends.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

POSTGRES_URL = os.environ.get("FEEDBACK_TEST_DATABASE_URL", "")


@dataclass
class TestDatabase:
    url: str
    engine_options: dict = field(default_factory=dict)

    def app_config(self) -> dict:
        return {
            "DATABASE_URL": self.url,
            "SQLALCHEMY_ENGINE_OPTIONS": dict(self.engine_options),
        }


def _add_trigram_extension(engine) -> None:
    """pg_trgm, once per database, in "public": the app adds it to whichever schema is
    first in the search path, and a test's schema (dropped at the end of its run) would
    take it away from every other run sharing the database."""
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
    except sa.exc.IntegrityError:
        pass  # another run added it at the same moment


class DatabaseFactory:
    """Makes one database per call and removes them all in ``cleanup``."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.schemas: list[str] = []

    def make(self, label: str) -> TestDatabase:
        if not POSTGRES_URL:
            return TestDatabase(url=f"sqlite:///{self.directory / label}.sqlite3")
        schema = f"fbtest_{label}_{secrets.token_hex(4)}"
        engine = sa.create_engine(POSTGRES_URL)
        with engine.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        _add_trigram_extension(engine)
        engine.dispose()
        self.schemas.append(schema)
        # "public" after the test's own schema: it holds pg_trgm (its operator classes are
        # found through the search path), and no table.
        return TestDatabase(
            url=POSTGRES_URL,
            engine_options={"connect_args": {"options": f"-csearch_path={schema},public"}},
        )

    def cleanup(self) -> None:
        if not self.schemas:
            return
        engine = sa.create_engine(POSTGRES_URL)
        with engine.begin() as connection:
            for schema in self.schemas:
                connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()

"""Fixtures: an app on a real database, emptied after each test, and request builders."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

import pytest
from flask.cli import ScriptInfo

from feedback import create_app
from feedback.extensions import db
from feedback.models import Site
from tests.databases import DatabaseFactory, TestDatabase

ARTICLE_TEXT = (
    "The little blue ferry that links the old town with Gull Island went back into service "
    "on Monday.\nAbout two hundred people lined the quay to watch the first crossing, which "
    "reached the island eleven minutes later, a minute faster then the timetable promises."
)
SITE_ORIGIN = "https://news.example.com"


def run_queued_tasks(huey) -> list[str]:
    """What a worker does with a real (not immediate) queue: run every queued task, and
    those they queue in turn, a bounded number; returns their names in order."""
    names = []
    for _ in range(20):
        db.session.remove()  # let go of SQLite's lock, as a separate worker would find it
        task = huey.dequeue()
        if task is None:
            return names
        names.append(task.name)
        huey.execute(task)
    raise AssertionError(f"the queue does not empty: {names}")


def run_periodic_task(huey, name: str):
    """Run the periodic task ``name`` once, as the consumer's clock would; its result."""
    db.session.remove()
    (task,) = [task for task in huey.read_periodic(datetime(2026, 1, 1, 0, 0)) if task.name == name]
    return huey.execute(task)


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    factory = DatabaseFactory(tmp_path_factory.mktemp("databases"))
    yield factory
    factory.cleanup()


@pytest.fixture(scope="session")
def test_database(databases) -> TestDatabase:
    return databases.make("main")


# Every app made for a test, so their connection pools can be closed at the end of the run.
_made_apps: list = []


@pytest.fixture(scope="session", autouse=True)
def _close_connection_pools():
    yield
    for made in _made_apps:
        with made.app_context():
            db.engine.dispose()
    _made_apps.clear()


def make_test_app(database: TestDatabase, instance_path, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "RATELIMIT_STORAGE_URL": "memory://",
        "RATELIMIT_PER_CLIENT": "1000/minute",
        "RATELIMIT_PER_SITE": "1000/minute",
        "MAIL_SUPPRESS_SEND": False,
        # Test sites live on hosts that do not exist; tests of fetching turn it on.
        "FETCH_PAGES": False,
        **database.app_config(),
        **overrides,
    }
    application = create_app(config)
    _made_apps.append(application)
    return application


def empty_all_tables() -> None:
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def app_config() -> dict:
    """Override in a test module (or parametrize) to change the app's settings."""
    return {}


@pytest.fixture
def app(test_database, tmp_path, monkeypatch, app_config):
    monkeypatch.setenv("FEEDBACK_INSTANCE_PATH", str(tmp_path / "instance"))
    application = make_test_app(test_database, tmp_path, **app_config)
    with application.app_context():
        db.create_all()
        yield application
        db.session.remove()
        empty_all_tables()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def run_cli(app):
    """Run a `feedback …` command against the test app; returns click's Result."""
    from click.testing import CliRunner

    from feedback.cli import cli

    def invoke(*args: str, input: str | None = None):
        return CliRunner().invoke(
            cli, list(args), input=input, obj=ScriptInfo(create_app=lambda: app)
        )

    return invoke


@pytest.fixture
def site(app) -> Site:
    new_site = Site(
        name="The Example News",
        public_key="example-key",
        allowed_origins=[SITE_ORIGIN, "https://*.example.org"],
        settings={},
    )
    new_site.rotate_secret()
    db.session.add(new_site)
    db.session.commit()
    return new_site


@pytest.fixture
def other_site(app) -> Site:
    """A second site, with members and reports of its own in the tests that need one."""
    second = Site(
        name="The Other Paper",
        public_key="other-key",
        allowed_origins=["https://other.example.net"],
        settings={},
    )
    second.rotate_secret()
    db.session.add(second)
    db.session.commit()
    return second


def suggestion_body(text: str = ARTICLE_TEXT, exact: str | None = "then", **changes) -> dict:
    """A valid POST body quoting the first ``exact`` in ``text``; ``changes`` override keys."""
    body: dict = {
        "id": str(uuid.uuid4()),
        "site": "example-key",
        "kind": "typo",
        "article": {
            "url": "https://news.example.com/2026/ferry-returns?utm_source=mail#top",
            "title": "Harbour ferry returns",
            "text": text,
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
        },
        "replacement": "than",
        "comment": "Should be 'than'.",
        "website": "",
    }
    if exact is not None:
        start = text.index(exact)
        end = start + len(exact)
        body["quote"] = {
            "exact": exact,
            "prefix": text[max(0, start - 32) : start],
            "suffix": text[end : end + 32],
            "start": start,
            "end": end,
        }
    body.update(changes)
    return body


@pytest.fixture
def post_suggestion(client):
    def post(body: dict, origin: str | None = SITE_ORIGIN, **kwargs):
        headers = {"Origin": origin} if origin else {}
        headers.update(kwargs.pop("headers", {}))
        return client.post("/api/v1/suggestions", json=body, headers=headers, **kwargs)

    return post

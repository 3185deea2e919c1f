"""Grouping fixtures: a real SMTP server, the site's CMS, editors, and reports on an
article with mistakes close together."""

from __future__ import annotations

import uuid

import pytest

from feedback.extensions import db
from feedback.models import Role, Suggestion
from tests.conftest import suggestion_body
from tests.editor.conftest import _quick_password_hashing, editor_client  # noqa: F401
from tests.editor.conftest import add_member as add_editor
from tests.mail.conftest import BASE_URL, inbox, smtp  # noqa: F401
from tests.revisions.conftest import push_article, site_secret  # noqa: F401

ARTICLE_URL = "https://news.example.com/2026/ferry-returns"
TEXT = (
    "The harbour office said the old pier was built in 1968 and rebuilt twice since.\n"
    "The little blue ferry reached the island eleven minutes later, a minute faster then "
    "the timetable promises, and the crew said the route would encompase every island stop."
)


@pytest.fixture
def app_config(smtp) -> dict:  # noqa: F811
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp.port,
        "MAIL_DEFAULT_SENDER": "Corrections desk <corrections@example.com>",
        "BASE_URL": BASE_URL,
        "INSTANT_THROTTLE_MINUTES": 5,
        # Queued work (filing, re-anchoring, sending) runs at once, in-process.
        "HUEY_IMMEDIATE": True,
    }


@pytest.fixture
def report(post_suggestion):
    """``report(exact, fix, text=TEXT, **changes)``: a reader's report, as filed."""

    def post(exact: str, fix: str | None, text: str = TEXT, **changes) -> Suggestion:
        body = suggestion_body(text, exact, replacement=fix, **changes)
        answer = post_suggestion(body)
        assert answer.status_code == 201, answer.get_json()
        return db.session.get(Suggestion, uuid.UUID(body["id"]))

    return post


@pytest.fixture
def editor(site):
    return add_editor(site, Role.EDITOR, "editor@example.com", "Eddie Editor")

"""Grouping fixtures: the mail tests' real SMTP server and set-up (queued work runs at once,
in-process), the site's CMS, editors, and reports on an article with mistakes close
together."""

from __future__ import annotations

import uuid

import pytest

from feedback.extensions import db
from feedback.models import Role, Suggestion
from tests.conftest import suggestion_body
from tests.editor.conftest import _quick_password_hashing, editor_client  # noqa: F401
from tests.editor.conftest import add_member as add_editor
from tests.mail.conftest import BASE_URL, app_config, inbox, smtp  # noqa: F401
from tests.revisions.conftest import push_article, site_secret  # noqa: F401

ARTICLE_URL = "https://news.example.com/2026/ferry-returns"
TEXT = (
    "The harbour office said the old pier was built in 1968 and rebuilt twice since.\n"
    "The little blue ferry reached the island eleven minutes later, a minute faster then "
    "the timetable promises, and the crew said the route would encompase every island stop."
)


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

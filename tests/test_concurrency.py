"""Retries racing each other over real HTTP: each report is stored exactly once."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from feedback.extensions import db
from feedback.models import Article, ArticleRevision, Suggestion
from tests.conftest import SITE_ORIGIN, suggestion_body
from tests.servers import serve_in_thread


def post(url: str, body: dict) -> int:
    request = urllib.request.Request(
        url + "/api/v1/suggestions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Origin": SITE_ORIGIN},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_same_report_sent_at_once_is_stored_once(app, site):
    bodies = [
        suggestion_body(exact=word, replacement=word.upper())
        for word in ("ferry", "quay", "island", "crossing")
    ]
    attempts = [body for body in bodies for _ in range(4)]  # each sent four times at once
    with serve_in_thread(app) as url, ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda body: post(url, body), attempts))
    assert set(statuses) <= {200, 201}, statuses
    assert statuses.count(201) == len(bodies)
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(Suggestion)) == len(bodies)
    assert db.session.scalar(select(func.count()).select_from(Article)) == 1
    assert db.session.scalar(select(func.count()).select_from(ArticleRevision)) == 1

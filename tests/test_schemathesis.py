"""Schemathesis against the published OpenAPI document: whatever it sends, the API
never answers 500 and every answer matches what the document promises."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from feedback.extensions import db

ORIGIN = {"Origin": "https://news.example.com"}
# Some rules join fields and cannot be said in OpenAPI (the quote must be in the text, the
# hash must match it, a reader who asks to hear back must give an address): a request can
# be schema-valid and still rightly answer 422, so "valid data is accepted" is left out.
# Every other check stays: no 5xx, documented status codes, headers, content types and
# bodies, and schema-violating data refused.
EXCLUDED = [schemathesis.checks.positive_data_acceptance]


def test_the_api_keeps_its_documented_promises(app, site):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {(op.method.upper(), op.path) for op in operations} >= {
        ("POST", "/api/v1/suggestions"),
        ("PUT", "/api/v1/articles"),
    }
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=150,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def check(case):
            case.call_and_validate(headers=ORIGIN, excluded_checks=EXCLUDED)
            db.session.remove()

        check()

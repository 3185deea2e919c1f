"""Rate limits kept in Redis hold across separate app instances (processes behind a balancer)."""

from __future__ import annotations

import secrets

import pytest
import redis

from feedback.extensions import db
from tests.conftest import SITE_ORIGIN, make_test_app, suggestion_body

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_prefix():
    try:
        connection = redis.Redis.from_url(REDIS_URL)
        connection.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    prefix = f"fbtest-{secrets.token_hex(4)}"
    yield connection, prefix
    for key in connection.scan_iter(f"*{prefix}*"):
        connection.delete(key)
    connection.close()


def test_limit_is_shared_between_two_instances(site, test_database, tmp_path, redis_prefix):
    connection, prefix = redis_prefix
    shared = {
        "RATELIMIT_STORAGE_URL": REDIS_URL,
        "RATELIMIT_KEY_PREFIX": prefix,
        "RATELIMIT_PER_CLIENT": "4/minute",
    }
    instances = [make_test_app(test_database, tmp_path, **shared) for _ in range(2)]
    statuses = []
    for number in range(6):
        instance = instances[number % 2]
        with instance.app_context():
            response = instance.test_client().post(
                "/api/v1/suggestions", json=suggestion_body(), headers={"Origin": SITE_ORIGIN}
            )
            statuses.append(response.status_code)
            db.session.remove()
    assert statuses == [201, 201, 201, 201, 429, 429]
    # The counts live in Redis, where every process behind a load balancer sees them.
    assert list(connection.scan_iter(f"*{prefix}*"))

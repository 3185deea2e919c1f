"""Two app instances (two processes) and two workers on one PostgreSQL schema and one
Redis: the per-client limit holds across instances, and every notice is mailed once."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from sqlalchemy import select

from feedback.extensions import db
from feedback.models import OutboxMessage, OutboxStatus
from feedback.tasks import tasks
from tests.conftest import suggestion_body
from tests.load.conftest import (
    REDIS_URL,
    ApiClient,
    needs_postgres,
    start_instance,
    start_worker,
    stop_worker,
    worker_environment,
)
from tests.mail.conftest import BASE_URL, add_member

pytestmark = needs_postgres

PER_CLIENT = 10
MEMBERS = ("desk@example.com", "night@example.com", "chief@example.com")
TEXT = "Fire crews were called to the harbour warehouse at dawn; nobody was hurt, police said."
WORDS = ("Fire", "crews", "called", "harbour", "warehouse", "dawn", "nobody", "hurt", "police")


@pytest.fixture
def app_config(smtp, redis_keys) -> dict:
    _connection, prefix = redis_keys
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp.port,
        "MAIL_DEFAULT_SENDER": "Corrections desk <corrections@example.com>",
        "BASE_URL": BASE_URL,
        # A notice for every report: no member is held back by the instant throttle.
        "INSTANT_THROTTLE_MINUTES": 0,
        # One queue in Redis for both instances and both workers (Huey keeps only
        # [A-Za-z0-9_] of the name, so the key prefix, which the clean-up looks for, is so).
        "REDIS_URL": REDIS_URL,
        "HUEY_NAME": prefix,
        "HUEY_IMMEDIATE": False,
    }


def instance_environment(app, tmp_path, name: str, prefix: str) -> dict[str, str]:
    # Each instance is its own process, as behind a load balancer: within one process the
    # module-level Flask-Limiter object would be shared by both apps (the storage of the
    # last app made, the key prefix of the first that set one), proving nothing about
    # Redis. For the same reason the rate-limit settings are given to the instances only,
    # never to this process's app: its prefix would stick to every app made after it.
    return worker_environment(
        app,
        tmp_path,
        FEEDBACK_INSTANCE_PATH=str(tmp_path / name),
        FEEDBACK_RATELIMIT_STORAGE_URL=REDIS_URL,
        FEEDBACK_RATELIMIT_KEY_PREFIX=prefix,
        FEEDBACK_RATELIMIT_PER_CLIENT=f"{PER_CLIENT}/minute",
        FEEDBACK_RATELIMIT_PER_SITE="1000/minute",
    )


def report(number: int) -> dict:
    # A different quote or fix each time: no report is a duplicate, each one notifies.
    word = WORDS[number % len(WORDS)]
    return suggestion_body(text=TEXT, exact=word, replacement=f"{word.lower()}-{number}")


def outbox_statuses() -> Counter:
    found = Counter(db.session.scalars(select(OutboxMessage.status)))
    db.session.remove()
    return found


def test_two_instances_share_the_limit_and_mail_once(app, site, smtp, redis_keys, tmp_path):
    connection, prefix = redis_keys
    for address in MEMBERS:
        add_member(site, address)
    db.session.remove()

    processes = []
    try:
        instances = []
        for name in ("a", "b"):
            process, url = start_instance(
                instance_environment(app, tmp_path, name, prefix),
                tmp_path / f"instance-{name}.log",
            )
            processes.append(process)
            instances.append(url)
        workers = [
            start_worker(worker_environment(app, tmp_path), tmp_path / f"worker-{n}.log", 2)
            for n in range(2)
        ]
        processes.extend(workers)

        clients = [ApiClient(url) for url in instances]
        answers = []
        for number in range(PER_CLIENT + 2):  # alternately to each instance
            status, headers, body = clients[number % 2].post(report(number))
            answers.append((number % 2, status, headers.get("Retry-After")))
            if status == 429:
                assert body["error"]["code"] == "rate_limited"
            # Sweeps racing the instances' own send tasks, on the shared queue.
            tasks().sweep_outbox()
        for client in clients:
            client.close()

        # (a) The limit counts every request wherever it lands: the 11th gets 429.
        assert [status for _, status, _ in answers] == [201] * PER_CLIENT + [429, 429]
        assert {instance for instance, status, _ in answers if status == 429} == {0, 1}
        assert all(int(wait) >= 1 for _, status, wait in answers if status == 429)
        # The counts live in Redis, where every instance sees them.
        assert [key for key in connection.scan_iter(f"*{prefix}*") if b"LIMIT" in key]

        # (b) Each notice mailed once: wait (bounded) until every row is sent.
        expected = PER_CLIENT * len(MEMBERS)
        deadline = time.monotonic() + 90
        while outbox_statuses() != Counter({OutboxStatus.SENT: expected}):
            dead = [p.args for p in processes if p.poll() is not None]
            assert not dead, dead
            assert time.monotonic() < deadline, outbox_statuses()
            tasks().sweep_outbox()
            time.sleep(0.5)
    finally:
        for process in reversed(processes):
            stop_worker(process)
    for number in range(2):
        log = (tmp_path / f"worker-{number}.log").read_text()
        assert "feedback worker: 2 thread(s) on RedisStorage" in log, log

    rows = db.session.execute(select(OutboxMessage.message_id, OutboxMessage.to_address)).all()
    db.session.remove()
    assert len(rows) == expected
    received = Counter(message["Message-ID"] for message in smtp.inbox.messages)
    assert set(received) == {row.message_id for row in rows}
    assert received.most_common(1)[0][1] == 1, received.most_common(3)
    assert len(smtp.inbox.messages) == expected
    assert Counter(m["X-Envelope-To"] for m in smtp.inbox.messages) == Counter(
        {address: PER_CLIENT for address in MEMBERS}
    )

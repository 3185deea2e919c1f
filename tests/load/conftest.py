"""Helpers for the load and failure tests: keep-alive HTTP clients, `feedback worker`
subprocesses, Redis clean-up."""

from __future__ import annotations

import http.client
import json
import os
import secrets
import selectors
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SITE_ORIGIN
from tests.databases import POSTGRES_URL
from tests.mail.conftest import (
    BASE_URL,
    smtp,  # noqa: F401 - the real SMTP server fixture, shared
)

FEEDBACK = str(Path(sys.executable).parent / "feedback")
REDIS_URL = "redis://127.0.0.1:6379/0"

needs_postgres = pytest.mark.skipif(
    not POSTGRES_URL,
    reason="PostgreSQL only: set FEEDBACK_TEST_DATABASE_URL=postgresql+psycopg://…",
)


class ApiClient:
    """One client with one keep-alive HTTP/1.1 connection, as a browser tab would hold."""

    def __init__(self, base_url: str, origin: str | None = SITE_ORIGIN, timeout: float = 30):
        host, _, port = base_url.removeprefix("http://").partition(":")
        self.host, self.port, self.timeout = host, int(port), timeout
        self.origin = origin
        self.connection: http.client.HTTPConnection | None = None

    def post(self, body: dict, path: str = "/api/v1/suggestions"):
        """(status, headers, parsed JSON or None); reconnects once if the server had
        closed the idle connection."""
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self.origin:
            headers["Origin"] = self.origin
        for attempt in range(2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(
                    self.host, self.port, timeout=self.timeout
                )
            try:
                self.connection.request("POST", path, body=data, headers=headers)
                response = self.connection.getresponse()
                raw = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt:
                    raise
                continue
            if response.will_close:
                self.close()
            parsed = (
                json.loads(raw)
                if raw and response.getheader("Content-Type", "").startswith("application/json")
                else None
            )
            return response.status, dict(response.getheaders()), parsed
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def worker_environment(app, tmp_path, **changes) -> dict[str, str]:
    """The environment of a `feedback worker` on the app's database and queue."""
    config = app.config
    env = {key: value for key, value in os.environ.items() if not key.startswith("FEEDBACK_")}
    engine_options = {
        key: value
        for key, value in config["SQLALCHEMY_ENGINE_OPTIONS"].items()
        if key != "pool_pre_ping"
    }
    env.update(
        {
            "FEEDBACK_DATABASE_URL": config["DATABASE_URL"],
            "FEEDBACK_SQLALCHEMY_ENGINE_OPTIONS": json.dumps(engine_options),
            "FEEDBACK_SECRET_KEY": config["SECRET_KEY"],
            "FEEDBACK_INSTANCE_PATH": str(tmp_path / f"worker-{secrets.token_hex(3)}"),
            "FEEDBACK_HUEY_IMMEDIATE": "false",
            "FEEDBACK_HUEY_NAME": config["HUEY_NAME"],
            "FEEDBACK_HUEY_SQLITE_PATH": config["HUEY_SQLITE_PATH"] or None,
            "FEEDBACK_REDIS_URL": config["REDIS_URL"] or None,
            "FEEDBACK_MAIL_SERVER": "127.0.0.1",
            "FEEDBACK_MAIL_PORT": str(config["MAIL_PORT"]),
            "FEEDBACK_MAIL_DEFAULT_SENDER": config["MAIL_DEFAULT_SENDER"],
            "FEEDBACK_BASE_URL": BASE_URL,
            "FEEDBACK_INSTANT_THROTTLE_MINUTES": str(config["INSTANT_THROTTLE_MINUTES"]),
        }
    )
    env.update(changes)
    return {key: value for key, value in env.items() if value is not None}


def start_worker(env: dict[str, str], log_path: Path, workers: int = 1) -> subprocess.Popen:
    """`feedback worker` in its own process; its output goes to ``log_path``."""
    log = log_path.open("w")
    try:
        return subprocess.Popen(
            [FEEDBACK, "worker", "--workers", str(workers)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    finally:
        log.close()  # the child has its own copy of the descriptor


def stop_worker(worker: subprocess.Popen, kill: bool = False) -> int:  # any child process
    """SIGINT (Huey finishes its running task) or SIGKILL; returns the exit status."""
    if worker.poll() is None:
        worker.send_signal(signal.SIGKILL if kill else signal.SIGINT)
    try:
        return worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        return worker.wait(timeout=30)
    finally:
        if worker.stdout is not None:
            worker.stdout.close()


@pytest.fixture
def application_name() -> str:
    """Set on this test's app connections only, so the test can find (and kill) its own
    connections and nobody else's."""
    return f"fbload-{secrets.token_hex(4)}"


@pytest.fixture
def named_engine_options(test_database, application_name) -> dict:
    """The test database's engine options (its schema's search_path kept), with the name."""
    options = dict(test_database.engine_options)
    options["connect_args"] = {
        **options.get("connect_args", {}),
        "application_name": application_name,
    }
    return options


@pytest.fixture
def redis_keys():
    """(Redis connection, a key prefix unique to the test); every key holding the prefix
    is deleted at the end."""
    redis = pytest.importorskip("redis")
    try:
        connection = redis.Redis.from_url(REDIS_URL)
        connection.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    # Letters, digits and "_" only: Huey drops other characters from a queue's name.
    prefix = f"fbload_{secrets.token_hex(4)}"
    yield connection, prefix
    for key in connection.scan_iter(f"*{prefix}*"):
        connection.delete(key)
    connection.close()


def start_instance(env: dict[str, str], log_path: Path) -> tuple[subprocess.Popen, str]:
    """An app instance in its own process (tests/load/instance_server.py); returns the
    process and its base URL."""
    log = log_path.open("w")
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.load.instance_server"],
            env=env,
            cwd=str(Path(__file__).resolve().parents[2]),
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    finally:
        log.close()
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        ready = selector.select(timeout=60)
    port = process.stdout.readline().strip() if ready else ""
    if not port.isdigit():
        stop_worker(process, kill=True)
        raise AssertionError(f"the instance did not start: {log_path.read_text()}")
    return process, f"http://127.0.0.1:{port}"

"""The web service as production runs it, under gunicorn: it refuses to start without
its public address, in one line, rather than take links from requests' Host headers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

GUNICORN = str(Path(sys.executable).parent / "gunicorn")
REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _environment(tmp_path: Path, **changes: str | None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FEEDBACK_")}
    env.update(
        {
            "FEEDBACK_SECRET_KEY": "gunicorn-test-secret",
            "FEEDBACK_INSTANCE_PATH": str(tmp_path / "instance"),
            "FEEDBACK_BASE_URL": "https://corrections.example.com",
        }
    )
    env.update(changes)
    return {key: value for key, value in env.items() if value is not None}


def _gunicorn(port: int, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [GUNICORN, "--workers", "1", "--bind", f"127.0.0.1:{port}", "feedback:create_app()"],
        env=env,
        cwd=str(REPO),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(
    ("missing", "refusal"),
    [
        (
            "FEEDBACK_BASE_URL",
            "feedback: FEEDBACK_BASE_URL is not set; the service writes links into mail and "
            "needs its public address (https://corrections.example.com)",
        ),
        (
            "FEEDBACK_SECRET_KEY",
            "feedback: FEEDBACK_SECRET_KEY is not set; set it to a long random string to start "
            "the service (only `feedback demo` and the tests run without one)",
        ),
    ],
)
def test_gunicorn_refuses_to_serve_without_a_required_setting(tmp_path, missing, refusal):
    process = _gunicorn(_free_port(), _environment(tmp_path, **{missing: None}))
    try:
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode != 0
    ours = [line for line in stderr.splitlines() if "feedback" in line.lower()]
    assert ours == [refusal], stderr
    assert "Traceback" not in stderr


def test_gunicorn_serves_with_the_public_address(tmp_path):
    port = _free_port()
    process = _gunicorn(port, _environment(tmp_path))
    try:
        deadline = time.monotonic() + 60
        status = None
        while status is None and time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/editor/sign-in") as answer:
                    status = answer.status
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        assert status == 200, process.poll()
    finally:
        process.terminate()
        process.communicate(timeout=30)

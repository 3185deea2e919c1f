"""Shared helpers for the benchmark scripts in bench/ (not a benchmark itself).

    from _common import emit, free_port, percentile, temp_postgres_database

Scripts are run as ``.venv/bin/python bench/<name>.py``, so bench/ is on sys.path and
this module imports as ``_common``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence

PG_ADMIN_DSN = os.environ.get("BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
PG_HOST_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.dirname(sys.executable)


def made_up_text(
    rng, chars: int, words: Sequence[str], sentence_words: tuple[int, int], one_line: bool = False
) -> str:
    """News-like filler of at least ``chars`` characters: numbered sentences of random
    ``words``, a paragraph break every five sentences unless ``one_line``. Callers cut it."""
    parts: list[str] = []
    length = 0
    sentence = 0
    while length < chars:
        picked = [rng.choice(words) for _ in range(rng.randint(*sentence_words))]
        sentence += 1
        part = " ".join(picked).capitalize() + f" {sentence}."
        parts.append(part + ("\n" if (not one_line and sentence % 5 == 0) else " "))
        length += len(part) + 1
    return "".join(parts)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0..100) with linear interpolation; nan for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    if len(ordered) == 1:
        return float(ordered[0])
    rank = (len(ordered) - 1) * p / 100.0
    low = math.floor(rank)
    high = math.ceil(rank)
    if low == high:
        return float(ordered[low])
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _admin_connect():
    import psycopg

    return psycopg.connect(PG_ADMIN_DSN, autocommit=True)


def drop_postgres_database(name: str) -> None:
    from psycopg import sql

    with _admin_connect() as conn:
        # Other sessions (gunicorn workers that died badly) must not block the drop.
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


@contextlib.contextmanager
def temp_postgres_database(prefix: str = "fb_bench") -> Iterator[str]:
    """Create ``<prefix>_<random>`` and yield its SQLAlchemy URL; drop it afterwards.

    The URL looks like ``postgresql+psycopg://postgres@127.0.0.1:5432/<name>``; the
    plain libpq DSN is ``url.replace("+psycopg", "")``.
    """
    from psycopg import sql

    name = f"{prefix}_{secrets.token_hex(4)}"
    with _admin_connect() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"{PG_HOST_URL}/{name}"
    finally:
        # Ctrl+C during the drop would leave the database behind; ignore a second one.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            drop_postgres_database(name)
        finally:
            signal.signal(signal.SIGINT, previous)


def libpq_dsn(sqlalchemy_url: str) -> str:
    """``postgresql+psycopg://…`` -> ``postgresql://…`` for psycopg.connect()."""
    return sqlalchemy_url.replace("+psycopg", "", 1)


def emit(result: dict, as_json: bool) -> None:
    """Print the result object as the only JSON on stdout, or a short human summary."""
    if as_json:
        sys.stdout.write(json.dumps(result, sort_keys=False, default=str) + "\n")
        sys.stdout.flush()
        return
    print()
    print(f"== {result.get('name')} ==")
    print(f"figure:   {result.get('figure')}")
    print(f"baseline: {result.get('baseline')}")
    ratio = result.get("ratio")
    if isinstance(ratio, (int, float)):
        print(f"ratio:    {ratio:.3f}  ({result.get('ratio_meaning')})")
    print(f"target:   {result.get('target')}")
    print(f"met:      {'yes' if result.get('met') else 'NO'}")


def log(message: str, as_json: bool = False) -> None:
    """Progress messages: stderr when --json (stdout must hold only the JSON), else stdout."""
    print(message, file=sys.stderr if as_json else sys.stdout, flush=True)


def feedback_env(database_url: str, instance_path: str, **extra: str) -> dict[str, str]:
    """Environment for the `feedback` command / gunicorn with a throwaway instance folder."""
    env = dict(os.environ)
    env.update(
        FEEDBACK_DATABASE_URL=database_url,
        FEEDBACK_SECRET_KEY=secrets.token_hex(32),
        FEEDBACK_INSTANCE_PATH=instance_path,
        FEEDBACK_HUEY_SQLITE_PATH=os.path.join(instance_path, "tasks.sqlite3"),
        FEEDBACK_MAIL_CAPTURE="true",
    )
    env.update(extra)
    return env


def run_feedback(args: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    """Run the `feedback` command of this venv; return stdout, raise with stderr on failure."""
    done = subprocess.run(
        [os.path.join(VENV_BIN, "feedback"), *args],
        env=env,
        cwd=REPO,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"feedback {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def wait_http(url: str, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    """Wait until ``url`` answers at all (any status); raise if it doesn't in time."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError as error:
            last = error
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s: {last}")


@contextlib.contextmanager
def server_process(
    args: list[str], env: dict[str, str], ready_url: str, log_path: str | None = None
) -> Iterator[subprocess.Popen]:
    """Start a server (own process group), wait for ``ready_url``, stop it afterwards."""
    log_file = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(
        args, env=env, cwd=REPO, stdout=log_file, stderr=log_file, start_new_session=True
    )
    try:
        wait_http(ready_url, proc=proc)
        yield proc
    finally:
        stop_process_group(proc)
        if log_path:
            log_file.close()


def stop_process_group(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM the process group led by ``proc`` (started with start_new_session), then KILL."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=grace)
    # Workers of a gunicorn arbiter share its group; make sure none is left behind.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def exit_cleanly_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit so ``finally`` blocks (drop database, stop servers) run."""

    def handler(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)

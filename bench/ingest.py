"""Benchmark: POST /api/v1/suggestions throughput and latency on gunicorn + PostgreSQL.

Every request is a new report (new uuid4) on a ~20 KB article, quoting a different span
each time (rotating through the article's word positions), as the snippet sends it.
The service runs as `gunicorn -w 2` (sync workers) on a throwaway PostgreSQL database;
the baseline (bench/baseline_app.py) is a bare Flask app on the same gunicorn settings
and the same database that parses the JSON and does one INSERT of the raw body.

The service answers once a report is checked and stored (one INSERT); its worker files
it (revision, duplicate group, notices) moments later. The worker is stopped while the
load runs, as it would run on other machines; afterwards `feedback worker` files the last
run's reports, and the time it takes is reported as the filing rate. Every accepted
report must then be filed exactly once.

Runs alternate service, baseline, service, baseline; the better run (highest
throughput) of each counts. The service's tables are emptied before each of its runs,
so both service runs see the same table size.

    .venv/bin/python bench/ingest.py [--quick] [--json] [--requests 5000]
        [--warmup 200] [--concurrency 16] [--profile 300]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import cProfile
import hashlib
import http.client
import io
import json
import os
import pstats
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (
    REPO,
    VENV_BIN,
    emit,
    exit_cleanly_on_sigterm,
    feedback_env,
    free_port,
    libpq_dsn,
    log,
    made_up_text,
    percentile,
    run_feedback,
    server_process,
    stop_process_group,
    temp_postgres_database,
)
from ceiling_app import PATH as CEILING_PATH

TARGET_RATIO = 0.8
# Tables emptied along with the one a run counts: the service's filed reports.
EMPTIED_WITH = {"incoming_report": ["suggestion", "article_revision", "article"]}
FILING_DEADLINE_SECONDS = 900
ORIGIN = "https://news.example.com"
ARTICLE_URL = "https://news.example.com/2026/harbour-ferry-returns"
PATH = "/api/v1/suggestions"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
RUN_DEADLINE_SECONDS = 900  # a single run never goes on longer than this

# fmt: off
WORDS = [
    "the", "harbour", "ferry", "council", "island", "quay", "crossing", "minutes", "service",
    "said", "people", "town", "board", "repairs", "budget", "timetable", "fares", "winter",
    "spring", "propeller", "shaft", "bakery", "customers", "decade", "vessel", "chair",
    "councillors", "supplier", "workshop", "replacement", "pier", "morning", "taxi", "water",
    "engineer", "passengers", "weather", "tide", "cargo", "school", "hospital", "mainland",
]
# fmt: on
KINDS = ["typo", "typo", "typo", "factual", "unclear", "other"]


def make_article(chars: int = 20_000, seed: int = 7) -> str:
    """Plain article text of about ``chars`` characters, paragraphs every 5 sentences."""
    text = made_up_text(random.Random(seed), chars, WORDS, (8, 22))
    return text[:chars].rsplit(" ", 1)[0].strip() + "."


class BodyMaker:
    """Builds request bodies quickly: the 20 KB article part is serialised once."""

    def __init__(self, text: str, site_key: str):
        self.site_key = json.dumps(site_key)
        self.article = json.dumps(
            {
                "url": ARTICLE_URL,
                "title": "Harbour ferry returns",
                "text": text,
                "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
            },
            ensure_ascii=False,
        )
        words = [(m.start(), m.end()) for m in re.finditer(r"[A-Za-z]+", text)]
        self.quotes: list[tuple[str, str]] = []
        for index, (start, _end) in enumerate(words):
            # One to three words, so spans overlap in different ways.
            last = words[min(len(words) - 1, index + index % 3)]
            end = last[1]
            exact = text[start:end]
            quote = {
                "exact": exact,
                "prefix": text[max(0, start - 32) : start],
                "suffix": text[end : end + 32],
                "start": start,
                "end": end,
            }
            self.quotes.append((json.dumps(quote, ensure_ascii=False), json.dumps(exact + "s")))
        # A stride coprime with the count visits every span before repeating one.
        self.stride = 7919 if len(self.quotes) % 7919 else 7907

    def body(self, number: int) -> bytes:
        quote, replacement = self.quotes[(number * self.stride) % len(self.quotes)]
        kind = KINDS[number % len(KINDS)]
        return (
            f'{{"id":"{uuid.uuid4()}","site":{self.site_key},"kind":"{kind}",'
            f'"article":{self.article},"quote":{quote},"replacement":{replacement},'
            f'"comment":"Report {number}: I think this is wrong.","website":""}}'
        ).encode()


class LoadResult:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.statuses: collections.Counter[int] = collections.Counter()
        self.errors: list[str] = []
        self.elapsed = 0.0
        self.created = 0

    @property
    def count(self) -> int:
        return sum(self.statuses.values())

    @property
    def rps(self) -> float:
        return self.count / self.elapsed if self.elapsed else 0.0


def run_load(
    port: int, maker: BodyMaker, total: int, concurrency: int, first_number: int, path: str = PATH
) -> LoadResult:
    """Send ``total`` POSTs from ``concurrency`` threads, each with its own connection."""
    result = LoadResult()
    lock = threading.Lock()
    next_index = [0]
    stop = threading.Event()
    headers = {
        "Content-Type": "application/json",
        "Origin": ORIGIN,
        "User-Agent": "bench-ingest/1.0",
    }

    def take() -> int | None:
        with lock:
            if next_index[0] >= total or stop.is_set():
                return None
            next_index[0] += 1
            return next_index[0] - 1

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        latencies: list[float] = []
        statuses: collections.Counter[int] = collections.Counter()
        errors: list[str] = []
        try:
            while (index := take()) is not None:
                body = maker.body(first_number + index)
                began = time.perf_counter()
                try:
                    conn.request("POST", path, body=body, headers=headers)
                    response = conn.getresponse()
                    answer = response.read()
                    status = response.status
                except (OSError, http.client.HTTPException) as error:
                    conn.close()
                    status, answer = 0, repr(error).encode()
                latencies.append(time.perf_counter() - began)
                statuses[status] += 1
                if not 200 <= status < 300 and len(errors) < 5:
                    errors.append(f"{status}: {answer[:300].decode('utf-8', 'replace')}")
        finally:
            conn.close()
            with lock:
                result.latencies.extend(latencies)
                result.statuses.update(statuses)
                result.errors.extend(errors)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + RUN_DEADLINE_SECONDS
    try:
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                stop.set()
    finally:
        stop.set()
        for thread in threads:
            thread.join(70)
    result.elapsed = time.perf_counter() - began
    result.created = result.statuses.get(201, 0)
    return result


def _count(dsn: str, table: str) -> int:
    import psycopg

    with psycopg.connect(dsn) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608


def _truncate(dsn: str, tables: list[str]) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {', '.join(tables)} CASCADE")


def measure(
    label: str,
    target: tuple[int, str],
    dsn: str,
    table: str,
    maker: BodyMaker,
    args,
    run_number: int,
    as_json: bool,
) -> dict:
    port, path = target
    _truncate(dsn, [table, *EMPTIED_WITH.get(table, [])])
    base = run_number * (args.requests + args.warmup) * 3
    warm = run_load(port, maker, args.warmup, args.concurrency, base, path)
    result = run_load(port, maker, args.requests, args.concurrency, base + args.warmup, path)
    stored = _count(dsn, table)
    expected = warm.created + result.created
    bad = {
        status: n
        for status, n in (warm.statuses + result.statuses).items()
        if not 200 <= status < 300
    }
    summary = {
        "label": label,
        "requests": result.count,
        "concurrency": args.concurrency,
        "seconds": round(result.elapsed, 3),
        "rps": round(result.rps, 1),
        "p50_ms": round(percentile(result.latencies, 50) * 1000, 2),
        "p99_ms": round(percentile(result.latencies, 99) * 1000, 2),
        "statuses": {str(k): v for k, v in sorted((warm.statuses + result.statuses).items())},
        "stored_rows": stored,
        "created_201": expected,
        "rows_match_201s": stored == expected,
        "non_2xx": {str(k): v for k, v in bad.items()},
    }
    log(
        f"  {label:<8} {summary['requests']:>6} req  c={args.concurrency}  "
        f"{summary['rps']:>8.1f} req/s  p50 {summary['p50_ms']:>7.1f} ms  "
        f"p99 {summary['p99_ms']:>7.1f} ms  stored {stored}/{expected} 201s",
        as_json,
    )
    if bad:
        log(f"  !! non-2xx answers: {bad}", as_json)
        for line in (warm.errors + result.errors)[:5]:
            log(f"     {line}", as_json)
    if stored != expected:
        log(f"  !! stored rows ({stored}) != 201 answers ({expected})", as_json)
    return summary


def _waiting(dsn: str) -> int:
    import psycopg

    with psycopg.connect(dsn) as conn:
        query = "SELECT count(*) FROM incoming_report WHERE filed_at IS NULL"
        return conn.execute(query).fetchone()[0]


def drain(env: dict, dsn: str, instance: str, as_json: bool) -> dict:
    """Start `feedback worker` and time it filing every waiting report; then check that
    each accepted report became exactly one suggestion."""
    waiting = _waiting(dsn)
    log_path = os.path.join(instance, "worker.log")
    began = time.perf_counter()
    with open(log_path, "ab") as log_file:
        worker = subprocess.Popen(
            [os.path.join(VENV_BIN, "feedback"), "worker", "--workers", "2"],
            env=env, cwd=REPO, stdout=log_file, stderr=log_file, start_new_session=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + FILING_DEADLINE_SECONDS
            while (left := _waiting(dsn)) and time.monotonic() < deadline:
                if worker.poll() is not None:
                    raise RuntimeError(f"feedback worker exited with {worker.returncode}")
                time.sleep(0.2)
            seconds = time.perf_counter() - began
        finally:
            stop_process_group(worker)
    accepted, filed = _count(dsn, "incoming_report"), _count(dsn, "suggestion")
    summary = {
        "reports": waiting,
        "seconds": round(seconds, 2),
        "per_second": round(waiting / seconds, 1) if seconds else 0.0,
        "left_waiting": left,
        "all_filed_once": left == 0 and filed == accepted,
    }
    log(
        f"  filing   {waiting} reports in {seconds:.1f} s ({summary['per_second']} /s, "
        f"`feedback worker --workers 2`); suggestions {filed} of {accepted} accepted",
        as_json,
    )
    return summary


def _drop_queue(redis_url: str, name: str) -> None:
    import redis

    connection = redis.Redis.from_url(redis_url)
    for key in connection.scan_iter(f"*{name}*"):
        connection.delete(key)


def _trace(app, client, bodies: list[bytes], headers: dict) -> str:
    """Per POST (no profiler): wall time, time inside SQL statements, and the statements
    themselves with their median time and the characters they send."""
    from sqlalchemy import event

    from feedback.extensions import db

    seen: list[tuple[float, str, int]] = []
    began: list[float] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        began.append(time.perf_counter())

    def after(conn, cursor, statement, parameters, context, executemany):
        values = parameters.values() if isinstance(parameters, dict) else (parameters or ())
        sent = sum(len(v) for v in values if isinstance(v, str | bytes))
        seen.append((time.perf_counter() - began.pop(), " ".join(statement.split()), sent))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    totals, sqls, counts, per_request = [], [], [], []
    try:
        for body in bodies:
            seen.clear()
            started = time.perf_counter()
            status = client.post(PATH, data=body, headers=headers).status_code
            totals.append(time.perf_counter() - started)
            if status != 201:
                raise RuntimeError(f"in-process POST answered {status}")
            sqls.append(sum(t for t, _s, _n in seen))
            counts.append(len(seen))
            per_request.append(list(seen))
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    total, sql = statistics.median(totals) * 1000, statistics.median(sqls) * 1000
    lines = [
        f"in-process, no profiler, {len(bodies)} POSTs: median {total:.1f} ms per POST, "
        f"of which {sql:.1f} ms inside {max(counts)} SQL statements and "
        f"{total - sql:.1f} ms in Python; the statements (median ms):"
    ]
    last = per_request[-1]
    for position, (_t, statement, sent) in enumerate(last):
        times = [run[position][0] for run in per_request if len(run) > position]
        lines.append(
            f"  {statistics.median(times) * 1000:6.2f} ms  {sent:>6} chars sent  {statement[:140]}"
        )
    return "\n".join(lines) + "\n\n"


def baseline_in_process(dsn: str, maker: BodyMaker, count: int) -> float:
    """Median ms per POST of the baseline app through the Flask test client."""
    os.environ["BENCH_BASELINE_DSN"] = dsn
    from baseline_app import create_app as create_baseline

    client = create_baseline().test_client()
    headers = {"Origin": ORIGIN, "Content-Type": "application/json"}
    times = []
    for number in range(count + 10):
        body = maker.body(30_000_000 + number)
        started = time.perf_counter()
        status = client.post(PATH, data=body, headers=headers).status_code
        if number >= 10:
            times.append(time.perf_counter() - started)
        if status != 201:
            raise RuntimeError(f"baseline in-process POST answered {status}")
    return statistics.median(times) * 1000


def profile_in_process(database_url: str, instance: str, site_key: str, count: int) -> str:
    """cProfile ``count`` POSTs through the Flask test client in this process."""
    from feedback import create_app

    app = create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "bench-profile",
            "HUEY_IMMEDIATE": False,
            "HUEY_SQLITE_PATH": os.path.join(instance, "profile-tasks.sqlite3"),
            "RATELIMIT_PER_CLIENT": "1000000/minute",
            "RATELIMIT_PER_SITE": "1000000/minute",
            "MAIL_CAPTURE": True,
        }
    )
    maker = BodyMaker(make_article(), site_key)
    client = app.test_client()
    headers = {"Origin": ORIGIN, "Content-Type": "application/json"}
    bodies = [maker.body(10_000_000 + n) for n in range(count + 20)]
    for body in bodies[:20]:  # warm-up: imports, first connections
        client.post(PATH, data=body, headers=headers)
    profiler = cProfile.Profile()
    statuses: collections.Counter[int] = collections.Counter()
    began = time.perf_counter()
    profiler.enable()
    for body in bodies[20:]:
        statuses[client.post(PATH, data=body, headers=headers).status_code] += 1
    profiler.disable()
    elapsed = time.perf_counter() - began
    out = io.StringIO()
    out.write(_trace(app, client, [maker.body(20_000_000 + n) for n in range(60)], headers))
    base_ms = baseline_in_process(libpq_dsn(database_url), maker, 60)
    out.write(f"baseline app in-process, same way: median {base_ms:.1f} ms per POST\n\n")
    out.write(
        f"in-process: {count} POSTs in {elapsed:.2f} s "
        f"({elapsed / count * 1000:.2f} ms each, under the profiler), statuses {dict(statuses)}\n"
    )
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(25)
    out.write("-- the service's own functions, by cumulative time:\n")
    stats.sort_stats("cumulative").print_stats(r"/feedback/", 30)
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="500 requests, 50 warm-up.")
    parser.add_argument("--json", action="store_true", help="Print only one JSON object.")
    parser.add_argument("--requests", type=int, default=None)
    parser.add_argument("--warmup", type=int, default=None)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2, help="service/baseline pairs")
    parser.add_argument(
        "--profile",
        type=int,
        default=None,
        metavar="N",
        help="Afterwards, cProfile N in-process POSTs (default: 300 when the target is missed"
        " in a full run, 0 otherwise).",
    )
    args = parser.parse_args()
    if args.requests is None:
        args.requests = 500 if args.quick else 5_000
    if args.warmup is None:
        args.warmup = 50 if args.quick else 200
    exit_cleanly_on_sigterm()
    as_json = args.json

    text = make_article()
    instance = tempfile.mkdtemp(prefix="fb_bench_ingest_")
    try:
        with temp_postgres_database("fb_bench_ingest") as url:
            dsn = libpq_dsn(url)
            return _run(args, as_json, text, instance, url, dsn)
    finally:
        shutil.rmtree(instance, ignore_errors=True)


def _run(args, as_json: bool, text: str, instance: str, url: str, dsn: str) -> int:
    sys.path.insert(0, os.path.join(REPO, "bench"))
    from baseline_app import ensure_table

    log(f"database {url.rsplit('/', 1)[1]}, instance {instance}", as_json)
    env = feedback_env(url, instance)
    run_feedback(["db", "upgrade"], env)
    out = run_feedback(["site", "add", "Bench News", "--origin", ORIGIN], env)
    site_key = re.search(r"site key:\s+(\S+)", out).group(1)
    ensure_table(dsn)

    service_port, ceiling_port, baseline_port = free_port(), free_port(), free_port()
    queue_name = f"fb-bench-{uuid.uuid4().hex[:8]}"
    gunicorn = os.path.join(VENV_BIN, "gunicorn")
    common = ["-w", "2", "-k", "sync", "--timeout", "120", "--log-level", "warning"]
    service_env = dict(
        env,
        FEEDBACK_RATELIMIT_PER_CLIENT="1000000/minute",
        FEEDBACK_RATELIMIT_PER_SITE="1000000/minute",
        FEEDBACK_BASE_URL=f"http://127.0.0.1:{service_port}",
        # The task queue in Redis, as when scaled out (the default SQLite file would make
        # every request wait for a second database's lock and fsync).
        FEEDBACK_REDIS_URL=REDIS_URL,
        FEEDBACK_HUEY_NAME=queue_name,
    )
    baseline_env = dict(os.environ, BENCH_BASELINE_DSN=dsn)
    maker = BodyMaker(text, site_key)
    log(
        f"body ~{len(maker.body(0)):,} bytes, {len(maker.quotes)} quote spans; "
        f"{args.requests} requests after {args.warmup} warm-up, concurrency "
        f"{args.concurrency}, gunicorn -w 2 sync workers",
        as_json,
    )
    runs: dict[str, list[dict]] = {"service": [], "ceiling": [], "baseline": []}
    bench_dir = os.path.join(REPO, "bench")
    with (
        server_process(
            [gunicorn, *common, "-b", f"127.0.0.1:{service_port}", "feedback:create_app()"],
            service_env,
            f"http://127.0.0.1:{service_port}/api/v1/suggestions/{uuid.uuid4()}",
            os.path.join(instance, "service.log"),
        ),
        server_process(
            [
                gunicorn,
                *common,
                "--chdir",
                bench_dir,
                "-b",
                f"127.0.0.1:{ceiling_port}",
                "ceiling_app:create_app()",
            ],
            service_env,
            f"http://127.0.0.1:{ceiling_port}/api/v1/openapi.json",
            os.path.join(instance, "ceiling.log"),
        ),  # fmt: skip
        server_process(
            [
                gunicorn,
                *common,
                "--chdir",
                bench_dir,
                "-b",
                f"127.0.0.1:{baseline_port}",
                "baseline_app:create_app()",
            ],
            baseline_env,
            f"http://127.0.0.1:{baseline_port}/",
            os.path.join(instance, "baseline.log"),
        ),
    ):
        number = 0
        for _round in range(args.rounds):
            for label, target, table in (
                ("service", (service_port, PATH), "incoming_report"),
                ("ceiling", (ceiling_port, CEILING_PATH), "bench_raw_report"),
                ("baseline", (baseline_port, PATH), "bench_raw_report"),
            ):
                runs[label].append(measure(label, target, dsn, table, maker, args, number, as_json))
                number += 1
    try:
        filing = drain(service_env, dsn, instance, as_json)
    finally:
        _drop_queue(REDIS_URL, queue_name)
    with contextlib.suppress(OSError), open(os.path.join(instance, "service.log")) as log_file:
        tail = log_file.read()[-2000:]
        if tail.strip():
            log("service log (tail):\n" + tail, as_json)

    best = {label: max(items, key=lambda run: run["rps"]) for label, items in runs.items()}
    service, ceiling, baseline = best["service"], best["ceiling"], best["baseline"]
    ratio = service["rps"] / baseline["rps"] if baseline["rps"] else 0.0
    ceiling_ratio = ceiling["rps"] / baseline["rps"] if baseline["rps"] else 0.0
    all_ok = filing["all_filed_once"] and all(
        run["rows_match_201s"] and not run["non_2xx"] for items in runs.values() for run in items
    )
    met = ratio >= TARGET_RATIO and all_ok

    profile_count = args.profile
    if profile_count is None:
        profile_count = 300 if (not met and not args.quick) else 0
    profile_text = ""
    if profile_count:
        log(f"profiling {profile_count} in-process POSTs ...", as_json)
        profile_text = profile_in_process(url, instance, site_key, profile_count)
        if not as_json:
            print(profile_text)

    result = {
        "name": "ingest",
        "figure": f"{service['rps']:,.1f} reports/s (p50 {service['p50_ms']} ms, "
        f"p99 {service['p99_ms']} ms); the worker files {filing['per_second']:,.1f}/s; "
        f"the app with a view doing only the baseline's INSERT: {ceiling['rps']:,.1f}/s "
        f"({ceiling_ratio:.2f} of the baseline, the most the service could reach)",
        "baseline": f"{baseline['rps']:,.1f} reports/s (p50 {baseline['p50_ms']} ms, "
        f"p99 {baseline['p99_ms']} ms)",
        "ratio": round(ratio, 3),
        "ratio_meaning": "service req/s / baseline req/s (higher is better); best run of each",
        "target": f"service throughput >= {TARGET_RATIO} x baseline, no non-2xx, "
        "stored rows == 201s, every accepted report filed once",
        "met": met,
        "details": {
            "requests": args.requests,
            "warmup": args.warmup,
            "concurrency": args.concurrency,
            "gunicorn": "-w 2 -k sync",
            "body_bytes": len(maker.body(0)),
            "article_chars": len(text),
            "pick": "best (highest req/s) of alternating runs",
            "checks_ok": all_ok,
            "filing": filing,
            "ceiling_ratio": round(ceiling_ratio, 3),
            "task_queue": "Redis",
            "runs": runs,
            "profile_top": profile_text[:6000] if profile_text else None,
        },
    }
    if not as_json:
        print()
        print(f"{'':10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
        for label, run in best.items():
            print(f"{label:10}{run['rps']:>10.1f}{run['p50_ms']:>10.1f}{run['p99_ms']:>10.1f}")
    emit(result, as_json)
    return 0


if __name__ == "__main__":
    sys.exit(main())

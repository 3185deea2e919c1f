"""Benchmark: what a refused report costs the service, next to a bare Flask 404.

A flood of reports the service refuses must cost little. Three refusals are measured,
each a POST /api/v1/suggestions with a body of about 1 KB:

- ``unknown_key``: a site key no site has (404);
- ``bad_origin``: a real site's key from an ``Origin`` the site does not allow (403);
- ``rate_limited``: a client over its per-client rate limit (429).

The baseline is a bare Flask app with no routes (bench/bare_app.py) answering the same
POST with Flask's own 404, on the same gunicorn settings (``-w 2``, sync workers). The
service runs on a throwaway PostgreSQL database with its default rate-limit storage
(per process) and no proxy in front. Each request of the first two refusals comes from a
new loopback address (127.x.y.z), so no client reaches its limit; the third from a pool
of 20 addresses, each over its limit from the warm-up on. The 404s come from a pool of 20
addresses too: every request is a new connection (sync workers close each one), and one
source address would run short of ports.

Runs alternate (baseline, each refusal, the service's own 404 for information) for
``--rounds`` rounds. A request's cost is the server's CPU time for it (user + system time
of the gunicorn arbiter and workers, from /proc, over the requests of the run): the load
generator runs on the same machine, so throughput is shown but is no fair measure. The
cheapest run of each counts; the ratio is a refusal's CPU time over the bare 404's.

    .venv/bin/python bench/refusals.py [--quick] [--json] [--requests 3000]
        [--warmup 200] [--concurrency 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import collections
import http.client
import itertools
import json
import os
import random
import re
import shutil
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
    log,
    percentile,
    run_feedback,
    server_process,
    temp_postgres_database,
)

TARGET_RATIO = 1.5
PATH = "/api/v1/suggestions"
ORIGIN = "https://news.example.com"
OTHER_ORIGIN = "https://elsewhere.example.net"
# Clients over their limit from the warm-up on, and the clients of the 404s: a pool each,
# so that no one source address runs short of ports (every request is a new connection).
OVER_LIMIT_CLIENTS = [f"127.0.0.{n}" for n in range(2, 22)]
PLAIN_CLIENTS = [f"127.0.0.{n}" for n in range(22, 42)]
BODY_BYTES = 1024
RUN_DEADLINE_SECONDS = 600
EXPECTED = {"bare_404": 404, "service_404": 404, "unknown_key": 404, "bad_origin": 403,
            "rate_limited": 429}  # fmt: skip
REFUSALS = ["unknown_key", "bad_origin", "rate_limited"]


def _cpu_seconds(leader: int) -> float:
    """User + system CPU seconds of a gunicorn arbiter (``leader``) and its workers."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        # After the command: state, ppid, … utime is field 14 and stime 15 of the line.
        if int(entry) == leader or int(fields[1]) == leader:
            total += int(fields[11]) + int(fields[12])
    return total / tick


def report_body(site_key: str) -> bytes:
    """A plausible report of about BODY_BYTES bytes (the article text pads it)."""
    body = {
        "id": str(uuid.uuid4()),
        "site": site_key,
        "kind": "typo",
        "article": {
            "url": f"{ORIGIN}/2026/harbour-ferry-returns",
            "title": "Harbour ferry returns",
            "text": "",
        },
        "quote": {"exact": "then", "prefix": "a minute faster ", "suffix": " the timetable"},
        "replacement": "than",
        "comment": "Should be 'than'.",
        "website": "",
    }
    filler = "The ferry reached the island a minute faster then the timetable promises. "
    base = len(json.dumps(body).encode())
    body["article"]["text"] = (filler * 40)[: BODY_BYTES - base]
    return json.dumps(body).encode()


class Addresses:
    """A new loopback address for every request (127.x.y.z: Linux routes all of 127/8 to
    the loopback device), so each looks like a new client; thread-safe."""

    def __init__(self) -> None:
        self._counter = itertools.count(0)
        self._turns = itertools.count(0)
        self._lock = threading.Lock()

    def turn(self) -> int:
        with self._lock:
            return next(self._turns)

    def next(self) -> str:
        with self._lock:
            n = next(self._counter)
        # 127.1.0.1 onwards, the last byte 1..250: never one of the 127.0.0.x pools.
        n, last = divmod(n, 250)
        return f"127.{1 + (n >> 8) % 250}.{n & 255}.{last + 1}"


def request_for(kind: str, site_key: str, addresses: Addresses) -> tuple[str, bytes, dict, str]:
    """(path, body, headers, client address) of one request of ``kind``."""
    headers = {"Content-Type": "application/json", "User-Agent": "bench-refusals/1.0"}
    if kind == "bare_404":
        client = random.choice(PLAIN_CLIENTS)
        return PATH, report_body(site_key), {**headers, "Origin": ORIGIN}, client
    if kind == "service_404":
        path, client = "/api/v1/nothing-here", random.choice(PLAIN_CLIENTS)
        return path, report_body(site_key), {**headers, "Origin": ORIGIN}, client
    if kind == "unknown_key":
        headers["Origin"] = ORIGIN
        return PATH, report_body("no-such-site-key"), headers, addresses.next()
    if kind == "bad_origin":
        headers["Origin"] = OTHER_ORIGIN
        return PATH, report_body(site_key), headers, addresses.next()
    # In turn, so the warm-up reaches every address often enough for both workers.
    client = OVER_LIMIT_CLIENTS[addresses.turn() % len(OVER_LIMIT_CLIENTS)]
    return PATH, report_body(site_key), {**headers, "Origin": ORIGIN}, client


def run_load(port: int, kind: str, site_key: str, total: int, concurrency: int,
             addresses: Addresses, server: int) -> dict:  # fmt: skip
    """Send ``total`` requests of ``kind`` from ``concurrency`` threads to the gunicorn
    whose arbiter is ``server``; also the server's CPU time per request."""
    lock = threading.Lock()
    left = [total]
    latencies: list[float] = []
    statuses: collections.Counter[int] = collections.Counter()
    samples: list[str] = []
    deadline = time.monotonic() + RUN_DEADLINE_SECONDS

    def worker() -> None:
        mine: list[float] = []
        seen: collections.Counter[int] = collections.Counter()
        try:
            while time.monotonic() < deadline:
                with lock:
                    if left[0] <= 0:
                        break
                    left[0] -= 1
                path, body, headers, client = request_for(kind, site_key, addresses)
                # gunicorn's sync workers close every connection after one answer anyway.
                conn = http.client.HTTPConnection(
                    "127.0.0.1", port, timeout=30, source_address=(client, 0)
                )
                began = time.perf_counter()
                try:
                    conn.request("POST", path, body=body, headers=headers)
                    response = conn.getresponse()
                    answer = response.read()
                    status = response.status
                except (OSError, http.client.HTTPException) as error:
                    status, answer = 0, repr(error).encode()
                finally:
                    conn.close()
                mine.append(time.perf_counter() - began)
                seen[status] += 1
                if status != EXPECTED[kind] and len(samples) < 3:
                    samples.append(f"{status}: {answer[:200].decode('utf-8', 'replace')}")
        finally:
            with lock:
                latencies.extend(mine)
                statuses.update(seen)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    cpu_before = _cpu_seconds(server)
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(RUN_DEADLINE_SECONDS + 60)
    elapsed = time.perf_counter() - began
    cpu = _cpu_seconds(server) - cpu_before
    count = sum(statuses.values())
    return {
        "kind": kind,
        "requests": count,
        "cpu_ms": round(cpu / count * 1000, 3) if count else None,
        "rps": round(count / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(percentile(latencies, 50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 99) * 1000, 2),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "as_expected": set(statuses) == {EXPECTED[kind]},
        "unexpected": samples,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="600 requests a run, 2 rounds.")
    parser.add_argument("--json", action="store_true", help="Print only one JSON object.")
    parser.add_argument("--requests", type=int, default=None)
    parser.add_argument("--warmup", type=int, default=None)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    args.requests = args.requests or (600 if args.quick else 3000)
    args.warmup = args.warmup or (50 if args.quick else 200)
    args.rounds = args.rounds or (2 if args.quick else 3)
    exit_cleanly_on_sigterm()
    instance = tempfile.mkdtemp(prefix="fb_bench_refusals_")
    try:
        with temp_postgres_database("fb_bench_refusals") as url:
            return _run(args, url, instance)
    finally:
        shutil.rmtree(instance, ignore_errors=True)


def _run(args, url: str, instance: str) -> int:
    as_json = args.json
    env = feedback_env(url, instance)
    run_feedback(["db", "upgrade"], env)
    out = run_feedback(["site", "add", "Bench News", "--origin", ORIGIN], env)
    site_key = re.search(r"site key:\s+(\S+)", out).group(1)
    service_port, bare_port = free_port(), free_port()
    gunicorn = os.path.join(VENV_BIN, "gunicorn")
    common = ["-w", "2", "-k", "sync", "--timeout", "120", "--log-level", "warning"]
    service_env = dict(
        env,
        FEEDBACK_BASE_URL=f"http://127.0.0.1:{service_port}",
        # Low enough that the warm-up puts every address of OVER_LIMIT_CLIENTS over it.
        FEEDBACK_RATELIMIT_PER_CLIENT="1/hour",
        FEEDBACK_RATELIMIT_PER_SITE="1000000/minute",
    )
    log(
        f"body {len(report_body(site_key))} bytes; {args.requests} requests a run after "
        f"{args.warmup} warm-up, concurrency {args.concurrency}, {args.rounds} rounds, "
        "gunicorn -w 2 sync workers",
        as_json,
    )
    addresses = Addresses()
    runs: dict[str, list[dict]] = collections.defaultdict(list)
    with (
        server_process(
            [gunicorn, *common, "-b", f"127.0.0.1:{service_port}", "feedback:create_app()"],
            service_env,
            f"http://127.0.0.1:{service_port}/api/v1/openapi.json",
            os.path.join(instance, "service.log"),
        ) as service,
        server_process(
            [
                gunicorn,
                *common,
                "--chdir",
                os.path.join(REPO, "bench"),
                "-b",
                f"127.0.0.1:{bare_port}",
                "bare_app:create_app()",
            ],
            dict(os.environ),
            f"http://127.0.0.1:{bare_port}/",
            os.path.join(instance, "bare.log"),
        ) as bare_server,
    ):  # fmt: skip
        for _round in range(args.rounds):
            for kind in ["bare_404", *REFUSALS, "service_404"]:
                port, server = (
                    (bare_port, bare_server.pid) if kind == "bare_404" else
                    (service_port, service.pid)
                )  # fmt: skip
                run_load(port, kind, site_key, args.warmup, args.concurrency, addresses, server)
                result = run_load(
                    port, kind, site_key, args.requests, args.concurrency, addresses, server
                )
                runs[kind].append(result)
                log(
                    f"  {kind:<13}{result['cpu_ms']:>7.2f} ms CPU/req"
                    f"{result['rps']:>9.1f} req/s  p50 {result['p50_ms']:>6.2f} ms"
                    f"  p99 {result['p99_ms']:>6.2f} ms  {result['statuses']}",
                    as_json,
                )
                for line in result["unexpected"]:
                    log(f"     !! {line}", as_json)

    # The cost of a request is the server's CPU time for it: the load generator shares the
    # machine, so throughput says as much about the client as about the server. The
    # cheapest run of each counts (the machine is shared and noisy).
    best = {kind: min(items, key=lambda run: run["cpu_ms"]) for kind, items in runs.items()}
    fastest = {kind: max(items, key=lambda run: run["rps"]) for kind, items in runs.items()}
    bare_cpu, bare_rps = best["bare_404"]["cpu_ms"], fastest["bare_404"]["rps"]
    kinds = [*REFUSALS, "service_404"]
    ratios = {kind: round(best[kind]["cpu_ms"] / bare_cpu, 3) for kind in kinds}
    rps_ratios = {kind: round(bare_rps / fastest[kind]["rps"], 3) for kind in kinds}
    worst = max(ratios[kind] for kind in REFUSALS)
    all_ok = all(run["as_expected"] for items in runs.values() for run in items)
    met = all_ok and worst <= TARGET_RATIO
    figure = "; ".join(
        f"{kind} {best[kind]['cpu_ms']:.2f} ms ({ratios[kind]:.2f}x)" for kind in REFUSALS
    )
    result = {
        "name": "refusals",
        "figure": f"server CPU per refused report: {figure}; the service's own 404 "
        f"{best['service_404']['cpu_ms']:.2f} ms ({ratios['service_404']:.2f}x). Throughput, "
        "bare 404 req/s over the refusal's: "
        + ", ".join(f"{kind} {rps_ratios[kind]:.2f}" for kind in REFUSALS),
        "baseline": f"bare Flask 404: {bare_cpu:.2f} ms server CPU per request "
        f"({bare_rps:,.0f} req/s)",
        "ratio": worst,
        "ratio_meaning": "server CPU per request of the costliest refusal / of a bare Flask "
        "404 (lower is better; 1 = as cheap as a bare 404)",
        "target": f"each refusal (unknown key, disallowed Origin, over the rate limit; 1 KB "
        f"body) <= {TARGET_RATIO} x a bare Flask 404 on the same gunicorn, answers as expected",
        "met": met,
        "details": {
            "requests": args.requests,
            "warmup": args.warmup,
            "concurrency": args.concurrency,
            "rounds": args.rounds,
            "body_bytes": len(report_body(site_key)),
            "gunicorn": "-w 2 -k sync",
            "pick": "cheapest (least server CPU per request) of alternating runs",
            "checks_ok": all_ok,
            "cpu_ratios": ratios,
            "throughput_ratios": rps_ratios,
            "runs": runs,
        },
    }
    if not as_json:
        print()
        print(f"{'':14}{'CPU ms':>10}{'x bare':>10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
        for kind, run in best.items():
            ratio = f"{ratios[kind]:>10.2f}" if kind in ratios else f"{'':>10}"
            print(f"{kind:14}{run['cpu_ms']:>10.3f}{ratio}{fastest[kind]['rps']:>10.1f}"
                  f"{run['p50_ms']:>10.2f}{run['p99_ms']:>10.2f}")  # fmt: skip
    emit(result, as_json)
    return 0


if __name__ == "__main__":
    sys.exit(main())

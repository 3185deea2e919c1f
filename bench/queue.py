"""Benchmark: server time of the editors' triage queue at 1,000,000 reports.

Fills a throwaway PostgreSQL database with SQL (generate_series): one site, one owner,
100,000 articles with one revision each and 1,000,000 reports (quick: 5,000 and 50,000)
spread over a year, ~90% group heads and ~10% duplicates of an earlier report of the
same article, statuses mostly new/accepted, 0.1% orphaned. Then times, in-process with
the Flask test client, GET /editor/ (newest first) and a page ~halfway down the list
(keyset cursor), and the same for ?sort=most, each 20 times after 3 warm-ups.

Baseline: the page's own main SELECT (captured from the app, same WHERE/ORDER BY/LIMIT
and parameters) run bare with psycopg, timed on the client. SQL time inside a request
is summed from SQLAlchemy cursor events, so "rendering" = request time - SQL time.
Target: every page's median <= 2 x (bare SELECT + rendering) and < 100 ms.

    .venv/bin/python bench/queue.py [--quick] [--json] [--reports N] [--articles N]
"""

from __future__ import annotations

# This file is named queue.py, like the standard library's ``queue`` module, which
# SQLAlchemy, logging and concurrent.futures import. A script in bench/ has bench/ first
# on sys.path, so ``import queue`` would find this file. Make sure it finds the real one:
# when run as a script, move bench/ to the end of sys.path; when imported by mistake as
# ``queue``, put the standard library's module in sys.modules in its place (the import
# statement then hands out that one).
import importlib
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))


def _load_stdlib_queue() -> None:
    saved = sys.path[:]
    sys.path[:] = [entry for entry in saved if os.path.abspath(entry or ".") != _HERE]
    sys.modules.pop("queue", None)
    try:
        importlib.import_module("queue")
    finally:
        sys.path[:] = saved


if __name__ == "__main__":
    sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != _HERE]
    sys.path.append(_HERE)
    if getattr(sys.modules.get("queue"), "__file__", None) == os.path.abspath(__file__):
        sys.modules.pop("queue")
elif __name__ == "queue":
    _load_stdlib_queue()

import argparse  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from _common import (  # noqa: E402
    emit,
    exit_cleanly_on_sigterm,
    feedback_env,
    libpq_dsn,
    log,
    percentile,
    run_feedback,
    temp_postgres_database,
)

PASSWORD = "bench-password-123"  # noqa: S105 - throwaway account in a throwaway database
EMAIL = "owner@bench.example"
LIMIT_MS = 100.0
MAX_FACTOR = 2.0
RUNS = 20
WARMUPS = 3


def fill(dsn: str, articles: int, reports: int, as_json: bool) -> dict:
    """Articles, revisions and reports with SQL; returns timings."""
    import psycopg

    timings = {}
    with psycopg.connect(dsn, autocommit=True) as conn:
        site_id = conn.execute("SELECT id FROM site").fetchone()[0]
        user_id = conn.execute("SELECT id FROM user_account").fetchone()[0]
        began = time.perf_counter()
        with conn.transaction():
            # Foreign keys are checked by triggers; the data below is consistent by
            # construction, so skip them for this session's bulk load (own database).
            conn.execute("SET LOCAL session_replication_role = replica")
            conn.execute(
                """
                INSERT INTO article (id, site_id, url, title, current_revision_number,
                                     created_at, updated_at)
                SELECT g, %(site)s, 'https://news.example.com/2026/story-' || g,
                       'Story number ' || g, 1,
                       now() - interval '400 days' + g * interval '1 second',
                       now() - interval '400 days' + g * interval '1 second'
                FROM generate_series(1, %(articles)s) AS g
                """,
                {"site": site_id, "articles": articles},
            )
            conn.execute(
                """
                INSERT INTO article_revision (id, article_id, number, text, sha256, created_at)
                SELECT g, g, 1,
                       'The harbour ferry returns to service after repairs, story ' || g || '.',
                       md5(g::text) || md5('r' || g::text),
                       now() - interval '400 days' + g * interval '1 second'
                FROM generate_series(1, %(articles)s) AS g
                """,
                {"articles": articles},
            )
            # Report g is on article 1 + g % articles; every 10th report (when an earlier
            # one exists on the same article, g - articles) is a duplicate of that one.
            # created_at grows with g over a year, so a duplicate is newer than its head.
            conn.execute(
                """
                INSERT INTO suggestion (
                    id, site_id, article_id, revision_id, kind, exact, prefix, suffix,
                    start, "end", replacement, comment, reporter_notify, status,
                    duplicate_of_id, honeypot, request_digest, anchor_state, text_changed,
                    report_count, assignee_id, created_at, updated_at)
                SELECT
                    md5('s' || g)::uuid, %(site)s, a, a,
                    (ARRAY['typo','typo','typo','factual','unclear','other'])[1 + g %% 6],
                    'ferry' || (g %% 997), 'The harbour ', ' returns to service',
                    12, 17 + length((g %% 997)::text),
                    CASE WHEN g %% 4 = 0 THEN NULL ELSE 'ferries' END,
                    CASE WHEN g %% 3 = 0 THEN 'Report ' || g || ': this looks wrong.' END,
                    false,
                    CASE WHEN r < 0.55 THEN 'new' WHEN r < 0.85 THEN 'accepted'
                         WHEN r < 0.93 THEN 'fixed' WHEN r < 0.98 THEN 'rejected'
                         ELSE 'spam' END,
                    CASE WHEN g %% 10 = 0 AND g > %(articles)s
                         THEN md5('s' || (g - %(articles)s))::uuid END,
                    false, md5('d' || g) || md5('e' || g),
                    CASE WHEN g %% 1000 = 7 THEN 'orphaned' ELSE 'anchored' END,
                    false,
                    CASE WHEN c < 0.60 THEN 1 WHEN c < 0.80 THEN 2 WHEN c < 0.90 THEN 3
                         WHEN c < 0.95 THEN 4 WHEN c < 0.99 THEN 5
                         ELSE 6 + floor(c * 1000)::int %% 40 END,
                    CASE WHEN g %% 20 = 0 THEN %(user)s END,
                    ts, ts
                FROM (
                    SELECT g, 1 + g %% %(articles)s AS a, random() AS r, random() AS c,
                           now() - interval '365 days' * (%(reports)s - g)::float8
                                   / %(reports)s
                               - random() * interval '20 seconds' AS ts
                    FROM generate_series(1, %(reports)s) AS g
                ) AS src
                """,
                {"site": site_id, "user": user_id, "articles": articles, "reports": reports},
            )
        for table in ("article", "article_revision"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {table}))"
            )
        timings["insert_s"] = round(time.perf_counter() - began, 1)
        log(f"  inserted in {timings['insert_s']} s; VACUUM ANALYZE ...", as_json)
        began = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        timings["vacuum_analyze_s"] = round(time.perf_counter() - began, 1)
        counts = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE duplicate_of_id IS NULL), "
            "count(*) FILTER (WHERE anchor_state = 'orphaned'), "
            "count(*) FILTER (WHERE status IN ('new', 'accepted')) FROM suggestion"
        ).fetchone()
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        timings.update(
            reports=counts[0],
            heads=counts[1],
            orphaned=counts[2],
            open=counts[3],
            database_size=size.fetchone()[0],
        )
    return timings


class SqlTimer:
    """Counts and times every statement the app's engine runs (cursor events)."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.statements: list[tuple[str, dict, float]] = []
        self._began: list[float] = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        self._began.append(time.perf_counter())

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        elapsed = time.perf_counter() - self._began.pop()
        self.statements.append((statement, parameters, elapsed))

    def reset(self) -> None:
        self.statements = []

    @property
    def total(self) -> float:
        return sum(elapsed for _s, _p, elapsed in self.statements)


def sign_in(client) -> None:
    page = client.get("/editor/sign-in")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    form = {"email": EMAIL, "password": PASSWORD}
    if match:
        form["csrf_token"] = match.group(1)
    answer = client.post("/editor/sign-in", data=form)
    if answer.status_code not in (302, 303):
        raise RuntimeError(f"sign-in failed: {answer.status_code} {answer.get_data()[:300]!r}")


def time_page(client, timer: SqlTimer, url: str) -> dict:
    """Median/p95 of request time, SQL time and statement count over RUNS requests."""
    requests, sql, counts, per_statement = [], [], [], []
    size = 0
    for index in range(WARMUPS + RUNS):
        timer.reset()
        began = time.perf_counter()
        answer = client.get(url)
        body = answer.get_data()
        elapsed = time.perf_counter() - began
        if answer.status_code != 200:
            raise RuntimeError(f"{url}: {answer.status_code} {body[:300]!r}")
        if index >= WARMUPS:
            requests.append(elapsed)
            sql.append(timer.total)
            counts.append(len(timer.statements))
            per_statement.append([(s, p, e) for s, p, e in timer.statements])
            size = len(body)
    # The slowest statements by median time (statement position is the same each run).
    statement_medians = []
    for position in range(min(len(run) for run in per_statement)):
        times = [run[position][2] for run in per_statement]
        text, params, _ = per_statement[-1][position]
        statement_medians.append((statistics.median(times), text, params))
    return {
        "url": url,
        "median_ms": statistics.median(requests) * 1000,
        "p95_ms": percentile(requests, 95) * 1000,
        "sql_median_ms": statistics.median(sql) * 1000,
        "render_median_ms": statistics.median([r - s for r, s in zip(requests, sql, strict=True)])
        * 1000,
        "statements": max(counts),
        "bytes": size,
        "statement_times": statement_medians,
    }


def main_select(statement_times: list) -> tuple[str, dict]:
    """The page's main SELECT: the one on suggestion with ORDER BY ... LIMIT."""
    for _t, text, params in statement_times:
        flat = " ".join(text.split())
        main = flat.startswith("SELECT") and "FROM suggestion" in flat and "LIMIT" in flat
        ordered = (
            "ORDER BY suggestion.created_at" in flat or "ORDER BY suggestion.report_count" in flat
        )
        if main and ordered:
            return text, params
    raise RuntimeError("could not find the queue's main SELECT among the page's statements")


def time_bare(dsn: str, text: str, params) -> dict:
    import psycopg

    with psycopg.connect(dsn) as conn:
        times = []
        rows = 0
        for index in range(WARMUPS + RUNS):
            began = time.perf_counter()
            rows = len(conn.execute(text, params).fetchall())
            elapsed = time.perf_counter() - began
            if index >= WARMUPS:
                times.append(elapsed)
        conn.rollback()
    return {
        "median_ms": statistics.median(times) * 1000,
        "p95_ms": percentile(times, 95) * 1000,
        "rows": rows,
    }


def explain(dsn: str, text: str, params) -> str:
    import psycopg

    with psycopg.connect(dsn) as conn:
        plan = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + text, params).fetchall()
        conn.rollback()
    return "\n".join(row[0] for row in plan)


def deep_cursor(app, dsn: str, sort: str, position: int) -> str:
    """The cursor of the row at ``position`` of the default queue list, in ``sort`` order."""
    import uuid as uuid_module

    import psycopg

    from feedback.editor.queue import encode_cursor
    from feedback.extensions import db
    from feedback.models import Suggestion

    order = (
        "report_count DESC, created_at DESC, id DESC"
        if sort == "most"
        else "created_at DESC, id DESC"
    )
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT id FROM suggestion WHERE duplicate_of_id IS NULL "  # noqa: S608
            "AND status IN ('new', 'accepted') AND anchor_state = 'anchored' "
            f"ORDER BY {order} OFFSET %s LIMIT 1",
            (position,),
        ).fetchone()
    with app.app_context():
        found = db.session.get(Suggestion, uuid_module.UUID(str(row[0])))
        return encode_cursor(found, sort)


def measure_pages(app, dsn: str, position: int, as_json: bool, label: str) -> dict:
    from feedback.extensions import db

    with app.app_context():
        timer = SqlTimer(db.engine)
    pages = {}
    cursors = {sort: deep_cursor(app, dsn, sort, position) for sort in ("newest", "most")}
    client = app.test_client()
    sign_in(client)
    urls = {
        "newest_first": "/editor/",
        "newest_deep": f"/editor/?after={cursors['newest']}",
        "most_first": "/editor/?sort=most",
        "most_deep": f"/editor/?sort=most&after={cursors['most']}",
    }
    for name, url in urls.items():
        page = time_page(client, timer, url)
        text, params = main_select(page["statement_times"])
        page["bare"] = time_bare(dsn, text, params)
        page["main_sql"] = (text, params)
        pages[name] = page
        log(
            f"  [{label}] {name:<13} {page['median_ms']:7.1f} ms median "
            f"(p95 {page['p95_ms']:6.1f})  SQL {page['sql_median_ms']:6.1f} ms in "
            f"{page['statements']} statements  render {page['render_median_ms']:6.1f} ms  "
            f"bare SELECT {page['bare']['median_ms']:6.2f} ms ({page['bare']['rows']} rows)",
            as_json,
        )
    from sqlalchemy import event

    with app.app_context():
        event.remove(db.engine, "before_cursor_execute", timer._before)
        event.remove(db.engine, "after_cursor_execute", timer._after)
    return pages


def slow_statements(pages: dict, threshold_ms: float = 5.0) -> list[tuple[float, str, dict]]:
    seen = {}
    for page in pages.values():
        for elapsed, text, params in page["statement_times"]:
            if elapsed * 1000 >= threshold_ms:
                key = " ".join(text.split())
                if key not in seen or seen[key][0] < elapsed:
                    seen[key] = (elapsed, text, params)
    return sorted(seen.values(), key=lambda item: -item[0])


def judge(pages: dict) -> tuple[bool, dict]:
    verdicts = {}
    for name, page in pages.items():
        # "Within 2x (the bare query plus rendering)": rendering is the request time
        # minus all SQL time; the page's other statements must fit in the slack.
        allowed = MAX_FACTOR * (page["bare"]["median_ms"] + page["render_median_ms"])
        verdicts[name] = {
            "within_2x_of_bare_plus_render": page["median_ms"] <= allowed,
            "under_100ms": page["median_ms"] < LIMIT_MS,
            "allowed_ms": round(allowed, 2),
        }
    met = all(v["within_2x_of_bare_plus_render"] and v["under_100ms"] for v in verdicts.values())
    return met, verdicts


def summarise(pages: dict) -> dict:
    return {
        name: {
            "median_ms": round(page["median_ms"], 2),
            "p95_ms": round(page["p95_ms"], 2),
            "sql_ms": round(page["sql_median_ms"], 2),
            "render_ms": round(page["render_median_ms"], 2),
            "statements": page["statements"],
            "bytes": page["bytes"],
            "bare_median_ms": round(page["bare"]["median_ms"], 3),
            "bare_p95_ms": round(page["bare"]["p95_ms"], 3),
            "slowest_statements_ms": [
                [round(t * 1000, 2), " ".join(s.split())[:160]]
                for t, s, _p in sorted(page["statement_times"], key=lambda x: -x[0])[:3]
            ],
        }
        for name, page in pages.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="50,000 reports, 5,000 articles.")
    parser.add_argument("--json", action="store_true", help="Print only one JSON object.")
    parser.add_argument("--reports", type=int, default=None)
    parser.add_argument("--articles", type=int, default=None)
    args = parser.parse_args()
    args.reports = args.reports or (50_000 if args.quick else 1_000_000)
    args.articles = args.articles or (5_000 if args.quick else 100_000)
    exit_cleanly_on_sigterm()
    instance = tempfile.mkdtemp(prefix="fb_bench_queue_")
    try:
        with temp_postgres_database("fb_bench_queue") as url:
            return _run(args, url, instance)
    finally:
        shutil.rmtree(instance, ignore_errors=True)


def _run(args, url: str, instance: str) -> int:
    as_json = args.json
    dsn = libpq_dsn(url)
    log(f"database {url.rsplit('/', 1)[1]}", as_json)
    env = feedback_env(url, instance)
    run_feedback(["db", "upgrade"], env)
    out = run_feedback(["site", "add", "Bench News", "--origin", "https://news.example.com"], env)
    site_key = re.search(r"site key:\s+(\S+)", out).group(1)
    run_feedback(
        [
            "editor",
            "add",
            EMAIL,
            "--site",
            site_key,
            "--role",
            "owner",
            "--name",
            "Bench Owner",
            "--password-stdin",
        ],
        env,
        stdin=PASSWORD + "\n",
    )
    log(f"filling {args.reports:,} reports over {args.articles:,} articles ...", as_json)
    filled = fill(dsn, args.articles, args.reports, as_json)
    log(f"  {filled}", as_json)

    from feedback import create_app

    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench-queue",
            "TESTING": True,
            "HUEY_IMMEDIATE": True,
            "MAIL_CAPTURE": True,
        }
    )
    position = filled["reports"] // 2
    pages = measure_pages(app, dsn, position, as_json, "pages")
    met, verdicts = judge(pages)

    plans = {name: explain(dsn, *page["main_sql"]) for name, page in pages.items()}
    slow = slow_statements(pages)
    slow_plans = [
        (elapsed, " ".join(text.split()), explain(dsn, text, params))
        for elapsed, text, params in slow
        if (text, params) not in [page["main_sql"] for page in pages.values()]
    ]

    with app.app_context():
        from feedback.extensions import db

        db.engine.dispose()

    worst_name = max(pages, key=lambda name: pages[name]["median_ms"])
    worst = pages[worst_name]
    result = {
        "name": "queue",
        "figure": f"{worst['median_ms']:.1f} ms median, slowest of 4 pages ({worst_name}); "
        + ", ".join(f"{n} {p['median_ms']:.1f}" for n, p in pages.items()),
        "baseline": f"{worst['bare']['median_ms']:.2f} ms bare main SELECT of {worst_name}",
        "ratio": round(worst["bare"]["median_ms"] / worst["median_ms"], 4),
        "ratio_meaning": "bare SELECT time / whole page server time for the slowest page "
        "(latency; higher is better, 1.0 = page costs only its main query)",
        "target": "every page (newest/most, first/deep) <= 2 x (bare SELECT + rendering) "
        f"and < {LIMIT_MS:.0f} ms median, at {filled['reports']:,} reports",
        "met": met,
        "details": {
            "fill": filled,
            "deep_position": position,
            "runs": RUNS,
            "warmups": WARMUPS,
            "pages": summarise(pages),
            "verdicts": verdicts,
            "slow_statements": [
                {"ms": round(e * 1000, 2), "sql": s[:400], "plan": p} for e, s, p in slow_plans
            ],
        },
    }
    if not as_json:
        print()
        for name, plan in plans.items():
            print(f"-- EXPLAIN (ANALYZE, BUFFERS) of the bare main SELECT, {name}:")
            print(plan)
            print()
        print("-- statements of the first page (median ms):")
        for elapsed, text, _params in pages["newest_first"]["statement_times"]:
            print(f"  {elapsed * 1000:7.2f}  {' '.join(text.split())[:150]}")
        print()
        for elapsed, text, plan in slow_plans:
            print(f"-- slow statement on the page ({elapsed * 1000:.1f} ms): {text[:300]}")
            print(plan)
            print()
        print(
            f"{'page':<14}{'median':>9}{'p95':>9}{'SQL':>9}{'render':>9}{'stmts':>7}"
            f"{'bare':>9}{'allowed':>9}  ok"
        )
        for name, page in pages.items():
            verdict = verdicts[name]
            ok = verdict["within_2x_of_bare_plus_render"] and verdict["under_100ms"]
            print(
                f"{name:<14}{page['median_ms']:>9.1f}{page['p95_ms']:>9.1f}"
                f"{page['sql_median_ms']:>9.1f}{page['render_median_ms']:>9.1f}"
                f"{page['statements']:>7}{page['bare']['median_ms']:>9.2f}"
                f"{verdict['allowed_ms']:>9.1f}  {'yes' if ok else 'NO'}"
            )
    emit(result, as_json)
    return 0


if __name__ == "__main__":
    sys.exit(main())

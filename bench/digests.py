"""Benchmark: building the daily digests of 10,000 members in one run.

    .venv/bin/python bench/digests.py [--quick] [--json] [--members 10000] [--sites 10]

Makes a throwaway PostgreSQL database with 10 sites, 50 articles and 200 new reports per
site (a fifth of them copies of an earlier report, some spam, some from the day before),
and N users, each a daily-digest member of one site, spread over eight time zones, whose
digest hour is the local hour of ``now``: every member's period ends at (or, for half-hour
zones, just before) ``now``. Then times ``digests.queue_due_digests(now)`` (which
writes and commits the outbox rows) and runs it again for the same ``now``: the worker
calls it every minute, so the second, idempotent run is what it costs all day.

Baseline: rendering the same number of digest mails with ``render_mail("digest", ...)``
alone, from contents built once per site (no database work at all). The ratio says how
many times the real run costs over the templating it cannot avoid.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

# bench/ holds a queue.py, which must not shadow the standard library's queue module:
# keep bench/ on the path (for _common) but after everything else.
BENCH_DIR = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != BENCH_DIR] + [BENCH_DIR]
REPO = str(Path(BENCH_DIR).parent)
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from _common import emit, exit_cleanly_on_sigterm, log, temp_postgres_database  # noqa: E402

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
ZONES = [
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Australia/Brisbane",
    "Asia/Kolkata",  # +05:30: the period ends half an hour before now
]
KINDS = ["typo", "typo", "typo", "factual", "unclear", "other"]
# fmt: off
WORDS = [
    "the", "harbour", "ferry", "council", "island", "quay", "crossing", "minutes", "service",
    "said", "people", "town", "board", "repairs", "budget", "timetable", "fares", "winter",
    "spring", "propeller", "shaft", "bakery", "customers", "decade",
]
# fmt: on
TARGET_PER_DIGEST_MS = 20.0
TARGET_TOTAL_S = 180.0  # for 10,000 digests
TARGET_RERUN_S = 60.0  # the worker calls queue_due_digests every minute


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def populate(sites: int, articles_per_site: int, reports_per_site: int, members: int) -> dict:
    """Fill the database with ORM bulk inserts; returns counts."""
    from sqlalchemy import insert, update

    from feedback.extensions import db
    from feedback.models import (
        Article,
        ArticleRevision,
        Membership,
        Site,
        Suggestion,
        User,
    )

    rng = random.Random(7)
    site_rows = []
    for index in range(sites):
        site_rows.append(
            {
                "name": f"Bench Gazette {index}",
                "public_key": f"bench-{index}",
                "allowed_origins": [f"https://gazette{index}.example"],
                "secret_hash": hashlib.sha256(f"s{index}".encode()).hexdigest(),
                "settings": {},
                "created_at": NOW - timedelta(days=400),
            }
        )
    site_ids = list(db.session.scalars(insert(Site).returning(Site.id), site_rows))

    article_rows = [
        {
            "site_id": site_id,
            "url": f"https://gazette{s}.example/news/{a}-{'-'.join(WORDS[a % 7 : a % 7 + 3])}",
            "title": sentence(rng, rng.randint(4, 10)).capitalize(),
            "current_revision_number": 1,
            "created_at": NOW - timedelta(days=3),
            "updated_at": NOW - timedelta(days=3),
        }
        for s, site_id in enumerate(site_ids)
        for a in range(articles_per_site)
    ]
    article_ids = list(db.session.scalars(insert(Article).returning(Article.id), article_rows))
    texts = {}
    revision_rows = []
    for article_id in article_ids:
        text = ". ".join(sentence(rng, 14).capitalize() for _ in range(40)) + "."
        texts[article_id] = text
        revision_rows.append(
            {
                "article_id": article_id,
                "number": 1,
                "text": text,
                "sha256": hashlib.sha256(text.encode()).hexdigest(),
                "created_at": NOW - timedelta(days=3),
            }
        )
    revision_ids = list(
        db.session.scalars(insert(ArticleRevision).returning(ArticleRevision.id), revision_rows)
    )
    revision_of = dict(zip(article_ids, revision_ids, strict=True))
    articles_of_site = {
        site_id: article_ids[i * articles_per_site : (i + 1) * articles_per_site]
        for i, site_id in enumerate(site_ids)
    }

    suggestion_rows = []
    heads_by_article: dict[int, list[dict]] = {}
    in_period = 0
    for site_id in site_ids:
        # A few articles draw most reports, as in real life.
        weights = [1.0 / (rank + 1) for rank in range(articles_per_site)]
        for n in range(reports_per_site):
            article_id = rng.choices(articles_of_site[site_id], weights)[0]
            text = texts[article_id]
            heads = heads_by_article.setdefault(article_id, [])
            # 10% from the day before (outside the period), 3% spam, the rest new.
            when = NOW - timedelta(minutes=rng.randint(60, 23 * 60))
            if n % 10 == 9:
                when = NOW - timedelta(hours=rng.randint(26, 40))
            status = "spam" if n % 33 == 32 else "new"
            duplicate_of = None
            if heads and rng.random() < 0.2 and status == "new":
                head = rng.choice(heads)
                duplicate_of = head["id"]
                head["report_count"] += 1
                start, end = head["start"], head["end"]
                when = max(when, head["created_at"] + timedelta(minutes=1))
            else:
                start = rng.randrange(40, len(text) - 60)
                start = text.find(" ", start) + 1
                end = text.find(" ", start)
            # A copy of a note about the whole article is one too.
            whole = rng.random() < 0.05 if duplicate_of is None else start is None
            row = {
                "id": uuid.uuid4(),
                "site_id": site_id,
                "article_id": article_id,
                "revision_id": revision_of[article_id],
                "kind": rng.choice(KINDS),
                "exact": None if whole else text[start:end],
                "prefix": None if whole else text[start - 32 : start],
                "suffix": None if whole else text[end : end + 32],
                "start": None if whole else start,
                "end": None if whole else end,
                "replacement": None if whole else text[start:end].upper(),
                "comment": sentence(rng, 12) if rng.random() < 0.3 else None,
                "reporter_notify": False,
                "status": status,
                "duplicate_of_id": duplicate_of,
                "honeypot": False,
                "request_digest": "0" * 64,
                "report_count": 1,
                "created_at": when,
                "updated_at": when,
            }
            if duplicate_of is None and status == "new":
                heads.append(row)
            if status == "new" and NOW - timedelta(days=1) <= when < NOW:
                in_period += 1
            suggestion_rows.append(row)
    # Heads first, so every duplicate_of points at a row that exists.
    suggestion_rows.sort(key=lambda row: row["duplicate_of_id"] is not None)
    db.session.execute(insert(Suggestion), suggestion_rows)

    user_rows = []
    for index in range(members):
        user_rows.append(
            {
                "email": f"editor{index}@gazette{index % sites}.example",
                "name": f"Editor {index}",
                "password_hash": "",
                "active": True,
                "timezone": ZONES[index % len(ZONES)],
                "created_at": NOW - timedelta(days=100),
            }
        )
    user_ids = []
    for chunk in range(0, len(user_rows), 2000):
        user_ids += list(
            db.session.scalars(insert(User).returning(User.id), user_rows[chunk : chunk + 2000])
        )
    member_rows = []
    for index, user_id in enumerate(user_ids):
        zone = ZoneInfo(ZONES[index % len(ZONES)])
        member_rows.append(
            {
                "user_id": user_id,
                "site_id": site_ids[index % sites],
                "role": "editor",
                "notify": "daily",
                "digest_hour": NOW.astimezone(zone).hour,
                "created_at": NOW - timedelta(days=100),
            }
        )
    for chunk in range(0, len(member_rows), 2000):
        db.session.execute(insert(Membership), member_rows[chunk : chunk + 2000])
    # report_count of the heads, as the real path keeps it.
    for row in suggestion_rows:
        if row["report_count"] > 1:
            db.session.execute(
                update(Suggestion)
                .where(Suggestion.id == row["id"])
                .values(report_count=row["report_count"])
            )
    db.session.commit()
    return {
        "sites": sites,
        "articles": len(article_ids),
        "reports": len(suggestion_rows),
        "reports_in_period_not_spam": in_period,
        "members": members,
    }


def render_baseline(members: int) -> tuple[float, int]:
    """Render ``members`` digest mails from contents built once per site; no DB in the loop.

    Returns (seconds, bytes rendered)."""
    from collections import Counter

    from sqlalchemy import select

    from feedback.extensions import db
    from feedback.links import link_for
    from feedback.mail import digests, render
    from feedback.models import Membership, SuggestionKind, zone_of

    # Everything the templates need, loaded up front (one member per site and zone).
    samples = db.session.scalars(select(Membership).order_by(Membership.id).limit(80)).all()
    prepared = []
    for member in samples:
        start, end = digests.digest_period(member, NOW)
        articles = digests.digest_content(member.site_id, start, end)
        kinds = Counter()
        for article in articles:
            for report in article.reports:
                kinds[report.kind] += 1 + report.duplicates
        zone = zone_of(member.user)
        prepared.append(
            dict(
                site=member.site,
                user=member.user,
                articles=articles,
                total=sum(a.total for a in articles),
                label="Daily",
                kinds=[(k.value, kinds[k.value]) for k in SuggestionKind if kinds[k.value]],
                start=start.astimezone(zone),
                end=end.astimezone(zone),
                queue_url=link_for("editor.queue"),
            )
        )
    # Touch every attribute once so nothing is loaded lazily inside the timed loop.
    for context in prepared:
        _ = (context["site"].name, context["user"].name)
    render.render_mail("digest", **prepared[0])  # compile the templates
    size = 0
    started = time.perf_counter()
    for index in range(members):
        text, html = render.render_mail("digest", **prepared[index % len(prepared)])
        size += len(text) + len(html)
    return time.perf_counter() - started, size


def run(args) -> dict:
    members = args.members or (500 if args.quick else 10_000)
    sites = args.sites
    instance = tempfile.mkdtemp(prefix="fb-bench-digests-")
    try:
        os.environ["FEEDBACK_INSTANCE_PATH"] = instance
        with temp_postgres_database() as url:
            from sqlalchemy import event, func, select

            from feedback import create_app
            from feedback.extensions import db
            from feedback.mail import digests
            from feedback.models import OutboxKind, OutboxMessage

            app = create_app(
                {
                    "DATABASE_URL": url,
                    "SECRET_KEY": "bench-digests",
                    "BASE_URL": "https://corrections.example.com",
                    "MAIL_CAPTURE": True,
                    "MAIL_DEFAULT_SENDER": "Corrections desk <corrections@example.com>",
                    "HUEY_IMMEDIATE": False,
                    "HUEY_SQLITE_PATH": os.path.join(instance, "tasks.sqlite3"),
                }
            )
            with app.app_context():
                try:
                    db.create_all()
                    started = time.perf_counter()
                    counts = populate(sites, 50, 200, members)
                    log(f"setup: {counts} in {time.perf_counter() - started:.1f} s", args.json)
                    db.session.remove()

                    statements = [0]

                    @event.listens_for(db.engine, "before_cursor_execute")
                    def count(*_args):
                        statements[0] += 1

                    started = time.perf_counter()
                    ids = digests.queue_due_digests(NOW)
                    first = time.perf_counter() - started
                    first_statements = statements[0]
                    db.session.remove()
                    written = db.session.scalar(
                        select(func.count())
                        .select_from(OutboxMessage)
                        .where(OutboxMessage.kind == OutboxKind.DIGEST)
                    )
                    avg_size = db.session.scalar(
                        select(
                            func.avg(
                                func.length(OutboxMessage.text_body)
                                + func.length(OutboxMessage.html_body)
                            )
                        )
                    )
                    db.session.remove()
                    log(f"first run: {len(ids)} digests in {first:.1f} s", args.json)

                    statements[0] = 0
                    started = time.perf_counter()
                    again = digests.queue_due_digests(NOW)
                    second = time.perf_counter() - started
                    second_statements = statements[0]
                    db.session.remove()
                    written_after = db.session.scalar(
                        select(func.count()).select_from(OutboxMessage)
                    )
                    db.session.remove()
                    event.remove(db.engine, "before_cursor_execute", count)
                    log(f"second run: {len(again)} digests in {second:.1f} s", args.json)

                    baseline, rendered = render_baseline(members)
                    log(f"baseline: {members} renders in {baseline:.1f} s", args.json)
                finally:
                    db.session.remove()
                    db.engine.dispose()
    finally:
        shutil.rmtree(instance, ignore_errors=True)

    per_digest_ms = first / max(1, len(ids)) * 1000
    scaled_total = per_digest_ms * 10_000 / 1000
    base_ms = baseline / members * 1000
    met = (
        len(ids) == members
        and written == members
        and not again
        and written_after == written
        and per_digest_ms < TARGET_PER_DIGEST_MS
        and scaled_total < TARGET_TOTAL_S
        and second * 10_000 / members < TARGET_RERUN_S
    )
    return {
        "name": "digests",
        "figure": f"{members:,} daily digests in {first:.1f} s ({per_digest_ms:.1f} ms each); "
        f"idempotent re-run {second:.1f} s",
        "baseline": f"render_mail('digest') alone: {base_ms:.1f} ms each ({baseline:.1f} s)",
        "ratio": round(per_digest_ms / base_ms, 2) if base_ms else None,
        "ratio_meaning": "time per digest queued / time to only render its mail (lower is "
        "better; 1 = nothing but templating)",
        "target": f"< {TARGET_PER_DIGEST_MS:.0f} ms per digest, 10,000 digests < "
        f"{TARGET_TOTAL_S / 60:.0f} min, idempotent re-run for 10,000 members < "
        f"{TARGET_RERUN_S:.0f} s (the worker calls it every minute)",
        "met": met,
        "details": {
            **counts,
            "now": NOW.isoformat(),
            "zones": ZONES,
            "digests_queued": len(ids),
            "outbox_rows_written": written,
            "avg_bodies_chars": round(float(avg_size or 0)),
            "first_run_s": round(first, 3),
            "per_digest_ms": round(per_digest_ms, 2),
            "sql_statements_first_run": first_statements,
            "sql_statements_per_digest": round(first_statements / max(1, members), 1),
            "projected_10000_s": round(scaled_total, 1),
            "second_run_s": round(second, 3),
            "second_run_digests_queued": len(again),
            "second_run_rows_written": written_after - written,
            "second_run_per_member_ms": round(second / members * 1000, 2),
            "sql_statements_second_run": second_statements,
            "projected_rerun_10000_s": round(second * 10_000 / members, 1),
            "baseline_render_s": round(baseline, 3),
            "baseline_render_ms_each": round(base_ms, 2),
            "baseline_chars_rendered_each": rendered // max(1, members),
            "quick": bool(args.quick),
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="500 members (smoke test)")
    parser.add_argument("--json", action="store_true", help="print only one JSON object")
    parser.add_argument("--members", type=int, default=0, help="members (10,000; quick 500)")
    parser.add_argument("--sites", type=int, default=10)
    args = parser.parse_args()
    exit_cleanly_on_sigterm()
    args.members = max(0, min(args.members, 100_000))
    args.sites = max(1, min(args.sites, 100))
    result = run(args)
    if not args.json:
        d = result["details"]
        print(
            f"setup: {d['sites']} sites, {d['articles']} articles, {d['reports']} reports "
            f"({d['reports_in_period_not_spam']} new in the period), {d['members']:,} members"
        )
        print(
            f"first run:  {d['digests_queued']:,} digests, {d['outbox_rows_written']:,} rows, "
            f"{d['first_run_s']:.2f} s, {d['per_digest_ms']:.2f} ms each, "
            f"{d['sql_statements_per_digest']} SQL statements each"
        )
        print(
            f"second run: {d['second_run_digests_queued']} digests, "
            f"{d['second_run_rows_written']} rows, {d['second_run_s']:.2f} s "
            f"({d['second_run_per_member_ms']:.2f} ms per member, "
            f"{d['sql_statements_second_run']} SQL statements)"
        )
        print(
            f"baseline:   render_mail('digest') {d['baseline_render_ms_each']:.2f} ms each, "
            f"ratio {result['ratio']}"
        )
    emit(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())

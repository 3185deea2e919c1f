"""Benchmark: finding a new report's group on a 500,000-character article with 1,000 open
reports, and regrouping those reports.

Builds a throwaway SQLite database: one article whose CMS text (a verified revision) holds
N open reports on random words, each placed in it. Then times, each 20 times after 2
warm-ups, grouping.find_group for a new report

- read in the verified text itself (the common case),
- read in a reader's older copy (a paragraph less at the top): placed by re-anchoring,
- with no verified text at all (compared by quote and context with every open report),

and once grouping.regroup_article over all N reports, both ways. Baseline: loading the
article's open reports and the verified text, which any grouping must do.
Target: find_group (median) < 100 ms in every case, regroup < 10 s.

    .venv/bin/python bench/grouping.py [--chars 500000] [--reports 1000] [--quick] [--json]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid

from _common import emit, log, made_up_text

# fmt: off
WORDS = [
    "the", "harbour", "ferry", "council", "island", "quay", "crossing", "minutes", "service",
    "said", "people", "town", "board", "repairs", "budget", "timetable", "fares", "winter",
    "spring", "propeller", "shaft", "bakery", "customers", "decade", "vessel", "chair",
]
# fmt: on
TARGET_FIND_MS = 100.0
TARGET_REGROUP_S = 10.0
RUNS, WARMUPS = 20, 2


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def median_ms(action) -> float:
    for _ in range(WARMUPS):
        action()
    return statistics.median(timed(action) for _ in range(RUNS))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chars", type=int, default=500_000)
    parser.add_argument("--reports", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="100,000 chars, 200 reports")
    parser.add_argument("--json", action="store_true", help="print only one JSON object")
    args = parser.parse_args()
    if args.quick:
        given = " ".join(sys.argv[1:])
        args.chars = args.chars if "--chars" in given else 100_000
        args.reports = args.reports if "--reports" in given else 200

    directory = tempfile.mkdtemp(prefix="feedback-bench-")
    os.environ["FEEDBACK_INSTANCE_PATH"] = directory
    from feedback import anchoring, create_app, grouping, revisions
    from feedback.extensions import db
    from feedback.models import (
        Article,
        ArticleRevision,
        RevisionSource,
        Site,
        Suggestion,
        SuggestionKind,
    )

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "DATABASE_URL": f"sqlite:///{directory}/bench.sqlite3",
            "HUEY_IMMEDIATE": False,
        }
    )
    rng = random.Random(args.seed)
    try:
        with app.app_context():
            db.create_all()
            site = Site(name="Bench", public_key="bench", allowed_origins=[], settings={})
            site.rotate_secret()
            article = Article(site=site, url="https://bench.example/a", title="Bench")
            text = anchoring.normalise(
                made_up_text(rng, args.chars, WORDS, (8, 20), False)[: args.chars]
            )
            older = anchoring.normalise(text[text.index("\n") + 1 :])  # a paragraph less
            verified = ArticleRevision(
                article=article,
                number=2,
                text=text,
                sha256=anchoring.text_sha256(text),
                source=RevisionSource.CMS,
            )
            reader = ArticleRevision(
                article=article,
                number=1,
                text=older,
                sha256=anchoring.text_sha256(older),
                source=RevisionSource.READER,
            )
            article.current_revision_number = 2
            db.session.add_all([site, article, verified, reader])
            db.session.flush()
            for _ in range(args.reports):
                start = text.rfind(" ", 0, rng.randrange(0, len(text) - 40)) + 1
                end = text.find(" ", start)
                quote = anchoring.quote_at(text, start, end)
                db.session.add(
                    Suggestion(
                        id=uuid.uuid4(),
                        site_id=site.id,
                        article_id=article.id,
                        revision_id=verified.id,
                        kind=SuggestionKind.TYPO,
                        exact=quote.exact,
                        prefix=quote.prefix,
                        suffix=quote.suffix,
                        start=start,
                        end=end,
                        replacement=quote.exact.upper(),
                        request_digest="0" * 64,
                    )
                )
            db.session.commit()
            article_id, verified_id, reader_id = article.id, verified.id, reader.id
            db.session.remove()

            start = text.rfind(" ", 0, len(text) // 2) + 1
            new_quote = anchoring.quote_at(text, start, text.find(" ", start))
            shift = len(text) - len(older)
            old_quote = anchoring.quote_at(older, new_quote.start - shift, new_quote.end - shift)

            def fresh(action):
                def run():
                    db.session.remove()  # nothing cached between runs, as in a worker
                    action()

                return run

            def baseline():
                grouping._open_quoted(article_id)
                _ = revisions.current_verified_revision(article_id).text

            def in_verified():
                revision = db.session.get(ArticleRevision, verified_id)
                grouping.find_group(revision, new_quote, "x")

            def from_reader_copy():
                revision = db.session.get(ArticleRevision, reader_id)
                grouping.find_group(revision, old_quote, "x")

            figures = {
                "baseline_ms": median_ms(fresh(baseline)),
                "in_verified_ms": median_ms(fresh(in_verified)),
                "reader_copy_ms": median_ms(fresh(from_reader_copy)),
            }
            started = time.perf_counter()
            grouping.regroup_article(article_id, dry_run=True)
            figures["regroup_verified_s"] = time.perf_counter() - started
            db.session.remove()

            # No verified text: every comparison goes by quote and context.
            db.session.get(Article, article_id).current_revision_number = None
            db.session.commit()
            figures["no_verified_ms"] = median_ms(fresh(from_reader_copy))
            started = time.perf_counter()
            grouping.regroup_article(article_id, dry_run=True)
            figures["regroup_by_context_s"] = time.perf_counter() - started
            db.session.remove()
    finally:
        shutil.rmtree(directory, ignore_errors=True)

    slowest = max(figures["in_verified_ms"], figures["reader_copy_ms"], figures["no_verified_ms"])
    regroup = max(figures["regroup_verified_s"], figures["regroup_by_context_s"])
    for name, value in figures.items():
        log(f"{name}: {value:.3f}", args.json)
    emit(
        {
            "name": "grouping",
            "figure": (
                f"find_group on a {args.chars:,}-character article with {args.reports:,} open "
                f"reports: {figures['in_verified_ms']:.1f} ms in the verified text, "
                f"{figures['reader_copy_ms']:.1f} ms from a reader's copy, "
                f"{figures['no_verified_ms']:.1f} ms with no verified text; regroup "
                f"{figures['regroup_verified_s']:.2f} s / {figures['regroup_by_context_s']:.2f} s"
            ),
            "baseline": f"loading the open reports and the verified text: "
            f"{figures['baseline_ms']:.1f} ms",
            "ratio": slowest / figures["baseline_ms"],
            "ratio_meaning": "slowest find_group / baseline",
            "target": f"find_group < {TARGET_FIND_MS:.0f} ms, regroup < {TARGET_REGROUP_S:.0f} s",
            "met": slowest < TARGET_FIND_MS and regroup < TARGET_REGROUP_S,
            "details": {"chars": args.chars, "reports": args.reports, **figures},
        },
        args.json,
    )


if __name__ == "__main__":
    main()

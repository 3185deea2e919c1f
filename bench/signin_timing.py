"""Benchmark: does the sign-in form's answer time tell who has an account?

Times refused sign-ins with the password hashing as shipped (argon2id, its default cost):
an address with no account (the figure) against a known address with a wrong password
(the baseline), taken in turns in one process so that a busy machine slows both alike.
The ratio of the medians should be close to 1: an unknown address checks a decoy hash.

    .venv/bin/python bench/signin_timing.py [--tries 40] [--quick] [--json]

--quick: 10 tries of each; --json: only one JSON object on stdout (for bench/run_all.py).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time

from _common import emit, log, percentile

# Closer than this and the time says nothing an attacker could use over a network.
TARGET_LOW, TARGET_HIGH = 0.8, 1.25
WRONG = "not the password"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tries", type=int, default=40)
    parser.add_argument("--quick", action="store_true", help="10 tries of each")
    parser.add_argument("--json", action="store_true", help="print only one JSON object")
    args = parser.parse_args()
    tries = 10 if args.quick else args.tries

    directory = tempfile.mkdtemp(prefix="feedback-bench-")
    os.environ["FEEDBACK_INSTANCE_PATH"] = directory
    from feedback import create_app
    from feedback.extensions import db
    from feedback.models import User

    generous = "1000000 per minute"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "DATABASE_URL": f"sqlite:///{directory}/bench.sqlite3",
            "WTF_CSRF_ENABLED": False,
            "SIGNIN_LIMIT_PER_ACCOUNT_AND_CLIENT": generous,
            "SIGNIN_LIMIT_PER_CLIENT": generous,
            "SIGNIN_LIMIT_PER_ACCOUNT": generous,
        }
    )
    try:
        with app.app_context():
            db.create_all()
            editor = User(email="editor@example.com")
            editor.set_password("the editor's real password")
            db.session.add(editor)
            db.session.commit()
            db.session.remove()
        client = app.test_client()
        times: dict[str, list[float]] = {"editor@example.com": [], "nobody@example.com": []}
        for attempt in range(tries + 1):
            for email, taken in times.items():
                started = time.perf_counter()
                status = client.post(
                    "/editor/sign-in", data={"email": email, "password": WRONG}
                ).status_code
                seconds = time.perf_counter() - started
                assert status == 401, status
                if attempt:  # the first of each warms up (and makes the decoy hash)
                    taken.append(seconds * 1000)
        known, unknown = times.values()
    finally:
        shutil.rmtree(directory, ignore_errors=True)

    known_median, unknown_median = statistics.median(known), statistics.median(unknown)
    ratio = unknown_median / known_median
    log(
        f"{tries} tries each: unknown address median {unknown_median:.1f} ms "
        f"(p90 {percentile(unknown, 90):.1f}); known address, wrong password median "
        f"{known_median:.1f} ms (p90 {percentile(known, 90):.1f})",
        args.json,
    )
    emit(
        {
            "name": "signin_timing",
            "figure": f"unknown address refused in {unknown_median:.1f} ms (median)",
            "baseline": f"known address, wrong password: {known_median:.1f} ms (median)",
            "ratio": round(ratio, 3),
            "ratio_meaning": "unknown-address time / wrong-password time (medians)",
            "target": f"{TARGET_LOW} to {TARGET_HIGH}",
            "met": TARGET_LOW <= ratio <= TARGET_HIGH,
            "details": {
                "tries": tries,
                "unknown_ms": {
                    "median": round(unknown_median, 2),
                    "p90": round(percentile(unknown, 90), 2),
                },
                "known_ms": {
                    "median": round(known_median, 2),
                    "p90": round(percentile(known, 90), 2),
                },
            },
        },
        args.json,
    )


if __name__ == "__main__":
    main()

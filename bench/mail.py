"""Benchmark: outbox mail delivered per second to a local SMTP server.

    .venv/bin/python bench/mail.py [--quick] [--json] [--messages 2000] [--batch 100]

Fills the outbox of a throwaway PostgreSQL database with N instant-notice mails (written
by ``mail.outbox.write_outbox``, bodies rendered from the real templates), starts an
aiosmtpd server on 127.0.0.1 in its own process (so it does not compete with the sender
for the GIL), and times ``mailer.deliver()``: claim a batch (FOR UPDATE SKIP LOCKED), open
one SMTP connection per batch, send each mail and commit its row.

Baseline: a plain ``smtplib`` loop sending the same messages (bytes built beforehand by the
service's own ``to_message``) over ONE connection reused for all, to the same server. It
runs before and after the service and the mean of the two is the baseline. The server
records every Message-ID; each phase must deliver exactly N messages, each Message-ID once.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

# bench/ holds a queue.py, which must not shadow the standard library's queue module:
# keep bench/ on the path (for _common) but after everything else.
BENCH_DIR = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != BENCH_DIR] + [BENCH_DIR]
REPO = str(Path(BENCH_DIR).parent)
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from _common import (  # noqa: E402
    emit,
    exit_cleanly_on_sigterm,
    free_port,
    libpq_dsn,
    log,
    temp_postgres_database,
)

SENDER = "Corrections desk <corrections@example.com>"
BASE_URL = "https://corrections.example.com"
# 3,000 mails a minute: the daily digests of 10,000 members go out in under 4 minutes.
TARGET_RATE = 50.0
MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]*>)", re.IGNORECASE | re.MULTILINE)


# --- the SMTP server, run as a child process ------------------------------------------------


def serve(port: int, log_path: str) -> int:
    """Accept mail on 127.0.0.1:port; append "<message-id> <rcpt>" per mail to log_path.

    Prints "ready" when listening; stops when stdin closes or on SIGTERM."""
    from aiosmtpd.controller import Controller

    out = open(log_path, "ab", buffering=0)  # noqa: SIM115 - closed below

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            head = envelope.content.split(b"\r\n\r\n", 1)[0]
            found = MESSAGE_ID.search(head)
            ident = found.group(1) if found else b"<none>"
            out.write(ident + b" " + ",".join(envelope.rcpt_tos).encode() + b"\n")
            return "250 Message accepted"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("ready", flush=True)
    try:
        sys.stdin.read()
    except (ValueError, OSError):
        pass
    finally:
        controller.stop()
        out.close()
    return 0


class ServerProcess:
    def __init__(self, log_path: str):
        self.port = free_port()
        self.log_path = log_path
        self.offset = 0
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(self.port), log_path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,
        )
        line = self.proc.stdout.readline()
        if line.strip() != b"ready":
            self.stop()
            raise RuntimeError("the SMTP server did not start")

    def take(self) -> list[bytes]:
        """Message-IDs received since the last call."""
        with open(self.log_path, "rb") as log_file:
            log_file.seek(self.offset)
            data = log_file.read()
        complete = data[: data.rfind(b"\n") + 1]
        self.offset += len(complete)
        return [line.split(b" ", 1)[0] for line in complete.splitlines()]

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=10)
            except (subprocess.TimeoutExpired, OSError):
                self.proc.kill()
                self.proc.wait(timeout=10)


# --- the benchmark ------------------------------------------------------------------------------


def fill_outbox(count: int) -> None:
    """N instant notices, rendered from the real templates, written as the service does."""
    from types import SimpleNamespace

    from feedback.extensions import db
    from feedback.links import link_for
    from feedback.mail import headers as mail_headers
    from feedback.mail import outbox, render
    from feedback.models import OutboxKind, Site

    site = Site(name="Bench Gazette", public_key="bench", allowed_origins=[], settings={})
    site.rotate_secret()
    db.session.add(site)
    db.session.commit()
    member = SimpleNamespace(name="Editor", email="editor@example.com")
    for index in range(count):
        report = render.ReportView(
            kind="typo",
            prefix="The little blue ferry that links ",
            exact=f"teh old town {index}",
            suffix=" with Gull Island went back into",
            replacement=f"the old town {index}",
            comment="Spelling." if index % 3 == 0 else None,
            article_title="Ferry returns to Gull Island after a winter of repairs",
            article_url=f"https://news.example.com/ferry-{index % 50}",
            report_url=link_for("editor.report", suggestion_id=index),
            cut_before=True,
            cut_after=True,
        )
        text, html = render.render_mail(
            "instant",
            site=site,
            user=member,
            report=report,
            more=0,
            queue_url=link_for("editor.queue"),
        )
        address = f"editor{index % 20}@example.com"
        outbox.write_outbox(
            outbox.Mail(
                key=f"bench:{index}",
                kind=OutboxKind.INSTANT,
                to=mail_headers.checked_address(address, f"Editor {index % 20}"),
                subject=f"[{site.name}] New typo report on “teh old town {index}”",
                text=text,
                html=html,
                site_id=site.id,
                headers=mail_headers.unsubscribe_headers(index % 20 + 1, site.id),
            )
        )
        if index % 500 == 499:
            db.session.commit()
    db.session.commit()


def prepared_messages() -> tuple[list[tuple[str, list[str], bytes, bytes]], float]:
    """(envelope from, recipients, bytes, Message-ID) of every outbox row, built as the
    service builds them (the baseline sends these), and the seconds the building took."""
    from flask_mail import sanitize_address, sanitize_addresses
    from sqlalchemy import select

    from feedback.extensions import db
    from feedback.mail import mailer
    from feedback.models import OutboxMessage

    prepared = []
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    started = time.perf_counter()
    for row in rows:
        message = mailer.to_message(row)
        message.date = time.time()
        prepared.append(
            (
                sanitize_address(message.sender),
                list(sanitize_addresses(message.send_to)),
                message.as_bytes(),
                row.message_id.encode(),
            )
        )
    elapsed = time.perf_counter() - started
    db.session.remove()
    return prepared, elapsed


def commit_latency(dsn: str, count: int = 100) -> float:
    """Seconds per one-row INSERT + COMMIT on this server (what one durable commit costs)."""
    import psycopg

    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE TABLE bench_commit (x integer)")
        conn.commit()
        started = time.perf_counter()
        for index in range(count):
            conn.execute("INSERT INTO bench_commit VALUES (%s)", (index,))
            conn.commit()
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE bench_commit")
        conn.commit()
    return elapsed / count


def plain_loop(port: int, messages) -> float:
    """Send everything over one reused connection; returns seconds."""
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for sender, recipients, data, _ident in messages:
            smtp.sendmail(sender, recipients, data)
    return time.perf_counter() - started


def check(received: list[bytes], expected: set[bytes], phase: str) -> dict:
    counts = Counter(received)
    problems = []
    if len(received) != len(expected):
        problems.append(f"{phase}: {len(received)} received, {len(expected)} expected")
    if set(counts) != expected:
        problems.append(f"{phase}: Message-IDs differ from the outbox's")
    repeated = sum(1 for n in counts.values() if n > 1)
    if repeated:
        problems.append(f"{phase}: {repeated} Message-IDs received more than once")
    return {"received": len(received), "distinct": len(counts), "problems": problems}


def run(args) -> dict:
    count = args.messages or (200 if args.quick else 2_000)
    batch = args.batch
    workdir = tempfile.mkdtemp(prefix="fb-bench-mail-")
    server = None
    try:
        os.environ["FEEDBACK_INSTANCE_PATH"] = workdir
        server = ServerProcess(os.path.join(workdir, "received.log"))
        with temp_postgres_database() as url:
            from sqlalchemy import func, select

            from feedback import create_app
            from feedback.extensions import db
            from feedback.mail import mailer
            from feedback.models import OutboxMessage, OutboxStatus

            app = create_app(
                {
                    "DATABASE_URL": url,
                    "SECRET_KEY": "bench-mail",
                    "BASE_URL": BASE_URL,
                    "MAIL_SERVER": "127.0.0.1",
                    "MAIL_PORT": server.port,
                    "MAIL_DEFAULT_SENDER": SENDER,
                    "MAIL_CAPTURE": False,
                    "OUTBOX_BATCH_SIZE": batch,
                    "HUEY_IMMEDIATE": False,
                    "HUEY_SQLITE_PATH": os.path.join(workdir, "tasks.sqlite3"),
                }
            )
            with app.app_context():
                try:
                    db.create_all()
                    started = time.perf_counter()
                    fill_outbox(count)
                    log(
                        f"outbox: {count} rows in {time.perf_counter() - started:.1f} s",
                        args.json,
                    )
                    messages, build = prepared_messages()
                    commit_s = commit_latency(libpq_dsn(url))
                    expected = {ident for *_rest, ident in messages}
                    average_size = sum(len(m[2]) for m in messages) / max(1, len(messages))

                    # Warm-up (connection set-up, code paths), not counted.
                    plain_loop(server.port, messages[:20])
                    server.take()

                    before = plain_loop(server.port, messages)
                    check_before = check(server.take(), expected, "baseline (before)")
                    log(f"plain smtplib: {count / before:.0f} msgs/s", args.json)

                    started = time.perf_counter()
                    report = mailer.deliver()
                    service = time.perf_counter() - started
                    db.session.remove()
                    check_service = check(server.take(), expected, "service")
                    sent_rows = db.session.scalar(
                        select(func.count())
                        .select_from(OutboxMessage)
                        .where(OutboxMessage.status == OutboxStatus.SENT)
                    )
                    db.session.remove()
                    log(f"deliver(): {count / service:.0f} msgs/s", args.json)

                    after = plain_loop(server.port, messages)
                    check_after = check(server.take(), expected, "baseline (after)")
                    log(f"plain smtplib again: {count / after:.0f} msgs/s", args.json)
                finally:
                    db.session.remove()
                    db.engine.dispose()
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    service_rate = count / service
    baseline_rate = (count / before + count / after) / 2
    ratio = service_rate / baseline_rate
    problems = check_before["problems"] + check_service["problems"] + check_after["problems"]
    if report.sent != count or sent_rows != count:
        problems.append(f"deliver() reported {report.sent} sent, {sent_rows} rows marked sent")
    met = not problems and service_rate >= TARGET_RATE
    return {
        "name": "mail",
        "figure": f"{service_rate:.0f} mails/s by mailer.deliver() ({count:,} mails, "
        f"batches of {batch})",
        "baseline": f"{baseline_rate:.0f} mails/s by a plain smtplib loop on one connection",
        "ratio": round(ratio, 3),
        "ratio_meaning": "service rate / plain smtplib rate (higher is better; 1 = no overhead)",
        "target": f">= {TARGET_RATE:.0f} mails/s (10,000 digests out in < 4 min), every mail "
        "received exactly once; the ratio is for information",
        "met": met,
        "details": {
            "messages": count,
            "batch_size": batch,
            "smtp_connections_by_service": -(-count // batch),
            "average_message_bytes": round(average_size),
            "service_s": round(service, 3),
            "service_per_mail_ms": round(service / count * 1000, 3),
            "baseline_before_s": round(before, 3),
            "baseline_after_s": round(after, 3),
            "baseline_per_mail_ms": round((before + after) / 2 / count * 1000, 3),
            # Where the service's extra time goes (measured separately, same run):
            "mime_build_per_mail_ms": round(build / count * 1000, 3),
            "pg_commit_ms": round(commit_s * 1000, 3),
            "commits_per_mail_by_service": 1,
            "deliver_report": {
                "sent": report.sent,
                "retrying": report.retrying,
                "failed": report.failed,
            },
            "rows_marked_sent": sent_rows,
            "received": {
                "baseline_before": check_before["received"],
                "service": check_service["received"],
                "baseline_after": check_after["received"],
            },
            "problems": problems,
            "server": "aiosmtpd in a separate process on 127.0.0.1",
            "quick": bool(args.quick),
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 mails (smoke test)")
    parser.add_argument("--json", action="store_true", help="print only one JSON object")
    parser.add_argument("--messages", type=int, default=0, help="mails (2,000; quick 200)")
    parser.add_argument("--batch", type=int, default=100, help="OUTBOX_BATCH_SIZE (100)")
    parser.add_argument("--serve", nargs=2, metavar=("PORT", "LOG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(int(args.serve[0]), args.serve[1])
    exit_cleanly_on_sigterm()
    args.messages = max(0, min(args.messages, 50_000))
    args.batch = max(1, min(args.batch, 10_000))
    result = run(args)
    if not args.json:
        d = result["details"]
        print(
            f"{d['messages']:,} mails of ~{d['average_message_bytes']:,} bytes; "
            f"service {d['service_per_mail_ms']:.2f} ms each "
            f"({d['smtp_connections_by_service']} SMTP connections), "
            f"plain loop {d['baseline_per_mail_ms']:.2f} ms each (1 connection)"
        )
        print(
            f"of which: building the MIME message {d['mime_build_per_mail_ms']:.2f} ms, one "
            f"PostgreSQL commit {d['pg_commit_ms']:.2f} ms (the service commits once per mail)"
        )
        print(f"received: {d['received']}; problems: {d['problems'] or 'none'}")
    emit(result, args.json)
    return 0 if not result["details"]["problems"] else 1


if __name__ == "__main__":
    sys.exit(main())

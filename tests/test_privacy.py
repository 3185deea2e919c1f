"""Readers' data is kept only as long as needed: retention of contact details, user agents
and client hashes; `feedback privacy forget` and `export`. Nothing else is touched."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from feedback import privacy, workflow
from feedback.extensions import db
from feedback.models import (
    IncomingReport,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    Suggestion,
    SuggestionStatus,
    utcnow,
)
from tests.conftest import run_periodic_task, suggestion_body

ANN = {"name": "Ann Reader", "email": "Ann@Example.net", "notify": True}
ANN_HELD = ("Ann Reader", "Ann@Example.net", True)  # stored as sent
BOB = {"name": "Bob Other", "email": "bob@example.org", "notify": True}
UA = "Mozilla/5.0 (reader's browser)"
# Every column of a report but the ones retention may erase.
KEPT = [
    column.key
    for column in Suggestion.__table__.columns
    if column.key
    not in {
        "reporter_name",
        "reporter_email",
        "reporter_notify",
        "user_agent",
        "client_hash",
        "search_text",
    }
]


@pytest.fixture
def app_config():
    return {"HUEY_IMMEDIATE": True}


@pytest.fixture
def report(site, post_suggestion):
    """Post a report through the API; the filed Suggestion."""

    def post(reporter: dict | None = None, **changes) -> Suggestion:
        body = suggestion_body(reporter=reporter, **changes)
        response = post_suggestion(body, headers={"User-Agent": UA})
        assert response.status_code == 201, response.get_json()
        return db.session.get(Suggestion, uuid.UUID(body["id"]))

    return post


def snapshot(report: Suggestion) -> dict:
    db.session.refresh(report)
    return {key: getattr(report, key) for key in KEPT}


def close(report: Suggestion, status: SuggestionStatus = SuggestionStatus.REJECTED) -> None:
    workflow.change_status(report, status, None)
    db.session.commit()


def contact_of(report: Suggestion) -> tuple:
    db.session.refresh(report)
    return (report.reporter_name, report.reporter_email, report.reporter_notify)


def in_days(days: float):
    return utcnow() + timedelta(days=days)


def test_contact_details_go_90_days_after_the_report_closes(report):
    closed = report(ANN)
    still_open = report(ANN, exact="eleven", replacement="twelve")
    other = report(BOB, exact="quay", replacement="key")
    close(closed)
    close(other, SuggestionStatus.SPAM)
    before = {r.id: snapshot(r) for r in (closed, still_open, other)}

    assert privacy.apply_retention(in_days(89)).contact.reports == 0
    assert contact_of(closed) == ANN_HELD

    summary = privacy.apply_retention(in_days(91))
    assert summary.contact.reports == 2
    assert contact_of(closed) == (None, None, False)
    assert contact_of(other) == (None, None, False)
    # An open report keeps its reader however old it is: they may still hear back.
    assert contact_of(still_open) == ANN_HELD
    # Nothing else changed, not even updated_at; the name is gone from the search text.
    assert {r.id: snapshot(r) for r in (closed, still_open, other)} == before
    assert "ann" not in closed.search_text
    assert "ann" in still_open.search_text
    # A second run finds nothing more to do.
    assert privacy.apply_retention(in_days(91)).contact.total == 0


def test_user_agents_and_client_hashes_go_after_30_days(report):
    first = report(ANN)
    incoming = db.session.get(IncomingReport, first.id)
    assert (first.user_agent, incoming.user_agent) == (UA, UA)
    assert first.client_hash
    assert incoming.client_hash
    before = snapshot(first)

    assert privacy.apply_retention(in_days(29)).client.total == 0
    summary = privacy.apply_retention(in_days(31))
    assert (summary.client.reports, summary.client.waiting_reports) == (1, 1)
    db.session.refresh(first)
    db.session.refresh(incoming)
    assert (first.user_agent, first.client_hash) == (None, None)
    assert (incoming.user_agent, incoming.client_hash) == (None, None)
    assert incoming.request_digest  # the receipt of the id stays
    # The reader's contact details are another matter (the report is open).
    assert contact_of(first) == ANN_HELD
    assert snapshot(first) == before


def reader_mail() -> list[OutboxMessage]:
    return list(
        db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.READER))
    )


def test_mail_to_a_reader_goes_with_their_contact_details(report):
    fixed = report(ANN)
    close(fixed, SuggestionStatus.FIXED)
    (mail,) = reader_mail()
    assert "ann@example.net" in mail.to_address.lower()
    mail.status = OutboxStatus.SENT
    db.session.commit()
    subject = mail.subject

    assert privacy.apply_retention(in_days(89)).contact.mails == 0
    assert privacy.apply_retention(in_days(91)).contact.mails == 1
    db.session.refresh(mail)
    assert (mail.to_address, mail.text_body, mail.html_body) == ("", "", "")
    assert (mail.status, mail.subject) == (OutboxStatus.SENT, subject)


class TestWaitingReports:
    @pytest.fixture
    def app_config(self):
        return {"HUEY_IMMEDIATE": False}

    def test_retention_covers_reports_waiting_to_be_filed(self, site, post_suggestion):
        body = suggestion_body(reporter=ANN)
        assert post_suggestion(body, headers={"User-Agent": UA}).status_code == 201
        waiting = db.session.get(IncomingReport, uuid.UUID(body["id"]))
        stored = json.loads(waiting.body)

        summary = privacy.apply_retention(in_days(31))
        assert (summary.client.waiting_reports, summary.contact.waiting_reports) == (1, 0)
        db.session.refresh(waiting)
        assert (waiting.user_agent, waiting.client_hash) == (None, None)
        assert json.loads(waiting.body)["reporter"]["email"] == "Ann@Example.net"

        assert privacy.apply_retention(in_days(91)).contact.waiting_reports == 1
        db.session.refresh(waiting)
        assert json.loads(waiting.body) == {**stored, "reporter": None}
        assert waiting.filed_at is None
        # Filed later, the report simply has no reader to tell.
        from feedback import suggestions

        filed = suggestions.file_report(waiting.id)
        assert contact_of(filed) == (None, None, False)


def test_the_worker_applies_retention_each_hour(app, report):
    app.config["RETAIN_CLIENT_DAYS"] = 0
    first_id = report(ANN).id
    assert run_periodic_task(app.extensions["huey"], "apply_retention") == 2
    first = db.session.get(Suggestion, first_id)
    assert (first.user_agent, first.client_hash) == (None, None)
    assert contact_of(first) == ANN_HELD


class TestForget:
    @pytest.fixture
    def app_config(self):
        return {"HUEY_IMMEDIATE": True}

    def test_forget_erases_one_reader_everywhere_and_nothing_else(self, report, run_cli):
        open_one = report(ANN)
        fixed = report(ANN, exact="eleven", replacement="twelve")
        bobs = report(BOB, exact="quay", replacement="key")
        close(fixed, SuggestionStatus.FIXED)
        close(bobs, SuggestionStatus.FIXED)
        anns_mail, bobs_mail = sorted(reader_mail(), key=lambda m: "bob" in m.to_address)
        assert anns_mail.status == OutboxStatus.PENDING
        before = {r.id: snapshot(r) for r in (open_one, fixed, bobs)}

        result = run_cli("privacy", "forget", "  ANN@example.NET ")
        assert result.exit_code == 0, result.output
        assert result.output.startswith("erased 3: 2 reports, 0 waiting reports, 1 mails")
        assert contact_of(open_one) == contact_of(fixed) == (None, None, False)
        assert contact_of(bobs) == ("Bob Other", "bob@example.org", True)
        assert {r.id: snapshot(r) for r in (open_one, fixed, bobs)} == before
        db.session.refresh(open_one)
        assert open_one.user_agent == UA  # not contact details: retention's business
        db.session.refresh(anns_mail)
        db.session.refresh(bobs_mail)
        # The mail not sent yet never will be, and says why.
        assert (anns_mail.to_address, anns_mail.text_body) == ("", "")
        assert anns_mail.status == OutboxStatus.FAILED
        assert anns_mail.last_error == privacy.FORGOTTEN
        assert "bob@example.org" in bobs_mail.to_address
        assert bobs_mail.status == OutboxStatus.PENDING
        assert bobs_mail.text_body

        again = run_cli("privacy", "forget", "ann@example.net")
        assert again.output.startswith("erased 0:")

    def test_export_prints_what_is_held_about_one_reader(self, report, run_cli, site):
        anns = report(ANN, comment="Please fix.")
        close(anns, SuggestionStatus.FIXED)
        report(BOB, exact="quay", replacement="key")
        result = run_cli("privacy", "export", "ann@example.net")
        assert result.exit_code == 0, result.output
        data = json.loads(result.output)
        assert data["email"] == "ann@example.net"
        (held,) = data["reports"]
        assert held["id"] == str(anns.id)
        assert (held["name"], held["email"], held["notify"]) == ANN_HELD
        assert (held["site"], held["comment"], held["user_agent"]) == (
            site.public_key,
            "Please fix.",
            UA,
        )
        (mail,) = data["mails"]
        assert "ann@example.net" in mail["to"].lower()
        assert mail["text"]
        assert data["waiting_reports"] == []
        assert "Bob" not in result.output
        assert "bob@" not in result.output

    @pytest.mark.parametrize("address", ["not-an-address", "two@at@example.net", ""])
    def test_a_bad_address_is_one_line_and_changes_nothing(self, report, run_cli, address):
        anns = report(ANN)
        for command in ("forget", "export"):
            result = run_cli("privacy", command, address)
            assert result.exit_code != 0
            assert "EMAIL" in result.output
        assert contact_of(anns) == ANN_HELD


class TestForgetWaiting:
    @pytest.fixture
    def app_config(self):
        return {"HUEY_IMMEDIATE": False}

    def test_forget_and_export_cover_reports_waiting_to_be_filed(
        self, site, post_suggestion, run_cli
    ):
        anns, bobs = suggestion_body(reporter=ANN), suggestion_body(reporter=BOB)
        for body in (anns, bobs):
            assert post_suggestion(body).status_code == 201
        exported = json.loads(run_cli("privacy", "export", "ann@example.net").output)
        (waiting,) = exported["waiting_reports"]
        assert waiting["id"] == anns["id"]
        assert waiting["body"]["reporter"] == ANN

        result = run_cli("privacy", "forget", "ann@example.net")
        assert result.output.startswith("erased 1: 0 reports, 1 waiting reports, 0 mails")
        stored = {
            str(row.id): json.loads(row.body) for row in db.session.scalars(select(IncomingReport))
        }
        assert stored[anns["id"]]["reporter"] is None
        assert stored[anns["id"]]["comment"] == anns["comment"]
        assert stored[bobs["id"]]["reporter"] == BOB

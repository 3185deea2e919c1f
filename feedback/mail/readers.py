"""Reader notices: a reader who left an address and asked to hear back is told when
their report is fixed (or, if the site wants, rejected)."""

from __future__ import annotations

from flask import current_app

from feedback.extensions import db
from feedback.mail.headers import UnsafeHeader, checked_address, single_line, site_sender
from feedback.mail.outbox import Mail, write_outbox
from feedback.mail.render import ReportView, render_mail
from feedback.models import OutboxKind, OutboxMessage, Site, Suggestion, SuggestionStatus


def queue_reader_notice(suggestion: Suggestion, old_status, *_rest) -> OutboxMessage | None:
    """Status-change listener: tell a consenting reader their report was fixed (or,
    if the site wants, rejected). Does not commit."""
    status = suggestion.status
    if status == old_status or not suggestion.reporter_notify or not suggestion.reporter_email:
        return None
    site = db.session.get(Site, suggestion.site_id)
    if status == SuggestionStatus.REJECTED:
        if not site.options.notify_readers_on_reject:
            return None
    elif status != SuggestionStatus.FIXED:
        return None
    try:
        to = checked_address(suggestion.reporter_email, suggestion.reporter_name or "")
    except UnsafeHeader:
        current_app.logger.warning("reader address of report %s refused", suggestion.id)
        return None
    report = ReportView.of(suggestion)
    template = "reader_fixed" if status == SuggestionStatus.FIXED else "reader_rejected"
    text, html = render_mail(
        template, site=site, report=report, name=single_line(suggestion.reporter_name or "", 100)
    )
    title = single_line(report.article_title, 120)
    subject = (
        f"Thank you: your correction to “{title}” was made"
        if status == SuggestionStatus.FIXED
        else f"About your report on “{title}”"
    )
    return write_outbox(
        Mail(
            key=f"reader:{suggestion.id}:{status.value}",
            kind=OutboxKind.READER,
            to=to,
            subject=f"[{site.name}] {subject}",
            text=text,
            html=html,
            site_id=site.id,
            # The reader wrote to the paper, not to a service they never heard of.
            headers={"From": site_sender(site.name)},
        )
    )

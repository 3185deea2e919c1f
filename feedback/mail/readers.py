"""Reader notices: a reader who left an address and asked to hear back is told when
their report is fixed (or, if the site wants, rejected)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from flask import current_app

from feedback.extensions import db
from feedback.mail.headers import UnsafeHeader, checked_address, single_line, site_sender
from feedback.mail.outbox import Mail, fresh_key, write_outbox
from feedback.mail.render import ReportView, render_mail
from feedback.models import (
    Decision,
    OutboxKind,
    OutboxMessage,
    Site,
    Suggestion,
    SuggestionStatus,
)

# Characters of the corrected article shown either side of the new words.
NOW_READS_CONTEXT = 60


@dataclass(frozen=True)
class NowReads:
    """The corrected passage as the site's own text of the article has it."""

    before: str
    words: str
    after: str
    cut_before: bool
    cut_after: bool


def now_reads(suggestion: Suggestion) -> NowReads | None:
    """The new words in the revision that carries the fix, with some text either side,
    cut at word boundaries. None when no text from the site carries the fix (an editor
    marked it fixed by hand): a reader's own text never speaks for the article."""
    revision = suggestion.fixed_revision
    if (
        revision is None
        or not revision.verified
        or suggestion.anchor_revision_id != revision.id
        or suggestion.anchor_start is None
        or suggestion.anchor_end is None
    ):
        return None
    text, start, end = revision.text, suggestion.anchor_start, suggestion.anchor_end
    low, high = max(0, start - NOW_READS_CONTEXT), min(len(text), end + NOW_READS_CONTEXT)
    before, after = text[low:start], text[end:high]
    if low > 0 and " " in before:
        before = before[before.index(" ") + 1 :]
    if high < len(text) and " " in after:
        after = after[: after.rindex(" ")]
    return NowReads(before, text[start:end], after, low > 0, high < len(text))


def readers_hear_of(site: Site, status: SuggestionStatus) -> bool:
    """Whether readers who asked to hear back are told when a report moves to
    ``status``: a fix always, a rejection where the site wants it."""
    if status == SuggestionStatus.REJECTED:
        return site.options.notify_readers_on_reject
    return status == SuggestionStatus.FIXED


def queue_reader_notice(
    suggestion: Suggestion, old_status, *_rest, decision: Decision | None = None
) -> OutboxMessage | None:
    """Status-change listener: tell a consenting reader their report was fixed (or,
    if the site wants, rejected). An editor's decision holds the mail until it can no
    longer be undone, and brings the editors' message. Does not commit."""
    status = suggestion.status
    if status == old_status or not suggestion.reporter_notify or not suggestion.reporter_email:
        return None
    site = db.session.get(Site, suggestion.site_id)
    if not readers_hear_of(site, status):
        return None
    # Told once per outcome; a mail cancelled by an undo leaves room for the next one.
    key = fresh_key(f"reader:{suggestion.id}:{status.value}")
    if key is None:
        return None
    try:
        to = checked_address(suggestion.reporter_email, suggestion.reporter_name or "")
    except UnsafeHeader:
        current_app.logger.warning("reader address of report %s refused", suggestion.id)
        return None
    # The article as the site names it, never a title a reader sent.
    report = replace(
        ReportView.of(suggestion),
        article_title=single_line(suggestion.article.published_title, 300),
    )
    fixed = status == SuggestionStatus.FIXED
    reads = now_reads(suggestion) if fixed else None
    text, html = render_mail(
        "reader_fixed" if fixed else "reader_rejected",
        site=site,
        report=report,
        name=single_line(suggestion.reporter_name or "", 100),
        now_reads=reads,
        message=decision.message if decision else None,
        # The spot: the new words once the site's text carries them, the reported words
        # of a rejected report; a fix no text shows yet gets the article itself.
        article_link=suggestion.article_link() if reads or not fixed else suggestion.article.url,
    )
    title = single_line(report.article_title, 120)
    subject = (
        f"Thank you: your correction to “{title}” was made"
        if fixed
        else f"About your report on “{title}”"
    )
    return write_outbox(
        Mail(
            key=key,
            kind=OutboxKind.READER,
            to=to,
            subject=f"[{site.name}] {subject}",
            text=text,
            html=html,
            site_id=site.id,
            # The reader wrote to the paper, not to a service they never heard of.
            headers={"From": site_sender(site.name)},
            not_before=decision.undo_until if decision else None,
            decision_id=decision.id if decision else None,
        )
    )

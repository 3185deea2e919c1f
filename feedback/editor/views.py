"""The triage queue, one report, one article. Every route needs a signed-in member;
``access`` decides what each may see and do."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from feedback import background, grouping, revisions, workflow
from feedback.anchoring import PositionMap
from feedback.editor import access, queue, wants_json
from feedback.editor.auth import safe_next
from feedback.editor.context import Sentence, sentence_around
from feedback.editor.filters import STATUS_ACTIONS
from feedback.errors import Invalid, NotFound, OperationError, error_response
from feedback.extensions import db
from feedback.mail import readers
from feedback.models import (
    Article,
    ArticleRevision,
    AuditEvent,
    Decision,
    EditorNote,
    Suggestion,
    SuggestionKind,
    SuggestionStatus,
    User,
)
from feedback.models.core import ALLOWED_TRANSITIONS, OPEN_STATUSES
from feedback.models.types import utcnow
from feedback.permissions import Action

blp = Blueprint("editor", __name__, url_prefix="/editor")

# The order the workflow buttons stand in: forward moves first, reopening last.
MOVE_ORDER = [
    SuggestionStatus.ACCEPTED,
    SuggestionStatus.FIXED,
    SuggestionStatus.REJECTED,
    SuggestionStatus.SPAM,
    SuggestionStatus.NEW,
]
ARTICLE_CONTEXT_CHARS = 400
# Readers' comments shown beside the change (the group's list has them all).
COMMENTS_SHOWN = 3
# The keys of the report page's moves (the queue's too, and the shortcuts list).
MOVE_KEYS = {
    SuggestionStatus.ACCEPTED: "a",
    SuggestionStatus.FIXED: "f",
    SuggestionStatus.REJECTED: "r",
    SuggestionStatus.SPAM: "s",
}
# Keys of bulk actions, and the status each moves to.
BULK_STATUS = {
    "accept": SuggestionStatus.ACCEPTED,
    "fix": SuggestionStatus.FIXED,
    "reject": SuggestionStatus.REJECTED,
    "spam": SuggestionStatus.SPAM,
}


@blp.before_request
@login_required
def _signed_in():
    """Every page here needs a signed-in user (Flask-Login redirects the others)."""


@blp.errorhandler(OperationError)
def _refused(error: OperationError):
    """An action that cannot be carried out changes nothing and says why."""
    db.session.rollback()
    if wants_json():
        return error_response(error.status, error.code, error.message, error.fields)
    flash(error.message, "error")
    return redirect(safe_next(request.form.get("next"), url_for(".queue")), code=303)


def _done(message: str, default_next: str, decision: Decision | None = None, **json_fields):
    """Answer a successful action: JSON for the keyboard script, else back to the page.
    A decision's message is its undo toast (see ``_undo_offer``), not a flash."""
    if wants_json():
        undo = _undo_offer(decision) if decision else None
        return jsonify({"message": message, "undo": undo, **json_fields})
    if decision is None:
        flash(message)
    return redirect(safe_next(request.form.get("next"), default_next), code=303)


def _undo_offer(decision: Decision) -> dict:
    """What the undo toast needs: its words, where Undo posts, how long it may."""
    left = (decision.undo_until - utcnow()).total_seconds()
    return {
        "message": decision.summary,
        "url": url_for(".undo", decision_id=decision.id),
        "seconds": max(0.0, round(left, 1)),
    }


@blp.context_processor
def _pending_undo():
    """The signed-in editor's newest decision that can still be undone: every editor
    page shows its toast, so Undo survives the move to the next report."""
    if not current_user.is_authenticated:
        return {"undo_offer": None}
    decision = db.session.scalar(
        select(Decision)
        .where(
            Decision.user_id == current_user.id,
            Decision.undone_at.is_(None),
            Decision.undo_until > utcnow(),
        )
        .order_by(Decision.created_at.desc(), Decision.id.desc())
        .limit(1)
    )
    return {"undo_offer": _undo_offer(decision) if decision else None}


# --- the queue ------------------------------------------------------------------------


@blp.get("/", endpoint="queue")
def queue_view():
    members = access.memberships()
    site_ids = [member.site_id for member in members]
    filters = queue.parse_filters(request.args)
    if filters.site is not None and filters.site not in site_ids:
        abort(404)
    query = queue.filtered(filters, site_ids, current_user.id)
    size = int(current_app.config["QUEUE_PAGE_SIZE"])
    try:
        found = queue.page(
            query, filters.sort, size, request.args.get("after"), request.args.get("before")
        )
    except Invalid as error:
        filters.errors["cursor"] = error.fields["cursor"][0]
        found = queue.page(query, filters.sort, size)
    visible_sites = [m.site_id for m in members if filters.site in (None, m.site_id)]
    assignees = _assignees(visible_sites)
    article = db.session.get(Article, filters.article) if filters.article is not None else None
    if article is not None and article.site_id not in site_ids:
        article = None  # another site's: its title is not the user's to see
    names = {
        "site": {m.site_id: m.site.name for m in members},
        "article": {article.id: article.short_title} if article else {},
        "assignee": {user.id: user.display_name for user in assignees},
    }
    return render_template(
        "editor/queue.html",
        filters=filters,
        page=found,
        members=members,
        triage_sites={m.site_id for m in members if m.may(Action.TRIAGE)},
        tabs=queue.TABS,
        counts=queue.count_tabs(filters, site_ids, current_user.id),
        shown_count=queue.shown_count,
        chips=queue.chips(filters, names),
        kinds=list(SuggestionKind),
        sorts=queue.SORTS,
        anchors=queue.ANCHOR_FILTERS,
        assignees=assignees,
        bulk_actions=BULK_STATUS,
    ), (400 if filters.errors else 200)


def _assignees(site_ids: list[int]) -> list[User]:
    seen: dict[int, User] = {}
    for site_id in site_ids:
        for user in workflow.assignable_members(site_id):
            seen.setdefault(user.id, user)
    return sorted(seen.values(), key=lambda user: user.display_name.lower())


def _selected_reports(raw_ids: list[str]) -> list[Suggestion]:
    """The reports picked for a bulk action; every one must be the user's to triage."""
    if not raw_ids:
        raise Invalid.field("ids", "Select at least one report.")
    try:
        keys = list(dict.fromkeys(uuid.UUID(raw) for raw in raw_ids))
    except ValueError:
        raise Invalid.field("ids", "A selected report id is not valid.") from None
    reports = db.session.scalars(select(Suggestion).where(Suggestion.id.in_(keys))).all()
    found = {report.id for report in reports}
    for key in keys:
        if key not in found:
            raise NotFound("A selected report does not exist.", {"ids": [str(key)]})
    for site_id in {report.site_id for report in reports}:
        access.require_member(site_id, Action.TRIAGE)
    return list(reports)


@blp.post("/bulk")
def bulk():
    """Accept, mark fixed, reject, mark as spam or assign every selected report at once."""
    action = request.form.get("action", "")
    reports = _selected_reports(request.form.getlist("ids"))
    decision = workflow.start_decision(current_user)
    if action in BULK_STATUS:
        status = BULK_STATUS[action]
        moved = skipped = 0
        for report in reports:
            if workflow.group_head(report).can_move_to(status):
                workflow.change_status(report, status, current_user, decision)
                moved += 1
            else:
                skipped += 1
        message = f"{moved} {'report' if moved == 1 else 'reports'} now {status.value}."
        if skipped:
            message += f" {skipped} left as they were: that move is not allowed from their status."
    elif action in ("assign", "assign_me"):
        if action == "assign_me":
            assignee = current_user._get_current_object()
        else:
            assignee = _assignee_from_form()
        for report in reports:
            workflow.assign(report, assignee, current_user, decision)
        who = assignee.display_name if assignee else "nobody"
        noun = "report" if len(reports) == 1 else "reports"
        message = f"{len(reports)} {noun} assigned to {who}."
    else:
        raise Invalid.field("action", "Choose accept, mark fixed, reject, spam or assign.")
    decision.summary = message
    _commit_decision(decision)
    return _done(message, url_for(".queue"), decision)


def _commit_decision(decision: Decision) -> None:
    """Commit, then have the readers' mail it held sent once it can no longer be undone."""
    db.session.commit()
    background.send_mail_soon()
    background.send_mail_after(decision.undo_until)


@blp.post("/decisions/<int:decision_id>/undo")
def undo(decision_id: int):
    """Take back one of the signed-in editor's own decisions, within its window."""
    decision = db.session.get(Decision, decision_id) if decision_id <= access.MAX_ID else None
    # Another editor's decision does not exist for this one.
    if decision is None or decision.user_id != current_user.id:
        abort(404)
    for site_id in workflow.decision_sites(decision):
        access.require_member(site_id, Action.TRIAGE)
    restored = workflow.undo_decision(decision, current_user)
    db.session.commit()
    heads = list(dict.fromkeys(workflow.group_head(report) for report in restored))
    message = f"Undone: {decision.summary}" if decision.summary else "Undone."
    reports = [{"id": str(head.id), "status": head.status.value} for head in heads]
    default_next = _report_url(heads[0]) if len(heads) == 1 else url_for(".queue")
    return _done(message, default_next, reports=reports, next_url=default_next)


def _assignee_from_form() -> User | None:
    raw = request.form.get("assignee", "")
    if raw in ("", "none"):
        return None
    if raw == "me":
        return current_user._get_current_object()
    user_id = access.parse_number(raw)
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None:
        raise Invalid.field("assignee", "Unknown member.")
    return user


# --- one report -----------------------------------------------------------------------


def _article_window(suggestion: Suggestion):
    """The article text around the report's span: (before, span, after, revision, live)."""
    revision, start, end = revisions.current_anchor(suggestion)
    live = start is not None
    if not live:
        # Orphaned: show where it stood in the text the reader saw.
        revision, start, end = suggestion.revision, suggestion.start, suggestion.end
    if start is None:
        return None
    text = revision.text
    lo = max(0, start - ARTICLE_CONTEXT_CHARS)
    hi = min(len(text), end + ARTICLE_CONTEXT_CHARS)
    before = ("…" if lo else "") + text[lo:start]
    after = text[end:hi] + ("…" if hi < len(text) else "")
    return {
        "before": before,
        "span": text[start:end],
        "after": after,
        "revision": revision,
        "live": live,
        "url": revisions.article_link(suggestion),
    }


@dataclass
class HistoryLine:
    """One line of a report's history: one decision, however many reports it moved."""

    event: AuditEvent
    reports: int = 1


def _history(trail: list[AuditEvent]) -> list[HistoryLine]:
    """The group's audit events, one line per decision (an editor's, or the service's
    moving the whole group at once), not one per report of the group."""
    lines: list[HistoryLine] = []
    seen: dict[tuple, HistoryLine] = {}
    for event in trail:
        if event.decision_id is not None:
            key = ("decision", event.decision_id, event.action, event.detail)
        else:
            moment = event.created_at.replace(microsecond=0)
            key = ("event", event.user_id, event.action, event.detail, moment)
        line = seen.get(key)
        if line is not None and line.event.suggestion_id != event.suggestion_id:
            line.reports += 1
            continue
        seen[key] = HistoryLine(event)
        lines.append(seen[key])
    return lines


@dataclass
class QueuePlace:
    """Where the report stands in the queue the editor came from: its neighbours under
    the same filters, and the way back to it."""

    filters: queue.QueueFilters
    previous: Suggestion | None
    next: Suggestion | None
    back_url: str

    def report_url(self, report: Suggestion) -> str:
        return url_for(".report", suggestion_id=report.id, **self.filters.args())

    @property
    def after_decision_url(self) -> str:
        """Acting moves on: to the next report; after the last one, to the queue's top
        (the decided report has left the filter it was in)."""
        if self.next is not None:
            return self.report_url(self.next)
        return url_for(".queue", **self.filters.args())


def _queue_place(head: Suggestion) -> QueuePlace:
    filters = queue.parse_filters(request.args)
    if filters.errors:
        # A damaged link still opens the report, with the queue's defaults around it.
        filters = queue.QueueFilters()
    site_ids = [member.site_id for member in access.memberships()]
    query = queue.filtered(filters, site_ids, current_user.id)
    previous, following = queue.neighbours(query, filters.sort, head)
    # Back to the queue, on the page that starts with this report, the cursor on it.
    after = queue.encode_cursor(previous, filters.sort) if previous else None
    back = url_for(".queue", **filters.args(after=after)) + f"#report-{head.id}"
    return QueuePlace(filters, previous, following, back)


def _now_reads(suggestion: Suggestion) -> Sentence | None:
    """For a report whose words changed or are gone: what the article's newest text reads
    there now (None when it reads as the reader saw it)."""
    if not suggestion.has_quote or suggestion.anchor_revision_id is None:
        return None
    newest = suggestion.anchor_revision
    if suggestion.anchor_start is not None:
        if not suggestion.text_changed:
            return None
        return sentence_around(newest.text, suggestion.anchor_start, suggestion.anchor_end)
    # Gone: the sentence that now stands where the words stood.
    spot = PositionMap(suggestion.revision.text, newest.text)(suggestion.start)
    return sentence_around(newest.text, spot, spot)


@blp.get("/suggestions/<suggestion_id>")
def report(suggestion_id: str):
    suggestion, member = access.suggestion_for(suggestion_id)
    head = workflow.group_head(suggestion)
    group = workflow.group_members(head)
    trail_ids = [item.id for item in group]
    trail = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.suggestion_id.in_(trail_ids))
        .options(selectinload(AuditEvent.user))
        .order_by(AuditEvent.created_at, AuditEvent.id)
    ).all()
    notes = db.session.scalars(
        select(EditorNote)
        .where(EditorNote.suggestion_id == head.id)
        .options(selectinload(EditorNote.user))
        .order_by(EditorNote.created_at, EditorNote.id)
    ).all()
    others = []
    if member.may(Action.TRIAGE) and head.is_open:
        others = db.session.scalars(
            select(Suggestion)
            .where(
                Suggestion.article_id == head.article_id,
                Suggestion.duplicate_of_id.is_(None),
                Suggestion.id != head.id,
                Suggestion.status.in_(OPEN_STATUSES),
            )
            .order_by(Suggestion.created_at)
            .limit(100)
        ).all()
    moves = [status for status in MOVE_ORDER if status in ALLOWED_TRANSITIONS[head.status]]
    site = suggestion.site
    listening = [item for item in group if item.reporter_notify and item.reporter_email]
    told = [status for status in moves if readers.readers_hear_of(site, status)]
    place = _queue_place(head)
    # This reader's comment first, then the group's other readers' (they matter most for
    # factual reports), a few of them here, all of them in the group's list below.
    commented: list[Suggestion] = []
    said: set[str] = set()
    for item in sorted(group, key=lambda item: item.id != suggestion.id):
        words = (item.comment or "").strip()
        if words and words not in said:  # the same words from several readers, once
            said.add(words)
            commented.append(item)
    return render_template(
        "editor/report.html",
        suggestion=suggestion,
        head=head,
        group=group,
        member=member,
        sentence=(
            sentence_around(suggestion.revision.text, suggestion.start, suggestion.end)
            if suggestion.has_quote and suggestion.start is not None
            else None
        ),
        now_reads=_now_reads(suggestion),
        window=_article_window(suggestion),
        moves=moves,
        move_keys=MOVE_KEYS,
        # The message box shows when someone would read it: the buttons that send it.
        message_with=[STATUS_ACTIONS[status] for status in told] if listening else [],
        listening=listening,
        comments=commented[:COMMENTS_SHOWN],
        more_comments=len(commented) - COMMENTS_SHOWN,
        assignees=workflow.assignable_members(head.site_id),
        history=_history(trail),
        notes=notes,
        others=others,
        place=place,
        current_wording=revisions.current_wording(suggestion),
        repeated_by=grouping.possibly_repeating(head),
    )


@blp.get("/suggestions/<suggestion_id>/article")
def open_in_article(suggestion_id: str):
    """The live article at the report's words (the new words once fixed). The queue links
    here so that its page need not load every report's article text to build the link."""
    suggestion, _member = access.suggestion_for(suggestion_id)
    return redirect(suggestion.article_link(), code=302)


def _for_triage(suggestion_id: str) -> Suggestion:
    suggestion, _member = access.suggestion_for(suggestion_id, Action.TRIAGE)
    return suggestion


def _report_url(suggestion: Suggestion) -> str:
    return url_for(".report", suggestion_id=suggestion.id)


@blp.post("/suggestions/<suggestion_id>/status")
def change_status(suggestion_id: str):
    suggestion = _for_triage(suggestion_id)
    try:
        status = SuggestionStatus(request.form.get("status", ""))
    except ValueError:
        raise Invalid.field("status", "Unknown status.") from None
    decision = workflow.start_decision(current_user, request.form.get("message"))
    moved = workflow.change_status(suggestion, status, current_user, decision)
    decision.summary = (
        f"The report is now {status.value}."
        if moved == 1
        else f"The {moved} reports of the group are now {status.value}."
    )
    _commit_decision(decision)
    return _done(decision.summary, _report_url(suggestion), decision, status=status.value)


@blp.post("/suggestions/<suggestion_id>/assign")
def assign(suggestion_id: str):
    suggestion = _for_triage(suggestion_id)
    assignee = _assignee_from_form()
    workflow.assign(suggestion, assignee, current_user)
    db.session.commit()
    who = assignee.display_name if assignee else "nobody"
    return _done(f"Assigned to {who}.", _report_url(suggestion))


@blp.post("/suggestions/<suggestion_id>/notes")
def add_note(suggestion_id: str):
    suggestion = _for_triage(suggestion_id)
    workflow.add_note(suggestion, request.form.get("note", ""), current_user)
    db.session.commit()
    return _done("Note added.", _report_url(suggestion))


@blp.post("/suggestions/<suggestion_id>/duplicate")
def mark_duplicate(suggestion_id: str):
    suggestion = _for_triage(suggestion_id)
    raw = request.form.get("of", "").strip()
    try:
        original = db.session.get(Suggestion, uuid.UUID(raw))
    except ValueError:
        original = None
    if original is None or access.membership(original.site_id) is None:
        raise Invalid.field("of", "No such report; pick one from the list.")
    head = workflow.mark_duplicate(suggestion, original, current_user)
    db.session.commit()
    return _done("Marked as a duplicate.", _report_url(head))


@blp.post("/suggestions/<suggestion_id>/split")
def split(suggestion_id: str):
    suggestion = _for_triage(suggestion_id)
    workflow.split_off(suggestion, current_user)
    db.session.commit()
    return _done("Split off: it is a report of its own now.", _report_url(suggestion))


# --- one article ----------------------------------------------------------------------


@blp.get("/articles/<int:article_id>")
def article(article_id: int):
    found, member = access.article_for(article_id)
    heads = db.session.scalars(
        select(Suggestion)
        .where(Suggestion.article_id == found.id, Suggestion.duplicate_of_id.is_(None))
        .options(selectinload(Suggestion.duplicates), selectinload(Suggestion.assignee))
    ).all()

    def position(head: Suggestion):
        _revision, start, _end = revisions.current_anchor(head)
        return (start is None, start or 0, head.created_at)

    heads = sorted(heads, key=position)
    fixed = [head for head in heads if head.status == SuggestionStatus.FIXED and head.has_quote]
    newest = revisions.current_verified_revision(found.id)
    return render_template(
        "editor/article.html",
        article=found,
        member=member,
        heads=heads,
        fixed=fixed,
        newest=newest,
        revision_count=db.session.scalar(
            select(func.count()).where(ArticleRevision.article_id == found.id)
        ),
        wording=revisions.current_wording,
    )

"""What editors do to reports: move them through the workflow, group and split
duplicates, assign them, write notes. Every change leaves an audit event.

A report group (a first report and its duplicates) moves as one: its members always
share the first report's status. Every status change, whoever makes it (an editor, a
grouping, a revision that carries the fix), goes through ``move_status``, which holds
it to the transition table (``models.core.ALLOWED_TRANSITIONS``), audits it and tells
the status-change listeners. Nothing here commits; after the caller commits,
``background.send_mail_soon()`` delivers the readers' notices the changes wrote to the
outbox.

An editor's moves belong to a ``Decision`` (``start_decision``): for UNDO_SECONDS its
editor may take it back (``undo_decision``), which restores the state each audit event
recorded before the move, and the readers' mail it caused waits that long.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update

from feedback.errors import Conflict, Forbidden, Invalid
from feedback.extensions import db
from feedback.mail import outbox, readers
from feedback.models import (
    ArticleRevision,
    AuditAction,
    AuditEvent,
    Decision,
    EditorNote,
    Membership,
    Suggestion,
    SuggestionStatus,
    User,
    utcnow,
)
from feedback.permissions import Action, roles_permitted

MAX_NOTE_LENGTH = 10_000
MAX_READER_MESSAGE_LENGTH = 2_000
# What an undo takes back; anything else recorded since (but notes and text moves)
# means the reports changed after the decision, and the undo is refused.
UNDOABLE_ACTIONS = (AuditAction.STATUS, AuditAction.ASSIGNED)
_UNRELATED_ACTIONS = (AuditAction.NOTE, AuditAction.TEXT)

# Called before the commit of every status change, as (suggestion, old_status, new_status,
# note, decision=...). Outbox writes happen here, in the same transaction as the change;
# the reader's notice is one of them.
status_change_listeners: list[Callable[..., None]] = [readers.queue_reader_notice]


def notify_status_changed(
    suggestion: Suggestion,
    old_status: SuggestionStatus,
    *details,
    decision: Decision | None = None,
) -> None:
    """Tell every status-change listener; call before committing the change."""
    for listener in status_change_listeners:
        listener(suggestion, old_status, *details, decision=decision)


def group_head(suggestion: Suggestion) -> Suggestion:
    return suggestion.duplicate_of or suggestion


def group_members(head: Suggestion) -> list[Suggestion]:
    return [head, *head.duplicates]


def record(
    suggestion: Suggestion,
    user: User | None,
    action: AuditAction,
    detail: str = "",
    *,
    decision: Decision | None = None,
    before: dict | None = None,
):
    db.session.add(
        AuditEvent(
            suggestion_id=suggestion.id,
            user_id=user.id if user else None,
            action=action,
            detail=detail,
            decision_id=decision.id if decision else None,
            before=before,
        )
    )
    if user is not None and suggestion.first_action_at is None:
        suggestion.first_action_at = utcnow()


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _status_state(suggestion: Suggestion) -> dict:
    """The fields a status move changes, as the audit event keeps them for an undo."""
    return {
        "status": suggestion.status.value,
        "fixed_at": _moment(suggestion.fixed_at),
        "fixed_revision_id": suggestion.fixed_revision_id,
        "first_action_at": _moment(suggestion.first_action_at),
    }


def start_decision(user: User, message: str | None = None) -> Decision:
    """A decision of ``user``'s, for the moves about to be made: it can be undone for
    UNDO_SECONDS, and the readers' mail it causes waits that long. ``message`` goes to
    the readers who hear of it. Does not commit."""
    text = (message or "").strip() or None
    if text and len(text) > MAX_READER_MESSAGE_LENGTH:
        raise Invalid.field("message", f"At most {MAX_READER_MESSAGE_LENGTH} characters.")
    now = utcnow()
    window = timedelta(seconds=float(current_app.config["UNDO_SECONDS"]))
    decision = Decision(user_id=user.id, message=text, created_at=now, undo_until=now + window)
    db.session.add(decision)
    db.session.flush()
    return decision


def record_status_change(
    suggestion: Suggestion,
    old_status: SuggestionStatus,
    user: User | None,
    note: str | None = None,
    *,
    decision: Decision | None = None,
    before: dict | None = None,
) -> None:
    """Audit a status move already made on ``suggestion`` and tell the listeners (the
    reader's notice among them)."""
    detail = f"{old_status.value} → {suggestion.status.value}"
    if note:
        detail = f"{detail}: {note}"
    record(suggestion, user, AuditAction.STATUS, detail, decision=decision, before=before)
    notify_status_changed(suggestion, old_status, suggestion.status, note, decision=decision)


def _refuse_move(suggestion: Suggestion, status: SuggestionStatus) -> Conflict:
    return Conflict(
        f"A report that is {suggestion.status.value} cannot be moved to {status.value}.",
        {"status": [f"Not allowed from {suggestion.status.value}."]},
    )


def move_status(
    suggestion: Suggestion,
    status: SuggestionStatus,
    user: User | None,
    note: str | None = None,
    fixed_in: ArticleRevision | None = None,
    decision: Decision | None = None,
) -> None:
    """Move one report to ``status``: the one way a status changes. Raises Conflict
    when the transition table does not allow the move. ``fixed_in`` is the revision
    that carries the fix, when one does; ``decision`` the editor's, when one made it."""
    if not suggestion.can_move_to(status):
        raise _refuse_move(suggestion, status)
    before = _status_state(suggestion)
    old_status = suggestion.status
    suggestion.status = status
    suggestion.fixed_at = utcnow() if status == SuggestionStatus.FIXED else None
    if status != SuggestionStatus.FIXED:
        suggestion.fixed_revision_id = None
    elif fixed_in is not None:
        suggestion.fixed_revision_id = fixed_in.id
    record_status_change(suggestion, old_status, user, note, decision=decision, before=before)


def check_reader_message(head: Suggestion, status: SuggestionStatus, message: str | None):
    """A message to the readers must reach someone: only with a move they hear of."""
    if message and not readers.readers_hear_of(head.site, status):
        if status == SuggestionStatus.REJECTED:
            reason = "This site does not tell readers of rejections, so nobody would read it."
        else:
            reason = "Readers hear only of a fix or a rejection; leave the message empty."
        raise Invalid.field("message", reason)


def move_group(
    head: Suggestion,
    status: SuggestionStatus,
    user: User | None,
    note: str | None = None,
    fixed_in: ArticleRevision | None = None,
    decision: Decision | None = None,
    *,
    open_only: bool = False,
) -> int:
    """Move every report of the group of ``head`` to ``status``, each through
    ``move_status``; return how many moved. Members already there stay as they are;
    with ``open_only``, so do closed ones (the service never reopens or overrides a
    decision)."""
    moved = 0
    for member in group_members(head):
        if member.status != status and (member.is_open or not open_only):
            move_status(member, status, user, note, fixed_in=fixed_in, decision=decision)
            moved += 1
    return moved


def change_status(
    suggestion: Suggestion,
    status: SuggestionStatus,
    user: User | None,
    decision: Decision | None = None,
) -> int:
    """Move the report's whole group to ``status``; return how many reports moved.

    Raises Conflict when the workflow does not allow the move (ALLOWED_TRANSITIONS).
    """
    head = group_head(suggestion)
    if not head.can_move_to(status):
        raise _refuse_move(head, status)
    check_reader_message(head, status, decision.message if decision else None)
    return move_group(head, status, user, decision=decision)


def decision_sites(decision: Decision) -> set[int]:
    """The sites of the reports a decision changed."""
    return set(
        db.session.scalars(
            select(Suggestion.site_id)
            .join(AuditEvent, AuditEvent.suggestion_id == Suggestion.id)
            .where(AuditEvent.decision_id == decision.id)
            .distinct()
        )
    )


def _changed_since(events: list[AuditEvent]) -> bool:
    """Whether anything but a note or a text move touched these reports after ``events``."""
    later = select(AuditEvent.id).where(
        AuditEvent.suggestion_id.in_({event.suggestion_id for event in events}),
        AuditEvent.id > max(event.id for event in events),
        AuditEvent.action.not_in(_UNRELATED_ACTIONS),
    )
    return db.session.scalar(later.limit(1)) is not None


def _parse_moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _restore(report: Suggestion, event: AuditEvent, user: User, decision: Decision) -> None:
    """Give ``report`` back the state ``event`` recorded before it, audited as an undo."""
    before = event.before or {}
    if event.action == AuditAction.STATUS:
        old = SuggestionStatus(before["status"])
        detail = f"{report.status.value} → {old.value}"
        record(report, user, AuditAction.UNDO, detail, decision=decision)
        report.status = old
        report.fixed_at = _parse_moment(before.get("fixed_at"))
        report.fixed_revision_id = before.get("fixed_revision_id")
        report.first_action_at = _parse_moment(before.get("first_action_at"))
    else:
        assignee = before.get("assignee_id")
        user_then = db.session.get(User, assignee) if assignee else None
        record(
            report,
            user,
            AuditAction.UNDO,
            f"assigned back to {user_then.display_name if user_then else 'nobody'}",
            decision=decision,
        )
        report.assignee_id = user_then.id if user_then else None


def undo_decision(decision: Decision, user: User) -> list[Suggestion]:
    """Take ``decision`` back: every report it changed gets the state its audit event
    recorded before, written down as an undo (no move through the transition table:
    the decision never happened), and the readers' mail it caused, still held, is
    cancelled. Only its own editor may, within its window, and only while nothing else
    has changed those reports. Returns the reports restored; does not commit."""
    if decision.user_id != user.id:
        raise Forbidden("Only the editor who made a decision can undo it.")
    if decision.undone_at is not None:
        raise Conflict("That was undone already.", {"decision": ["Undone already."]})
    if not decision.undoable():
        raise Conflict(
            "Too late to undo; change the report itself instead.",
            {"decision": ["The time to undo has passed."]},
        )
    events = list(
        db.session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.decision_id == decision.id,
                AuditEvent.action.in_(UNDOABLE_ACTIONS),
            )
            .order_by(AuditEvent.id)
        )
    )
    if events and _changed_since(events):
        raise Conflict(
            "These reports changed after the decision, so it cannot be undone.",
            {"decision": ["Changed since."]},
        )
    if not outbox.cancel_held(decision.id):
        raise Conflict(
            "The readers' mail about it has gone out already.",
            {"decision": ["Mail sent."]},
        )
    restored: list[Suggestion] = []
    for event in reversed(events):
        report = db.session.get(Suggestion, event.suggestion_id)
        if report is not None:
            _restore(report, event, user, decision)
            restored.append(report)
    _align_groups(restored, user, decision)
    decision.undone_at = utcnow()
    return restored


def _align_groups(restored: list[Suggestion], user: User, decision: Decision) -> None:
    """A reader's report that joined a group after the decision took the group's status
    then; it follows the group back."""
    touched = {report.id for report in restored}
    for head in {group_head(report) for report in restored}:
        for member in head.duplicates:
            if member.id not in touched and member.status != head.status:
                detail = f"{member.status.value} → {head.status.value}"
                record(member, user, AuditAction.UNDO, detail, decision=decision)
                member.status = head.status


def _recount(head: Suggestion) -> None:
    duplicates = db.session.scalar(
        select(func.count()).select_from(Suggestion).where(Suggestion.duplicate_of_id == head.id)
    )
    head.report_count = 1 + (duplicates or 0)


def count_new_duplicate(head_id) -> None:
    """A reader's report joined the group of ``head_id``: one more reader. Atomic, so
    duplicates arriving at the same moment are all counted."""
    db.session.execute(
        update(Suggestion)
        .where(Suggestion.id == head_id)
        .values(report_count=Suggestion.report_count + 1)
        .execution_options(synchronize_session=False)
    )


def _join_group(suggestion: Suggestion, target: Suggestion, user: User | None, why: str) -> int:
    """Put ``suggestion`` and its duplicates into the group of ``target`` (a head): they
    take the target's status through the transition table; returns how many joined."""
    db.session.flush()
    left = suggestion.duplicate_of  # a member leaves its group: that one counts one less
    moving = group_members(suggestion)
    for member in moving:
        member.duplicate_of_id = target.id
        if member.status != target.status:
            move_status(member, target.status, user)
        record(member, user, AuditAction.DUPLICATE, str(target.id))
    suggestion.report_count = 1
    db.session.flush()
    for head in (target, suggestion, left):
        if head is not None:
            db.session.expire(head, ["duplicates", "duplicate_of"])
    if left is not None:
        _recount(left)
    _recount(target)
    record(target, user, AuditAction.DUPLICATE, f"{len(moving)} joined this group{why}")
    return len(moving)


def mark_duplicate(suggestion: Suggestion, of: Suggestion, user: User) -> Suggestion:
    """Put ``suggestion`` (and any duplicates of its own) into the group of ``of``;
    returns that group's first report."""
    target = group_head(of)
    if of.site_id != suggestion.site_id or of.article_id != suggestion.article_id:
        raise Invalid.field("of", "Only a report on the same article can be the original.")
    if target.id == suggestion.id or suggestion.duplicate_of_id == target.id:
        raise Invalid.field("of", "This report is already in that group.")
    if not (suggestion.is_open and target.is_open):
        raise Conflict(
            "Only open reports can be grouped; reopen them first.",
            {"of": ["Both reports must be open."]},
        )
    _join_group(suggestion, target, user, "")
    return target


def merge_groups(fold: Suggestion, keep: Suggestion, reason: str) -> int:
    """The service found two open groups (their heads) to be one mistake: the group of
    ``fold`` joins that of ``keep``, both recorded in the history with ``reason``. A
    group an editor accepted stays accepted; returns how many reports joined."""
    if keep.status == SuggestionStatus.NEW and fold.status == SuggestionStatus.ACCEPTED:
        note = f"merged with an accepted group: {reason}"
        move_group(keep, SuggestionStatus.ACCEPTED, None, note)
    return _join_group(fold, keep, None, f": {reason}")


def split_off(suggestion: Suggestion, user: User) -> None:
    """Take a duplicate out of its group: it becomes a report of its own."""
    head = suggestion.duplicate_of
    if head is None:
        raise Invalid.field("split", "This report is not a duplicate of another.")
    suggestion.duplicate_of_id = None
    suggestion.report_count = 1
    db.session.flush()
    db.session.expire(head, ["duplicates"])
    _recount(head)
    record(suggestion, user, AuditAction.SPLIT, str(head.id))
    record(head, user, AuditAction.SPLIT, str(suggestion.id))


def assignable_members(site_id: int) -> list[User]:
    """Who a report of the site may be given to: its members who may triage it."""
    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.site_id == site_id,
                Membership.role.in_(roles_permitted(Action.TRIAGE)),
                User.active.is_(True),
            )
            .order_by(User.name, User.email)
        )
    )


def assign(
    suggestion: Suggestion, assignee: User | None, user: User, decision: Decision | None = None
) -> None:
    """Give the report's group to ``assignee`` (None: to nobody)."""
    head = group_head(suggestion)
    if assignee is not None and assignee not in assignable_members(head.site_id):
        raise Invalid.field("assignee", "Only an editor or owner of this site can be assigned.")
    if head.assignee_id == (assignee.id if assignee else None):
        return
    before = {"assignee_id": head.assignee_id}
    head.assignee_id = assignee.id if assignee else None
    name = assignee.display_name if assignee else ""
    record(head, user, AuditAction.ASSIGNED, name, decision=decision, before=before)


def add_note(suggestion: Suggestion, body: str, user: User) -> EditorNote:
    text = (body or "").strip()
    if not text:
        raise Invalid.field("note", "Write something first.")
    if len(text) > MAX_NOTE_LENGTH:
        raise Invalid.field("note", f"At most {MAX_NOTE_LENGTH} characters.")
    head = group_head(suggestion)
    note = EditorNote(suggestion_id=head.id, user_id=user.id, body=text)
    db.session.add(note)
    record(head, user, AuditAction.NOTE)
    return note

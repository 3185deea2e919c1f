"""What editors do to reports: move them through the workflow, group and split
duplicates, assign them, write notes. Every change leaves an audit event.

A report group (a first report and its duplicates) moves as one: its members always
share the first report's status. Every status change, whoever makes it (an editor, a
grouping, a revision that carries the fix), goes through ``move_status``, which holds
it to the transition table (``models.core.ALLOWED_TRANSITIONS``), audits it and tells
the status-change listeners. Nothing here commits; after the caller commits,
``background.send_mail_soon()`` delivers the readers' notices the changes wrote to the
outbox.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select, update

from feedback.errors import Conflict, Invalid
from feedback.extensions import db
from feedback.mail import readers
from feedback.models import (
    ArticleRevision,
    AuditAction,
    AuditEvent,
    EditorNote,
    Membership,
    Suggestion,
    SuggestionStatus,
    User,
    utcnow,
)
from feedback.permissions import Action, roles_permitted

MAX_NOTE_LENGTH = 10_000

# Called before the commit of every status change, as (suggestion, old_status, new_status,
# note). Outbox writes happen here, in the same transaction as the change; the reader's
# notice is one of them.
status_change_listeners: list[Callable[..., None]] = [readers.queue_reader_notice]


def notify_status_changed(suggestion: Suggestion, old_status: SuggestionStatus, *details) -> None:
    """Tell every status-change listener; call before committing the change."""
    for listener in status_change_listeners:
        listener(suggestion, old_status, *details)


def group_head(suggestion: Suggestion) -> Suggestion:
    return suggestion.duplicate_of or suggestion


def group_members(head: Suggestion) -> list[Suggestion]:
    return [head, *head.duplicates]


def record(suggestion: Suggestion, user: User | None, action: AuditAction, detail: str = ""):
    db.session.add(
        AuditEvent(
            suggestion_id=suggestion.id,
            user_id=user.id if user else None,
            action=action,
            detail=detail,
        )
    )
    if user is not None and suggestion.first_action_at is None:
        suggestion.first_action_at = utcnow()


def record_status_change(
    suggestion: Suggestion,
    old_status: SuggestionStatus,
    user: User | None,
    note: str | None = None,
) -> None:
    """Audit a status move already made on ``suggestion`` and tell the listeners (the
    reader's notice among them)."""
    detail = f"{old_status.value} → {suggestion.status.value}"
    if note:
        detail = f"{detail}: {note}"
    record(suggestion, user, AuditAction.STATUS, detail)
    notify_status_changed(suggestion, old_status, suggestion.status, note)


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
) -> None:
    """Move one report to ``status``: the one way a status changes. Raises Conflict
    when the transition table does not allow the move. ``fixed_in`` is the revision
    that carries the fix, when one does."""
    if not suggestion.can_move_to(status):
        raise _refuse_move(suggestion, status)
    old_status = suggestion.status
    suggestion.status = status
    suggestion.fixed_at = utcnow() if status == SuggestionStatus.FIXED else None
    if status != SuggestionStatus.FIXED:
        suggestion.fixed_revision_id = None
    elif fixed_in is not None:
        suggestion.fixed_revision_id = fixed_in.id
    record_status_change(suggestion, old_status, user, note)


def change_status(suggestion: Suggestion, status: SuggestionStatus, user: User | None) -> int:
    """Move the report's whole group to ``status``; return how many reports moved.

    Raises Conflict when the workflow does not allow the move (ALLOWED_TRANSITIONS).
    """
    head = group_head(suggestion)
    if not head.can_move_to(status):
        raise _refuse_move(head, status)
    members = group_members(head)
    for member in members:
        move_status(member, status, user)
    return len(members)


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
    db.session.flush()
    moving = group_members(suggestion)
    for member in moving:
        member.duplicate_of_id = target.id
        if member.status != target.status:
            move_status(member, target.status, user)
        record(member, user, AuditAction.DUPLICATE, str(target.id))
    suggestion.report_count = 1
    db.session.flush()
    db.session.expire(target, ["duplicates"])
    _recount(target)
    record(target, user, AuditAction.DUPLICATE, f"{len(moving)} joined this group")
    return target


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


def assign(suggestion: Suggestion, assignee: User | None, user: User) -> None:
    """Give the report's group to ``assignee`` (None: to nobody)."""
    head = group_head(suggestion)
    if assignee is not None and assignee not in assignable_members(head.site_id):
        raise Invalid.field("assignee", "Only an editor or owner of this site can be assigned.")
    if head.assignee_id == (assignee.id if assignee else None):
        return
    head.assignee_id = assignee.id if assignee else None
    record(head, user, AuditAction.ASSIGNED, assignee.display_name if assignee else "")


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

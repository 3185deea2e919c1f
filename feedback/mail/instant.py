"""Instant notices: a member who asked to hear of new reports at once gets a mail per
report group, at most one per site every INSTANT_THROTTLE_MINUTES; what the throttle
holds back is counted in the next mail ("and N more")."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select, tuple_

from feedback.extensions import db
from feedback.links import link_for
from feedback.mail.headers import (
    checked_address,
    mailable,
    single_line,
    unsubscribe_headers,
)
from feedback.mail.outbox import Mail, write_outbox
from feedback.mail.render import ReportView, render_mail
from feedback.models import (
    HeldNotice,
    Membership,
    NotifySetting,
    OutboxKind,
    OutboxMessage,
    Suggestion,
    User,
    utcnow,
)


def _throttled(user_id: int, site_id: int, now: datetime) -> bool:
    """Whether the member had an instant mail for the site within the throttle window."""
    window = timedelta(minutes=float(current_app.config["INSTANT_THROTTLE_MINUTES"]))
    last = db.session.scalar(
        select(func.max(OutboxMessage.created_at)).where(
            OutboxMessage.kind == OutboxKind.INSTANT,
            OutboxMessage.user_id == user_id,
            OutboxMessage.site_id == site_id,
        )
    )
    return last is not None and last > now - window


def _instant_members(site_id: int) -> list[Membership]:
    """The site's active members who want instant mail, locked against a second report
    slipping past one member's throttle at the same moment (PostgreSQL)."""
    query = (
        select(Membership)
        .join(User)
        .where(
            Membership.site_id == site_id,
            Membership.notify == NotifySetting.INSTANT,
            User.active.is_(True),
        )
        .order_by(Membership.id)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Membership)
    return [member for member in db.session.scalars(query) if mailable(member)]


def _instant_mail(member: Membership, suggestion: Suggestion, more: int) -> Mail:
    site = member.site
    report = ReportView.of(suggestion)
    what = f"“{single_line(report.exact, 60)}”" if report.exact else "the whole article"
    subject = f"[{site.name}] New {report.kind} report on {what}"
    if more:
        subject += f" and {more} more"
    text, html = render_mail(
        "instant", site=site, user=member.user, report=report, more=more,
        queue_url=link_for("editor.queue"),
    )  # fmt: skip
    return Mail(
        key=f"instant:{member.user_id}:{suggestion.id}",
        kind=OutboxKind.INSTANT,
        to=checked_address(member.user.email, member.user.name),
        subject=subject,
        text=text,
        html=html,
        site_id=site.id,
        user_id=member.user_id,
        headers=unsubscribe_headers(member.user_id, site.id),
    )


def queue_new_report(suggestion: Suggestion, now: datetime | None = None) -> list[int]:
    """Queue the instant notices for a new report group; returns the outbox ids.

    Call before the commit that stores the report, never for a duplicate or spam.
    """
    members = _instant_members(suggestion.site_id)
    # Read the clock once the members are locked: a report filed meanwhile by another
    # worker may have mailed them, and its mail must not look newer than "now".
    now = now or utcnow()
    ids: list[int] = []
    for member in members:
        if _throttled(member.user_id, suggestion.site_id, now):
            db.session.add(
                HeldNotice(
                    user_id=member.user_id, site_id=suggestion.site_id, suggestion_id=suggestion.id
                )
            )
            continue
        more = db.session.execute(
            delete(HeldNotice).where(
                HeldNotice.user_id == member.user_id, HeldNotice.site_id == suggestion.site_id
            )
        ).rowcount
        row = write_outbox(_instant_mail(member, suggestion, more))
        if row is not None:
            db.session.flush()
            ids.append(row.id)
    db.session.flush()
    return ids


def release_held_notices(now: datetime | None = None) -> list[int]:
    """Mail what the throttle held back once its window is over, with no new report to
    carry it; does not commit. Returns the outbox ids written."""
    pairs = db.session.execute(select(HeldNotice.user_id, HeldNotice.site_id).distinct()).all()
    if pairs and db.session.get_bind().dialect.name == "postgresql":
        # Lock the members first and in id order, as queue_new_report does, so releasing
        # and filing a report at once wait for each other instead of deadlocking.
        db.session.scalars(
            select(Membership.id)
            .where(tuple_(Membership.user_id, Membership.site_id).in_(pairs))
            .order_by(Membership.id)
            .with_for_update()
        ).all()
    now = now or utcnow()
    ids: list[int] = []
    for user_id, site_id in pairs:
        member = db.session.scalar(select(Membership).filter_by(user_id=user_id, site_id=site_id))
        held = db.session.scalars(
            select(HeldNotice)
            .filter_by(user_id=user_id, site_id=site_id)
            .order_by(HeldNotice.created_at.desc(), HeldNotice.id.desc())
        ).all()
        if (
            member is None
            or member.notify != NotifySetting.INSTANT
            or not member.user.active
            or not mailable(member)
        ):
            for notice in held:
                db.session.delete(notice)  # they asked for quiet; the digest or queue has it
            continue
        if _throttled(user_id, site_id, now):
            continue
        newest = db.session.get(Suggestion, held[0].suggestion_id)
        for notice in held:
            db.session.delete(notice)
        row = write_outbox(_instant_mail(member, newest, len(held) - 1))
        if row is not None:
            db.session.flush()
            ids.append(row.id)
    return ids


def forget_held_notices(user_id: int, site_id: int) -> None:
    """Drop what the throttle holds for a member who no longer wants instant mail."""
    db.session.execute(
        delete(HeldNotice).where(HeldNotice.user_id == user_id, HeldNotice.site_id == site_id)
    )

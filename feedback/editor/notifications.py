"""/editor/notifications: each member chooses, per site, how to hear of new reports;
owners also choose the setting new members of their site start with."""

from __future__ import annotations

from zoneinfo import available_timezones

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from feedback import background, sites
from feedback.editor import access
from feedback.extensions import db
from feedback.mail import mailer
from feedback.members import set_member_notify
from feedback.models import Membership, NotifySetting, OutboxMessage
from feedback.permissions import Action

blp = Blueprint("notification_settings", __name__, url_prefix="/editor/notifications")

NOTIFY_LABELS = {
    NotifySetting.INSTANT: "At once (at most one mail every few minutes)",
    NotifySetting.HOURLY: "Hourly digest",
    NotifySetting.DAILY: "Daily digest",
    NotifySetting.OFF: "No mail",
}


def _memberships() -> list[Membership]:
    return db.session.scalars(
        select(Membership).where(Membership.user_id == current_user.id).order_by(Membership.id)
    ).all()


@blp.get("")
@login_required
def show():
    return render_template(
        "editor/notifications.html",
        memberships=_memberships(),
        labels=NOTIFY_LABELS,
        zones=sorted(available_timezones()),
        failed={
            m.site_id: mailer.failed_messages(m.site_id)
            for m in _memberships()
            if m.may(Action.RESEND_MAIL)
        },
    )


def _choice(name: str) -> NotifySetting | None:
    try:
        return NotifySetting(request.form.get(name, ""))
    except ValueError:
        return None


@blp.post("")
@login_required
def save():
    """Save every site's setting from one form; unknown values are ignored, not guessed."""
    zone = request.form.get("timezone", "")
    if zone in available_timezones():
        current_user.timezone = zone
    for member in _memberships():
        notify = _choice(f"notify-{member.site_id}")
        if notify is not None:
            set_member_notify(current_user.id, member.site_id, notify)
        hour = request.form.get(f"hour-{member.site_id}", "")
        hour_number = access.parse_number(hour, 0, 23)
        if hour_number is not None:
            member.digest_hour = hour_number
        site_default = _choice(f"default-{member.site_id}")
        if site_default is not None and member.may(Action.CONFIGURE_SITE):
            sites.set_options(member.site, default_notify=site_default)
    db.session.commit()
    flash("Notification settings saved.")
    return redirect(url_for(".show"))


@blp.post("/failed/<int:outbox_id>/retry")
@login_required
def retry(outbox_id: int):
    """An owner sends a mail that failed for good once more (after fixing SMTP, say)."""
    row = db.session.get(OutboxMessage, outbox_id) if outbox_id <= access.MAX_ID else None
    if row is None or row.site_id is None:
        abort(404)
    access.require_member(row.site_id, Action.RESEND_MAIL)
    if mailer.retry_failed(outbox_id):
        db.session.commit()
        # Not row.id: reading the expired row would open a transaction, and on SQLite an
        # in-process queue's send would wait for it.
        background.send_mail_soon([outbox_id])
        flash("The mail is queued again.")
    return redirect(url_for(".show"))

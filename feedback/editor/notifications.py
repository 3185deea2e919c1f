"""/editor/notifications: each member chooses, per site, how to hear of new reports;
owners also choose the setting new members of their site start with."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, available_timezones

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
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


# Offered first in the time zone picker: where most editors are, one zone per region's
# big cities; every other zone follows, found by typing part of its name.
COMMON_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Amsterdam",
    "Europe/Stockholm",
    "Europe/Warsaw",
    "Europe/Kyiv",
    "Europe/Minsk",
    "Europe/Moscow",
    "Europe/Istanbul",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Toronto",
    "America/Mexico_City",
    "America/Sao_Paulo",
    "America/Buenos_Aires",
    "Africa/Lagos",
    "Africa/Cairo",
    "Africa/Nairobi",
    "Africa/Johannesburg",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Bangkok",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Australia/Sydney",
    "Pacific/Auckland",
)


def utc_offset(zone: str, now: datetime) -> str:
    """The zone's offset at ``now``, as "UTC+05:30"."""
    offset = now.astimezone(ZoneInfo(zone)).utcoffset()
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "\N{MINUS SIGN}"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def zone_choices(now: datetime | None = None) -> list[tuple[str, str]]:
    """(zone, label) for the picker: the common zones, then every other one by name."""
    now = now or datetime.now(UTC)
    known = available_timezones()
    common = [zone for zone in COMMON_ZONES if zone in known]
    rest = sorted(known - set(common))
    return [(zone, f"{zone} ({utc_offset(zone, now)} now)") for zone in [*common, *rest]]


def _memberships() -> list[Membership]:
    return db.session.scalars(
        select(Membership).where(Membership.user_id == current_user.id).order_by(Membership.id)
    ).all()


def _render(errors: dict[str, str] | None = None, form=None, status: int = 200):
    memberships = _memberships()
    return current_app.make_response(
        (
            render_template(
                "editor/notifications.html",
                memberships=memberships,
                labels=NOTIFY_LABELS,
                zones=zone_choices(),
                errors=errors or {},
                form=form or {},
                failed={
                    m.site_id: mailer.failed_messages(m.site_id)
                    for m in memberships
                    if m.may(Action.RESEND_MAIL)
                },
            ),
            status,
        )
    )


@blp.get("")
@login_required
def show():
    return _render()


class _Refused(ValueError):
    """A field of the form holds a value the page never offers."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _choice(name: str) -> NotifySetting | None:
    """The setting chosen in field ``name``; None when the field was not sent."""
    raw = request.form.get(name)
    if raw is None:
        return None
    try:
        return NotifySetting(raw)
    except ValueError:
        raise _Refused(name, "Choose one of the options offered.") from None


def _apply_form() -> None:
    """Every field sent, checked and applied (fields not sent stay as they are)."""
    zone = request.form.get("timezone")
    if zone is not None:
        zone = zone.strip()
        if zone not in available_timezones():
            raise _Refused(
                "timezone",
                f"“{zone}” is not a time zone: pick one from the list, like Europe/Berlin.",
            )
        current_user.timezone = zone
    for member in _memberships():
        notify = _choice(f"notify-{member.site_id}")
        if notify is not None:
            set_member_notify(current_user.id, member.site_id, notify)
        hour = request.form.get(f"hour-{member.site_id}")
        if hour is not None:
            hour_number = access.parse_number(hour, 0, 23)
            if hour_number is None:
                raise _Refused(f"hour-{member.site_id}", "Choose an hour from 00:00 to 23:00.")
            member.digest_hour = hour_number
        site_default = _choice(f"default-{member.site_id}")
        if site_default is not None and member.may(Action.CONFIGURE_SITE):
            sites.set_options(member.site, default_notify=site_default)


@blp.post("")
@login_required
def save():
    """Save the zone and every site's settings from one form; a value the page never
    offers changes nothing and shows the page again with the reason."""
    try:
        _apply_form()
    except _Refused as refusal:
        db.session.rollback()
        return _render({refusal.field: str(refusal)}, request.form, status=422)
    db.session.commit()
    flash("Mail settings saved.")
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

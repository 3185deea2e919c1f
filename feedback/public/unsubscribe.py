"""One-click unsubscribe from a mail (RFC 8058): public, no sign-in; the signed token
names the member and the site, and only that member's setting for that site changes."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from sqlalchemy import select

from feedback.extensions import csrf, db
from feedback.mail.headers import read_unsubscribe_token
from feedback.members import set_member_notify
from feedback.models import Membership, NotifySetting

blp = Blueprint("unsubscribe", __name__)


def _member(token: str) -> Membership:
    found = read_unsubscribe_token(token)
    if found is None:
        abort(400, description="This unsubscribe link is not valid or has expired.")
    user_id, site_id = found
    member = db.session.scalar(select(Membership).filter_by(user_id=user_id, site_id=site_id))
    if member is None:
        abort(404)
    return member


@blp.get("/unsubscribe/<token>")
def confirm(token: str):
    """Ask before changing anything: link checkers in mail systems follow GET links."""
    member = _member(token)
    return render_template("public/unsubscribe.html", member=member, token=token, done=False)


@blp.post("/unsubscribe/<token>")
@csrf.exempt  # mail providers post here without a form token; the signed token guards it
def unsubscribe(token: str):
    member = _member(token)
    set_member_notify(member.user_id, member.site_id, NotifySetting.OFF)
    db.session.commit()
    return render_template("public/unsubscribe.html", member=member, token=token, done=True)

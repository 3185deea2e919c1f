"""/dev/mail: the outbox as a mailbox, so the demo shows each notice the moment it is
written. Registered only in the demo or with DEV_MAILBOX on: it shows everyone's mail."""

from __future__ import annotations

from flask import Blueprint, abort, make_response, render_template
from sqlalchemy import select

from feedback.extensions import db
from feedback.models import OutboxMessage
from feedback.security import allow_inline_styles

blp = Blueprint("devmail", __name__, url_prefix="/dev/mail")


@blp.get("/")
def inbox():
    messages = db.session.scalars(
        select(OutboxMessage).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    ).all()
    return render_template("devmail/inbox.html", messages=messages)


@blp.get("/<int:message_id>")
@allow_inline_styles
def show(message_id: int):
    message = db.session.get(OutboxMessage, message_id) or abort(404)
    return render_template("devmail/message.html", message=message)


@blp.get("/<int:message_id>/html")
def html_body(message_id: int):
    """The HTML body alone, for an iframe; sandboxed so a mail can run no script here."""
    message = db.session.get(OutboxMessage, message_id) or abort(404)
    response = make_response(message.html_body)
    response.headers["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"  # shown in the message page only
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    return response

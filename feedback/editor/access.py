"""Who may see and do what in the editor UI; every view asks here, and the answer
comes from the one permission map (feedback.permissions).

A site the user is not a member of does not exist for them: its pages and objects
answer 404, never 403, so ids cannot be probed. A member whose role is too low for
an action gets 403.
"""

from __future__ import annotations

import uuid

from flask import abort
from flask_login import current_user
from sqlalchemy import select

from feedback.extensions import db
from feedback.models import Article, Membership, Site, Suggestion
from feedback.permissions import Action


def memberships() -> list[Membership]:
    """The signed-in user's memberships, by site name."""
    return list(
        db.session.scalars(
            select(Membership)
            .where(Membership.user_id == current_user.id)
            .join(Site, Site.id == Membership.site_id)
            .order_by(Site.name, Site.id)
        )
    )


def membership(site_id: int) -> Membership | None:
    return db.session.scalar(select(Membership).filter_by(user_id=current_user.id, site_id=site_id))


# Ids in URLs beyond what an integer column holds name nothing (the database would fail).
MAX_ID = 2**31 - 1


def parse_number(raw: str, low: int = 1, high: int = MAX_ID) -> int | None:
    """A whole number from a form or query string when it is ASCII digits between ``low``
    and ``high`` (``str.isdigit`` alone also takes "²", which ``int`` refuses)."""
    if not (raw.isascii() and raw.isdigit()):
        return None
    number = int(raw)
    return number if low <= number <= high else None


def require_member(site_id: int, action: Action = Action.READ) -> Membership:
    """The user's membership of the site: 404 if none, 403 if its role may not do
    ``action``."""
    member = membership(site_id) if site_id <= MAX_ID else None
    if member is None:
        abort(404)
    if not member.may(action):
        abort(403)
    return member


def suggestion_for(suggestion_id: str | uuid.UUID, action: Action = Action.READ):
    """A report the user may do ``action`` to, and the user's membership of its site."""
    try:
        key = suggestion_id if isinstance(suggestion_id, uuid.UUID) else uuid.UUID(suggestion_id)
    except ValueError:
        abort(404)
    suggestion = db.session.get(Suggestion, key)
    if suggestion is None:
        abort(404)
    return suggestion, require_member(suggestion.site_id, action)


def article_for(article_id: int, action: Action = Action.READ):
    article = db.session.get(Article, article_id) if article_id <= MAX_ID else None
    if article is None:
        abort(404)
    return article, require_member(article.site_id, action)

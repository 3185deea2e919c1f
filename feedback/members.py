"""Operations on a site's members. None commits: the caller commits once the whole
change is made."""

from __future__ import annotations

from sqlalchemy import select

from feedback.extensions import db
from feedback.mail.instant import forget_held_notices
from feedback.models import Membership, NotifySetting


def set_member_notify(user_id: int, site_id: int, notify: NotifySetting) -> bool:
    """Change one member's setting for one site; False if there is no such member."""
    member = db.session.scalar(select(Membership).filter_by(user_id=user_id, site_id=site_id))
    if member is None:
        return False
    member.notify = notify
    if notify != NotifySetting.INSTANT:
        forget_held_notices(user_id, site_id)
    return True

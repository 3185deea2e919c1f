"""The built-in demo: one site, one editor, the demo article. Safe to run again."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from feedback.extensions import db
from feedback.models import Membership, Role, Site, User
from feedback.origins import parse_allowed_origin
from feedback.public import DEMO_SITE_KEY

DEMO_EDITOR_EMAIL = "editor@demo.example"
DEMO_EDITOR_PASSWORD = "demo-password"  # noqa: S105 - printed on screen for the local demo


@dataclass(frozen=True)
class DemoSeed:
    site: Site
    editor: User


def seed_demo(origins: list[str]) -> DemoSeed:
    """Create or update the demo site (allowing ``origins``) and its editor; commits."""
    site = db.session.scalar(select(Site).where(Site.public_key == DEMO_SITE_KEY))
    if site is None:
        site = Site(name="The Demo Gazette", public_key=DEMO_SITE_KEY, settings={})
        site.rotate_secret()
        db.session.add(site)
    canonical = [parse_allowed_origin(origin) for origin in origins]
    site.allowed_origins = sorted(set(site.allowed_origins or []) | set(canonical))

    editor = db.session.scalar(select(User).where(User.email == DEMO_EDITOR_EMAIL))
    if editor is None:
        editor = User(email=DEMO_EDITOR_EMAIL, name="Demo Editor")
        editor.set_password(DEMO_EDITOR_PASSWORD)
        db.session.add(editor)
    db.session.flush()
    membership = db.session.scalar(select(Membership).filter_by(user_id=editor.id, site_id=site.id))
    if membership is None:
        db.session.add(Membership(user=editor, site=site, role=Role.OWNER))
    db.session.commit()
    return DemoSeed(site=site, editor=editor)

"""The editors' web UI at /editor: sign-in, the triage queue, one report, one article,
and (in ``sites``) each site's settings and stats."""

from __future__ import annotations

from flask import Flask

from feedback.extensions import login_manager


def init_editor(app: Flask) -> None:
    from feedback.editor import auth, filters, sites, views

    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Sign in to see the reports."
    app.register_blueprint(auth.blp)
    app.register_blueprint(views.blp)
    app.register_blueprint(sites.blp)
    filters.register(app)
